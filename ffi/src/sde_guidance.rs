//! Classifier-free guidance through the C ABI: the conditional model callback
//! (`otc_sde_cond_model_fn_*`, called with and without its condition), the guided
//! fixed-step samplers of the score/noise/denoiser processes
//! (`otc_sde_sample_guided_*`, `otc_sde_step_guided_*`) and their workspace size. The
//! guided flow samplers (`otc_sde_flow_sample_guided_*`) use the same callback and the
//! same workspace layout.

use core::ffi::c_void;

use otcore::sde::guidance::{Conditional, Guided};
use otcore::sde::{self, Output};
use otcore::{Error, Real};

use crate::args::Checked;
use crate::sde::{c_model, sample, step, CModel, ModelFn};
use crate::sde_types::{otc_sde_process, otc_sde_sampler_config, output_kind};
use crate::sizes::{cells, write_workspace_size};
use crate::status::otc_status;

/// Conditional-model callback, `float` version: as `otc_sde_model_fn_f32`, evaluated
/// with the condition (`conditional` = 1) or without it (0, the unconditional model of
/// classifier-free guidance); returns 0 on success.
pub type otc_sde_cond_model_fn_f32 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x: *const f32,
        t: *const f32,
        conditional: i32,
        out: *mut f32,
    ) -> i32,
>;
/// Conditional-model callback, `double` version.
pub type otc_sde_cond_model_fn_f64 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        n: usize,
        d: usize,
        x: *const f64,
        t: *const f64,
        conditional: i32,
        out: *mut f64,
    ) -> i32,
>;

/// A conditional C callback in precision `T`.
pub(crate) type CondFn<T> =
    unsafe extern "C" fn(*mut c_void, usize, usize, *const T, *const T, i32, *mut T) -> i32;

/// The C conditional model as a core [`Conditional`].
pub(crate) struct CCond<T> {
    f: CondFn<T>,
    user: *mut c_void,
    d: usize,
    output: Output,
}

impl<T: Real> Conditional<T> for CCond<T> {
    fn output(&self) -> Output {
        self.output
    }

    fn eval(&mut self, x: &[T], t: &[T], conditional: bool, out: &mut [T]) -> Result<(), Error> {
        // SAFETY: the callback's contract (documented on the exported functions): it
        // reads n·d values of x and n of t and writes n·d values of out, all valid here.
        let r = unsafe {
            (self.f)(
                self.user,
                t.len(),
                self.d,
                x.as_ptr(),
                t.as_ptr(),
                i32::from(conditional),
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

/// The C conditional model for `output` (an `OTC_SDE_OUTPUT_*` constant).
pub(crate) fn c_cond<T>(
    f: Option<CondFn<T>>,
    user: *mut c_void,
    d: usize,
    output: i32,
) -> Checked<CCond<T>> {
    Ok(CCond {
        f: f.ok_or(otc_status::NullPointer)?,
        user,
        d,
        output: output_kind(output)?,
    })
}

/// Workspace values of a guided sampler: the sampler's (`sde::workspace_len`) plus n·d
/// at the end for the unconditional output (saturating, as the core's lengths).
pub(crate) fn guided_len(n: usize, d: usize) -> usize {
    sde::workspace_len(n, d).saturating_add(n.saturating_mul(d))
}

/// The C conditional model under guidance: the model the guided samplers run.
pub(crate) type CGuided<'a, T> = Guided<'a, T, CCond<T>>;

/// `cond` under the guidance `(weight, t_lo, t_hi)`, with the unconditional output in
/// the last n·d values of the (zeroed) guided workspace `w`; returns it and the rest of
/// `w` for the sampler. A short workspace leaves the sampler's part short, which the
/// core reports as `WorkspaceTooSmall` after its input checks.
///
/// # Errors
/// `InvalidParameter` for the guidance (as `Guided::new`), `LengthMismatch` if n·d
/// overflows.
pub(crate) fn split_guided<'a, T: Real>(
    cond: &'a mut CCond<T>,
    (weight, t_lo, t_hi): (f64, f64, f64),
    w: &'a mut [T],
    n: usize,
    d: usize,
) -> Checked<(CGuided<'a, T>, &'a mut [T])> {
    let split = w.len().saturating_sub(cells(n, d)?);
    let (w, scratch) = w.split_at_mut(split);
    Ok((Guided::new(cond, weight, t_lo, t_hi, scratch)?, w))
}

/// The model of a C sampler call: a plain callback, or a conditional one with its
/// guidance `(weight, t_lo, t_hi)`.
pub(crate) enum ModelArg<T> {
    /// `otc_sde_model_fn_*`.
    Plain(ModelFn<T>),
    /// `otc_sde_cond_model_fn_*` and `(weight, t_lo, t_hi)`.
    Guided(Option<CondFn<T>>, (f64, f64, f64)),
}

/// A [`ModelArg`] whose callback and output kind are checked.
pub(crate) enum SamplerModel<T> {
    /// The model callback.
    Plain(CModel<T>),
    /// The conditional callback and its guidance, not yet checked (`split_guided`
    /// checks it once the workspace is carved).
    Guided(CCond<T>, (f64, f64, f64)),
}

impl<T> ModelArg<T> {
    /// The checked model for `user`, dimension d and `output` (an `OTC_SDE_OUTPUT_*`
    /// constant).
    ///
    /// # Errors
    /// `NullPointer` (no callback), `InvalidParameter` (output kind).
    pub(crate) fn check(
        self,
        user: *mut c_void,
        d: usize,
        output: i32,
    ) -> Checked<SamplerModel<T>> {
        Ok(match self {
            Self::Plain(f) => SamplerModel::Plain(c_model(f, user, d, output)?),
            Self::Guided(f, guidance) => {
                SamplerModel::Guided(c_cond(f, user, d, output)?, guidance)
            }
        })
    }
}

impl<T> SamplerModel<T> {
    /// Workspace values the sampler needs with this model for n samples in dimension d.
    pub(crate) fn workspace_len(&self, n: usize, d: usize) -> usize {
        match self {
            Self::Plain(_) => sde::workspace_len(n, d),
            Self::Guided(..) => guided_len(n, d),
        }
    }
}

/// Bytes of workspace `otc_sde_sample_guided_f32`, `otc_sde_step_guided_f32` and
/// `otc_sde_flow_sample_guided_f32` need for n samples of dimension d:
/// `(6·n·d + 3·n + 3·d + n·d)·sizeof(float)` (the sampler's,
/// `otc_sde_workspace_size_f32`, plus the unconditional output).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_guided_workspace_size_f32(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(guided_len(n, d)), out_bytes) }
}

/// The `double` version of `otc_sde_guided_workspace_size_f32`.
///
/// # Safety
/// As `otc_sde_guided_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_guided_workspace_size_f64(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(guided_len(n, d)), out_bytes) }
}

/// `otc_sde_sample_f32` under classifier-free guidance: the model is called with its
/// condition (`conditional` = 1) and, for samples whose time is in [`t_lo`, `t_hi`]
/// (the process's time: t for VP/VE, σ for EDM; `t_hi` may be +∞), without it (0); the
/// sampler uses `u + weight·(c − u)` there and `c` elsewhere, where c and u are the
/// conditional and unconditional outputs of the declared kind (score, noise or
/// denoised: the combination is affine, so it is the same guided model in every
/// kind). The unconditional call is skipped when no sample is in the interval;
/// `weight` = 1: no guidance. Model calls (conditional and unconditional, including
/// the corrector's) go to `out_calls`. Workspace:
/// `otc_sde_guided_workspace_size_f32`.
///
/// Returns as `otc_sde_sample_f32`; `OTC_STATUS_INVALID_PARAMETER` also for a weight
/// that is not finite or an interval that is not `0 ≤ t_lo ≤ t_hi` (`t_lo` finite);
/// `OTC_STATUS_CALLBACK_FAILED` and `OTC_STATUS_NON_FINITE` also for the unconditional
/// call. On error x and `*out_calls` are unchanged (the noise is keyed by seed, sample
/// and step, so a failed call consumes nothing).
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_sample_guided_f32(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: otc_sde_cond_model_fn_f32,
    user: *mut c_void,
    output: i32,
    weight: f64,
    t_lo: f64,
    t_hi: f64,
    grid: *const f32,
    grid_len: usize,
    x: *mut f32,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_calls: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        sample::<f32>(
            process,
            config,
            ModelArg::Guided(model, (weight, t_lo, t_hi)),
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
            out_calls,
        )
    }
}

/// The `double` version of `otc_sde_sample_guided_f32`.
///
/// # Safety
/// As `otc_sde_sample_guided_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_sample_guided_f64(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: otc_sde_cond_model_fn_f64,
    user: *mut c_void,
    output: i32,
    weight: f64,
    t_lo: f64,
    t_hi: f64,
    grid: *const f64,
    grid_len: usize,
    x: *mut f64,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_calls: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        sample::<f64>(
            process,
            config,
            ModelArg::Guided(model, (weight, t_lo, t_hi)),
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
            out_calls,
        )
    }
}

/// `otc_sde_step_f32` under classifier-free guidance, as `otc_sde_sample_guided_f32`
/// (callback, weight, interval in the process's time): one step from `t` to `t_next`
/// in place on `x`, with DPM-Solver++(2M)'s history in `history` and `*h_prev` (both
/// NULL: a first-order step). Stepping a grid by hand gives the bits of
/// `otc_sde_sample_guided_f32`. Model calls go to `out_calls`. Workspace:
/// `otc_sde_guided_workspace_size_f32`.
///
/// Returns as `otc_sde_step_f32`, plus the guidance statuses of
/// `otc_sde_sample_guided_f32`. On error x, history, h_prev and `*out_calls` are
/// unchanged.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_step_guided_f32(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: otc_sde_cond_model_fn_f32,
    user: *mut c_void,
    output: i32,
    weight: f64,
    t_lo: f64,
    t_hi: f64,
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
    out_calls: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step::<f32>(
            process,
            config,
            ModelArg::Guided(model, (weight, t_lo, t_hi)),
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
            out_calls,
        )
    }
}

/// The `double` version of `otc_sde_step_guided_f32`.
///
/// # Safety
/// As `otc_sde_step_guided_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_step_guided_f64(
    process: *const otc_sde_process,
    config: *const otc_sde_sampler_config,
    model: otc_sde_cond_model_fn_f64,
    user: *mut c_void,
    output: i32,
    weight: f64,
    t_lo: f64,
    t_hi: f64,
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
    out_calls: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step::<f64>(
            process,
            config,
            ModelArg::Guided(model, (weight, t_lo, t_hi)),
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
            out_calls,
        )
    }
}
