//! The no-panic proof: a release firmware that calls every function exported by
//! otcore-ffi, both precisions, with arguments the optimiser cannot see
//! (`black_box`), linked with otcore-ffi's `panic-never` handler. The handler calls
//! an undefined symbol, so this program links only if no panicking branch is
//! reachable from any exported function (bounds checks, unwraps, overflow checks of
//! the release profile, slicing, division, …). Built by `scripts/embedded.sh test`;
//! it is also run once under QEMU.
//!
//! The program itself uses no formatting and no indexing, so that the proof judges
//! the library only. When an exported function is added, add its call here (the
//! script checks that every `otc_` symbol of the header appears in this file).
#![no_std]
#![no_main]

use core::ffi::c_void;
use core::hint::black_box;
use core::ptr;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use otcore_ffi::*;

/// Storage for every array argument, 8-byte aligned (`OTC_WORKSPACE_ALIGN`).
const WORDS: usize = 4096;

macro_rules! probe_precision {
    ($t:ty, $acc:ident, $mem:ident, $ws_size:ident, $cfg_default:ident, $solve:ident,
     $apply:ident, $apply_t:ident, $bary:ident, $cost:ident, $dense:ident,
     $apply_p:ident, $apply_t_p:ident, $bary_p:ident, $cost_p:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        // Opaque pointers into the buffer and opaque sizes: every path is reachable as
        // far as the compiler knows.
        let p = |k: usize| black_box(base.wrapping_add(black_box(k)));
        let len = |k: usize| black_box(k);
        let problem = black_box(otc_ot_problem::<$t> {
            struct_size: size_of::<otc_ot_problem<$t>>(),
            x: p(0),
            y: p(64),
            c: black_box(ptr::null()),
            a: p(128),
            b: p(160),
            n: len(8),
            m: len(8),
            d: len(2),
            scale: black_box(1.0),
            x_layout: otc_points_layout::default(),
            y_layout: otc_points_layout::default(),
        });
        let mut bytes = 0usize;
        // SAFETY (all calls below): the pointers are NULL or into `mem`; each function
        // checks NULL, alignment, sizes and overlap before touching anything.
        $acc += unsafe { $ws_size(len(8), len(8), len(2), black_box(&mut bytes)) };
        let mut config = unsafe { core::mem::zeroed::<otc_sinkhorn_config<$t>>() };
        $acc += unsafe { $cfg_default(black_box(&mut config)) };
        let mut result = unsafe { core::mem::zeroed::<otc_sinkhorn_result<$t>>() };
        result.struct_size = black_box(core::mem::size_of::<otc_sinkhorn_result<$t>>());
        let ws = black_box(p(1024).cast::<c_void>());
        let ws_bytes = len(8192);
        let eps = black_box(0.1);
        let (pb, f, g) = (black_box(&problem), p(192), p(256));
        $acc += unsafe {
            $solve(
                pb,
                black_box(&config),
                ws,
                ws_bytes,
                f,
                len(8),
                g,
                len(8),
                black_box(&mut result),
            )
        };
        $acc += unsafe {
            $apply(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                p(320),
                len(8),
                ws,
                ws_bytes,
                p(384),
                len(8),
            )
        };
        $acc += unsafe {
            $apply_t(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                p(320),
                len(8),
                ws,
                ws_bytes,
                p(384),
                len(8),
            )
        };
        $acc += unsafe { $bary(pb, eps, f, len(8), g, len(8), ws, ws_bytes, p(448), len(16)) };
        $acc += unsafe { $cost(pb, eps, f, len(8), g, len(8), ws, ws_bytes, p(512)) };
        $acc += unsafe { $dense(pb, eps, f, len(8), g, len(8), ws, ws_bytes, p(576), len(64)) };
        // The same operations on a caller's pool (an opaque pointer into `mem`).
        let pool = black_box(p(640).cast::<otc_parallel_for>().cast_const());
        let (v, o) = (p(320), p(384));
        $acc += unsafe {
            $apply_p(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                v,
                len(8),
                ws,
                ws_bytes,
                o,
                len(8),
                pool,
            )
        };
        $acc += unsafe {
            $apply_t_p(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                v,
                len(8),
                ws,
                ws_bytes,
                o,
                len(8),
                pool,
            )
        };
        $acc += unsafe {
            $bary_p(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                ws,
                ws_bytes,
                p(448),
                len(16),
                pool,
            )
        };
        $acc += unsafe { $cost_p(pb, eps, f, len(8), g, len(8), ws, ws_bytes, p(512), pool) };
    }};
}

/// The initializer workspace query and the soft c-transform of one precision (the
/// initializers and the acceleration themselves run inside the solve above, whose
/// config the compiler cannot see).
macro_rules! probe_init_precision {
    ($t:ty, $acc:ident, $mem:ident, $ws_for:ident, $ct_size:ident, $ct:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(k)));
        let len = |k: usize| black_box(k);
        let mut bytes = 0usize;
        let config = unsafe { core::mem::zeroed::<otc_sinkhorn_config<$t>>() };
        // SAFETY (all calls below): the pointers are NULL or into `mem`; each function
        // checks NULL, alignment, sizes and overlap before touching anything.
        $acc += unsafe {
            $ws_for(
                len(8),
                len(8),
                len(2),
                black_box(&config),
                black_box(&mut bytes),
            )
        };
        $acc += unsafe { $ct_size(len(8), len(8), len(2), black_box(&mut bytes)) };
        let pot = black_box(otc_dual_potential::<$t> {
            struct_size: size_of::<otc_dual_potential<$t>>(),
            points: p(64),
            layout: otc_points_layout::default(),
            values: p(256),
            m: len(8),
            d: len(2),
            scale: black_box(1.0),
            epsilon: black_box(0.1),
        });
        $acc += unsafe {
            $ct(
                black_box(&pot),
                p(0),
                black_box(otc_points_layout::default()),
                p(128),
                len(8),
                black_box(<$t>::INFINITY),
                black_box(p(1024).cast::<c_void>()),
                len(8192),
                p(192),
                len(8),
            )
        };
    }};
}

/// Trivial callbacks: the probe needs the library's paths, not a model.
macro_rules! callbacks {
    ($t:ty, $model:ident, $ito:ident) => {
        /// A model callback that fails (the library handles the status).
        unsafe extern "C" fn $model(
            _user: *mut c_void,
            _n: usize,
            _d: usize,
            _x: *const $t,
            _t: *const $t,
            _out: *mut $t,
        ) -> i32 {
            black_box(1)
        }
        /// An Itô callback that fails (the library handles the status).
        unsafe extern "C" fn $ito(
            _user: *mut c_void,
            _n: usize,
            _d: usize,
            _x: *const $t,
            _t: $t,
            _drift: *mut $t,
            _diffusion: *mut $t,
        ) -> i32 {
            black_box(1)
        }
    };
}
callbacks!(f32, model_f32, ito_f32);
callbacks!(f64, model_f64, ito_f64);

/// The SDE functions of one precision, on opaque pointers into `mem` (SDE arrays start
/// at element 2048, clear of the Sinkhorn ones).
macro_rules! probe_sde_precision {
    ($t:ty, $acc:ident, $mem:ident, $model:ident, $ito:ident, $ws_size:ident,
     $ito_ws_size:ident, $prior:ident, $prior_ld:ident, $grid:ident, $sample:ident,
     $step:ident, $adaptive:ident, $mixture:ident, $ito_step:ident, $resume:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(2048 + k)));
        let len = |k: usize| black_box(k);
        let model = black_box(Some($model as _));
        let ito = black_box(Some($ito as _));
        let user = black_box(ptr::null_mut::<c_void>());
        let mut process = unsafe { core::mem::zeroed::<otc_sde_process>() };
        $acc += unsafe { otc_sde_process_default(black_box(OTC_SDE_VP), black_box(&mut process)) };
        let mut sampler = unsafe { core::mem::zeroed::<otc_sde_sampler_config>() };
        $acc += unsafe {
            otc_sde_sampler_config_default(
                black_box(OTC_SDE_DPM_SOLVER_PP_2M),
                black_box(&mut sampler),
            )
        };
        let mut adaptive = unsafe { core::mem::zeroed::<otc_sde_adaptive_config>() };
        adaptive.struct_size = black_box(core::mem::size_of::<otc_sde_adaptive_config>());
        $acc += unsafe {
            otc_sde_adaptive_config_default(black_box(&process), black_box(&mut adaptive))
        };
        let mut coefs = unsafe { core::mem::zeroed::<otc_sde_coefs>() };
        coefs.struct_size = black_box(core::mem::size_of::<otc_sde_coefs>());
        $acc += unsafe {
            otc_sde_process_coefs(black_box(&process), black_box(0.5), black_box(&mut coefs))
        };
        let mut stats = unsafe { core::mem::zeroed::<otc_sde_adaptive_stats>() };
        stats.struct_size = black_box(core::mem::size_of::<otc_sde_adaptive_stats>());
        let (pr, sc, ac) = (
            black_box(&process),
            black_box(&sampler),
            black_box(&adaptive),
        );
        let mut bytes = 0usize;
        $acc += unsafe { $ws_size(len(4), len(2), black_box(&mut bytes)) };
        $acc += unsafe { $ito_ws_size(len(4), len(2), black_box(&mut bytes)) };
        let (x, grid, hist, state, t, out) = (p(0), p(64), p(128), p(192), p(256), p(320));
        let (weights, means, vars) = (p(384), p(392), p(416));
        let ws = black_box(p(512).cast::<c_void>());
        let ws_bytes = len(8192);
        let (seed, first) = (black_box(7u64), black_box(0u64));
        $acc += unsafe { $prior(pr, seed, first, len(4), len(2), x) };
        $acc += unsafe { $prior_ld(pr, len(4), len(2), x, out) };
        $acc += unsafe {
            $grid(
                pr,
                black_box(OTC_SDE_GRID_KARRAS),
                black_box(7.0),
                black_box(1.0),
                black_box(1e-3),
                grid,
                len(5),
            )
        };
        let mut evals = 0u64;
        let evals_p = black_box(&mut evals as *mut u64);
        $acc += unsafe {
            $sample(
                pr,
                sc,
                model,
                user,
                black_box(OTC_SDE_OUTPUT_SCORE),
                grid,
                len(5),
                x,
                len(4),
                len(2),
                seed,
                first,
                ws,
                ws_bytes,
                evals_p,
            )
        };
        let mut h_prev = 0.0f64;
        $acc += unsafe {
            $step(
                pr,
                sc,
                model,
                user,
                black_box(OTC_SDE_OUTPUT_NOISE),
                x,
                len(4),
                len(2),
                black_box(0.5),
                black_box(0.25),
                black_box(1u64),
                seed,
                first,
                hist,
                black_box(&mut h_prev as *mut f64),
                ws,
                ws_bytes,
                evals_p,
            )
        };
        $acc += unsafe {
            $adaptive(
                pr,
                ac,
                model,
                user,
                black_box(OTC_SDE_OUTPUT_DENOISED),
                x,
                len(4),
                len(2),
                seed,
                first,
                ws,
                ws_bytes,
                black_box(&mut stats),
            )
        };
        $acc += unsafe {
            $resume(
                pr,
                ac,
                model,
                user,
                black_box(OTC_SDE_OUTPUT_SCORE),
                x,
                len(4),
                len(2),
                seed,
                first,
                state,
                black_box(true),
                ws,
                ws_bytes,
                black_box(&mut stats),
            )
        };
        $acc += unsafe {
            $mixture(
                pr,
                len(2),
                len(2),
                weights,
                means,
                vars,
                black_box(OTC_SDE_COVARIANCE_ISOTROPIC),
                len(4),
                x,
                t,
                out,
            )
        };
        $acc += unsafe {
            $ito_step(
                black_box(OTC_SDE_ITO_MILSTEIN),
                ito,
                user,
                x,
                len(4),
                len(2),
                black_box(0.0),
                black_box(0.01),
                seed,
                first,
                black_box(3u64),
                ws,
                ws_bytes,
            )
        };
    }};
}

/// Trivial particle-filter callbacks: they write nothing and report success (the
/// library checks what it gets back).
macro_rules! pf_callbacks {
    ($t:ty, $predict:ident, $loglik:ident) => {
        /// A transition callback that leaves `x_next` as it is.
        unsafe extern "C" fn $predict(
            _user: *mut c_void,
            _n: usize,
            _d: usize,
            _x_prev: *const $t,
            _x_next: *mut $t,
            _rng: *mut otc_rng,
        ) -> i32 {
            black_box(0)
        }
        /// A log-likelihood callback that leaves `loglik` as it is.
        unsafe extern "C" fn $loglik(
            _user: *mut c_void,
            _n: usize,
            _d: usize,
            _x: *const $t,
            _loglik: *mut $t,
        ) -> i32 {
            black_box(0)
        }
    };
}
pf_callbacks!(f32, predict_f32, loglik_f32);
pf_callbacks!(f64, predict_f64, loglik_f64);

/// The particle-filter functions of one precision (random streams, weights, classical
/// and OT resampling, the VJP, the filter step) on opaque pointers into `mem`.
/// Calls OT resampling's forward mode of one precision with pointers into `$mem`.
macro_rules! probe_jvp_precision {
    ($t:ty, $acc:ident, $mem:ident, $ot_default:ident, $size:ident, $jvp:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(k)));
        let len = |k: usize| black_box(k);
        let mut bytes = 0usize;
        let mut cfg = unsafe { core::mem::zeroed::<otc_ot_resample_config<$t>>() };
        // SAFETY (all calls below): the pointers are NULL or into `mem`; each function
        // checks NULL, alignment, sizes and overlap before touching anything.
        $acc += unsafe { $ot_default(black_box(&mut cfg)) };
        cfg.epsilon = black_box(0.5);
        $acc += unsafe { $size(len(8), len(2), len(2), black_box(&mut bytes)) };
        $acc += unsafe {
            $jvp(
                black_box(&cfg),
                black_box(1e-5),
                black_box(50),
                p(0),
                p(16),
                len(8),
                len(2),
                p(24),
                p(56),
                len(2),
                black_box(p(1024).cast::<c_void>()),
                len(8192),
                p(72),
                p(88),
            )
        };
    }};
}

macro_rules! probe_pf_precision {
    ($t:ty, $acc:ident, $mem:ident, $predict:ident, $loglik:ident, $uniform:ident,
     $normal:ident, $normalise:ident, $ancestors:ident, $ot_default:ident, $ot_ws_size:ident,
     $ot_resample:ident, $ot_warm:ident, $vjp_default:ident, $vjp_ws_size:ident, $vjp:ident,
     $pf_default:ident, $pf_ws_size:ident, $pf_init:ident, $pf_step:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(k)));
        let len = |k: usize| black_box(k);
        let mut rng = otc_rng { state: 0 };
        let rng_p = black_box(&mut rng as *mut otc_rng);
        $acc += unsafe { otc_rng_seed(rng_p, black_box(11u64)) };
        let (x, logw, x_out, ybar, dx, dlogw) = (p(0), p(64), p(128), p(192), p(256), p(320));
        let (mean, cov, draws) = (p(384), p(400), p(448));
        let ancestors = black_box(
            $mem.as_mut_ptr()
                .wrapping_add(black_box(256))
                .cast::<usize>(),
        );
        let ws = black_box(p(1024).cast::<c_void>());
        let ws_bytes = len(8192);
        $acc += unsafe { $uniform(rng_p, draws, len(8)) };
        $acc += unsafe { $normal(rng_p, draws, len(8)) };
        let (mut log_sum, mut ess): ($t, $t) = (0.0, 0.0);
        $acc += unsafe {
            $normalise(
                logw,
                len(8),
                black_box(&mut log_sum as *mut $t),
                black_box(&mut ess as *mut $t),
            )
        };
        $acc += unsafe {
            $ancestors(
                black_box(OTC_RESAMPLE_RESIDUAL),
                logw,
                len(8),
                rng_p,
                ancestors,
            )
        };
        let mut ot = unsafe { core::mem::zeroed::<otc_ot_resample_config<$t>>() };
        $acc += unsafe { $ot_default(black_box(&mut ot)) };
        ot.epsilon = black_box(0.5);
        let mut ot_report = unsafe { core::mem::zeroed::<otc_ot_resample_report<$t>>() };
        ot_report.struct_size = black_box(core::mem::size_of::<otc_ot_resample_report<$t>>());
        let mut bytes = 0usize;
        $acc += unsafe { $ot_ws_size(len(8), len(2), black_box(&mut bytes)) };
        let oc = black_box(&ot);
        $acc += unsafe {
            $ot_resample(
                oc,
                x,
                logw,
                len(8),
                len(2),
                ws,
                ws_bytes,
                x_out,
                black_box(&mut ot_report),
            )
        };
        let mut warm_len = 0usize;
        $acc += unsafe { otc_ot_resample_warm_len(len(8), len(2), black_box(&mut warm_len)) };
        $acc += unsafe {
            $ot_warm(
                oc,
                x,
                logw,
                len(8),
                len(2),
                ws,
                ws_bytes,
                p(512),
                len(warm_len),
                x_out,
                black_box(&mut ot_report),
            )
        };
        let mut vjp = unsafe { core::mem::zeroed::<otc_vjp_config<$t>>() };
        $acc += unsafe { $vjp_default(black_box(&mut vjp)) };
        vjp.mode = black_box(OTC_VJP_IMPLICIT);
        $acc += unsafe { $vjp_ws_size(len(8), len(2), black_box(&mut bytes)) };
        $acc += unsafe {
            $vjp(
                oc,
                black_box(&vjp),
                x,
                logw,
                len(8),
                len(2),
                ybar,
                ws,
                ws_bytes,
                dx,
                dlogw,
            )
        };
        let mut config = unsafe { core::mem::zeroed::<otc_pf_config<$t>>() };
        $acc += unsafe { $pf_default(black_box(&mut config)) };
        config.resampler = black_box(OTC_RESAMPLE_OPTIMAL);
        config.ot.epsilon = black_box(0.5);
        $acc += unsafe {
            $pf_ws_size(
                len(8),
                len(2),
                black_box(OTC_RESAMPLE_OPTIMAL),
                black_box(&mut bytes),
            )
        };
        let mut state = unsafe { core::mem::zeroed::<otc_pf_state<$t>>() };
        state.struct_size = black_box(core::mem::size_of::<otc_pf_state<$t>>());
        let state_p = black_box(&mut state as *mut otc_pf_state<$t>);
        $acc += unsafe { $pf_init(logw, len(8), state_p) };
        let mut report = unsafe { core::mem::zeroed::<otc_pf_report<$t>>() };
        report.struct_size = black_box(core::mem::size_of::<otc_pf_report<$t>>());
        $acc += unsafe {
            $pf_step(
                black_box(&config),
                black_box(Some($predict as _)),
                black_box(Some($loglik as _)),
                black_box(ptr::null_mut::<c_void>()),
                len(8),
                len(2),
                rng_p,
                x,
                logw,
                state_p,
                ws,
                ws_bytes,
                mean,
                cov,
                black_box(&mut report),
            )
        };
    }};
}

/// Trivial differentiable-filter callbacks (write nothing, report success) and the
/// differentiable-filter functions of one precision on opaque pointers into `mem`.
macro_rules! probe_dpf_precision {
    ($t:ty, $acc:ident, $mem:ident, $default:ident, $ws_size:ident, $init:ident,
     $step:ident, $ot_default:ident, $ot_ws_size:ident, $step_ot:ident,
     $tape_ws_size:ident, $tape_init:ident, $tape_step:ident, $tape_gradient:ident) => {{
        unsafe extern "C" fn vjp(
            _u: *mut c_void,
            _n: usize,
            _d: usize,
            _p: usize,
            _th: *const $t,
            _x: *const $t,
            _xi: *const $t,
            _next: *const $t,
            _next_bar: *const $t,
            _x_bar: *mut $t,
            _th_bar: *mut $t,
        ) -> i32 {
            black_box(0)
        }
        unsafe extern "C" fn seek(_u: *mut c_void, _tick: usize) -> i32 {
            black_box(0)
        }
        unsafe extern "C" fn transition(
            _u: *mut c_void,
            _n: usize,
            _d: usize,
            _p: usize,
            _th: *const $t,
            _x: *const $t,
            _xi: *const $t,
            _out: *mut $t,
        ) -> i32 {
            black_box(0)
        }
        unsafe extern "C" fn jvp(
            _u: *mut c_void,
            _n: usize,
            _d: usize,
            _p: usize,
            _th: *const $t,
            _x: *const $t,
            _xi: *const $t,
            _next: *const $t,
            _dx: *const $t,
            _dout: *mut $t,
        ) -> i32 {
            black_box(0)
        }
        unsafe extern "C" fn score(
            _u: *mut c_void,
            _n: usize,
            _d: usize,
            _p: usize,
            _th: *const $t,
            _x: *const $t,
            _next: *const $t,
            _out: *mut $t,
        ) -> i32 {
            black_box(0)
        }
        unsafe extern "C" fn loglik(
            _u: *mut c_void,
            _n: usize,
            _d: usize,
            _p: usize,
            _th: *const $t,
            _x: *const $t,
            _out: *mut $t,
        ) -> i32 {
            black_box(0)
        }
        unsafe extern "C" fn grad(
            _u: *mut c_void,
            _n: usize,
            _d: usize,
            _p: usize,
            _th: *const $t,
            _x: *const $t,
            _gx: *mut $t,
            _gth: *mut $t,
        ) -> i32 {
            black_box(0)
        }
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(k)));
        let len = |k: usize| black_box(k);
        let mut rng = otc_rng { state: 0 };
        let rng_p = black_box(&mut rng as *mut otc_rng);
        let (theta, x, logw, tangent, dll, mean, dmean) =
            (p(0), p(8), p(32), p(64), p(160), p(170), p(180));
        let ws = black_box(p(1024).cast::<c_void>());
        let mut bytes = 0usize;
        $acc += unsafe { otc_dpf_tangent_len(len(8), len(2), len(3), black_box(&mut bytes)) };
        $acc += unsafe { $ws_size(len(8), len(2), len(3), len(2), black_box(&mut bytes)) };
        let mut config = unsafe { core::mem::zeroed::<otc_dpf_config<$t>>() };
        $acc += unsafe { $default(black_box(&mut config)) };
        config.gradient = black_box(OTC_DPF_DETACH);
        let mut state = unsafe { core::mem::zeroed::<otc_pf_state<$t>>() };
        state.struct_size = black_box(core::mem::size_of::<otc_pf_state<$t>>());
        let state_p = black_box(&mut state as *mut otc_pf_state<$t>);
        $acc += unsafe { $init(len(8), len(2), len(3), logw, tangent, state_p, dll) };
        let mut model = unsafe { core::mem::zeroed::<otc_dpf_model<$t>>() };
        model.struct_size = black_box(core::mem::size_of::<otc_dpf_model<$t>>());
        model.noise_dim = len(2);
        model.transition = black_box(Some(transition as _));
        model.transition_jvp = black_box(Some(jvp as _));
        model.transition_score = black_box(Some(score as _));
        model.loglik = black_box(Some(loglik as _));
        model.loglik_grad = black_box(Some(grad as _));
        let mut report = unsafe { core::mem::zeroed::<otc_pf_report<$t>>() };
        report.struct_size = black_box(core::mem::size_of::<otc_pf_report<$t>>());
        $acc += unsafe {
            $step(
                black_box(&config),
                black_box(&model),
                theta,
                len(3),
                len(8),
                len(2),
                rng_p,
                x,
                logw,
                tangent,
                state_p,
                dll,
                ws,
                len(8192),
                mean,
                dmean,
                black_box(&mut report),
            )
        };
        let mut ot = unsafe { core::mem::zeroed::<otc_dpf_ot_config<$t>>() };
        $acc += unsafe { $ot_default(black_box(&mut ot)) };
        $acc += unsafe { $ot_ws_size(len(8), len(2), len(3), len(2), black_box(&mut bytes)) };
        config.resampler = black_box(OTC_RESAMPLE_OPTIMAL);
        $acc += unsafe {
            $step_ot(
                black_box(&config),
                black_box(&ot),
                black_box(&model),
                theta,
                len(3),
                len(8),
                len(2),
                rng_p,
                x,
                logw,
                tangent,
                state_p,
                dll,
                ws,
                len(8192),
                mean,
                dmean,
                black_box(&mut report),
            )
        };
        model.transition_vjp = black_box(Some(vjp as _));
        model.seek = black_box(Some(seek as _));
        $acc += unsafe {
            $tape_ws_size(
                len(8),
                len(2),
                len(3),
                len(2),
                black_box(true),
                black_box(&mut bytes),
            )
        };
        $acc += unsafe { otc_dpf_tape_len(len(8), len(2), len(2), len(4), black_box(&mut bytes)) };
        let mut tape = unsafe { core::mem::zeroed::<otc_dpf_tape<$t>>() };
        tape.struct_size = black_box(core::mem::size_of::<otc_dpf_tape<$t>>());
        let tape_p = black_box(&mut tape as *mut otc_dpf_tape<$t>);
        $acc += unsafe { $tape_init(p(200), len(400), len(8), len(2), len(2), len(4), tape_p) };
        let ot_p = black_box(&ot as *const otc_dpf_ot_config<$t>);
        $acc += unsafe {
            $tape_step(
                black_box(&config),
                ot_p,
                black_box(&model),
                theta,
                len(3),
                len(8),
                len(2),
                rng_p,
                x,
                logw,
                state_p,
                tape_p,
                ws,
                len(8192),
                mean,
                black_box(&mut report),
            )
        };
        $acc += unsafe {
            $tape_gradient(
                black_box(&config),
                ot_p,
                black_box(&model),
                theta,
                len(3),
                tape_p,
                black_box(1.0),
                black_box(core::ptr::null()),
                ws,
                len(8192),
                dll,
                tangent,
                black_box(core::ptr::null_mut()),
            )
        };
    }};
}

/// A sampler callback that writes nothing and reports success.
macro_rules! mcl_sampler {
    ($t:ty, $name:ident) => {
        /// Leaves `out` as it is.
        unsafe extern "C" fn $name(
            _user: *mut c_void,
            _count: usize,
            _d: usize,
            _out: *mut $t,
            _rng: *mut otc_rng,
        ) -> i32 {
            black_box(0)
        }
    };
}
mcl_sampler!(f32, sampler_f32);
mcl_sampler!(f64, sampler_f64);

/// The localisation functions of one precision (state description, circular moments,
/// OT per the description, resampling to a count, KLD-sampling, recovery, the MCL
/// step, the largest cluster) on opaque pointers into `mem`.
macro_rules! probe_mcl_precision {
    ($t:ty, $acc:ident, $mem:ident, $sampler:ident, $moments:ident, $resample_to:ident,
     $ot_state_size:ident, $ot_state:ident, $kld_default:ident, $kld_count:ident,
     $rec_init:ident, $rec_update:ident, $mcl_default:ident, $mcl_size:ident, $mcl:ident,
     $cluster_size:ident, $cluster:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(k)));
        let len = |k: usize| black_box(k);
        let mut rng = otc_rng { state: 0 };
        let rng_p = black_box(&mut rng as *mut otc_rng);
        let coord = otc_coord::<$t> {
            kind: black_box(OTC_COORD_PERIODIC),
            reserved: 0,
            period: black_box(6.0),
            cost_scale: black_box(1.0),
            bin: black_box(0.5),
        };
        let coords = black_box([coord, coord]);
        let cs = black_box(coords.as_ptr());
        let (x, logw, x_out, mean, cov) = (p(0), p(64), p(128), p(192), p(200));
        let ws = black_box(p(1024).cast::<c_void>());
        let ws_bytes = len(8192);
        let table = black_box($mem.as_mut_ptr().wrapping_add(black_box(3000)));
        let mut bytes = 0usize;
        let (mut k, mut m) = (0usize, 0usize);
        $acc += unsafe { $moments(cs, len(2), x, logw, len(8), mean, cov) };
        $acc += unsafe {
            $resample_to(
                black_box(OTC_RESAMPLE_SYSTEMATIC),
                logw,
                len(8),
                rng_p,
                x,
                len(2),
                x_out,
                len(5),
            )
        };
        $acc += unsafe { $ot_state_size(cs, len(2), len(8), black_box(&mut bytes)) };
        let mut ot = unsafe { core::mem::zeroed::<otc_ot_resample_config<$t>>() };
        ot.struct_size = black_box(core::mem::size_of::<otc_ot_resample_config<$t>>());
        ot.epsilon = black_box(0.5);
        ot.scaling = black_box(0.75);
        ot.max_iterations = black_box(100);
        let mut ot_report = unsafe { core::mem::zeroed::<otc_ot_resample_report<$t>>() };
        ot_report.struct_size = black_box(core::mem::size_of::<otc_ot_resample_report<$t>>());
        $acc += unsafe {
            $ot_state(
                black_box(&ot),
                cs,
                len(2),
                x,
                logw,
                len(8),
                rng_p,
                ws,
                ws_bytes,
                x_out,
                len(5),
                black_box(&mut ot_report),
            )
        };
        let mut kld = unsafe { core::mem::zeroed::<otc_kld_config<$t>>() };
        $acc += unsafe { $kld_default(black_box(&mut kld)) };
        kld.min_particles = black_box(2);
        $acc += unsafe { otc_kld_table_len(len(8), black_box(&mut m)) };
        $acc += unsafe {
            $kld_count(
                black_box(&kld),
                cs,
                len(2),
                x,
                logw,
                len(8),
                len(16),
                table,
                len(16),
                black_box(&mut k),
                black_box(&mut m),
            )
        };
        let mut rec = unsafe { core::mem::zeroed::<otc_recovery<$t>>() };
        $acc += unsafe { $rec_init(black_box(0.001), black_box(0.1), black_box(&mut rec)) };
        let mut prob: $t = 0.0;
        $acc += unsafe { $rec_update(black_box(&mut rec), black_box(-3.0), black_box(&mut prob)) };
        let mut mcl = unsafe { core::mem::zeroed::<otc_mcl_config<$t>>() };
        $acc += unsafe { $mcl_default(black_box(&mut mcl)) };
        mcl.adaptive = black_box(1);
        mcl.kld = kld;
        let mc = black_box(&mcl);
        $acc += unsafe { $mcl_size(mc, cs, len(2), len(8), len(16), black_box(&mut bytes)) };
        let mut mcl_report = unsafe { core::mem::zeroed::<otc_mcl_report<$t>>() };
        mcl_report.struct_size = black_box(core::mem::size_of::<otc_mcl_report<$t>>());
        $acc += unsafe {
            $mcl(
                mc,
                cs,
                len(2),
                x,
                logw,
                len(8),
                black_box(prob),
                black_box(Some($sampler as _)),
                black_box(ptr::null_mut::<c_void>()),
                rng_p,
                ws,
                ws_bytes,
                x_out,
                len(16),
                black_box(&mut mcl_report),
            )
        };
        $acc += unsafe { $cluster_size(len(8), black_box(&mut bytes)) };
        let (mut weight, mut clusters): ($t, usize) = (0.0, 0);
        $acc += unsafe {
            $cluster(
                cs,
                len(2),
                x,
                logw,
                len(8),
                ws,
                ws_bytes,
                mean,
                cov,
                black_box(&mut weight),
                black_box(&mut clusters),
            )
        };
    }};
}

/// Trivial conditional callbacks (classifier-free guidance) that fail.
macro_rules! cond_callback {
    ($t:ty, $name:ident) => {
        /// A conditional model callback that fails (the library handles the status).
        unsafe extern "C" fn $name(
            _user: *mut c_void,
            _n: usize,
            _d: usize,
            _x: *const $t,
            _t: *const $t,
            _conditional: i32,
            _out: *mut $t,
        ) -> i32 {
            black_box(1)
        }
    };
}
cond_callback!(f32, cond_f32);
cond_callback!(f64, cond_f64);

/// The flow-matching functions of one precision, on opaque pointers into `mem`.
macro_rules! probe_guided_precision {
    ($t:ty, $acc:ident, $mem:ident, $cond:ident, $guided_ws:ident, $guided:ident,
     $guided_step:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(2048 + k)));
        let len = |k: usize| black_box(k);
        let cond = black_box(Some($cond as _));
        let user = black_box(ptr::null_mut::<c_void>());
        let mut process = unsafe { core::mem::zeroed::<otc_sde_process>() };
        $acc += unsafe { otc_sde_process_default(black_box(OTC_SDE_EDM), black_box(&mut process)) };
        let mut sampler = unsafe { core::mem::zeroed::<otc_sde_sampler_config>() };
        $acc += unsafe {
            otc_sde_sampler_config_default(black_box(OTC_SDE_HEUN), black_box(&mut sampler))
        };
        let (x, grid) = (p(0), p(64));
        let ws = black_box(p(512).cast::<c_void>());
        let mut calls = 0u64;
        let mut bytes = 0usize;
        $acc += unsafe { $guided_ws(len(4), len(2), black_box(&mut bytes)) };
        $acc += unsafe {
            $guided(
                black_box(&process),
                black_box(&sampler),
                cond,
                user,
                black_box(OTC_SDE_OUTPUT_DENOISED),
                black_box(2.0),
                black_box(0.0),
                black_box(f64::INFINITY),
                grid,
                len(5),
                x,
                len(4),
                len(2),
                black_box(7u64),
                black_box(0u64),
                ws,
                len(8192),
                black_box(&mut calls as *mut u64),
            )
        };
        $acc += unsafe {
            $guided_step(
                black_box(&process),
                black_box(&sampler),
                cond,
                user,
                black_box(OTC_SDE_OUTPUT_NOISE),
                black_box(2.0),
                black_box(0.0),
                black_box(1.0),
                x,
                len(4),
                len(2),
                black_box(1.0),
                black_box(0.5),
                black_box(0u64),
                black_box(7u64),
                black_box(0u64),
                p(128),
                black_box(ptr::null_mut()),
                ws,
                len(8192),
                black_box(&mut calls as *mut u64),
            )
        };
    }};
}

/// Restart sampling of one precision (and the σ̃-to-time config helper).
macro_rules! probe_restart_precision {
    ($t:ty, $acc:ident, $mem:ident, $model:ident, $restart:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(2048 + k)));
        let len = |k: usize| black_box(k);
        let model = black_box(Some($model as _));
        let user = black_box(ptr::null_mut::<c_void>());
        let mut process = unsafe { core::mem::zeroed::<otc_sde_process>() };
        $acc += unsafe { otc_sde_process_default(black_box(OTC_SDE_VP), black_box(&mut process)) };
        let mut config = unsafe { core::mem::zeroed::<otc_sde_restart_config>() };
        $acc += unsafe {
            otc_sde_restart_config_from_sigma(
                black_box(&process),
                black_box(0.3),
                black_box(2.0),
                black_box(2u32),
                black_box(3u32),
                black_box(&mut config),
            )
        };
        let (x, grid) = (p(0), p(64));
        let ws = black_box(p(512).cast::<c_void>());
        let mut evals = 0u64;
        $acc += unsafe {
            $restart(
                black_box(&process),
                black_box(&config),
                model,
                user,
                black_box(OTC_SDE_OUTPUT_DENOISED),
                grid,
                len(5),
                x,
                len(4),
                len(2),
                black_box(7u64),
                black_box(0u64),
                ws,
                len(8192),
                black_box(&mut evals as *mut u64),
            )
        };
    }};
}

macro_rules! probe_flow_precision {
    ($t:ty, $acc:ident, $mem:ident, $model:ident, $cond:ident, $grid:ident, $sample:ident,
     $step:ident, $guided_ws:ident, $guided:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(2048 + k)));
        let len = |k: usize| black_box(k);
        let model = black_box(Some($model as _));
        let cond = black_box(Some($cond as _));
        let user = black_box(ptr::null_mut::<c_void>());
        let (x, grid) = (p(0), p(64));
        let ws = black_box(p(512).cast::<c_void>());
        let ws_bytes = len(8192);
        let (seed, first) = (black_box(7u64), black_box(0u64));
        let mut evals = 0u64;
        let evals_p = black_box(&mut evals as *mut u64);
        let mut bytes = 0usize;
        $acc += unsafe { $guided_ws(len(4), len(2), black_box(&mut bytes)) };
        $acc += unsafe { $grid(black_box(1.0), black_box(1.0), black_box(0.0), grid, len(5)) };
        $acc += unsafe {
            $sample(
                black_box(OTC_SDE_FLOW_SDE),
                black_box(1.0),
                model,
                user,
                black_box(OTC_SDE_OUTPUT_VELOCITY),
                grid,
                len(5),
                x,
                len(4),
                len(2),
                seed,
                first,
                ws,
                ws_bytes,
                evals_p,
            )
        };
        $acc += unsafe {
            $step(
                black_box(OTC_SDE_FLOW_HEUN),
                black_box(0.0),
                model,
                user,
                black_box(OTC_SDE_OUTPUT_DENOISED),
                x,
                len(4),
                len(2),
                black_box(1.0),
                black_box(0.5),
                black_box(0u64),
                seed,
                first,
                ws,
                ws_bytes,
                evals_p,
            )
        };
        $acc += unsafe {
            $guided(
                black_box(OTC_SDE_FLOW_MIDPOINT),
                black_box(0.0),
                cond,
                user,
                black_box(OTC_SDE_OUTPUT_VELOCITY),
                black_box(2.0),
                black_box(0.0),
                black_box(1.0),
                grid,
                len(5),
                x,
                len(4),
                len(2),
                seed,
                first,
                ws,
                ws_bytes,
                evals_p,
            )
        };
    }};
}

/// The OT toolkit of one precision (divergence and its gradient, the plan's gradient,
/// rounding, matches, the dustbin solve) on opaque pointers into `mem`.
/// Calls the implicit VJPs of one precision with pointers into `$mem`.
macro_rules! probe_implicit_precision {
    ($t:ty, $acc:ident, $mem:ident, $size:ident, $map_vjp:ident, $pot_vjp:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(k)));
        let len = |k: usize| black_box(k);
        let problem = black_box(otc_ot_problem::<$t> {
            struct_size: size_of::<otc_ot_problem<$t>>(),
            x: p(0),
            y: p(64),
            c: black_box(ptr::null()),
            a: p(128),
            b: p(160),
            n: len(8),
            m: len(8),
            d: len(2),
            scale: black_box(1.0),
            x_layout: otc_points_layout::default(),
            y_layout: otc_points_layout::default(),
        });
        let pb = black_box(&problem);
        let mut bytes = 0usize;
        let ws = black_box(p(1024).cast::<c_void>());
        let ws_bytes = len(8192);
        let eps = black_box(0.1);
        let (f, g, tb, gb) = (p(192), p(256), p(320), p(384));
        let (o1, o2, o3, o4) = (p(448), p(512), p(576), p(640));
        let mut rep = unsafe { core::mem::zeroed::<otc_implicit_report<$t>>() };
        rep.struct_size = black_box(size_of::<otc_implicit_report<$t>>());
        // SAFETY (all calls below): the pointers are NULL or into `mem`; each function
        // checks NULL, alignment, sizes and overlap before touching anything.
        $acc += unsafe { $size(len(8), len(8), len(2), black_box(&mut bytes)) };
        $acc += unsafe {
            $map_vjp(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                tb,
                len(16),
                black_box(1e-5),
                black_box(50),
                ws,
                ws_bytes,
                o1,
                len(16),
                o2,
                len(16),
                o3,
                len(8),
                o4,
                len(8),
                black_box(&mut rep),
            )
        };
        $acc += unsafe {
            $pot_vjp(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                tb,
                len(8),
                gb,
                len(8),
                black_box(1e-5),
                black_box(50),
                ws,
                ws_bytes,
                o1,
                len(16),
                o2,
                len(16),
                o3,
                len(8),
                o4,
                len(8),
                black_box(ptr::null_mut()),
            )
        };
    }};
}

macro_rules! probe_toolkit_precision {
    ($t:ty, $acc:ident, $mem:ident, $cfg_default:ident, $div_size:ident, $div:ident,
     $div_grad:ident, $plan_grad:ident, $round_size:ident, $round:ident,
     $match_size:ident, $matches:ident, $dustbin:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        let p = |k: usize| black_box(base.wrapping_add(black_box(k)));
        let len = |k: usize| black_box(k);
        let problem = black_box(otc_ot_problem::<$t> {
            struct_size: size_of::<otc_ot_problem<$t>>(),
            x: p(0),
            y: p(64),
            c: black_box(ptr::null()),
            a: p(128),
            b: p(160),
            n: len(8),
            m: len(8),
            d: len(2),
            scale: black_box(1.0),
            x_layout: otc_points_layout::default(),
            y_layout: otc_points_layout::default(),
        });
        let pb = black_box(&problem);
        let mut bytes = 0usize;
        let mut config = unsafe { core::mem::zeroed::<otc_sinkhorn_config<$t>>() };
        // SAFETY (all calls below): the pointers are NULL or into `mem`; each function
        // checks NULL, alignment, sizes and overlap before touching anything.
        $acc += unsafe { $cfg_default(black_box(&mut config)) };
        let cfg = black_box(&config);
        let ws = black_box(p(1024).cast::<c_void>());
        let ws_bytes = len(8192);
        let eps = black_box(0.1);
        let (f, g, f2, g2) = (p(192), p(256), p(320), p(384));
        let (o1, o2, o3, o4) = (p(448), p(512), p(576), p(640));
        $acc += unsafe { $div_size(len(8), len(8), len(2), black_box(&mut bytes)) };
        let mut div = unsafe { core::mem::zeroed::<otc_divergence_result<$t>>() };
        div.struct_size = black_box(size_of::<otc_divergence_result<$t>>());
        $acc += unsafe {
            $div(
                pb,
                cfg,
                ws,
                ws_bytes,
                f,
                len(8),
                g,
                len(8),
                f2,
                len(8),
                g2,
                len(8),
                black_box(&mut div),
            )
        };
        $acc += unsafe {
            $div_grad(
                pb,
                cfg,
                eps,
                f,
                len(8),
                g,
                len(8),
                f2,
                len(8),
                g2,
                len(8),
                ws,
                ws_bytes,
                o1,
                len(16),
                o2,
                len(16),
                o3,
                len(8),
                o4,
                len(8),
            )
        };
        $acc += unsafe {
            $plan_grad(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                ws,
                ws_bytes,
                o1,
                len(16),
                o2,
                len(16),
                o3,
                len(8),
                o4,
                len(8),
            )
        };
        $acc += unsafe { $round_size(len(8), len(8), len(2), black_box(&mut bytes)) };
        let mut cert = unsafe { core::mem::zeroed::<otc_round_certificate<$t>>() };
        cert.struct_size = black_box(size_of::<otc_round_certificate<$t>>());
        $acc += unsafe {
            $round(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                ws,
                ws_bytes,
                o1,
                len(8),
                o2,
                len(8),
                o3,
                len(8),
                o4,
                len(8),
                black_box(&mut cert),
            )
        };
        $acc += unsafe { $match_size(len(8), len(8), len(2), black_box(&mut bytes)) };
        let idx = black_box(
            $mem.as_mut_ptr()
                .wrapping_add(black_box(3000))
                .cast::<usize>(),
        );
        $acc += unsafe {
            $matches(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                black_box(0.5),
                ws,
                ws_bytes,
                idx,
                len(8),
                o1,
                len(8),
                idx.wrapping_add(8),
                len(8),
            )
        };
        let mut dust = unsafe { core::mem::zeroed::<otc_dustbin_result<$t>>() };
        dust.struct_size = black_box(size_of::<otc_dustbin_result<$t>>());
        $acc += unsafe {
            $dustbin(
                pb,
                cfg,
                black_box(1.0),
                ws,
                ws_bytes,
                f,
                len(8),
                g,
                len(8),
                black_box(&mut dust),
            )
        };
    }};
}

#[entry]
fn main() -> ! {
    let mut mem = [0u64; WORDS];
    let mut acc: i32 = 0;
    probe_precision!(
        f32,
        acc,
        mem,
        otc_sinkhorn_workspace_size_f32,
        otc_sinkhorn_config_default_f32,
        otc_sinkhorn_solve_f32,
        otc_plan_apply_f32,
        otc_plan_apply_transpose_f32,
        otc_plan_barycentric_f32,
        otc_plan_transport_cost_f32,
        otc_plan_dense_f32,
        otc_plan_apply_parallel_f32,
        otc_plan_apply_transpose_parallel_f32,
        otc_plan_barycentric_parallel_f32,
        otc_plan_transport_cost_parallel_f32
    );
    probe_precision!(
        f64,
        acc,
        mem,
        otc_sinkhorn_workspace_size_f64,
        otc_sinkhorn_config_default_f64,
        otc_sinkhorn_solve_f64,
        otc_plan_apply_f64,
        otc_plan_apply_transpose_f64,
        otc_plan_barycentric_f64,
        otc_plan_transport_cost_f64,
        otc_plan_dense_f64,
        otc_plan_apply_parallel_f64,
        otc_plan_apply_transpose_parallel_f64,
        otc_plan_barycentric_parallel_f64,
        otc_plan_transport_cost_parallel_f64
    );
    probe_init_precision!(
        f32,
        acc,
        mem,
        otc_sinkhorn_workspace_size_for_f32,
        otc_c_transform_workspace_size_f32,
        otc_c_transform_f32
    );
    probe_init_precision!(
        f64,
        acc,
        mem,
        otc_sinkhorn_workspace_size_for_f64,
        otc_c_transform_workspace_size_f64,
        otc_c_transform_f64
    );
    probe_sde_precision!(
        f32,
        acc,
        mem,
        model_f32,
        ito_f32,
        otc_sde_workspace_size_f32,
        otc_sde_ito_workspace_size_f32,
        otc_sde_prior_sample_f32,
        otc_sde_prior_log_density_f32,
        otc_sde_grid_f32,
        otc_sde_sample_f32,
        otc_sde_step_f32,
        otc_sde_adaptive_f32,
        otc_sde_mixture_score_f32,
        otc_sde_ito_step_f32,
        otc_sde_adaptive_resume_f32
    );
    probe_sde_precision!(
        f64,
        acc,
        mem,
        model_f64,
        ito_f64,
        otc_sde_workspace_size_f64,
        otc_sde_ito_workspace_size_f64,
        otc_sde_prior_sample_f64,
        otc_sde_prior_log_density_f64,
        otc_sde_grid_f64,
        otc_sde_sample_f64,
        otc_sde_step_f64,
        otc_sde_adaptive_f64,
        otc_sde_mixture_score_f64,
        otc_sde_ito_step_f64,
        otc_sde_adaptive_resume_f64
    );
    probe_flow_precision!(
        f32,
        acc,
        mem,
        model_f32,
        cond_f32,
        otc_sde_flow_grid_f32,
        otc_sde_flow_sample_f32,
        otc_sde_flow_step_f32,
        otc_sde_flow_guided_workspace_size_f32,
        otc_sde_flow_sample_guided_f32
    );
    probe_flow_precision!(
        f64,
        acc,
        mem,
        model_f64,
        cond_f64,
        otc_sde_flow_grid_f64,
        otc_sde_flow_sample_f64,
        otc_sde_flow_step_f64,
        otc_sde_flow_guided_workspace_size_f64,
        otc_sde_flow_sample_guided_f64
    );
    probe_guided_precision!(
        f32,
        acc,
        mem,
        cond_f32,
        otc_sde_guided_workspace_size_f32,
        otc_sde_sample_guided_f32,
        otc_sde_step_guided_f32
    );
    probe_guided_precision!(
        f64,
        acc,
        mem,
        cond_f64,
        otc_sde_guided_workspace_size_f64,
        otc_sde_sample_guided_f64,
        otc_sde_step_guided_f64
    );
    probe_restart_precision!(f32, acc, mem, model_f32, otc_sde_restart_f32);
    probe_restart_precision!(f64, acc, mem, model_f64, otc_sde_restart_f64);
    probe_pf_precision!(
        f32,
        acc,
        mem,
        predict_f32,
        loglik_f32,
        otc_rng_uniform_f32,
        otc_rng_normal_f32,
        otc_log_weights_normalise_f32,
        otc_resample_ancestors_f32,
        otc_ot_resample_config_default_f32,
        otc_ot_resample_workspace_size_f32,
        otc_ot_resample_f32,
        otc_ot_resample_warm_f32,
        otc_vjp_config_default_f32,
        otc_ot_resample_vjp_workspace_size_f32,
        otc_ot_resample_vjp_f32,
        otc_pf_config_default_f32,
        otc_pf_workspace_size_f32,
        otc_pf_init_f32,
        otc_pf_step_f32
    );
    probe_pf_precision!(
        f64,
        acc,
        mem,
        predict_f64,
        loglik_f64,
        otc_rng_uniform_f64,
        otc_rng_normal_f64,
        otc_log_weights_normalise_f64,
        otc_resample_ancestors_f64,
        otc_ot_resample_config_default_f64,
        otc_ot_resample_workspace_size_f64,
        otc_ot_resample_f64,
        otc_ot_resample_warm_f64,
        otc_vjp_config_default_f64,
        otc_ot_resample_vjp_workspace_size_f64,
        otc_ot_resample_vjp_f64,
        otc_pf_config_default_f64,
        otc_pf_workspace_size_f64,
        otc_pf_init_f64,
        otc_pf_step_f64
    );
    probe_dpf_precision!(
        f32,
        acc,
        mem,
        otc_dpf_config_default_f32,
        otc_dpf_workspace_size_f32,
        otc_dpf_init_f32,
        otc_dpf_step_f32,
        otc_dpf_ot_config_default_f32,
        otc_dpf_ot_workspace_size_f32,
        otc_dpf_step_ot_f32,
        otc_dpf_tape_workspace_size_f32,
        otc_dpf_tape_init_f32,
        otc_dpf_tape_step_f32,
        otc_dpf_tape_gradient_f32
    );
    probe_dpf_precision!(
        f64,
        acc,
        mem,
        otc_dpf_config_default_f64,
        otc_dpf_workspace_size_f64,
        otc_dpf_init_f64,
        otc_dpf_step_f64,
        otc_dpf_ot_config_default_f64,
        otc_dpf_ot_workspace_size_f64,
        otc_dpf_step_ot_f64,
        otc_dpf_tape_workspace_size_f64,
        otc_dpf_tape_init_f64,
        otc_dpf_tape_step_f64,
        otc_dpf_tape_gradient_f64
    );
    probe_mcl_precision!(
        f32,
        acc,
        mem,
        sampler_f32,
        otc_state_moments_f32,
        otc_resample_to_f32,
        otc_ot_resample_state_workspace_size_f32,
        otc_ot_resample_state_f32,
        otc_kld_config_default_f32,
        otc_kld_count_f32,
        otc_recovery_init_f32,
        otc_recovery_update_f32,
        otc_mcl_config_default_f32,
        otc_mcl_workspace_size_f32,
        otc_mcl_resample_f32,
        otc_cluster_workspace_size_f32,
        otc_largest_cluster_f32
    );
    probe_mcl_precision!(
        f64,
        acc,
        mem,
        sampler_f64,
        otc_state_moments_f64,
        otc_resample_to_f64,
        otc_ot_resample_state_workspace_size_f64,
        otc_ot_resample_state_f64,
        otc_kld_config_default_f64,
        otc_kld_count_f64,
        otc_recovery_init_f64,
        otc_recovery_update_f64,
        otc_mcl_config_default_f64,
        otc_mcl_workspace_size_f64,
        otc_mcl_resample_f64,
        otc_cluster_workspace_size_f64,
        otc_largest_cluster_f64
    );
    probe_toolkit_precision!(
        f32,
        acc,
        mem,
        otc_sinkhorn_config_default_f32,
        otc_divergence_workspace_size_f32,
        otc_divergence_f32,
        otc_divergence_gradient_f32,
        otc_plan_gradient_f32,
        otc_round_workspace_size_f32,
        otc_plan_round_f32,
        otc_matches_workspace_size_f32,
        otc_plan_matches_f32,
        otc_dustbin_solve_f32
    );
    probe_toolkit_precision!(
        f64,
        acc,
        mem,
        otc_sinkhorn_config_default_f64,
        otc_divergence_workspace_size_f64,
        otc_divergence_f64,
        otc_divergence_gradient_f64,
        otc_plan_gradient_f64,
        otc_round_workspace_size_f64,
        otc_plan_round_f64,
        otc_matches_workspace_size_f64,
        otc_plan_matches_f64,
        otc_dustbin_solve_f64
    );
    probe_jvp_precision!(
        f32,
        acc,
        mem,
        otc_ot_resample_config_default_f32,
        otc_ot_resample_jvp_workspace_size_f32,
        otc_ot_resample_jvp_f32
    );
    probe_jvp_precision!(
        f64,
        acc,
        mem,
        otc_ot_resample_config_default_f64,
        otc_ot_resample_jvp_workspace_size_f64,
        otc_ot_resample_jvp_f64
    );
    probe_implicit_precision!(
        f32,
        acc,
        mem,
        otc_implicit_workspace_size_f32,
        otc_plan_barycentric_vjp_f32,
        otc_plan_potentials_vjp_f32
    );
    probe_implicit_precision!(
        f64,
        acc,
        mem,
        otc_implicit_workspace_size_f64,
        otc_plan_barycentric_vjp_f64,
        otc_plan_potentials_vjp_f64
    );
    let text = otc_status_str(black_box(acc));
    black_box(text);
    black_box(otc_version());
    black_box(otc_set_simd_path(black_box(OTC_SIMD_PORTABLE)));
    black_box(otc_simd_path());
    #[cfg(feature = "panic-selfcheck")]
    {
        let v = black_box([1i32; 4]);
        acc += v[black_box(7usize)];
    }
    black_box(acc);
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m_rt::heap_start();
    }
}
