//! The differentiable particle filter in reverse mode: a tape in caller memory, the
//! recording step and the backward pass (`otcore::pf::{tape_step, tape_gradient}`),
//! one generic implementation with an exported wrapper per precision.

use core::ffi::c_void;

use otcore::pf::{
    tape_gradient, tape_gradient_workspace_len, tape_len, tape_step, tape_step_workspace_len,
    DiffConfig, Recorded, Tape,
};
use otcore::Real;

use crate::args::{check_sized, disjoint, read_sized, workspace, zeroed, Array, Checked, Span};
use crate::boundary::run;
use crate::dpf::CModel;
use crate::dpf_types::{otc_dpf_config, otc_dpf_model, otc_dpf_ot_config, otc_dpf_tape};
use crate::pf_types::{otc_pf_report, otc_pf_state, otc_rng};
use crate::sizes::{cells, write_workspace_size};
use crate::status::otc_status;

/// Workspace values of both tape calls: the larger of the step's and the gradient's.
fn tape_workspace_len(n: usize, d: usize, p: usize, k: usize, ot: bool) -> usize {
    tape_step_workspace_len(n, d, k, ot).max(tape_gradient_workspace_len(n, d, p, ot))
}

/// The core settings: classical with `ot` NULL, OT resampling otherwise.
///
/// # Safety
/// `config` and `ot` must be NULL or readable.
unsafe fn settings<T: Real>(
    config: *const otc_dpf_config<T>,
    ot: *const otc_dpf_ot_config<T>,
) -> Checked<DiffConfig<T>> {
    let ot = if ot.is_null() {
        None
    } else {
        // SAFETY: the caller's contract.
        Some(unsafe { read_sized(ot)? }.to_core()?)
    };
    // SAFETY: the caller's contract.
    unsafe { read_sized(config)? }.to_core(ot)
}

/// A checked tape descriptor and its values array.
struct TapeArgs<T> {
    desc: otc_dpf_tape<T>,
    values: Array<T>,
}

impl<T: Real> TapeArgs<T> {
    /// Reads `*tape` and checks its values array (its count is checked by the core).
    ///
    /// # Safety
    /// `tape` must be NULL or readable.
    unsafe fn read(tape: *const otc_dpf_tape<T>, written: bool) -> Checked<Self> {
        // SAFETY: the caller's contract.
        let desc = unsafe { read_sized(tape)? };
        let values = if written {
            Array::output(desc.values, desc.values_len)?
        } else {
            Array::input(desc.values, desc.values_len)?
        };
        Ok(Self { desc, values })
    }
}

/// Elements of a reverse-mode tape (either precision) for `window` ticks of N particles
/// of dimension d with k = `noise_dim` normals each: `window`·(N·(2d + k + 2) + 1)
/// (`OTC_DPF_TAPE_ELEMS`): per tick the input and proposed particles, the normals, the
/// log-weights, the ancestors and a flag.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `out_len` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tape_len(
    n: usize,
    d: usize,
    noise_dim: usize,
    window: usize,
    out_len: *mut usize,
) -> i32 {
    run(|| {
        let o = Array::output(out_len, 1)?;
        let len = match tape_len(n, d, noise_dim, window) {
            usize::MAX => return Err(otc_status::LengthMismatch),
            l => l,
        };
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { o.fill(len) };
        Ok(otc_status::Ok)
    })
}

/// Workspace bytes of `otc_dpf_tape_step_f32` and `otc_dpf_tape_gradient_f32` (one
/// workspace serves both) for N particles, dimension d, P parameters, k =
/// `noise_dim`, and OT resampling if `ot`: `sizeof(float)` ×
/// `OTC_DPF_TAPE_WORKSPACE_ELEMS(n, d, p, k, ot)` = the larger of
/// N·(k + d + 1) + d (+ N·d + OT resampling's, with `ot`) and N·(4d + 2 + P) + P
/// (+ the OT VJP's, with `ot`). O(N·(d + P)), never N×N.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tape_workspace_size_f32(
    n: usize,
    d: usize,
    p: usize,
    noise_dim: usize,
    ot: bool,
    out_bytes: *mut usize,
) -> i32 {
    let len = tape_workspace_len(n, d, p, noise_dim, ot);
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(len), out_bytes) }
}

/// The `double` version of `otc_dpf_tape_workspace_size_f32` (`sizeof(double)`).
///
/// # Safety
/// As `otc_dpf_tape_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tape_workspace_size_f64(
    n: usize,
    d: usize,
    p: usize,
    noise_dim: usize,
    ot: bool,
    out_bytes: *mut usize,
) -> i32 {
    let len = tape_workspace_len(n, d, p, noise_dim, ot);
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(len), out_bytes) }
}

unsafe fn init_impl<T: Real>(
    values: *mut T,
    values_len: usize,
    n: usize,
    d: usize,
    noise_dim: usize,
    window: usize,
    tape: *mut otc_dpf_tape<T>,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        unsafe { check_sized(tape)? };
        let va = Array::output(values, values_len)?;
        let ta = Array::output(tape, 1)?;
        disjoint(&[va.span(), ta.span()])?;
        // SAFETY: checked non-NULL, aligned and disjoint; valid by the caller's contract.
        Tape::new(unsafe { va.slice_mut() }, n, d, noise_dim, window, 0)?;
        // SAFETY: as above.
        unsafe {
            ta.fill(otc_dpf_tape {
                struct_size: size_of::<otc_dpf_tape<T>>(),
                values,
                values_len,
                n,
                d,
                noise_dim,
                window,
                ticks: 0,
            });
        }
        Ok(otc_status::Ok)
    })
}

/// Starts an empty tape: `*tape` describes `values` (`values_len` floats, at least
/// `otc_dpf_tape_len(n, d, noise_dim, window)`) for `window` ticks of N particles of
/// dimension d and a model with `noise_dim` = k; `tape->struct_size` must be set.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_EMPTY_INPUT` (n, d
/// or window = 0), `OTC_STATUS_WORKSPACE_TOO_SMALL` (`values_len` short),
/// `OTC_STATUS_INVALID_PARAMETER` (overlap; N > 2²⁴ + 1 in `float`, whose ancestor
/// indices the tape cannot hold exactly).
///
/// # Safety
/// `values` must be NULL or valid for `values_len` elements for as long as the tape is
/// used; `tape` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tape_init_f32(
    values: *mut f32,
    values_len: usize,
    n: usize,
    d: usize,
    noise_dim: usize,
    window: usize,
    tape: *mut otc_dpf_tape<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { init_impl(values, values_len, n, d, noise_dim, window, tape) }
}

/// The `double` version of `otc_dpf_tape_init_f32`.
///
/// # Safety
/// As `otc_dpf_tape_init_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tape_init_f64(
    values: *mut f64,
    values_len: usize,
    n: usize,
    d: usize,
    noise_dim: usize,
    window: usize,
    tape: *mut otc_dpf_tape<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { init_impl(values, values_len, n, d, noise_dim, window, tape) }
}

#[allow(clippy::too_many_arguments)]
unsafe fn step_impl<T: Real>(
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
    state: *mut otc_pf_state<T>,
    tape: *mut otc_dpf_tape<T>,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut T,
    report: *mut otc_pf_report<T>,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let cfg = unsafe { settings(config, ot)? };
        // SAFETY: as above.
        let m = unsafe { read_sized(model)? };
        // SAFETY: as above.
        let st = unsafe { read_sized(state)? };
        // SAFETY: as above.
        unsafe { check_sized(report)? };
        // SAFETY: as above.
        let tp = unsafe { TapeArgs::read(tape, true)? };
        let mut cm = CModel::new(&m, n, d, p)?;
        let tha = Array::input(theta, p)?;
        let ra = Array::output(rng, 1)?;
        let (xa, la) = (Array::output(x, cells(n, d)?)?, Array::output(logw, n)?);
        let sa = Array::output(state, 1)?;
        let ta = Array::output(tape, 1)?;
        let need = tape_step_workspace_len(n, d, m.noise_dim, cfg.ot.is_some());
        let ws = workspace::<T>(ws, ws_bytes, need)?;
        let (ma, rep) = (Array::output(mean, d)?, Array::output(report, 1)?);
        disjoint(&[
            tha.span(),
            ra.span(),
            xa.span(),
            la.span(),
            sa.span(),
            ta.span(),
            tp.values.span(),
            ws.span(),
            ma.span(),
            rep.span(),
        ])?;
        let t = tp.desc;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract and
        // disjoint from the others.
        let (th, r, xs, ls, ms, vs, wss) = unsafe {
            (
                tha.slice(),
                ra.slice_mut(),
                xa.slice_mut(),
                la.slice_mut(),
                ma.slice_mut(),
                tp.values.slice_mut(),
                zeroed(ws),
            )
        };
        let r = r.first_mut().ok_or(otc_status::NullPointer)?;
        let mut tape = Tape::new(vs, t.n, t.d, t.noise_dim, t.window, t.ticks)?;
        let mut totals = st.to_core();
        let rp = tape_step(
            &mut cm,
            th,
            d,
            &cfg,
            r,
            xs,
            ls,
            &mut totals,
            ms,
            &mut tape,
            wss,
        )?;
        let ticks = tape.ticks();
        // SAFETY: as above.
        unsafe {
            sa.fill(otc_pf_state::from_core(&totals));
            rep.fill(otc_pf_report::from_core(&rp));
            ta.fill(otc_dpf_tape { ticks, ..t });
        }
        Ok(otc_status::Ok)
    })
}

/// One step of the differentiable filter recorded on `tape` for reverse mode: the
/// values of `otc_dpf_step_f32` (or `otc_dpf_step_ot_f32` with `ot` non-NULL) with the
/// same settings and `rng`, bit for bit, without tangents; the tick is appended to the
/// tape (`tape->ticks` grows by one). Then `otc_dpf_tape_gradient_f32` gives the
/// gradient of the window's log-likelihood and means at a cost independent of P in
/// the library's own work.
///
/// - `config`, `model`, `theta` (P ≥ 1), `rng`, `x` (N×d), `logw` (N, normalised),
///   `state`, `mean` (d), `report`: as `otc_dpf_step_f32`. The forward callbacks
///   `transition` and `loglik` run; `config->gradient` must be `OTC_DPF_DETACH` or
///   `OTC_DPF_STOP_GRADIENT` (the pathwise estimators).
/// - `ot`: NULL for classical resampling, or OT resampling's settings
///   (`config->resampler` then `OTC_RESAMPLE_OPTIMAL`), as `otc_dpf_step_ot_f32`.
/// - `tape`: from `otc_dpf_tape_init_f32` for this N, d and `model->noise_dim`.
/// - `ws`, `ws_bytes`: `otc_dpf_tape_workspace_size_f32(n, d, p, k, ot != NULL)` bytes
///   (enough for both tape calls; this one uses
///   `OTC_DPF_TAPE_STEP_WORKSPACE_ELEMS(n, d, k, ot != NULL)` elements), aligned to
///   `OTC_WORKSPACE_ALIGN`.
///
/// Returns `OTC_STATUS_OK`; nothing changed (`x`, `logw`, `state`, `mean`, `report`,
/// the tape and `*rng`): as `otc_dpf_step_f32` and `otc_dpf_step_ot_f32`, plus
/// `OTC_STATUS_INVALID_PARAMETER` (`OTC_DPF_SCORE`; `tape->ticks` > `tape->window`),
/// `OTC_STATUS_LENGTH_MISMATCH` (the tape's n, d or noise_dim differ),
/// `OTC_STATUS_WORKSPACE_TOO_SMALL` (also: the tape is full — take the gradient, then
/// set `tape->ticks` = 0).
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call (`tape->values`
/// for `tape->values_len` elements); the callbacks must honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tape_step_f32(
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
    state: *mut otc_pf_state<f32>,
    tape: *mut otc_dpf_tape<f32>,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f32,
    report: *mut otc_pf_report<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step_impl(
            config, ot, model, theta, p, n, d, rng, x, logw, state, tape, ws, ws_bytes, mean,
            report,
        )
    }
}

/// The `double` version of `otc_dpf_tape_step_f32`.
///
/// # Safety
/// As `otc_dpf_tape_step_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tape_step_f64(
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
    state: *mut otc_pf_state<f64>,
    tape: *mut otc_dpf_tape<f64>,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f64,
    report: *mut otc_pf_report<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        step_impl(
            config, ot, model, theta, p, n, d, rng, x, logw, state, tape, ws, ws_bytes, mean,
            report,
        )
    }
}

/// An optional output array: NULL gives none (an empty slice for the core).
fn optional<T>(ptr: *mut T, len: usize) -> Checked<Option<Array<T>>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        Array::output(ptr, len).map(Some)
    }
}

fn span<T>(a: &Option<Array<T>>) -> Span {
    a.as_ref().map_or(Span::NONE, Array::span)
}

/// # Safety
/// As `otc_dpf_tape_gradient_f32`; `a`, when present, is checked and disjoint.
unsafe fn optional_slice<'a, T>(a: Option<Array<T>>) -> &'a mut [T] {
    // SAFETY: the caller's contract.
    a.map_or(&mut [], |a| unsafe { a.slice_mut() })
}

#[allow(clippy::too_many_arguments)]
unsafe fn gradient_impl<T: Real>(
    config: *const otc_dpf_config<T>,
    ot: *const otc_dpf_ot_config<T>,
    model: *const otc_dpf_model<T>,
    theta: *const T,
    p: usize,
    tape: *const otc_dpf_tape<T>,
    loglik_bar: T,
    mean_bar: *const T,
    ws: *mut c_void,
    ws_bytes: usize,
    dtheta: *mut T,
    x0_bar: *mut T,
    logw0_bar: *mut T,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let cfg = unsafe { settings(config, ot)? };
        // SAFETY: as above.
        let m = unsafe { read_sized(model)? };
        // SAFETY: as above.
        let tp = unsafe { TapeArgs::read(tape, false)? };
        let t = tp.desc;
        let (n, d) = (t.n, t.d);
        let mut cm = CModel::new(&m, n, d, p)?;
        if !cm.reversible() {
            return Err(otc_status::NullPointer);
        }
        let tha = Array::input(theta, p)?;
        let mba = if mean_bar.is_null() {
            None
        } else {
            Some(Array::input(mean_bar, cells(t.ticks, d)?)?)
        };
        let need = tape_gradient_workspace_len(n, d, p, cfg.ot.is_some());
        let ws = workspace::<T>(ws, ws_bytes, need)?;
        let da = Array::output(dtheta, p)?;
        let (xb, lb) = (optional(x0_bar, cells(n, d)?)?, optional(logw0_bar, n)?);
        disjoint(&[
            tha.span(),
            tp.values.span(),
            span(&mba),
            ws.span(),
            da.span(),
            span(&xb),
            span(&lb),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract and
        // disjoint from the others; the tape is only read.
        let (th, vs, mb, wss, ds, xs, ls) = unsafe {
            (
                tha.slice(),
                tp.values.slice(),
                mba.map_or(&[][..], |a| a.slice()),
                zeroed(ws),
                da.slice_mut(),
                optional_slice(xb),
                optional_slice(lb),
            )
        };
        let tape = Recorded::new(vs, n, d, t.noise_dim, t.window, t.ticks)?;
        tape_gradient(&mut cm, th, d, &cfg, tape, loglik_bar, mb, ds, xs, ls, wss)?;
        Ok(otc_status::Ok)
    })
}

/// Reverse mode: the gradient of J = `loglik_bar`·ℓ̂ + Σ_t ⟨`mean_bar`_t, μ_t⟩ over
/// the window recorded on `tape` (ℓ̂ its log-likelihood, μ_t the filtered means the
/// steps reported), with respect to θ, by one backward pass (see
/// docs/differentiable_filter.md). Equal to the forward-mode gradient of the same run
/// (to rounding; to the CG tolerance with OT resampling).
///
/// - `config`, `ot`, `model`, `theta` (P ≥ 1): those the window was recorded with. The
///   model's `seek`, `loglik_grad` and `transition_vjp` run, tick by tick from the
///   last to the first (`seek` selects each tick's observation and inputs).
/// - `tape`: read, not changed (start a new window with `tape->ticks` = 0).
/// - `loglik_bar`: the weight of ℓ̂ in J (1 for ∂ℓ̂/∂θ). `mean_bar`: NULL, or
///   `tape->ticks` × d cotangents of the means.
/// - `ws`, `ws_bytes`: as `otc_dpf_tape_step_f32` (this call uses
///   `OTC_DPF_TAPE_GRADIENT_WORKSPACE_ELEMS(n, d, p, ot != NULL)` elements).
/// - `dtheta` (P): ∂J/∂θ, written. `x0_bar` (N×d) and `logw0_bar` (N): ∂J/∂x and
///   ∂J/∂log w at the window's start (to chain windows), written; NULL if not wanted.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER` (also a NULL
/// `seek` or `transition_vjp`), `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE`,
/// `OTC_STATUS_INVALID_PARAMETER` (settings as `otc_dpf_tape_step_f32`; overlap),
/// `OTC_STATUS_EMPTY_INPUT` (P = 0, no tick recorded), `OTC_STATUS_LENGTH_MISMATCH`
/// (`model->noise_dim` not the tape's), `OTC_STATUS_NON_FINITE_INPUT` (θ,
/// `loglik_bar`, `mean_bar`), `OTC_STATUS_WORKSPACE_TOO_SMALL`,
/// `OTC_STATUS_CALLBACK_FAILED`, `OTC_STATUS_NON_FINITE` (a callback wrote a
/// non-finite gradient; a result overflowed), what OT resampling's VJP returns,
/// `OTC_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call; the
/// callbacks must honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tape_gradient_f32(
    config: *const otc_dpf_config<f32>,
    ot: *const otc_dpf_ot_config<f32>,
    model: *const otc_dpf_model<f32>,
    theta: *const f32,
    p: usize,
    tape: *const otc_dpf_tape<f32>,
    loglik_bar: f32,
    mean_bar: *const f32,
    ws: *mut c_void,
    ws_bytes: usize,
    dtheta: *mut f32,
    x0_bar: *mut f32,
    logw0_bar: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        gradient_impl(
            config, ot, model, theta, p, tape, loglik_bar, mean_bar, ws, ws_bytes, dtheta, x0_bar,
            logw0_bar,
        )
    }
}

/// The `double` version of `otc_dpf_tape_gradient_f32`.
///
/// # Safety
/// As `otc_dpf_tape_gradient_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_dpf_tape_gradient_f64(
    config: *const otc_dpf_config<f64>,
    ot: *const otc_dpf_ot_config<f64>,
    model: *const otc_dpf_model<f64>,
    theta: *const f64,
    p: usize,
    tape: *const otc_dpf_tape<f64>,
    loglik_bar: f64,
    mean_bar: *const f64,
    ws: *mut c_void,
    ws_bytes: usize,
    dtheta: *mut f64,
    x0_bar: *mut f64,
    logw0_bar: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        gradient_impl(
            config, ot, model, theta, p, tape, loglik_bar, mean_bar, ws, ws_bytes, dtheta, x0_bar,
            logw0_bar,
        )
    }
}
