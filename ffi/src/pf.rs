//! Particle filtering: the random stream, classical and OT resampling, the OT VJP and
//! the filter step, each a generic implementation with one exported wrapper per
//! precision.

use core::ffi::c_void;

use otcore::ot::Cg;
use otcore::pf::weights::{ess, normalise};
use otcore::pf::{
    ancestors, filter_workspace_len, jvp_workspace_len, ot_resample_jvp, ot_resample_on,
    ot_resample_vjp, ot_resample_warm_on, ot_warm_len, ot_workspace_len, step, uniform_log_weights,
    vjp_workspace_len, OtConfig, RandomSource, Resampler, SplitMix64,
};
use otcore::{Error, Real};

use crate::args::{check_sized, disjoint, read_sized, workspace, zeroed, Array, Checked};
use crate::boundary::run;
use crate::pf_types::{
    otc_ot_resample_config, otc_ot_resample_report, otc_pf_config, otc_pf_report, otc_pf_state,
    otc_rng, otc_vjp_config, scheme_of, OTC_RESAMPLE_MULTINOMIAL, OTC_RESAMPLE_OPTIMAL,
};
use crate::pool::Pool;
use crate::sizes::{cells, write_workspace_size};
use crate::status::otc_status;

impl RandomSource for otc_rng {
    fn next_u64(&mut self) -> u64 {
        let mut s = SplitMix64::new(self.state);
        let v = s.next_u64();
        self.state = s.state;
        v
    }
}

/// Transition callback, `float` version: reads the N×d particles `x_prev` (row-major)
/// and writes the N×d proposed particles to `x_next`, drawing noise from `rng` (e.g.
/// with `otc_rng_normal_f32`). Returns 0 on success; anything else aborts the step
/// with `OTC_STATUS_CALLBACK_FAILED` and nothing changed.
pub type otc_pf_predict_f32 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x_prev: *const f32,
        x_next: *mut f32,
        rng: *mut otc_rng,
    ) -> i32,
>;

/// Transition callback, `double` version (see `otc_pf_predict_f32`).
pub type otc_pf_predict_f64 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x_prev: *const f64,
        x_next: *mut f64,
        rng: *mut otc_rng,
    ) -> i32,
>;

/// Log-likelihood callback, `float` version: for the N×d particles `x` writes
/// `loglik[i]` = log g(y | x_i) in nats (−∞ allowed; NaN or +∞ make the step fail
/// with `OTC_STATUS_NON_FINITE`). Fold log f − log q in here for a proposal other
/// than the transition. Returns 0 on success, anything else aborts the step with
/// `OTC_STATUS_CALLBACK_FAILED`.
pub type otc_pf_loglik_f32 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x: *const f32,
        loglik: *mut f32,
    ) -> i32,
>;

/// Log-likelihood callback, `double` version (see `otc_pf_loglik_f32`).
pub type otc_pf_loglik_f64 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x: *const f64,
        loglik: *mut f64,
    ) -> i32,
>;

type Predict<T> =
    Option<unsafe extern "C" fn(*mut c_void, usize, usize, *const T, *mut T, *mut otc_rng) -> i32>;
type Loglik<T> = Option<unsafe extern "C" fn(*mut c_void, usize, usize, *const T, *mut T) -> i32>;

unsafe fn rng_fill<T: Real>(rng: *mut otc_rng, out: *mut T, len: usize, normal: bool) -> i32 {
    run(|| {
        let r = Array::output(rng, 1)?;
        let o = Array::output(out, len)?;
        disjoint(&[r.span(), o.span()])?;
        // SAFETY: checked non-NULL, aligned, disjoint; valid by the caller's contract.
        let (r, o) = unsafe { (&mut r.slice_mut()[0], o.slice_mut()) };
        if normal {
            r.fill_normal(o);
        } else {
            r.fill_uniform(o);
        }
        Ok(otc_status::Ok)
    })
}

unsafe fn normalise_impl<T: Real>(logw: *mut T, n: usize, out_lse: *mut T, out_ess: *mut T) -> i32 {
    run(|| {
        let (l, o, e) = (
            Array::output(logw, n)?,
            Array::output(out_lse, 1)?,
            Array::output(out_ess, 1)?,
        );
        disjoint(&[l.span(), o.span(), e.span()])?;
        if n == 0 {
            return Err(otc_status::EmptyInput);
        }
        // SAFETY: checked non-NULL, aligned, disjoint; valid by the caller's contract.
        let ls = unsafe { l.slice_mut() };
        let lse = normalise(ls)?;
        // SAFETY: as above.
        unsafe {
            o.fill(lse);
            e.fill(ess(ls));
        }
        Ok(otc_status::Ok)
    })
}

pub(crate) unsafe fn config_default<S: Copy>(out: *mut S, value: S) -> i32 {
    run(|| {
        let out = Array::output(out, 1)?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { out.fill(value) };
        Ok(otc_status::Ok)
    })
}

unsafe fn resample_ancestors<T: Real>(
    resampler: i32,
    logw: *const T,
    n: usize,
    rng: *mut otc_rng,
    out: *mut usize,
) -> i32 {
    run(|| {
        let scheme = scheme_of(resampler)?;
        let (l, r, o) = (
            Array::input(logw, n)?,
            Array::output(rng, 1)?,
            Array::output(out, n)?,
        );
        disjoint(&[l.span(), r.span(), o.span()])?;
        // SAFETY: checked non-NULL, aligned, disjoint; valid by the caller's contract.
        let (l, r, o) = unsafe { (l.slice(), &mut r.slice_mut()[0], o.slice_mut()) };
        ancestors(scheme, l, r, o)?;
        Ok(otc_status::Ok)
    })
}

unsafe fn init<T: Real>(logw: *mut T, n: usize, state: *mut otc_pf_state<T>) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        unsafe { check_sized(state)? };
        if n == 0 {
            return Err(otc_status::EmptyInput);
        }
        let (l, s) = (Array::output(logw, n)?, Array::output(state, 1)?);
        disjoint(&[l.span(), s.span()])?;
        // SAFETY: checked non-NULL, aligned, disjoint; valid by the caller's contract.
        unsafe {
            uniform_log_weights(l.slice_mut());
            s.fill(otc_pf_state::from_core(&otcore::pf::Totals::default()));
        }
        Ok(otc_status::Ok)
    })
}

/// The core settings and the pool of an OT-resampling config.
///
/// # Safety
/// `config` must be NULL or point to a readable config whose `parallel` is NULL or a
/// valid `otc_parallel_for`.
///
/// # Errors
/// Those of `read_sized`, `to_core` and `Pool::read`.
unsafe fn ot_config<T: Real>(
    config: *const otc_ot_resample_config<T>,
) -> Checked<(OtConfig<T>, Pool)> {
    // SAFETY: the caller's contract.
    let raw = unsafe { read_sized(config)? };
    let cfg = raw.to_core()?;
    // SAFETY: as above.
    let pool = unsafe { Pool::read(raw.parallel)? };
    Ok((cfg, pool))
}

#[allow(clippy::too_many_arguments)]
unsafe fn ot_resample_impl<T: Real>(
    config: *const otc_ot_resample_config<T>,
    x: *const T,
    logw: *const T,
    n: usize,
    d: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut T,
    report: *mut otc_ot_resample_report<T>,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let (cfg, pool) = unsafe { ot_config(config)? };
        // SAFETY: as above.
        unsafe { check_sized(report)? };
        let len = cells(n, d)?;
        let (xa, la) = (Array::input(x, len)?, Array::input(logw, n)?);
        let ws = workspace::<T>(ws, ws_bytes, ot_workspace_len(n, d))?;
        let (xo, rep) = (Array::output(x_out, len)?, Array::output(report, 1)?);
        disjoint(&[xa.span(), la.span(), ws.span(), xo.span(), rep.span()])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract and
        // disjoint from the written ones.
        let (xs, ls, xo_s, wss) = unsafe { (xa.slice(), la.slice(), xo.slice_mut(), zeroed(ws)) };
        let r = ot_resample_on(&pool, xs, ls, d, &cfg, xo_s, wss)?;
        // SAFETY: as above.
        unsafe { rep.fill(otc_ot_resample_report::from_core(&r)) };
        Ok(r.status.into())
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn ot_resample_warm_impl<T: Real>(
    config: *const otc_ot_resample_config<T>,
    x: *const T,
    logw: *const T,
    n: usize,
    d: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    state: *mut T,
    state_len: usize,
    x_out: *mut T,
    report: *mut otc_ot_resample_report<T>,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let (cfg, pool) = unsafe { ot_config(config)? };
        // SAFETY: as above.
        unsafe { check_sized(report)? };
        let len = cells(n, d)?;
        let (xa, la) = (Array::input(x, len)?, Array::input(logw, n)?);
        let ws = workspace::<T>(ws, ws_bytes, ot_workspace_len(n, d))?;
        let st = Array::output(state, state_len)?;
        let (xo, rep) = (Array::output(x_out, len)?, Array::output(report, 1)?);
        disjoint(&[
            xa.span(),
            la.span(),
            ws.span(),
            st.span(),
            xo.span(),
            rep.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract and
        // disjoint from the others; the state is initialised caller memory (read and
        // written).
        let (xs, ls, xo_s, sts, wss) = unsafe {
            (
                xa.slice(),
                la.slice(),
                xo.slice_mut(),
                st.slice_mut(),
                zeroed(ws),
            )
        };
        let r = ot_resample_warm_on(&pool, xs, ls, d, &cfg, xo_s, wss, sts)?;
        // SAFETY: as above.
        unsafe { rep.fill(otc_ot_resample_report::from_core(&r)) };
        Ok(r.status.into())
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn vjp_impl<T: Real>(
    config: *const otc_ot_resample_config<T>,
    vjp: *const otc_vjp_config<T>,
    x: *const T,
    logw: *const T,
    n: usize,
    d: usize,
    ybar: *const T,
    ws: *mut c_void,
    ws_bytes: usize,
    dx: *mut T,
    dlogw: *mut T,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let cfg = unsafe { read_sized(config)? }.to_core()?;
        // SAFETY: as above.
        let v = unsafe { read_sized(vjp)? }.to_core()?;
        let len = cells(n, d)?;
        let (xa, la, ya) = (
            Array::input(x, len)?,
            Array::input(logw, n)?,
            Array::input(ybar, len)?,
        );
        let ws = workspace::<T>(ws, ws_bytes, vjp_workspace_len(n, d))?;
        let (dxa, dla) = (Array::output(dx, len)?, Array::output(dlogw, n)?);
        disjoint(&[
            xa.span(),
            la.span(),
            ya.span(),
            ws.span(),
            dxa.span(),
            dla.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract and
        // disjoint from the written ones.
        let (xs, ls, ys, dxs, dls, wss) = unsafe {
            (
                xa.slice(),
                la.slice(),
                ya.slice(),
                dxa.slice_mut(),
                dla.slice_mut(),
                zeroed(ws),
            )
        };
        let r = ot_resample_vjp(xs, ls, d, &cfg, &v, ys, dxs, dls, wss)?;
        Ok(r.forward_status.into())
    })
}

/// # Safety
/// As the exported `otc_ot_resample_jvp_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn jvp_impl<T: Real>(
    config: *const otc_ot_resample_config<T>,
    cg: Cg<T>,
    (x, logw, n, d): (*const T, *const T, usize, usize),
    (x_dot, logw_dot, dirs): (*const T, *const T, usize),
    (ws, ws_bytes): (*mut c_void, usize),
    x_out: *mut T,
    x_out_dot: *mut T,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let cfg = unsafe { read_sized(config)? }.to_core()?;
        let len = cells(n, d)?;
        let (tlen, llen) = (cells(len, dirs)?, cells(n, dirs)?);
        let (xa, la) = (Array::input(x, len)?, Array::input(logw, n)?);
        let (xda, lda) = (Array::input(x_dot, tlen)?, Array::input(logw_dot, llen)?);
        let ws = workspace::<T>(ws, ws_bytes, jvp_workspace_len(n, d, dirs))?;
        let (oa, oda) = (Array::output(x_out, len)?, Array::output(x_out_dot, tlen)?);
        disjoint(&[
            xa.span(),
            la.span(),
            xda.span(),
            lda.span(),
            ws.span(),
            oa.span(),
            oda.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract and
        // disjoint from the written ones.
        let (xs, ls, xds, lds, os, ods, wss) = unsafe {
            (
                xa.slice(),
                la.slice(),
                xda.slice(),
                lda.slice(),
                oa.slice_mut(),
                oda.slice_mut(),
                zeroed(ws),
            )
        };
        let r = ot_resample_jvp(xs, ls, d, &cfg, &cg, (xds, lds), (os, ods), wss)?;
        Ok(r.forward_status.into())
    })
}

fn pf_workspace_len(n: usize, d: usize, resampler: i32) -> Checked<usize> {
    if !(OTC_RESAMPLE_MULTINOMIAL..=OTC_RESAMPLE_OPTIMAL).contains(&resampler) {
        return Err(otc_status::InvalidParameter);
    }
    Ok(filter_workspace_len(
        n,
        d,
        resampler == OTC_RESAMPLE_OPTIMAL,
    ))
}

#[allow(clippy::too_many_arguments)]
unsafe fn step_impl<T: Real>(
    config: *const otc_pf_config<T>,
    predict: Predict<T>,
    loglik: Loglik<T>,
    user: *mut c_void,
    n: usize,
    d: usize,
    rng: *mut otc_rng,
    x: *mut T,
    logw: *mut T,
    state: *mut otc_pf_state<T>,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut T,
    cov: *mut T,
    report: *mut otc_pf_report<T>,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let cfg = unsafe { read_sized(config)? }.to_core()?;
        // SAFETY: as above.
        let st = unsafe { read_sized(state)? };
        // SAFETY: as above.
        unsafe { check_sized(report)? };
        let (predict, loglik) = match (predict, loglik) {
            (Some(p), Some(l)) => (p, l),
            _ => return Err(otc_status::NullPointer),
        };
        let len = cells(n, d)?;
        let optimal = matches!(cfg.resampler, Resampler::Optimal(_));
        let ra = Array::output(rng, 1)?;
        let (xa, la) = (Array::output(x, len)?, Array::output(logw, n)?);
        let sa = Array::output(state, 1)?;
        let ws = workspace::<T>(ws, ws_bytes, filter_workspace_len(n, d, optimal))?;
        let (ma, ca) = (Array::output(mean, d)?, Array::output(cov, cells(d, d)?)?);
        let rep = Array::output(report, 1)?;
        disjoint(&[
            ra.span(),
            xa.span(),
            la.span(),
            sa.span(),
            ws.span(),
            ma.span(),
            ca.span(),
            rep.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract and
        // disjoint from the others.
        let (r, xs, ls, ms, cs, wss) = unsafe {
            (
                &mut ra.slice_mut()[0],
                xa.slice_mut(),
                la.slice_mut(),
                ma.slice_mut(),
                ca.slice_mut(),
                zeroed(ws),
            )
        };
        let mut totals = st.to_core();
        let pred = |prev: &[T], next: &mut [T], rng: &mut otc_rng| {
            // SAFETY: prev/next are N·d arrays owned by this call; the callback's
            // contract (stated in the header) is to read/write exactly those.
            let s = unsafe { predict(user, n, d, prev.as_ptr(), next.as_mut_ptr(), rng) };
            if s == 0 {
                Ok(())
            } else {
                Err(Error::CallbackFailed)
            }
        };
        let lik = |xs: &[T], out: &mut [T]| {
            // SAFETY: as above, N·d particles and N outputs.
            let s = unsafe { loglik(user, n, d, xs.as_ptr(), out.as_mut_ptr()) };
            if s == 0 {
                Ok(())
            } else {
                Err(Error::CallbackFailed)
            }
        };
        let rp = step(xs, ls, d, &cfg, &mut totals, r, pred, lik, ms, cs, wss)?;
        // SAFETY: as above.
        unsafe {
            sa.fill(otc_pf_state::from_core(&totals));
            rep.fill(otc_pf_report::from_core(&rp));
        }
        Ok(rp.ot.map_or(otc_status::Ok, |o| o.status.into()))
    })
}

/// Seeds a random stream: `rng->state = seed` (any value is valid).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// `rng` must be NULL or point to a writable `otc_rng`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_rng_seed(rng: *mut otc_rng, seed: u64) -> i32 {
    run(|| {
        let r = Array::output(rng, 1)?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { r.fill(otc_rng { state: seed }) };
        Ok(otc_status::Ok)
    })
}

/// Fills `out[0..len]` with uniform draws in [0, 1) (53 random bits each, rounded to
/// float, never 1) and advances the stream.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_INVALID_PARAMETER` (`out` overlaps `rng`).
///
/// # Safety
/// `rng` must be NULL or valid for reads and writes; `out` NULL or writable for `len`
/// elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_rng_uniform_f32(rng: *mut otc_rng, out: *mut f32, len: usize) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { rng_fill(rng, out, len, false) }
}

/// The `double` version of `otc_rng_uniform_f32`.
///
/// # Safety
/// As `otc_rng_uniform_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_rng_uniform_f64(rng: *mut otc_rng, out: *mut f64, len: usize) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { rng_fill(rng, out, len, false) }
}

/// Fills `out[0..len]` with standard normal draws and advances the stream: pairs
/// `out[2p]`, `out[2p + 1]` by a branch-free Box–Muller transform of the stream's
/// next 64-bit word (`float`; two words for `double`), so ⌈len/2⌉ words (`double`:
/// 2·⌈len/2⌉) are drawn; for an odd `len` the last pair's second value is dropped. Statuses as `otc_rng_uniform_f32`.
///
/// # Safety
/// As `otc_rng_uniform_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_rng_normal_f32(rng: *mut otc_rng, out: *mut f32, len: usize) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { rng_fill(rng, out, len, true) }
}

/// The `double` version of `otc_rng_normal_f32`.
///
/// # Safety
/// As `otc_rng_uniform_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_rng_normal_f64(rng: *mut otc_rng, out: *mut f64, len: usize) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { rng_fill(rng, out, len, true) }
}

/// Normalises log-weights in place (subtracts their log-sum-exp) and writes that
/// log-sum-exp (the log of the total weight, nats) to `*out_log_sum` and the effective
/// sample size 1/Σ W_i² (particles, 1..n) to `*out_ess`. −∞ entries (dead particles)
/// stay −∞.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_INVALID_PARAMETER` (overlap),
/// `OTC_STATUS_EMPTY_INPUT` (n = 0), `OTC_STATUS_NON_FINITE_INPUT` (NaN or +∞),
/// `OTC_STATUS_ZERO_MASS` (all −∞).
///
/// # Safety
/// `logw` readable and writable for n elements; the outputs writable (NULL checked).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_log_weights_normalise_f32(
    logw: *mut f32,
    n: usize,
    out_log_sum: *mut f32,
    out_ess: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { normalise_impl(logw, n, out_log_sum, out_ess) }
}

/// The `double` version of `otc_log_weights_normalise_f32`.
///
/// # Safety
/// As `otc_log_weights_normalise_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_log_weights_normalise_f64(
    logw: *mut f64,
    n: usize,
    out_log_sum: *mut f64,
    out_ess: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { normalise_impl(logw, n, out_log_sum, out_ess) }
}

/// Draws N ancestor indices (ascending, except residual) from log-weights `logw[0..n]`
/// (any finite offset; −∞ = dead particle, never drawn) with a classical scheme
/// (`OTC_RESAMPLE_MULTINOMIAL`, `_STRATIFIED`, `_SYSTEMATIC`, `_RESIDUAL`) into
/// `ancestors[0..n]`, in O(N).
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_INVALID_PARAMETER` (unknown or OT scheme,
/// overlapping buffers), `OTC_STATUS_EMPTY_INPUT` (n = 0), `OTC_STATUS_NON_FINITE_INPUT`
/// (NaN or +∞ log-weight), `OTC_STATUS_ZERO_MASS` (all −∞).
///
/// # Safety
/// `logw` readable for n elements, `rng` readable and writable, `ancestors` writable
/// for n elements (each may be NULL: checked).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_resample_ancestors_f32(
    resampler: i32,
    logw: *const f32,
    n: usize,
    rng: *mut otc_rng,
    ancestors: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { resample_ancestors(resampler, logw, n, rng, ancestors) }
}

/// The `double` version of `otc_resample_ancestors_f32`.
///
/// # Safety
/// As `otc_resample_ancestors_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_resample_ancestors_f64(
    resampler: i32,
    logw: *const f64,
    n: usize,
    rng: *mut otc_rng,
    ancestors: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { resample_ancestors(resampler, logw, n, rng, ancestors) }
}

/// Fills `*out` with the OT-resampling defaults: scaling 0.75, tolerance 1e-3,
/// 100 iterations, automatic scale, and **ε = 0, which must be set** (recommended 0.5
/// for N ≤ 100).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_ot_resample_config_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_config_default_f32(
    out: *mut otc_ot_resample_config<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_ot_resample_config::default_values()) }
}

/// The `double` version of `otc_ot_resample_config_default_f32`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_ot_resample_config_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_config_default_f64(
    out: *mut otc_ot_resample_config<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_ot_resample_config::default_values()) }
}

/// Workspace bytes of `otc_ot_resample_f32` for N particles in dimension d:
/// `sizeof(float) · (2·d + 7) · N̂`, N̂ = N rounded up to a multiple of the kernel width
/// (16; 4 in Cortex-M builds). O(N·d): no N×N matrix.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_workspace_size_f32(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(ot_workspace_len(n, d)), out_bytes) }
}

/// The `double` version of `otc_ot_resample_workspace_size_f32` (`sizeof(double)`).
///
/// # Safety
/// As `otc_ot_resample_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_workspace_size_f64(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(ot_workspace_len(n, d)), out_bytes) }
}

/// OT resampling (filterflow's regularised transform): x̃ = m + T·(x − m) with
/// T = N·P^ε the entropic plan from the weighted to the uniform cloud (normalised by
/// the largest coordinate std × √d), written to `x_out` (N×d row-major); the new
/// weights are all 1/N (set them yourself). Column sums of T are N·w (to a relative
/// rounding of a few × 2^−10 at the smallest accepted ε, far less at ordinary ε), so
/// the weighted mean is preserved; rows sum to 1 within `report->error`, and each new
/// particle lies within `report->error` × max_j ‖x_j − m‖ of the convex hull of the
/// old ones. Any finite cloud is accepted: coordinates near the top of the float
/// range are rescaled by a power of two internally.
///
/// - `x`: N×d particles, row-major; `logw`: N log-weights (any offset, −∞ allowed).
/// - `ws`, `ws_bytes`: `otc_ot_resample_workspace_size_f32(n, d)` bytes, aligned to
///   `OTC_WORKSPACE_ALIGN`.
/// - `report`: iterations, ε₀, scale, last potential change, row-error bound; set
///   `report->struct_size` first.
///
/// Returns `OTC_STATUS_OK` (the loop met its stopping rule) or
/// `OTC_STATUS_MAX_ITERATIONS` (it ran out of iterations first: particles and report
/// written, `report->error` says how far the rows are from 1); nothing written:
/// `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE`,
/// `OTC_STATUS_INVALID_PARAMETER` (scaling ∉ (0, 1), tolerance < 0, scale < 0, or so
/// small or so large against the cloud that the normalised cloud overflows or
/// underflows, overlapping buffers),
/// `OTC_STATUS_INVALID_EPSILON` (also ε so small against the normalised costs and
/// potentials that their ratio exceeds 2^−10 / FLT_EPSILON, about 8·10³ in float and
/// 4·10¹² in double: the plan's column sums would be lost to rounding),
/// `OTC_STATUS_EMPTY_INPUT`, `OTC_STATUS_LENGTH_MISMATCH`,
/// `OTC_STATUS_NON_FINITE_INPUT`, `OTC_STATUS_ZERO_MASS` (all log-weights −∞),
/// `OTC_STATUS_WORKSPACE_TOO_SMALL`, `OTC_STATUS_NON_FINITE` (overflow, e.g. a
/// normalisation divisor s·√d beyond the float range), `OTC_STATUS_CALLBACK_FAILED`
/// (`config->parallel`'s `run` returned non-zero or before running every task; its
/// `struct_size` wrong gives `OTC_STATUS_STRUCT_SIZE`, its `run` NULL
/// `OTC_STATUS_NULL_POINTER`), `OTC_STATUS_PANIC`.
///
/// With `config->parallel` set and N > 256, the kernel passes split their particles
/// over the caller's pool (see `otc_parallel_for`; the transport too for d ≤ 5); the
/// results are the same bits as without it.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call;
/// `config->parallel` NULL or a valid `otc_parallel_for` whose `run` keeps its contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_f32(
    config: *const otc_ot_resample_config<f32>,
    x: *const f32,
    logw: *const f32,
    n: usize,
    d: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut f32,
    report: *mut otc_ot_resample_report<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { ot_resample_impl(config, x, logw, n, d, ws, ws_bytes, x_out, report) }
}

/// The `double` version of `otc_ot_resample_f32`.
///
/// # Safety
/// As `otc_ot_resample_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_f64(
    config: *const otc_ot_resample_config<f64>,
    x: *const f64,
    logw: *const f64,
    n: usize,
    d: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut f64,
    report: *mut otc_ot_resample_report<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { ot_resample_impl(config, x, logw, n, d, ws, ws_bytes, x_out, report) }
}

/// Elements (`float` or `double`) of the warm-start state of
/// `otc_ot_resample_warm_f32` for N particles in dimension d: `(d + 1)·N̂ + 2`, N̂ as
/// in `otc_ot_resample_workspace_size_f32`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `out_len` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_warm_len(n: usize, d: usize, out_len: *mut usize) -> i32 {
    run(|| {
        let o = Array::output(out_len, 1)?;
        // `ot_warm_len` saturates: usize::MAX is an overflow.
        let len = Some(ot_warm_len(n, d))
            .filter(|&l| l != usize::MAX)
            .ok_or(otc_status::LengthMismatch)?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { o.fill(len) };
        Ok(otc_status::Ok)
    })
}

/// `otc_ot_resample_f32` warm-started from the previous call's potentials: a filter
/// resamples similar clouds tick after tick, so the last solve's potential, carried
/// to the new particles by the soft c-transform, starts the loop at ε without
/// annealing (fewer kernel passes: `report->passes`). Same fixed point within
/// `tolerance`; the result depends on the state.
///
/// - `state`, `state_len`: `otc_ot_resample_warm_len(n, d)` elements, all zero before
///   the first call (or to forget); read, and rewritten on success. A state written
///   for another particle count starts cold.
/// - the other arguments as `otc_ot_resample_f32`.
///
/// Returns as `otc_ot_resample_f32`, plus `OTC_STATUS_LENGTH_MISMATCH` (`state_len`)
/// and `OTC_STATUS_NON_FINITE_INPUT` (a state for this count holding NaN or ∞: it is
/// refused, not silently restarted). Nothing is written on error, the state
/// included.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_warm_f32(
    config: *const otc_ot_resample_config<f32>,
    x: *const f32,
    logw: *const f32,
    n: usize,
    d: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    state: *mut f32,
    state_len: usize,
    x_out: *mut f32,
    report: *mut otc_ot_resample_report<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        ot_resample_warm_impl(
            config, x, logw, n, d, ws, ws_bytes, state, state_len, x_out, report,
        )
    }
}

/// The `double` version of `otc_ot_resample_warm_f32`.
///
/// # Safety
/// As `otc_ot_resample_warm_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_warm_f64(
    config: *const otc_ot_resample_config<f64>,
    x: *const f64,
    logw: *const f64,
    n: usize,
    d: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    state: *mut f64,
    state_len: usize,
    x_out: *mut f64,
    report: *mut otc_ot_resample_report<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        ot_resample_warm_impl(
            config, x, logw, n, d, ws, ws_bytes, state, state_len, x_out, report,
        )
    }
}

/// Fills `*out` with the VJP defaults: `OTC_VJP_FILTERFLOW`, clip 1, CG tolerance
/// 1e-5, 200 CG iterations.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_vjp_config_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_vjp_config_default_f32(out: *mut otc_vjp_config<f32>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_vjp_config::default_values()) }
}

/// The `double` version of `otc_vjp_config_default_f32` (CG tolerance 1e-10).
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_vjp_config_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_vjp_config_default_f64(out: *mut otc_vjp_config<f64>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_vjp_config::default_values()) }
}

/// Workspace bytes of `otc_ot_resample_vjp_f32`:
/// `sizeof(float) · ((13·d + 29)·N̂ + d)`, N̂ = N rounded up to a multiple of the kernel
/// width (16; 4 in Cortex-M builds).
///
/// Returns as `otc_ot_resample_workspace_size_f32`.
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_vjp_workspace_size_f32(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(vjp_workspace_len(n, d)), out_bytes) }
}

/// The `double` version of `otc_ot_resample_vjp_workspace_size_f32`.
///
/// # Safety
/// As `otc_ot_resample_vjp_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_vjp_workspace_size_f64(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(vjp_workspace_len(n, d)), out_bytes) }
}

/// Vector–Jacobian product of `otc_ot_resample_f32`: given `ybar` = ∂L/∂x̃ (N×d),
/// writes `dx` = ∂L/∂x (N×d) and `dlogw` = ∂L/∂log w (N). The forward solve is rerun
/// with the same arguments. `OTC_VJP_FILTERFLOW`: gradient through the final Sinkhorn
/// step with ∂L/∂T clipped to ±clip (filterflow's); `OTC_VJP_IMPLICIT`: the exact
/// gradient of the converged map by conjugate gradient (converge the forward solve
/// with a small tolerance). The normalisation scale is a constant in both.
///
/// Returns `OTC_STATUS_OK`, or `OTC_STATUS_MAX_ITERATIONS` when the forward solve ran
/// out of iterations (outputs written: the gradient of that unconverged map);
/// nothing written: as `otc_ot_resample_f32`, plus `OTC_STATUS_INVALID_PARAMETER` for
/// an unknown mode, clip ≤ 0, CG tolerance ≤ 0.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_vjp_f32(
    config: *const otc_ot_resample_config<f32>,
    vjp: *const otc_vjp_config<f32>,
    x: *const f32,
    logw: *const f32,
    n: usize,
    d: usize,
    ybar: *const f32,
    ws: *mut c_void,
    ws_bytes: usize,
    dx: *mut f32,
    dlogw: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { vjp_impl(config, vjp, x, logw, n, d, ybar, ws, ws_bytes, dx, dlogw) }
}

/// The `double` version of `otc_ot_resample_vjp_f32`.
///
/// # Safety
/// As `otc_ot_resample_vjp_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_vjp_f64(
    config: *const otc_ot_resample_config<f64>,
    vjp: *const otc_vjp_config<f64>,
    x: *const f64,
    logw: *const f64,
    n: usize,
    d: usize,
    ybar: *const f64,
    ws: *mut c_void,
    ws_bytes: usize,
    dx: *mut f64,
    dlogw: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { vjp_impl(config, vjp, x, logw, n, d, ybar, ws, ws_bytes, dx, dlogw) }
}

/// Workspace size, in bytes, of `otc_ot_resample_jvp_f32` for N particles in
/// dimension d and `dirs` tangent directions: `sizeof(float) ·
/// (OTC_OT_RESAMPLE_WORKSPACE_ELEMS(n, d) + N·d·(1 + dirs) + (13d + 20)·N̂ + 2d)`, N̂ =
/// OTC_PADDED(N) (`OTC_OT_RESAMPLE_JVP_WORKSPACE_SIZE_F32`). O(N·d·dirs), never N×N.
///
/// Returns as `otc_sinkhorn_workspace_size_f32`.
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_jvp_workspace_size_f32(
    n: usize,
    d: usize,
    dirs: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(jvp_workspace_len(n, d, dirs)), out_bytes) }
}

/// The `double` version of `otc_ot_resample_jvp_workspace_size_f32`.
///
/// # Safety
/// As `otc_ot_resample_jvp_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_jvp_workspace_size_f64(
    n: usize,
    d: usize,
    dirs: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(jvp_workspace_len(n, d, dirs)), out_bytes) }
}

/// Forward mode of `otc_ot_resample_f32`: writes x̃ (N×d, the bits
/// `otc_ot_resample_f32` writes) to `x_out` and, for each of `dirs` tangent directions
/// (ẋ: N×d and l̇: N, stacked in `x_dot` (dirs·N·d) and `logw_dot` (dirs·N)), the
/// tangent of x̃ to `x_out_dot` (dirs·N·d): the exact derivative of the converged map
/// by implicit differentiation (conjugate gradient to `cg_tolerance`, at most
/// `cg_max_iterations` iterations per direction; converge the forward solve with a
/// small tolerance). The forward solve runs once for all directions. Log-weights are
/// unnormalised; the normalisation scale is a constant (set `config->scale` to
/// compare with finite differences). The transpose of `otc_ot_resample_vjp_f32` with
/// `OTC_VJP_IMPLICIT`.
///
/// Returns `OTC_STATUS_OK`, or `OTC_STATUS_MAX_ITERATIONS` when the forward solve ran
/// out of iterations (outputs written: the derivative of that unconverged map);
/// nothing written: as `otc_ot_resample_f32`, plus `OTC_STATUS_EMPTY_INPUT` for
/// dirs = 0, `OTC_STATUS_NON_FINITE_INPUT` for a NaN/∞ tangent and
/// `OTC_STATUS_INVALID_PARAMETER` for a CG tolerance that is not finite and positive.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_ot_resample_jvp_f32(
    config: *const otc_ot_resample_config<f32>,
    cg_tolerance: f32,
    cg_max_iterations: u32,
    x: *const f32,
    logw: *const f32,
    n: usize,
    d: usize,
    x_dot: *const f32,
    logw_dot: *const f32,
    dirs: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut f32,
    x_out_dot: *mut f32,
) -> i32 {
    let cg = Cg {
        tolerance: cg_tolerance,
        max_iterations: cg_max_iterations,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe {
        jvp_impl(
            config,
            cg,
            (x, logw, n, d),
            (x_dot, logw_dot, dirs),
            (ws, ws_bytes),
            x_out,
            x_out_dot,
        )
    }
}

/// The `double` version of `otc_ot_resample_jvp_f32`.
///
/// # Safety
/// As `otc_ot_resample_jvp_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_ot_resample_jvp_f64(
    config: *const otc_ot_resample_config<f64>,
    cg_tolerance: f64,
    cg_max_iterations: u32,
    x: *const f64,
    logw: *const f64,
    n: usize,
    d: usize,
    x_dot: *const f64,
    logw_dot: *const f64,
    dirs: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut f64,
    x_out_dot: *mut f64,
) -> i32 {
    let cg = Cg {
        tolerance: cg_tolerance,
        max_iterations: cg_max_iterations,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe {
        jvp_impl(
            config,
            cg,
            (x, logw, n, d),
            (x_dot, logw_dot, dirs),
            (ws, ws_bytes),
            x_out,
            x_out_dot,
        )
    }
}

/// Fills `*out` with the filter defaults: systematic resampling when ESS < 0.5·N, and
/// the OT defaults of `otc_ot_resample_config_default_f32` in `out->ot` (set
/// `out->ot.epsilon` to use `OTC_RESAMPLE_OPTIMAL`).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_pf_config_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_pf_config_default_f32(out: *mut otc_pf_config<f32>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_pf_config::default_values()) }
}

/// The `double` version of `otc_pf_config_default_f32`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_pf_config_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_pf_config_default_f64(out: *mut otc_pf_config<f64>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_pf_config::default_values()) }
}

/// Workspace bytes of `otc_pf_step_f32` for N particles in dimension d with the given
/// resampler: `sizeof(float) · N·(d + 1)`, plus `sizeof(float) · (2·d + 7)·N̂`
/// (N̂ = N rounded up to a multiple of the kernel width: 16; 4 in Cortex-M builds) for
/// `OTC_RESAMPLE_OPTIMAL`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_INVALID_PARAMETER` (unknown resampler), `OTC_STATUS_LENGTH_MISMATCH`
/// (overflow).
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_pf_workspace_size_f32(
    n: usize,
    d: usize,
    resampler: i32,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(pf_workspace_len(n, d, resampler), out_bytes) }
}

/// The `double` version of `otc_pf_workspace_size_f32` (`sizeof(double)`).
///
/// # Safety
/// As `otc_pf_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_pf_workspace_size_f64(
    n: usize,
    d: usize,
    resampler: i32,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(pf_workspace_len(n, d, resampler), out_bytes) }
}

/// Starts a filter: `logw[0..n]` = −log N (uniform) and `*state` = zero totals
/// (`state->struct_size` must be set). Draw the initial particles yourself.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_EMPTY_INPUT`,
/// `OTC_STATUS_INVALID_PARAMETER` (overlap).
///
/// # Safety
/// `logw` writable for n elements, `state` readable and writable (NULL checked).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_pf_init_f32(
    logw: *mut f32,
    n: usize,
    state: *mut otc_pf_state<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { init(logw, n, state) }
}

/// The `double` version of `otc_pf_init_f32`.
///
/// # Safety
/// As `otc_pf_init_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_pf_init_f64(
    logw: *mut f64,
    n: usize,
    state: *mut otc_pf_state<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { init(logw, n, state) }
}

/// One particle-filter step: `predict(user, n, d, x, x_next, rng)` → `loglik(user, n,
/// d, x_next, λ)` → Δℓ = log Σ W_i e^{λ_i} added to `state->log_likelihood`, weights
/// W_i ← W_i e^{λ_i − Δℓ} → weighted mean (d) and covariance (d×d row-major) into
/// `mean`, `cov` → resample if the trigger fires (then `logw` = −log N).
///
/// - `x` (N×d row-major) and `logw` (N, normalised log-weights; −∞ = dead) are the
///   particle set, updated in place; `rng` is the random stream passed to `predict`
///   and used by the random resamplers; `state` the running totals.
/// - `ws`, `ws_bytes`: `otc_pf_workspace_size_f32(n, d, config->resampler)` bytes,
///   aligned to `OTC_WORKSPACE_ALIGN`.
/// - `report`: Δℓ, ℓ̂, ESS (before resampling), whether it resampled, OT iterations;
///   set `report->struct_size` first.
///
/// The callbacks get the library's own buffers (N·d and N elements) and must not
/// keep the pointers. On any error nothing changes (`x`, `logw`, `state`, `mean`,
/// `cov`, `report`, and `*rng` is restored).
///
/// Returns `OTC_STATUS_OK`, or `OTC_STATUS_MAX_ITERATIONS` when the step resampled
/// with OT and the OT loop ran out of iterations (everything written, as
/// `otc_ot_resample_f32`); nothing changed: `OTC_STATUS_NULL_POINTER` (also a NULL
/// callback), `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE`,
/// `OTC_STATUS_INVALID_PARAMETER` (unknown resampler or trigger, threshold ∉ [0, 1],
/// OT settings, overlapping buffers), `OTC_STATUS_INVALID_EPSILON` (OT ε),
/// `OTC_STATUS_EMPTY_INPUT` (n or d = 0), `OTC_STATUS_LENGTH_MISMATCH` (overflow),
/// `OTC_STATUS_NON_FINITE_INPUT` (NaN/∞ particle, NaN/+∞ log-weight),
/// `OTC_STATUS_ZERO_MASS` (all weights −∞ before or after weighting),
/// `OTC_STATUS_WORKSPACE_TOO_SMALL`, `OTC_STATUS_CALLBACK_FAILED` (a callback returned
/// nonzero), `OTC_STATUS_NON_FINITE` (a callback wrote NaN/∞ particles or NaN/+∞
/// log-likelihoods, OT overflowed, the covariance or the running log-likelihood is
/// beyond the float range), `OTC_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call; the
/// callbacks must honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_pf_step_f32(
    config: *const otc_pf_config<f32>,
    predict: otc_pf_predict_f32,
    loglik: otc_pf_loglik_f32,
    user: *mut c_void,
    n: usize,
    d: usize,
    rng: *mut otc_rng,
    x: *mut f32,
    logw: *mut f32,
    state: *mut otc_pf_state<f32>,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f32,
    cov: *mut f32,
    report: *mut otc_pf_report<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step_impl(
            config, predict, loglik, user, n, d, rng, x, logw, state, ws, ws_bytes, mean, cov,
            report,
        )
    }
}

/// The `double` version of `otc_pf_step_f32`.
///
/// # Safety
/// As `otc_pf_step_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_pf_step_f64(
    config: *const otc_pf_config<f64>,
    predict: otc_pf_predict_f64,
    loglik: otc_pf_loglik_f64,
    user: *mut c_void,
    n: usize,
    d: usize,
    rng: *mut otc_rng,
    x: *mut f64,
    logw: *mut f64,
    state: *mut otc_pf_state<f64>,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f64,
    cov: *mut f64,
    report: *mut otc_pf_report<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step_impl(
            config, predict, loglik, user, n, d, rng, x, logw, state, ws, ws_bytes, mean, cov,
            report,
        )
    }
}
