//! The differentiable particle filter (forward mode): a C model adapted to
//! `otcore::pf::DiffModel`, the step, its sizes and initialiser, one generic
//! implementation with an exported wrapper per precision.

use core::ffi::c_void;

use otcore::pf::{
    diff_ot_workspace_len, diff_step, diff_step_classical, diff_workspace_len, tangent_len,
    uniform_log_weights, DiffModel, Gradient, Totals,
};
use otcore::{Error, Real};

use crate::args::{check_sized, disjoint, read_sized, workspace, zeroed, Array, Checked};
use crate::boundary::run;
use crate::dpf_types::{otc_dpf_config, otc_dpf_model, otc_dpf_ot_config};
use crate::pf::config_default;
use crate::pf_types::{otc_pf_report, otc_pf_state, otc_rng};
use crate::sizes::{cells, write_workspace_size};
use crate::status::otc_status;

type Transition<T> = unsafe extern "C" fn(
    *mut c_void,
    usize,
    usize,
    usize,
    *const T,
    *const T,
    *const T,
    *mut T,
) -> i32;
type TransitionJvp<T> = unsafe extern "C" fn(
    *mut c_void,
    usize,
    usize,
    usize,
    *const T,
    *const T,
    *const T,
    *const T,
    *const T,
    *mut T,
) -> i32;
type TransitionScore<T> = unsafe extern "C" fn(
    *mut c_void,
    usize,
    usize,
    usize,
    *const T,
    *const T,
    *const T,
    *mut T,
) -> i32;
type TransitionVjp<T> = unsafe extern "C" fn(
    *mut c_void,
    usize,
    usize,
    usize,
    *const T,
    *const T,
    *const T,
    *const T,
    *const T,
    *mut T,
    *mut T,
) -> i32;
type Seek = unsafe extern "C" fn(*mut c_void, usize) -> i32;
type Loglik<T> =
    unsafe extern "C" fn(*mut c_void, usize, usize, usize, *const T, *const T, *mut T) -> i32;
type LoglikGrad<T> = unsafe extern "C" fn(
    *mut c_void,
    usize,
    usize,
    usize,
    *const T,
    *const T,
    *mut T,
    *mut T,
) -> i32;

/// A C model with its sizes: every slice the core passes has the length the callback
/// contract states (N·d, N·k, N·d·P, N, N·P), so the callbacks see exactly those.
pub(crate) struct CModel<T> {
    user: *mut c_void,
    noise_dim: usize,
    n: usize,
    d: usize,
    p: usize,
    transition: Transition<T>,
    /// NULL only with `OTC_DPF_SCORE` (checked before the step), which never calls it.
    transition_jvp: Option<TransitionJvp<T>>,
    /// NULL unless `OTC_DPF_SCORE` (checked before the step), the only mode calling it.
    transition_score: Option<TransitionScore<T>>,
    loglik: Loglik<T>,
    loglik_grad: LoglikGrad<T>,
    /// NULL unless reverse mode (checked before the gradient), the only mode calling it.
    transition_vjp: Option<TransitionVjp<T>>,
    /// As `transition_vjp`.
    seek: Option<Seek>,
}

impl<T: Real> CModel<T> {
    /// The model of `m` for N particles, dimension d and P parameters, if its
    /// reserved slot is clear and the callbacks every mode needs are set (each mode
    /// checks its own before the call).
    ///
    /// # Errors
    /// `StructSize` (a reserved slot set), `NullPointer` (`transition`, `loglik` or
    /// `loglik_grad` NULL).
    pub(crate) fn new(m: &otc_dpf_model<T>, n: usize, d: usize, p: usize) -> Checked<Self> {
        if !m.reserved_clear() {
            return Err(otc_status::StructSize);
        }
        match (m.transition, m.loglik, m.loglik_grad) {
            (Some(transition), Some(loglik), Some(loglik_grad)) => Ok(Self {
                user: m.user,
                noise_dim: m.noise_dim,
                n,
                d,
                p,
                transition,
                transition_jvp: m.transition_jvp,
                transition_score: m.transition_score,
                loglik,
                loglik_grad,
                transition_vjp: m.transition_vjp,
                seek: m.seek,
            }),
            _ => Err(otc_status::NullPointer),
        }
    }

    /// Whether the reverse-mode callbacks are set.
    pub(crate) fn reversible(&self) -> bool {
        self.transition_vjp.is_some() && self.seek.is_some()
    }
}

fn status(s: i32) -> Result<(), Error> {
    if s == 0 {
        Ok(())
    } else {
        Err(Error::CallbackFailed)
    }
}

impl<T: Real> DiffModel<T> for CModel<T> {
    fn noise_dim(&self) -> usize {
        self.noise_dim
    }
    fn transition(&mut self, th: &[T], x: &[T], xi: &[T], out: &mut [T]) -> Result<(), Error> {
        let (n, d, p) = (self.n, self.d, self.p);
        // SAFETY: the slices are the core's, of the lengths the header states; the
        // callback's contract is to read and write exactly those.
        status(unsafe {
            (self.transition)(
                self.user,
                n,
                d,
                p,
                th.as_ptr(),
                x.as_ptr(),
                xi.as_ptr(),
                out.as_mut_ptr(),
            )
        })
    }
    fn transition_jvp(
        &mut self,
        th: &[T],
        x: &[T],
        xi: &[T],
        next: &[T],
        dx: &[T],
        dout: &mut [T],
    ) -> Result<(), Error> {
        let (n, d, p) = (self.n, self.d, self.p);
        let f = self.transition_jvp.ok_or(Error::CallbackFailed)?;
        // SAFETY: as in `transition`.
        status(unsafe {
            f(
                self.user,
                n,
                d,
                p,
                th.as_ptr(),
                x.as_ptr(),
                xi.as_ptr(),
                next.as_ptr(),
                dx.as_ptr(),
                dout.as_mut_ptr(),
            )
        })
    }
    fn transition_score(
        &mut self,
        th: &[T],
        x: &[T],
        next: &[T],
        out: &mut [T],
    ) -> Result<(), Error> {
        let (n, d, p) = (self.n, self.d, self.p);
        let f = self.transition_score.ok_or(Error::CallbackFailed)?;
        // SAFETY: as in `transition`.
        status(unsafe {
            f(
                self.user,
                n,
                d,
                p,
                th.as_ptr(),
                x.as_ptr(),
                next.as_ptr(),
                out.as_mut_ptr(),
            )
        })
    }
    fn transition_vjp(
        &mut self,
        th: &[T],
        x: &[T],
        xi: &[T],
        next: &[T],
        next_bar: &[T],
        x_bar: &mut [T],
        th_bar: &mut [T],
    ) -> Result<(), Error> {
        let (n, d, p) = (self.n, self.d, self.p);
        let f = self.transition_vjp.ok_or(Error::CallbackFailed)?;
        // SAFETY: as in `transition`.
        status(unsafe {
            f(
                self.user,
                n,
                d,
                p,
                th.as_ptr(),
                x.as_ptr(),
                xi.as_ptr(),
                next.as_ptr(),
                next_bar.as_ptr(),
                x_bar.as_mut_ptr(),
                th_bar.as_mut_ptr(),
            )
        })
    }
    fn seek(&mut self, tick: usize) -> Result<(), Error> {
        let f = self.seek.ok_or(Error::CallbackFailed)?;
        // SAFETY: the callback's contract (it gets only `user` and the index).
        status(unsafe { f(self.user, tick) })
    }
    fn loglik(&mut self, th: &[T], x: &[T], out: &mut [T]) -> Result<(), Error> {
        let (n, d, p) = (self.n, self.d, self.p);
        // SAFETY: as in `transition`.
        status(unsafe {
            (self.loglik)(
                self.user,
                n,
                d,
                p,
                th.as_ptr(),
                x.as_ptr(),
                out.as_mut_ptr(),
            )
        })
    }
    fn loglik_grad(&mut self, th: &[T], x: &[T], gx: &mut [T], gth: &mut [T]) -> Result<(), Error> {
        let (n, d, p) = (self.n, self.d, self.p);
        // SAFETY: as in `transition`.
        status(unsafe {
            (self.loglik_grad)(
                self.user,
                n,
                d,
                p,
                th.as_ptr(),
                x.as_ptr(),
                gx.as_mut_ptr(),
                gth.as_mut_ptr(),
            )
        })
    }
}

/// The core's saturating length, as a checked count.
fn exact(len: usize) -> Checked<usize> {
    if len == usize::MAX {
        Err(otc_status::LengthMismatch)
    } else {
        Ok(len)
    }
}

unsafe fn init_impl<T: Real>(
    n: usize,
    d: usize,
    p: usize,
    logw: *mut T,
    tangent: *mut T,
    state: *mut otc_pf_state<T>,
    dloglik: *mut T,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        unsafe { check_sized(state)? };
        if n == 0 || d == 0 || p == 0 {
            return Err(otc_status::EmptyInput);
        }
        let (la, ta) = (
            Array::output(logw, n)?,
            Array::output(tangent, exact(tangent_len(n, d, p))?)?,
        );
        let (sa, da) = (Array::output(state, 1)?, Array::output(dloglik, p)?);
        disjoint(&[la.span(), ta.span(), sa.span(), da.span()])?;
        // SAFETY: checked non-NULL, aligned, disjoint; valid by the caller's contract.
        unsafe {
            uniform_log_weights(la.slice_mut());
            ta.slice_mut().fill(T::ZERO);
            da.slice_mut().fill(T::ZERO);
            sa.fill(otc_pf_state::from_core(&Totals::default()));
        }
        Ok(otc_status::Ok)
    })
}

/// The step, classical (`OT` false: `ot` unused, and none of OT resampling linked) or
/// by OT (`ot` read).
#[allow(clippy::too_many_arguments)]
unsafe fn step_impl<T: Real, const OT: bool>(
    config: *const otc_dpf_config<T>,
    ot: *const otc_dpf_ot_config<T>,
    model: *const otc_dpf_model<T>,
    theta: *const T,
    p: usize,
    n: usize,
    d: usize,
    rng: *mut otc_rng,
    x: *mut T,
    logw: *mut T,
    tangent: *mut T,
    state: *mut otc_pf_state<T>,
    dloglik: *mut T,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut T,
    dmean: *mut T,
    report: *mut otc_pf_report<T>,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let ot = if OT {
            // SAFETY: as above.
            Some(unsafe { read_sized(ot)? }.to_core()?)
        } else {
            None
        };
        // SAFETY: as above.
        let cfg = unsafe { read_sized(config)? }.to_core(ot)?;
        // SAFETY: as above.
        let m = unsafe { read_sized(model)? };
        // SAFETY: as above.
        let st = unsafe { read_sized(state)? };
        // SAFETY: as above.
        unsafe { check_sized(report)? };
        let mut cm = CModel::new(&m, n, d, p)?;
        let needed = if cfg.gradient == Gradient::Score {
            m.transition_score.is_some()
        } else {
            m.transition_jvp.is_some()
        };
        if !needed {
            return Err(otc_status::NullPointer);
        }
        let len = cells(n, d)?;
        let ta = Array::output(tangent, exact(tangent_len(n, d, p))?)?;
        let tha = Array::input(theta, p)?;
        let ra = Array::output(rng, 1)?;
        let (xa, la) = (Array::output(x, len)?, Array::output(logw, n)?);
        let (sa, da) = (Array::output(state, 1)?, Array::output(dloglik, p)?);
        let need = if OT {
            diff_ot_workspace_len(n, d, p, m.noise_dim)
        } else {
            diff_workspace_len(n, d, p, m.noise_dim)
        };
        let ws = workspace::<T>(ws, ws_bytes, need)?;
        let (ma, dma) = (Array::output(mean, d)?, Array::output(dmean, cells(d, p)?)?);
        let rep = Array::output(report, 1)?;
        disjoint(&[
            tha.span(),
            ra.span(),
            xa.span(),
            la.span(),
            ta.span(),
            sa.span(),
            da.span(),
            ws.span(),
            ma.span(),
            dma.span(),
            rep.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract and
        // disjoint from the others.
        let (th, r, xs, ls, ts, ds, ms, dms, wss) = unsafe {
            (
                tha.slice(),
                ra.slice_mut(),
                xa.slice_mut(),
                la.slice_mut(),
                ta.slice_mut(),
                da.slice_mut(),
                ma.slice_mut(),
                dma.slice_mut(),
                zeroed(ws),
            )
        };
        let r = r.first_mut().ok_or(otc_status::NullPointer)?;
        let mut totals = st.to_core();
        // The classical step has no OT branch: a program calling only it does not link
        // OT resampling and its JVP.
        let step = if OT { diff_step } else { diff_step_classical };
        let rp = step(
            &mut cm,
            th,
            d,
            &cfg,
            r,
            xs,
            ls,
            ts,
            &mut totals,
            ds,
            ms,
            dms,
            wss,
        )?;
        // SAFETY: as above.
        unsafe {
            sa.fill(otc_pf_state::from_core(&totals));
            rep.fill(otc_pf_report::from_core(&rp));
        }
        Ok(otc_status::Ok)
    })
}

/// Fills `*out` with the differentiable-filter defaults: systematic resampling when
/// ESS < 0.5·N, `OTC_DPF_STOP_GRADIENT`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_dpf_config_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_config_default_f32(out: *mut otc_dpf_config<f32>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_dpf_config::default_values()) }
}

/// The `double` version of `otc_dpf_config_default_f32`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_dpf_config_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_config_default_f64(out: *mut otc_dpf_config<f64>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_dpf_config::default_values()) }
}

/// Elements of the tangent state of `otc_dpf_step_f32` (either precision): N·(d + 1)·P
/// — ∂x/∂θ (N×d×P: per particle a d×P block, row-major), then ∂log w/∂θ (N×P). Carried
/// from tick to tick in caller memory: O(N·(d + 1)·P), never N×N.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `out_len` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tangent_len(
    n: usize,
    d: usize,
    p: usize,
    out_len: *mut usize,
) -> i32 {
    run(|| {
        let o = Array::output(out_len, 1)?;
        let len = exact(tangent_len(n, d, p))?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { o.fill(len) };
        Ok(otc_status::Ok)
    })
}

/// Workspace bytes of `otc_dpf_step_f32` for N particles, dimension d, P parameters
/// and k = `noise_dim` normals per particle:
/// `sizeof(float) · (N·(k + 2d + 1 + (d + 1)·P) + d·P + d + P)`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_workspace_size_f32(
    n: usize,
    d: usize,
    p: usize,
    noise_dim: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(diff_workspace_len(n, d, p, noise_dim)), out_bytes) }
}

/// The `double` version of `otc_dpf_workspace_size_f32` (`sizeof(double)`).
///
/// # Safety
/// As `otc_dpf_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_workspace_size_f64(
    n: usize,
    d: usize,
    p: usize,
    noise_dim: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(diff_workspace_len(n, d, p, noise_dim)), out_bytes) }
}

/// Starts a differentiable filter: `logw[0..n]` = −log N, `tangent` (N·(d + 1)·P, see
/// `otc_dpf_tangent_len`) = 0 (initial particles independent of θ: draw them yourself;
/// write ∂x_0/∂θ into the first N·d·P values if they depend on θ), `*state` = zero
/// totals (`state->struct_size` must be set), `dloglik[0..p]` = 0.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_EMPTY_INPUT` (n, d
/// or p = 0), `OTC_STATUS_LENGTH_MISMATCH` (overflow), `OTC_STATUS_INVALID_PARAMETER`
/// (overlap).
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_init_f32(
    n: usize,
    d: usize,
    p: usize,
    logw: *mut f32,
    tangent: *mut f32,
    state: *mut otc_pf_state<f32>,
    dloglik: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { init_impl(n, d, p, logw, tangent, state, dloglik) }
}

/// The `double` version of `otc_dpf_init_f32`.
///
/// # Safety
/// As `otc_dpf_init_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_init_f64(
    n: usize,
    d: usize,
    p: usize,
    logw: *mut f64,
    tangent: *mut f64,
    state: *mut otc_pf_state<f64>,
    dloglik: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { init_impl(n, d, p, logw, tangent, state, dloglik) }
}

/// One forward-mode step of the differentiable particle filter: the step of
/// `otc_pf_step_f32` (transition with ξ ~ N(0, I_k) drawn from `rng`, weighting,
/// Δℓ, weighted mean, resampling if the trigger fires) carrying the tangents
/// ∂x/∂θ and ∂log w/∂θ, so that `dloglik` (P) accumulates ∂ℓ̂/∂θ of the running
/// log-likelihood `state->log_likelihood` and `dmean` (d×P row-major) is ∂mean/∂θ,
/// every tick. Classical resampling holds the ancestor indices fixed; the log-weight
/// tangents then follow `config->gradient` (`OTC_DPF_DETACH`: reset;
/// `OTC_DPF_STOP_GRADIENT`: the ancestor's; `OTC_DPF_SCORE`: Fisher's identity, states
/// stopped). See docs/differentiable_filter.md.
///
/// - `theta` (P ≥ 1): the parameters, passed to every callback of `model`.
/// - `x` (N×d), `logw` (N, normalised), `tangent` (`otc_dpf_tangent_len(n, d, p)`):
///   the particle set and its tangents, updated in place (start with
///   `otc_dpf_init_f32`); `state` and `dloglik` (P): ℓ̂ and ∂ℓ̂/∂θ, accumulated.
/// - `ws`, `ws_bytes`: `otc_dpf_workspace_size_f32(n, d, p, model->noise_dim)` bytes,
///   aligned to `OTC_WORKSPACE_ALIGN`.
/// - `mean` (d), `dmean` (d×P): weighted mean after weighting (before resampling) and
///   its derivative; `report`: as `otc_pf_step_f32` (set `report->struct_size`).
///
/// Every callback runs before anything is written: on any error nothing changes
/// (`x`, `logw`, `tangent`, `state`, `dloglik`, `mean`, `dmean`, `report`, and `*rng`
/// is restored).
///
/// Returns `OTC_STATUS_OK`; nothing changed: `OTC_STATUS_NULL_POINTER` (also a NULL
/// callback the gradient mode needs), `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE` (also a non-NULL
/// `model->reserved` slot or nonzero `config->reserved`),
/// `OTC_STATUS_INVALID_PARAMETER` (`OTC_RESAMPLE_OPTIMAL`: OT resampling is
/// `otc_dpf_step_ot_f32`; an unknown resampler, trigger or gradient; threshold ∉ [0, 1];
/// overlapping buffers), `OTC_STATUS_EMPTY_INPUT` (n, d or p = 0),
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow), `OTC_STATUS_NON_FINITE_INPUT` (NaN/∞ in
/// θ, particles, tangents or `dloglik`; NaN/+∞ log-weight), `OTC_STATUS_ZERO_MASS`,
/// `OTC_STATUS_WORKSPACE_TOO_SMALL`, `OTC_STATUS_CALLBACK_FAILED` (a callback returned
/// nonzero), `OTC_STATUS_NON_FINITE` (a callback wrote NaN/∞ particles, tangents or
/// gradients, or NaN/+∞ log-likelihoods; an output overflowed), `OTC_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call; the
/// callbacks must honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_step_f32(
    config: *const otc_dpf_config<f32>,
    model: *const otc_dpf_model<f32>,
    theta: *const f32,
    p: usize,
    n: usize,
    d: usize,
    rng: *mut otc_rng,
    x: *mut f32,
    logw: *mut f32,
    tangent: *mut f32,
    state: *mut otc_pf_state<f32>,
    dloglik: *mut f32,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f32,
    dmean: *mut f32,
    report: *mut otc_pf_report<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step_impl::<_, false>(
            config,
            core::ptr::null(),
            model,
            theta,
            p,
            n,
            d,
            rng,
            x,
            logw,
            tangent,
            state,
            dloglik,
            ws,
            ws_bytes,
            mean,
            dmean,
            report,
        )
    }
}

/// The `double` version of `otc_dpf_step_f32`.
///
/// # Safety
/// As `otc_dpf_step_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_step_f64(
    config: *const otc_dpf_config<f64>,
    model: *const otc_dpf_model<f64>,
    theta: *const f64,
    p: usize,
    n: usize,
    d: usize,
    rng: *mut otc_rng,
    x: *mut f64,
    logw: *mut f64,
    tangent: *mut f64,
    state: *mut otc_pf_state<f64>,
    dloglik: *mut f64,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f64,
    dmean: *mut f64,
    report: *mut otc_pf_report<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step_impl::<_, false>(
            config,
            core::ptr::null(),
            model,
            theta,
            p,
            n,
            d,
            rng,
            x,
            logw,
            tangent,
            state,
            dloglik,
            ws,
            ws_bytes,
            mean,
            dmean,
            report,
        )
    }
}

/// Fills `*out` with the OT step's defaults: OT resampling's (`otc_ot_resample_config`
/// defaults, ε still to set), CG tolerance 1e-5, at most 200 CG iterations.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_dpf_ot_config_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_ot_config_default_f32(out: *mut otc_dpf_ot_config<f32>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_dpf_ot_config::default_values()) }
}

/// The `double` version of `otc_dpf_ot_config_default_f32` (CG tolerance 1e-10).
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_dpf_ot_config_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_ot_config_default_f64(out: *mut otc_dpf_ot_config<f64>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_dpf_ot_config::default_values()) }
}

/// Workspace bytes of `otc_dpf_step_ot_f32`: `sizeof(float)` times
/// `OTC_DPF_OT_WORKSPACE_ELEMS(n, d, p, k)` = the classical step's elements +
/// OT resampling's + N·d·(3P + 2) + N·P + N̂·(13d + 20) + 2d (N̂ = N rounded up to the
/// kernel width): the map, its tangents before they are committed, and the JVP's CG.
/// O(N·d·P), never N×N.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_ot_workspace_size_f32(
    n: usize,
    d: usize,
    p: usize,
    noise_dim: usize,
    out_bytes: *mut usize,
) -> i32 {
    let len = diff_ot_workspace_len(n, d, p, noise_dim);
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(len), out_bytes) }
}

/// The `double` version of `otc_dpf_ot_workspace_size_f32` (`sizeof(double)`).
///
/// # Safety
/// As `otc_dpf_ot_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_ot_workspace_size_f64(
    n: usize,
    d: usize,
    p: usize,
    noise_dim: usize,
    out_bytes: *mut usize,
) -> i32 {
    let len = diff_ot_workspace_len(n, d, p, noise_dim);
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(len), out_bytes) }
}

/// `otc_dpf_step_f32` resampling by OT (Corenflos et al. 2021) when the trigger fires,
/// differentiated exactly: the particles' tangents go through the map's JVP (implicit
/// differentiation of the Sinkhorn fixed point, a CG solve of at most
/// `ot->cg_max_iterations` iterations), the log-weights become uniform with zero
/// tangents. `config->resampler` must be `OTC_RESAMPLE_OPTIMAL` and `config->gradient`
/// `OTC_DPF_DETACH` or `OTC_DPF_STOP_GRADIENT` (no weights are resampled, so both mean
/// the same; `OTC_DPF_SCORE` is refused). Workspace: `otc_dpf_ot_workspace_size_f32`.
/// A separate function, so that a firmware calling only `otc_dpf_step_f32` links none
/// of OT resampling.
///
/// The gradient is that of the map's ε-smoothed resampling, a biased estimate of the
/// exact filter's (the bias shrinks with ε; `docs/differentiable_filter.md`).
///
/// Returns as `otc_dpf_step_f32`, and, nothing changed: `OTC_STATUS_STRUCT_SIZE` (`ot`,
/// `ot->resample`, or `ot->reserved` ≠ 0), `OTC_STATUS_INVALID_PARAMETER`
/// (`config->resampler` not `OTC_RESAMPLE_OPTIMAL`, `OTC_DPF_SCORE`, OT settings or CG
/// tolerance invalid), `OTC_STATUS_INVALID_EPSILON`, what OT resampling and its JVP
/// return. A CG solve that reaches its cap is not an error: the tangents are those of
/// its last iterate, and the residual is not reported, so keep the cap well above
/// what the problem needs.
///
/// # Safety
/// As `otc_dpf_step_f32`; `ot` must be NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_step_ot_f32(
    config: *const otc_dpf_config<f32>,
    ot: *const otc_dpf_ot_config<f32>,
    model: *const otc_dpf_model<f32>,
    theta: *const f32,
    p: usize,
    n: usize,
    d: usize,
    rng: *mut otc_rng,
    x: *mut f32,
    logw: *mut f32,
    tangent: *mut f32,
    state: *mut otc_pf_state<f32>,
    dloglik: *mut f32,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f32,
    dmean: *mut f32,
    report: *mut otc_pf_report<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step_impl::<_, true>(
            config, ot, model, theta, p, n, d, rng, x, logw, tangent, state, dloglik, ws, ws_bytes,
            mean, dmean, report,
        )
    }
}

/// The `double` version of `otc_dpf_step_ot_f32`.
///
/// # Safety
/// As `otc_dpf_step_ot_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_step_ot_f64(
    config: *const otc_dpf_config<f64>,
    ot: *const otc_dpf_ot_config<f64>,
    model: *const otc_dpf_model<f64>,
    theta: *const f64,
    p: usize,
    n: usize,
    d: usize,
    rng: *mut otc_rng,
    x: *mut f64,
    logw: *mut f64,
    tangent: *mut f64,
    state: *mut otc_pf_state<f64>,
    dloglik: *mut f64,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f64,
    dmean: *mut f64,
    report: *mut otc_pf_report<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step_impl::<_, true>(
            config, ot, model, theta, p, n, d, rng, x, logw, tangent, state, dloglik, ws, ws_bytes,
            mean, dmean, report,
        )
    }
}
