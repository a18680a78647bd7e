//! Score-based SDE sampling: processes, grids, prior, the fixed-step samplers (single
//! step and whole grid), the adaptive solver, the Gaussian-mixture score and the
//! generic Itô steps. Each is a generic implementation with one exported wrapper per
//! precision; the fixed-step samplers' implementations also serve the guided calls of
//! `sde_guidance`.
//!
//! The model is a C callback over the whole batch,
//! `int32_t model(void *user, size_t n, size_t d, const T *x, const T *t, T *out)`:
//! `x` holds n samples of dimension d row by row, `t` their n times, `out` (n·d)
//! receives the declared output (score, noise, denoised; velocity for the flow
//! samplers of `sde_flow`). Return 0 on success;
//! anything else stops the call with `OTC_STATUS_CALLBACK_FAILED` and nothing written.
//! The arrays are only valid during the call.

use core::ffi::c_void;
use core::marker::PhantomData;

use otcore::sde::ito::{ito_step as core_ito_step, ito_workspace_len, ItoMethod, Sde};
use otcore::sde::{
    self, grid, AdaptiveConfig, Covariance, Mixture, Model, Multistep, Output, Spacing,
};
use otcore::{Error, Real};

use crate::args::{check_sized, disjoint, read_sized, workspace, zeroed, Array, Checked};
use crate::boundary::run;
use crate::sde_guidance::{split_guided, ModelArg, SamplerModel};
use crate::sde_types::{
    otc_sde_adaptive_config, otc_sde_adaptive_stats, otc_sde_coefs, otc_sde_process,
    otc_sde_sampler_config, output_kind, OTC_SDE_COVARIANCE_DIAGONAL, OTC_SDE_COVARIANCE_ISOTROPIC,
    OTC_SDE_GRID_KARRAS, OTC_SDE_GRID_UNIFORM_LOG_SNR, OTC_SDE_GRID_UNIFORM_TIME,
    OTC_SDE_ITO_EULER_MARUYAMA, OTC_SDE_ITO_MILSTEIN, OTC_SDE_ITO_STOCHASTIC_HEUN,
};
use crate::sizes::{cells, write_workspace_size};
use crate::status::otc_status;

/// A batched model callback in precision `T`.
pub(crate) type ModelFn<T> =
    Option<unsafe extern "C" fn(*mut c_void, usize, usize, *const T, *const T, *mut T) -> i32>;
/// A batched drift/diffusion callback in precision `T`.
type ItoFn<T> =
    Option<unsafe extern "C" fn(*mut c_void, usize, usize, *const T, T, *mut T, *mut T) -> i32>;

/// Score-model callback, `float` version (see the module docs of the SDE functions):
/// fills `out` (n·d) with the score, noise or denoised estimate at (x, t) for the n
/// samples of dimension d in `x` at the n times `t`; returns 0 on success.
pub type otc_sde_model_fn_f32 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x: *const f32,
        t: *const f32,
        out: *mut f32,
    ) -> i32,
>;
/// Score-model callback, `double` version.
pub type otc_sde_model_fn_f64 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x: *const f64,
        t: *const f64,
        out: *mut f64,
    ) -> i32,
>;
/// SDE callback for the Itô steps, `float` version: fills `drift` and `diffusion`
/// (each n·d, diagonal noise) at (x, t); returns 0 on success.
pub type otc_sde_ito_fn_f32 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x: *const f32,
        t: f32,
        drift: *mut f32,
        diffusion: *mut f32,
    ) -> i32,
>;
/// SDE callback for the Itô steps, `double` version.
pub type otc_sde_ito_fn_f64 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x: *const f64,
        t: f64,
        drift: *mut f64,
        diffusion: *mut f64,
    ) -> i32,
>;

/// The C model as a core [`Model`].
pub(crate) struct CModel<T> {
    f: unsafe extern "C" fn(*mut c_void, usize, usize, *const T, *const T, *mut T) -> i32,
    user: *mut c_void,
    d: usize,
    output: Output,
    _t: PhantomData<T>,
}

impl<T: Real> Model<T> for CModel<T> {
    fn output(&self) -> Output {
        self.output
    }

    fn eval(&mut self, x: &[T], t: &[T], out: &mut [T]) -> Result<(), Error> {
        // SAFETY: the callback's contract (documented on the exported functions): it
        // reads n·d values of x and n of t and writes n·d values of out, all valid here.
        let r = unsafe {
            (self.f)(
                self.user,
                t.len(),
                self.d,
                x.as_ptr(),
                t.as_ptr(),
                out.as_mut_ptr(),
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(Error::CallbackFailed)
        }
    }
}

pub(crate) fn c_model<T>(
    f: ModelFn<T>,
    user: *mut c_void,
    d: usize,
    output: i32,
) -> Checked<CModel<T>> {
    let f = f.ok_or(otc_status::NullPointer)?;
    Ok(CModel {
        f,
        user,
        d,
        output: output_kind(output)?,
        _t: PhantomData,
    })
}

/// The C SDE as a core [`Sde`].
struct CSde<T> {
    f: unsafe extern "C" fn(*mut c_void, usize, usize, *const T, T, *mut T, *mut T) -> i32,
    user: *mut c_void,
    d: usize,
}

impl<T: Real> Sde<T> for CSde<T> {
    fn eval(&mut self, x: &[T], t: T, drift: &mut [T], diffusion: &mut [T]) -> Result<(), Error> {
        let n = x.len() / self.d.max(1);
        // SAFETY: the callback's contract: reads n·d x, writes n·d drift and diffusion.
        let r = unsafe {
            (self.f)(
                self.user,
                n,
                self.d,
                x.as_ptr(),
                t,
                drift.as_mut_ptr(),
                diffusion.as_mut_ptr(),
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(Error::CallbackFailed)
        }
    }
}

/// # Safety
/// `process` NULL or a readable `otc_sde_process`.
pub(crate) unsafe fn read_process(process: *const otc_sde_process) -> Checked<sde::Process> {
    // SAFETY: the caller's contract.
    unsafe { read_sized(process) }?.to_core()
}

/// # Safety
/// As `otc_sde_prior_sample_f32`.
unsafe fn prior_sample<T: Real>(
    process: *const otc_sde_process,
    seed: u64,
    first_sample: u64,
    n: usize,
    d: usize,
    x: *mut T,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let p = unsafe { read_process(process)? };
        let x = Array::output(x, cells(n, d)?)?;
        // SAFETY: non-NULL, aligned, n·d writable values (caller's contract).
        p.prior_sample(seed, first_sample, d, unsafe { x.slice_mut() })?;
        Ok(otc_status::Ok)
    })
}

/// # Safety
/// As `otc_sde_prior_log_density_f32`.
unsafe fn prior_log_density<T: Real>(
    process: *const otc_sde_process,
    n: usize,
    d: usize,
    x: *const T,
    out: *mut T,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let p = unsafe { read_process(process)? };
        let (xa, oa) = (Array::input(x, cells(n, d)?)?, Array::output(out, n)?);
        disjoint(&[xa.span(), oa.span()])?;
        // SAFETY: checked arrays, disjoint, valid by the caller's contract.
        p.prior_log_density(unsafe { xa.slice() }, d, unsafe { oa.slice_mut() })?;
        Ok(otc_status::Ok)
    })
}

/// # Safety
/// As `otc_sde_grid_f32`.
unsafe fn fill_grid<T: Real>(
    process: *const otc_sde_process,
    spacing: i32,
    rho: f64,
    t_start: f64,
    t_end: f64,
    out: *mut T,
    len: usize,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let p = unsafe { read_process(process)? };
        let spacing = match spacing {
            OTC_SDE_GRID_UNIFORM_TIME => Spacing::UniformTime,
            OTC_SDE_GRID_UNIFORM_LOG_SNR => Spacing::UniformLogSnr,
            OTC_SDE_GRID_KARRAS => Spacing::Karras { rho },
            _ => return Err(otc_status::InvalidParameter),
        };
        let out = Array::output(out, len)?;
        // SAFETY: checked, writable by the caller's contract.
        grid::fill(&p, spacing, t_start, t_end, unsafe { out.slice_mut() })?;
        Ok(otc_status::Ok)
    })
}

/// # Safety
/// As `otc_sde_sample_f32` (`otc_sde_sample_guided_f32` for a guided model).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn sample<T: Real>(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: ModelArg<T>,
    user: *mut c_void,
    output: i32,
    grid: *const T,
    grid_len: usize,
    x: *mut T,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let (p, cfg) = unsafe { (read_process(process)?, read_sized(config)?.to_core()?) };
        let model = model.check(user, d, output)?;
        let g = Array::input(grid, grid_len)?;
        let xa = Array::output(x, cells(n, d)?)?;
        let wa = workspace::<T>(ws, ws_bytes, model.workspace_len(n, d))?;
        let ev = Array::output(out_evaluations, 1)?;
        disjoint(&[g.span(), xa.span(), wa.span(), ev.span()])?;
        // SAFETY: checked arrays, pairwise disjoint where written, valid by contract.
        let (g, xs, w) = unsafe { (g.slice(), xa.slice_mut(), zeroed(wa)) };
        let evals = match model {
            SamplerModel::Plain(mut m) => {
                sde::sample(&p, &cfg, &mut m, g, xs, d, seed, first_sample, w)?.evaluations
            }
            SamplerModel::Guided(mut c, guidance) => {
                let (mut m, w) = split_guided(&mut c, guidance, w, n, d)?;
                sde::sample(&p, &cfg, &mut m, g, xs, d, seed, first_sample, w)?;
                m.calls()
            }
        };
        // SAFETY: as above.
        unsafe { ev.fill(evals) };
        Ok(otc_status::Ok)
    })
}

/// `sde::step` with the C history (the previous x̂₀ and `h_prev`, 0 = none), which it
/// updates on success.
#[allow(clippy::too_many_arguments)]
fn step_with<T: Real, M: Model<T>>(
    p: &sde::Process,
    cfg: &sde::Config,
    m: &mut M,
    xs: &mut [T],
    d: usize,
    (t, t_next): (T, T),
    (step_index, seed, first_sample): (u64, u64, u64),
    hist: Option<(&mut [T], &mut [f64])>,
    w: &mut [T],
) -> Result<u64, Error> {
    let mut hist = hist.map(|(hs, hp)| {
        let prev = hp.first().copied().unwrap_or(0.0);
        let ms = Multistep {
            denoised: hs,
            h_prev: (prev > 0.0).then_some(prev),
        };
        (ms, hp)
    });
    let e = sde::step(
        p,
        cfg,
        m,
        xs,
        d,
        t,
        t_next,
        step_index,
        seed,
        first_sample,
        hist.as_mut().map(|(ms, _)| ms),
        w,
    )?;
    if let Some((ms, hp)) = hist {
        if let Some(v) = hp.first_mut() {
            *v = ms.h_prev.unwrap_or(0.0);
        }
    }
    Ok(e)
}

/// # Safety
/// As `otc_sde_step_f32` (`otc_sde_step_guided_f32` for a guided model).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn step<T: Real>(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: ModelArg<T>,
    user: *mut c_void,
    output: i32,
    x: *mut T,
    n: usize,
    d: usize,
    t: T,
    t_next: T,
    step_index: u64,
    seed: u64,
    first_sample: u64,
    history: *mut T,
    h_prev: *mut f64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let (p, cfg) = unsafe { (read_process(process)?, read_sized(config)?.to_core()?) };
        let model = model.check(user, d, output)?;
        let nd = cells(n, d)?;
        let xa = Array::output(x, nd)?;
        let wa = workspace::<T>(ws, ws_bytes, model.workspace_len(n, d))?;
        let ev = Array::output(out_evaluations, 1)?;
        let hist = match (history.is_null(), h_prev.is_null()) {
            (true, true) => None,
            (false, false) => Some((Array::output(history, nd)?, Array::output(h_prev, 1)?)),
            _ => return Err(otc_status::NullPointer),
        };
        let mut spans = [xa.span(), wa.span(), ev.span(), xa.span(), xa.span()];
        if let Some((h, hp)) = &hist {
            spans[3] = h.span();
            spans[4] = hp.span();
            disjoint(&spans)?;
        } else {
            disjoint(&spans[..3])?;
        }
        // SAFETY: checked arrays, pairwise disjoint, valid by the caller's contract.
        let (xs, w) = unsafe { (xa.slice_mut(), zeroed(wa)) };
        // SAFETY: as above.
        let hist = hist.map(|(h, hp)| unsafe { (h.slice_mut(), hp.slice_mut()) });
        let (times, keys) = ((t, t_next), (step_index, seed, first_sample));
        let evals = match model {
            SamplerModel::Plain(mut m) => step_with(&p, &cfg, &mut m, xs, d, times, keys, hist, w)?,
            SamplerModel::Guided(mut c, guidance) => {
                let (mut m, w) = split_guided(&mut c, guidance, w, n, d)?;
                step_with(&p, &cfg, &mut m, xs, d, times, keys, hist, w)?;
                m.calls()
            }
        };
        // SAFETY: as above.
        unsafe { ev.fill(evals) };
        Ok(otc_status::Ok)
    })
}

/// # Safety
/// As `otc_sde_adaptive_resume_f32` (`state` NULL: the one-call `otc_sde_adaptive_f32`).
#[allow(clippy::too_many_arguments)]
unsafe fn adaptive<T: Real>(
    process: *const otc_sde_process,
    config: *const otc_sde_adaptive_config,
    model: ModelFn<T>,
    user: *mut c_void,
    output: i32,
    x: *mut T,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    state: Option<(*mut T, bool)>,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut otc_sde_adaptive_stats,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let (p, cfg) = unsafe { (read_process(process)?, read_sized(config)?.to_core()) };
        // SAFETY: as above.
        unsafe { check_sized(out)? };
        let mut m = c_model(model, user, d, output)?;
        let xa = Array::output(x, cells(n, d)?)?;
        let wa = workspace::<T>(ws, ws_bytes, sde::workspace_len(n, d))?;
        let res = Array::output(out, 1)?;
        let sa = match state {
            Some((ptr, fresh)) => Some((Array::output(ptr, sde::adaptive_state_len(n, d))?, fresh)),
            None => None,
        };
        match &sa {
            Some((a, _)) => disjoint(&[xa.span(), wa.span(), res.span(), a.span()])?,
            None => disjoint(&[xa.span(), wa.span(), res.span()])?,
        }
        // SAFETY: checked arrays, pairwise disjoint, valid by the caller's contract.
        let (xs, w) = unsafe { (xa.slice_mut(), zeroed(wa)) };
        let st = match sa {
            Some((a, fresh)) => {
                // SAFETY: as above.
                let ss = unsafe { a.slice_mut() };
                sde::adaptive_resume(&p, &cfg, &mut m, xs, d, seed, first_sample, ss, fresh, w)?
            }
            None => sde::adaptive(&p, &cfg, &mut m, xs, d, seed, first_sample, w)?,
        };
        // SAFETY: as above (the struct states our size: `check_sized`).
        unsafe { res.fill(otc_sde_adaptive_stats::from_core(&st)) };
        Ok(if st.unfinished > 0 {
            otc_status::MaxIterations
        } else {
            otc_status::Ok
        })
    })
}

/// # Safety
/// As `otc_sde_mixture_score_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn mixture_score<T: Real>(
    process: *const otc_sde_process,
    k: usize,
    d: usize,
    weights: *const T,
    means: *const T,
    variances: *const T,
    covariance: i32,
    n: usize,
    x: *const T,
    t: *const T,
    out: *mut T,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let p = unsafe { read_process(process)? };
        let var_len = match covariance {
            OTC_SDE_COVARIANCE_ISOTROPIC => k,
            OTC_SDE_COVARIANCE_DIAGONAL => cells(k, d)?,
            _ => return Err(otc_status::InvalidParameter),
        };
        let (wa, ma, va) = (
            Array::input(weights, k)?,
            Array::input(means, cells(k, d)?)?,
            Array::input(variances, var_len)?,
        );
        let nd = cells(n, d)?;
        let (xa, ta, oa) = (
            Array::input(x, nd)?,
            Array::input(t, n)?,
            Array::output(out, nd)?,
        );
        disjoint(&[
            wa.span(),
            ma.span(),
            va.span(),
            xa.span(),
            ta.span(),
            oa.span(),
        ])?;
        // SAFETY: checked arrays; the output overlaps no input; valid by contract.
        let (w, mu, v, xs, ts, o) = unsafe {
            (
                wa.slice(),
                ma.slice(),
                va.slice(),
                xa.slice(),
                ta.slice(),
                oa.slice_mut(),
            )
        };
        let cov = if covariance == OTC_SDE_COVARIANCE_ISOTROPIC {
            Covariance::Isotropic(v)
        } else {
            Covariance::Diagonal(v)
        };
        Mixture::new(p, w, mu, cov, d)?.score(xs, ts, o)?;
        Ok(otc_status::Ok)
    })
}

/// # Safety
/// As `otc_sde_ito_step_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn ito_step<T: Real>(
    method: i32,
    sde_fn: ItoFn<T>,
    user: *mut c_void,
    x: *mut T,
    n: usize,
    d: usize,
    t: T,
    h: T,
    seed: u64,
    first_sample: u64,
    key: u64,
    ws: *mut c_void,
    ws_bytes: usize,
) -> i32 {
    run(|| {
        let method = match method {
            OTC_SDE_ITO_EULER_MARUYAMA => ItoMethod::EulerMaruyama,
            OTC_SDE_ITO_MILSTEIN => ItoMethod::Milstein,
            OTC_SDE_ITO_STOCHASTIC_HEUN => ItoMethod::StochasticHeun,
            _ => return Err(otc_status::InvalidParameter),
        };
        let f = sde_fn.ok_or(otc_status::NullPointer)?;
        let mut s = CSde { f, user, d };
        let xa = Array::output(x, cells(n, d)?)?;
        let wa = workspace::<T>(ws, ws_bytes, ito_workspace_len(n, d))?;
        disjoint(&[xa.span(), wa.span()])?;
        // SAFETY: checked arrays, disjoint, valid by the caller's contract.
        let (xs, w) = unsafe { (xa.slice_mut(), zeroed(wa)) };
        core_ito_step(method, &mut s, xs, d, t, h, seed, first_sample, key, w)?;
        Ok(otc_status::Ok)
    })
}

/// Writes the default parameters of process `kind` (`OTC_SDE_VP` … `OTC_SDE_EDM`) to
/// `out`, `struct_size` included.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_INVALID_PARAMETER` (unknown kind).
///
/// # Safety
/// The pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_process_default(kind: i32, out: *mut otc_sde_process) -> i32 {
    run(|| {
        let value = otc_sde_process::defaults(kind)?;
        let out = Array::output(out, 1)?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { out.fill(value) };
        Ok(otc_status::Ok)
    })
}

/// The schedule scalars of `process` at time `t` (a_t, s_t, f(t), g(t)², λ_t) and its
/// fixed facts (T, t_eps, prior std), into `out` (whose `struct_size` the caller sets).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_NON_FINITE_INPUT` (t),
/// `OTC_STATUS_INVALID_PARAMETER` (bad process, t outside [0, T]).
///
/// # Safety
/// The pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_process_coefs(
    process: *const otc_sde_process,
    t: f64,
    out: *mut otc_sde_coefs,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let p = unsafe { read_process(process)? };
        // SAFETY: as above.
        unsafe { check_sized(out)? };
        p.check_time(t)?;
        let c = p.coefs(t);
        let value = otc_sde_coefs {
            struct_size: size_of::<otc_sde_coefs>(),
            a: c.a,
            s: c.s,
            f: c.f,
            g2: c.g2,
            lambda: p.lambda(t),
            t_max: p.t_max(),
            t_eps: p.t_eps(),
            prior_std: p.prior_std(),
        };
        let out = Array::output(out, 1)?;
        // SAFETY: checked; writable by the caller's contract.
        unsafe { out.fill(value) };
        Ok(otc_status::Ok)
    })
}

/// Writes the default fixed-step settings for `method` (`OTC_SDE_EULER_MARUYAMA` …
/// `OTC_SDE_DPM_SOLVER_PP_2M`): no corrector (`OTC_SDE_CORRECTOR_LANGEVIN`, snr 0.16),
/// no churn (γ 0, S_min 0, S_max ∞, S_noise 1), `denoise` false. The method is
/// checked when the config is used.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// The pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_sampler_config_default(
    method: i32,
    out: *mut otc_sde_sampler_config,
) -> i32 {
    run(|| {
        let out = Array::output(out, 1)?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { out.fill(otc_sde_sampler_config::defaults(method)) };
        Ok(otc_status::Ok)
    })
}

/// Writes the adaptive solver's defaults for `process`: t from T to t_eps, ε_abs 0.0078,
/// ε_rel 0.05, h_init 0.01, safety 0.9, exponent 0.9, no budget, depth 20, Brownian
/// memory on, no final denoise.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_INVALID_PARAMETER` (bad process).
///
/// # Safety
/// The pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_adaptive_config_default(
    process: *const otc_sde_process,
    out: *mut otc_sde_adaptive_config,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let p = unsafe { read_process(process)? };
        let out = Array::output(out, 1)?;
        let value = otc_sde_adaptive_config::from_core(&AdaptiveConfig::new(&p));
        // SAFETY: checked; writable by the caller's contract.
        unsafe { out.fill(value) };
        Ok(otc_status::Ok)
    })
}

/// Workspace size, in bytes, of `otc_sde_sample_f32`, `otc_sde_step_f32` and
/// `otc_sde_adaptive_f32` for n samples of dimension d:
/// `bytes = sizeof(float) · (6·n·d + 3·n + 3·d)`.
/// Align the workspace to `OTC_WORKSPACE_ALIGN`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_workspace_size_f32(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(sde::workspace_len(n, d)), out_bytes) }
}

/// The `double` version of `otc_sde_workspace_size_f32`.
///
/// # Safety
/// As `otc_sde_workspace_size_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_workspace_size_f64(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(sde::workspace_len(n, d)), out_bytes) }
}

/// Workspace size, in bytes, of `otc_sde_ito_step_f32`:
/// `bytes = sizeof(float) · 6·n·d`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_ito_workspace_size_f32(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(ito_workspace_len(n, d)), out_bytes) }
}

/// The `double` version of `otc_sde_ito_workspace_size_f32`.
///
/// # Safety
/// As `otc_sde_ito_workspace_size_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_ito_workspace_size_f64(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(ito_workspace_len(n, d)), out_bytes) }
}

/// Draws n samples of dimension d from the prior N(0, σ²I) of `process` into `x`
/// (n·d), sample i from the noise stream of `first_sample + i` (so a sample does not
/// depend on the batch it is drawn in).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_EMPTY_INPUT` (n or d zero),
/// `OTC_STATUS_LENGTH_MISMATCH` (n·d overflows), `OTC_STATUS_INVALID_PARAMETER`.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_prior_sample_f32(
    process: *const otc_sde_process,
    seed: u64,
    first_sample: u64,
    n: usize,
    d: usize,
    x: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { prior_sample::<f32>(process, seed, first_sample, n, d, x) }
}

/// The `double` version of `otc_sde_prior_sample_f32`.
///
/// # Safety
/// As `otc_sde_prior_sample_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_prior_sample_f64(
    process: *const otc_sde_process,
    seed: u64,
    first_sample: u64,
    n: usize,
    d: usize,
    x: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { prior_sample::<f64>(process, seed, first_sample, n, d, x) }
}

/// Log-density of the prior at each of the n samples in `x` (n·d) into `out` (n):
/// `−d/2·ln(2πσ²) − ‖x_i‖²/(2σ²)`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_EMPTY_INPUT`, `OTC_STATUS_LENGTH_MISMATCH`,
/// `OTC_STATUS_NON_FINITE_INPUT`, `OTC_STATUS_INVALID_PARAMETER` (bad process,
/// overlapping buffers).
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_prior_log_density_f32(
    process: *const otc_sde_process,
    n: usize,
    d: usize,
    x: *const f32,
    out: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { prior_log_density::<f32>(process, n, d, x, out) }
}

/// The `double` version of `otc_sde_prior_log_density_f32`.
///
/// # Safety
/// As `otc_sde_prior_log_density_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_prior_log_density_f64(
    process: *const otc_sde_process,
    n: usize,
    d: usize,
    x: *const f64,
    out: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { prior_log_density::<f64>(process, n, d, x, out) }
}

/// Fills `grid` (len ≥ 2 points, len − 1 steps) with decreasing times from `t_start` to
/// `t_end`: `OTC_SDE_GRID_UNIFORM_TIME`, `OTC_SDE_GRID_UNIFORM_LOG_SNR` (t_end > 0) or
/// `OTC_SDE_GRID_KARRAS` with exponent `rho` (t_end = 0 gives EDM's grid: len − 1
/// Karras points from σ̃(t_start) down to σ̃(t_eps), then the trailing σ = 0).
/// `rho` is ignored by the other spacings.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_EMPTY_INPUT` (len < 2),
/// `OTC_STATUS_NON_FINITE_INPUT`, `OTC_STATUS_INVALID_PARAMETER` (unknown spacing,
/// bad process, not T ≥ t_start > t_end ≥ 0, s(t_start) = 0, ρ ≤ 0, Karras to 0 with
/// t_start ≤ t_eps, a grid that is not strictly decreasing in this precision).
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_grid_f32(
    process: *const otc_sde_process,
    spacing: i32,
    rho: f64,
    t_start: f64,
    t_end: f64,
    grid: *mut f32,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { fill_grid::<f32>(process, spacing, rho, t_start, t_end, grid, len) }
}

/// The `double` version of `otc_sde_grid_f32`.
///
/// # Safety
/// As `otc_sde_grid_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_grid_f64(
    process: *const otc_sde_process,
    spacing: i32,
    rho: f64,
    t_start: f64,
    t_end: f64,
    grid: *mut f64,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { fill_grid::<f64>(process, spacing, rho, t_start, t_end, grid, len) }
}

/// Runs a fixed-step sampler along `grid` (`grid_len` ≥ 2 strictly decreasing times in
/// [0, T], the model evaluable at all but the last) on the n samples of dimension d in
/// `x` (n·d, in place; usually from `otc_sde_prior_sample_f32`). The model returns
/// `output` (`OTC_SDE_OUTPUT_SCORE`, `_NOISE` or `_DENOISED`; `_VELOCITY` is for the
/// flow samplers and gives `OTC_STATUS_INVALID_PARAMETER` here); `user` is passed to it
/// unchanged. Step j keys its noise with j; sample i uses stream `first_sample + i`.
/// The number of batched model calls goes to `out_evaluations`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_EMPTY_INPUT` (n, d zero; fewer than 2 grid
/// points), `OTC_STATUS_LENGTH_MISMATCH`, `OTC_STATUS_NON_FINITE_INPUT` (x, grid),
/// `OTC_STATUS_INVALID_PARAMETER` (process, config, grid order/range, output kind,
/// overlapping buffers), `OTC_STATUS_WORKSPACE_TOO_SMALL`,
/// `OTC_STATUS_CALLBACK_FAILED`, `OTC_STATUS_NON_FINITE` (the model returned NaN/∞).
/// On error x is unchanged.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_sample_f32(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: otc_sde_model_fn_f32,
    user: *mut c_void,
    output: i32,
    grid: *const f32,
    grid_len: usize,
    x: *mut f32,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        sample::<f32>(
            process,
            config,
            ModelArg::Plain(model),
            user,
            output,
            grid,
            grid_len,
            x,
            n,
            d,
            seed,
            first_sample,
            ws,
            ws_bytes,
            out_evaluations,
        )
    }
}

/// The `double` version of `otc_sde_sample_f32`.
///
/// # Safety
/// As `otc_sde_sample_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_sample_f64(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: otc_sde_model_fn_f64,
    user: *mut c_void,
    output: i32,
    grid: *const f64,
    grid_len: usize,
    x: *mut f64,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        sample::<f64>(
            process,
            config,
            ModelArg::Plain(model),
            user,
            output,
            grid,
            grid_len,
            x,
            n,
            d,
            seed,
            first_sample,
            ws,
            ws_bytes,
            out_evaluations,
        )
    }
}

/// One step of a fixed-step sampler from `t` to `t_next` (T ≥ t > t_next ≥ 0, model
/// evaluable at t), in place on `x` (n·d) — for a control loop that advances one step
/// per tick. `step_index` keys the noise (use the step's position in the trajectory).
/// DPM-Solver++(2M) keeps its history in `history` (n·d, the previous x̂₀) and
/// `*h_prev` (the previous Δλ; ≤ 0 or NaN = none yet: set 0 before the first step);
/// pass both NULL for a first-order step (other methods ignore them). With
/// `config->denoise` this step adds no noise. Evaluations go to `out_evaluations`.
///
/// Returns as `otc_sde_sample_f32` (`OTC_STATUS_NULL_POINTER` also when exactly one of
/// `history`, `h_prev` is NULL). On error x, history and h_prev are unchanged.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_step_f32(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: otc_sde_model_fn_f32,
    user: *mut c_void,
    output: i32,
    x: *mut f32,
    n: usize,
    d: usize,
    t: f32,
    t_next: f32,
    step_index: u64,
    seed: u64,
    first_sample: u64,
    history: *mut f32,
    h_prev: *mut f64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step::<f32>(
            process,
            config,
            ModelArg::Plain(model),
            user,
            output,
            x,
            n,
            d,
            t,
            t_next,
            step_index,
            seed,
            first_sample,
            history,
            h_prev,
            ws,
            ws_bytes,
            out_evaluations,
        )
    }
}

/// The `double` version of `otc_sde_step_f32`.
///
/// # Safety
/// As `otc_sde_step_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_step_f64(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: otc_sde_model_fn_f64,
    user: *mut c_void,
    output: i32,
    x: *mut f64,
    n: usize,
    d: usize,
    t: f64,
    t_next: f64,
    step_index: u64,
    seed: u64,
    first_sample: u64,
    history: *mut f64,
    h_prev: *mut f64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step::<f64>(
            process,
            config,
            ModelArg::Plain(model),
            user,
            output,
            x,
            n,
            d,
            t,
            t_next,
            step_index,
            seed,
            first_sample,
            history,
            h_prev,
            ws,
            ws_bytes,
            out_evaluations,
        )
    }
}

/// The adaptive reverse-SDE solver (Jolicoeur-Martineau et al. 2021) with per-sample
/// step sizes and, by default, a Brownian-bridge memory (virtual Brownian tree) so that
/// rejected steps do not bias the samples; in place on `x` (n·d). Statistics go to
/// `out` (whose `struct_size` the caller sets).
///
/// Returns `OTC_STATUS_OK`; `OTC_STATUS_MAX_ITERATIONS` if the evaluation budget
/// stopped some samples early (`out->unfinished`; x and out written); the errors of
/// `otc_sde_sample_f32` (config checks: tolerances ≥ 0 and not both 0, h_init > 0,
/// safety in (0, 1], exponent > 0, depth 1…24, T ≥ t_start > t_end > 0).
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_adaptive_f32(
    process: *const otc_sde_process,
    config: *const otc_sde_adaptive_config,
    model: otc_sde_model_fn_f32,
    user: *mut c_void,
    output: i32,
    x: *mut f32,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut otc_sde_adaptive_stats,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        adaptive::<f32>(
            process,
            config,
            model,
            user,
            output,
            x,
            n,
            d,
            seed,
            first_sample,
            None,
            ws,
            ws_bytes,
            out,
        )
    }
}

/// The `double` version of `otc_sde_adaptive_f32`.
///
/// # Safety
/// As `otc_sde_adaptive_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_adaptive_f64(
    process: *const otc_sde_process,
    config: *const otc_sde_adaptive_config,
    model: otc_sde_model_fn_f64,
    user: *mut c_void,
    output: i32,
    x: *mut f64,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut otc_sde_adaptive_stats,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        adaptive::<f64>(
            process,
            config,
            model,
            user,
            output,
            x,
            n,
            d,
            seed,
            first_sample,
            None,
            ws,
            ws_bytes,
            out,
        )
    }
}

/// The exact score of the Gaussian mixture Σ_k w_k N(μ_k, Σ_k) (k components in
/// dimension d: `weights` k, `means` k·d, `variances` k for
/// `OTC_SDE_COVARIANCE_ISOTROPIC` or k·d for `OTC_SDE_COVARIANCE_DIAGONAL`) under
/// `process`, at the n samples `x` (n·d) and times `t` (n), into `out` (n·d). Weights
/// need not be normalised. Usable directly inside a model callback.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_EMPTY_INPUT`, `OTC_STATUS_LENGTH_MISMATCH`,
/// `OTC_STATUS_NON_FINITE_INPUT`, `OTC_STATUS_NEGATIVE_WEIGHT`,
/// `OTC_STATUS_ZERO_MASS`, `OTC_STATUS_INVALID_PARAMETER` (negative variance, t
/// outside (0, T], unknown covariance kind, `out` overlapping an input),
/// `OTC_STATUS_NON_FINITE`.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_mixture_score_f32(
    process: *const otc_sde_process,
    k: usize,
    d: usize,
    weights: *const f32,
    means: *const f32,
    variances: *const f32,
    covariance: i32,
    n: usize,
    x: *const f32,
    t: *const f32,
    out: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        mixture_score::<f32>(
            process, k, d, weights, means, variances, covariance, n, x, t, out,
        )
    }
}

/// The `double` version of `otc_sde_mixture_score_f32`.
///
/// # Safety
/// As `otc_sde_mixture_score_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_mixture_score_f64(
    process: *const otc_sde_process,
    k: usize,
    d: usize,
    weights: *const f64,
    means: *const f64,
    variances: *const f64,
    covariance: i32,
    n: usize,
    x: *const f64,
    t: *const f64,
    out: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        mixture_score::<f64>(
            process, k, d, weights, means, variances, covariance, n, x, t, out,
        )
    }
}

/// One step of size h > 0 from time t of the SDE dX = μ(X, t)dt + σ(X, t)dW with
/// diagonal noise given by `sde` (drift and diffusion, each n·d), in place on `x`
/// (n·d): `OTC_SDE_ITO_EULER_MARUYAMA`, `OTC_SDE_ITO_MILSTEIN` (derivative-free) or
/// `OTC_SDE_ITO_STOCHASTIC_HEUN` (Stratonovich). Sample i's increment comes from the
/// stream `(seed, first_sample + i, key)`; use the step number as `key`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_EMPTY_INPUT`, `OTC_STATUS_LENGTH_MISMATCH`,
/// `OTC_STATUS_NON_FINITE_INPUT`, `OTC_STATUS_INVALID_PARAMETER` (h ≤ 0, unknown
/// method, overlap), `OTC_STATUS_WORKSPACE_TOO_SMALL`, `OTC_STATUS_CALLBACK_FAILED`,
/// `OTC_STATUS_NON_FINITE`. On error x is unchanged.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_ito_step_f32(
    method: i32,
    sde: otc_sde_ito_fn_f32,
    user: *mut c_void,
    x: *mut f32,
    n: usize,
    d: usize,
    t: f32,
    h: f32,
    seed: u64,
    first_sample: u64,
    key: u64,
    ws: *mut c_void,
    ws_bytes: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        ito_step::<f32>(
            method,
            sde,
            user,
            x,
            n,
            d,
            t,
            h,
            seed,
            first_sample,
            key,
            ws,
            ws_bytes,
        )
    }
}

/// The `double` version of `otc_sde_ito_step_f32`.
///
/// # Safety
/// As `otc_sde_ito_step_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_ito_step_f64(
    method: i32,
    sde: otc_sde_ito_fn_f64,
    user: *mut c_void,
    x: *mut f64,
    n: usize,
    d: usize,
    t: f64,
    h: f64,
    seed: u64,
    first_sample: u64,
    key: u64,
    ws: *mut c_void,
    ws_bytes: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        ito_step::<f64>(
            method,
            sde,
            user,
            x,
            n,
            d,
            t,
            h,
            seed,
            first_sample,
            key,
            ws,
            ws_bytes,
        )
    }
}

/// The adaptive solver in pieces, for a control loop with a bounded budget per tick:
/// the per-sample solver state lives in the caller's `state` (`2·n·d + 2·n` values of
/// the precision) between calls. With `fresh` true the state is initialised (`x` holds
/// prior samples); otherwise the call continues from `state` and the `x` the previous
/// call returned, with the same process, config (except `max_evaluations` and
/// `denoise`), seed and `first_sample`. Each call runs until every sample reaches
/// `t_end` or `config->max_evaluations` is spent; the status is then
/// `OTC_STATUS_MAX_ITERATIONS` (`out->unfinished` > 0: call again). Splitting a run
/// this way gives the same samples, bit for bit, as one `otc_sde_adaptive_f32` call.
///
/// Returns as `otc_sde_adaptive_f32`; `OTC_STATUS_INVALID_PARAMETER` also for a resumed
/// state this solver cannot have written (non-integral or out-of-range step counters,
/// NaN). On error x and state are unchanged.
///
/// # Safety
/// The pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_adaptive_resume_f32(
    process: *const otc_sde_process,
    config: *const otc_sde_adaptive_config,
    model: otc_sde_model_fn_f32,
    user: *mut c_void,
    output: i32,
    x: *mut f32,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    state: *mut f32,
    fresh: bool,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut otc_sde_adaptive_stats,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        adaptive::<f32>(
            process,
            config,
            model,
            user,
            output,
            x,
            n,
            d,
            seed,
            first_sample,
            Some((state, fresh)),
            ws,
            ws_bytes,
            out,
        )
    }
}

/// The `double` version of `otc_sde_adaptive_resume_f32`.
///
/// # Safety
/// As `otc_sde_adaptive_resume_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_adaptive_resume_f64(
    process: *const otc_sde_process,
    config: *const otc_sde_adaptive_config,
    model: otc_sde_model_fn_f64,
    user: *mut c_void,
    output: i32,
    x: *mut f64,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    state: *mut f64,
    fresh: bool,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut otc_sde_adaptive_stats,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        adaptive::<f64>(
            process,
            config,
            model,
            user,
            output,
            x,
            n,
            d,
            seed,
            first_sample,
            Some((state, fresh)),
            ws,
            ws_bytes,
            out,
        )
    }
}
