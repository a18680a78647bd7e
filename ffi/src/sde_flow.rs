//! Flow matching on the linear interpolant `x_t = (1 − t)x₀ + t·ε` (t = 1: prior
//! `N(0, I)`, t = 0: data): grids on [0, 1] and the Euler, midpoint, Heun and
//! interpolant-SDE samplers of `otcore::sde::flow`, with the model callback of the SDE
//! samplers (`otc_sde_model_fn_*`) declaring `OTC_SDE_OUTPUT_VELOCITY` (or a denoised,
//! noise or score output, converted on this path). Workspace: `otc_sde_workspace_size_*`.
//! Classifier-free guidance: `otc_sde_flow_sample_guided_*`, with the conditional
//! callback of the guided samplers (`otc_sde_cond_model_fn_*`, called with and without
//! its condition).

use core::ffi::c_void;

use otcore::sde::flow::{self, FlowMethod, FlowSpacing};
use otcore::{sde, Real};

use crate::args::{disjoint, workspace, zeroed, Array, Checked};
use crate::boundary::run;
use crate::sde::{c_model, otc_sde_model_fn_f32, otc_sde_model_fn_f64, ModelFn};
use crate::sde_guidance::{
    c_cond, guided_len, otc_sde_cond_model_fn_f32, otc_sde_cond_model_fn_f64, split_guided, CondFn,
};
use crate::sizes::{cells, write_workspace_size};
use crate::status::otc_status;

/// Flow method: Euler on dx/dt = v (1 evaluation per step).
pub const OTC_SDE_FLOW_EULER: i32 = 0;
/// Flow method: explicit midpoint (2 evaluations per step).
pub const OTC_SDE_FLOW_MIDPOINT: i32 = 1;
/// Flow method: Heun (2; 1 on the step to t = 0).
pub const OTC_SDE_FLOW_HEUN: i32 = 2;
/// Flow method: the interpolant SDE with diffusion w(t)² = 2η·t, each step exact for a
/// frozen x̂₀ (1 evaluation; lands on x̂₀ at t = 0; η = 0 is `OTC_SDE_FLOW_EULER`).
pub const OTC_SDE_FLOW_SDE: i32 = 3;

fn method(kind: i32, eta: f64) -> Checked<FlowMethod> {
    Ok(match kind {
        OTC_SDE_FLOW_EULER => FlowMethod::Euler,
        OTC_SDE_FLOW_MIDPOINT => FlowMethod::Midpoint,
        OTC_SDE_FLOW_HEUN => FlowMethod::Heun,
        OTC_SDE_FLOW_SDE => FlowMethod::Sde { eta },
        _ => return Err(otc_status::InvalidParameter),
    })
}

/// # Safety
/// As `otc_sde_flow_grid_f32`.
unsafe fn fill_grid<T: Real>(shift: f64, t_start: f64, t_end: f64, out: *mut T, len: usize) -> i32 {
    run(|| {
        let out = Array::output(out, len)?;
        // SAFETY: checked, writable by the caller's contract.
        flow::grid(FlowSpacing::Shifted { shift }, t_start, t_end, unsafe {
            out.slice_mut()
        })?;
        Ok(otc_status::Ok)
    })
}

/// # Safety
/// As `otc_sde_flow_sample_f32` (`grid` NULL: the single step of `otc_sde_flow_step_f32`
/// from `t` to `t_next`).
#[allow(clippy::too_many_arguments)]
unsafe fn run_flow<T: Real>(
    kind: i32,
    eta: f64,
    model: ModelFn<T>,
    user: *mut c_void,
    output: i32,
    grid: Option<(*const T, usize)>,
    steps: (T, T, u64),
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
        let m_kind = method(kind, eta)?;
        let mut m = c_model(model, user, d, output)?;
        let xa = Array::output(x, cells(n, d)?)?;
        let wa = workspace::<T>(ws, ws_bytes, sde::workspace_len(n, d))?;
        let ev = Array::output(out_evaluations, 1)?;
        let evals = match grid {
            Some((g, len)) => {
                let g = Array::input(g, len)?;
                disjoint(&[g.span(), xa.span(), wa.span(), ev.span()])?;
                // SAFETY: checked arrays, pairwise disjoint where written, valid by contract.
                let (g, xs, w) = unsafe { (g.slice(), xa.slice_mut(), zeroed(wa)) };
                flow::sample(m_kind, &mut m, g, xs, d, seed, first_sample, w)?.evaluations
            }
            None => {
                disjoint(&[xa.span(), wa.span(), ev.span()])?;
                // SAFETY: as above.
                let (xs, w) = unsafe { (xa.slice_mut(), zeroed(wa)) };
                let (t, t_next, j) = steps;
                flow::step(m_kind, &mut m, xs, d, t, t_next, j, seed, first_sample, w)?
            }
        };
        // SAFETY: as above.
        unsafe { ev.fill(evals) };
        Ok(otc_status::Ok)
    })
}

/// Fills `grid` (`len` ≥ 2 points) with decreasing times from `t_start` to `t_end`
/// (`1 ≥ t_start > t_end ≥ 0`), uniform points `u` mapped by the timestep shift
/// `t = k·u/(1 + (k − 1)u)` on [t_end, t_start] (`shift` k = 1: uniform; Stable
/// Diffusion 3 uses k = 3, which puts more steps near t = 1).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_EMPTY_INPUT` (len < 2), `OTC_STATUS_NON_FINITE_INPUT`,
/// `OTC_STATUS_INVALID_PARAMETER` (times out of range, shift not finite and positive,
/// a grid not strictly decreasing in this precision). On error grid is unchanged.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_flow_grid_f32(
    shift: f64,
    t_start: f64,
    t_end: f64,
    grid: *mut f32,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { fill_grid::<f32>(shift, t_start, t_end, grid, len) }
}

/// The `double` version of `otc_sde_flow_grid_f32`.
///
/// # Safety
/// As `otc_sde_flow_grid_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_flow_grid_f64(
    shift: f64,
    t_start: f64,
    t_end: f64,
    grid: *mut f64,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { fill_grid::<f64>(shift, t_start, t_end, grid, len) }
}

/// Runs a flow sampler (`method` = `OTC_SDE_FLOW_*`, `eta` the SDE's noise level,
/// ignored by the others) along `grid` (`grid_len` ≥ 2 strictly decreasing times in
/// [0, 1] ending at 0, usually from `otc_sde_flow_grid_f32` with t_start = 1) on the n
/// samples of dimension d in `x` (n·d, in place; usually `N(0, I)` draws). The model
/// returns `output`: `OTC_SDE_OUTPUT_VELOCITY` (E[ε − x₀ | x_t]) or a denoised, noise
/// or score output (converted on the linear path; score and noise models cannot start
/// at t = 1). It is never called at t = 0. Step j keys its noise with j; sample i uses
/// stream `first_sample + i`. Batched model calls go to `out_evaluations`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_EMPTY_INPUT` (n, d zero; fewer than 2 grid points),
/// `OTC_STATUS_LENGTH_MISMATCH`, `OTC_STATUS_NON_FINITE_INPUT` (x, grid),
/// `OTC_STATUS_INVALID_PARAMETER` (method, η not finite and ≥ 0, output kind, grid
/// order/range, a grid that does not end at 0, a score/noise model at t = 1,
/// overlapping buffers), `OTC_STATUS_WORKSPACE_TOO_SMALL`,
/// `OTC_STATUS_CALLBACK_FAILED`, `OTC_STATUS_NON_FINITE` (the model returned NaN/∞).
/// On error x is unchanged.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_flow_sample_f32(
    method: i32,
    eta: f64,
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
        run_flow::<f32>(
            method,
            eta,
            model,
            user,
            output,
            Some((grid, grid_len)),
            (0.0, 0.0, 0),
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

/// The `double` version of `otc_sde_flow_sample_f32`.
///
/// # Safety
/// As `otc_sde_flow_sample_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_flow_sample_f64(
    method: i32,
    eta: f64,
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
        run_flow::<f64>(
            method,
            eta,
            model,
            user,
            output,
            Some((grid, grid_len)),
            (0.0, 0.0, 0),
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

/// One flow step from `t` to `t_next` (`1 ≥ t > t_next ≥ 0`) in place on `x` (n·d),
/// for a control loop that spreads a trajectory over ticks; `step_index` keys the SDE's
/// noise (the step's position in the trajectory). Stepping a grid by hand gives the
/// bits of `otc_sde_flow_sample_f32`.
///
/// Returns as `otc_sde_flow_sample_f32` (no grid-end condition). On error x is
/// unchanged.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_flow_step_f32(
    method: i32,
    eta: f64,
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
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        run_flow::<f32>(
            method,
            eta,
            model,
            user,
            output,
            None,
            (t, t_next, step_index),
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

/// The `double` version of `otc_sde_flow_step_f32`.
///
/// # Safety
/// As `otc_sde_flow_step_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_flow_step_f64(
    method: i32,
    eta: f64,
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
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        run_flow::<f64>(
            method,
            eta,
            model,
            user,
            output,
            None,
            (t, t_next, step_index),
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

/// # Safety
/// As `otc_sde_flow_sample_guided_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn run_guided<T: Real>(
    kind: i32,
    eta: f64,
    model: Option<CondFn<T>>,
    user: *mut c_void,
    output: i32,
    guidance: (f64, f64, f64),
    grid: *const T,
    grid_len: usize,
    x: *mut T,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_calls: *mut u64,
) -> i32 {
    run(|| {
        let m_kind = method(kind, eta)?;
        let mut cond = c_cond(model, user, d, output)?;
        let g = Array::input(grid, grid_len)?;
        let xa = Array::output(x, cells(n, d)?)?;
        let wa = workspace::<T>(ws, ws_bytes, guided_len(n, d))?;
        let ev = Array::output(out_calls, 1)?;
        disjoint(&[g.span(), xa.span(), wa.span(), ev.span()])?;
        // SAFETY: checked arrays, pairwise disjoint where written, valid by contract.
        let (g, xs, w) = unsafe { (g.slice(), xa.slice_mut(), zeroed(wa)) };
        let (mut guided, w) = split_guided(&mut cond, guidance, w, n, d)?;
        flow::sample(m_kind, &mut guided, g, xs, d, seed, first_sample, w)?;
        // SAFETY: as above.
        unsafe { ev.fill(guided.calls()) };
        Ok(otc_status::Ok)
    })
}

/// Bytes of workspace `otc_sde_flow_sample_guided_f32` needs for n samples of dimension
/// d: `(6·n·d + 3·n + 3·d + n·d)·sizeof(float)` (the flow sampler's plus the
/// unconditional output; the same as `otc_sde_guided_workspace_size_f32`).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_flow_guided_workspace_size_f32(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(guided_len(n, d)), out_bytes) }
}

/// The `double` version of `otc_sde_flow_guided_workspace_size_f32`.
///
/// # Safety
/// As `otc_sde_flow_guided_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_flow_guided_workspace_size_f64(
    n: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(guided_len(n, d)), out_bytes) }
}

/// `otc_sde_flow_sample_f32` under classifier-free guidance: the model is called with
/// its condition (`conditional` = 1) and, for samples whose time is in
/// [`t_lo`, `t_hi`] (`t_hi` may be +∞), without it (0); the sampler uses
/// `u + weight·(c − u)` there and `c` elsewhere (the unconditional call is skipped when
/// no sample is in the interval). `weight` = 1: no guidance. Model calls (2 per guided
/// evaluation) go to `out_calls`. Workspace: `otc_sde_flow_guided_workspace_size_f32`.
///
/// Returns as `otc_sde_flow_sample_f32`; `OTC_STATUS_INVALID_PARAMETER` also for a
/// weight that is not finite or an interval that is not `0 ≤ t_lo ≤ t_hi`. On error x
/// is unchanged.
///
/// # Safety
/// the pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_flow_sample_guided_f32(
    method: i32,
    eta: f64,
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
        run_guided::<f32>(
            method,
            eta,
            model,
            user,
            output,
            (weight, t_lo, t_hi),
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

/// The `double` version of `otc_sde_flow_sample_guided_f32`.
///
/// # Safety
/// As `otc_sde_flow_sample_guided_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_flow_sample_guided_f64(
    method: i32,
    eta: f64,
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
        run_guided::<f64>(
            method,
            eta,
            model,
            user,
            output,
            (weight, t_lo, t_hi),
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
