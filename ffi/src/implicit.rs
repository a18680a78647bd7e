//! Implicit-differentiation VJPs of a plan: the barycentric map and the potentials
//! with respect to the points and the weights. One generic implementation, one
//! exported wrapper per precision.

use core::ffi::c_void;

use otcore::ot::{implicit_workspace_len, Cg, Gradient, ImplicitReport, Plan};
use otcore::Real;

use crate::args::{check_sized, disjoint, workspace, zeroed, Array, ProblemArrays, Span};
use crate::boundary::run;
use crate::sizes::write_workspace_size;
use crate::status::otc_status;
use crate::types::otc_ot_problem;

/// What an implicit VJP did (`float` in `otc_implicit_report_f32`, `double` in
/// `otc_implicit_report_f64`). Set `struct_size = sizeof` it before the call; written
/// only on success.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_implicit_report<T> {
    /// `sizeof` this struct, set by the caller.
    pub struct_size: usize,
    /// Conjugate-gradient iterations of the adjoint solve (≤ `cg_max_iterations`).
    pub cg_iterations: u32,
    /// Final ‖residual‖ / ‖right-hand side‖ of the adjoint solve.
    pub cg_residual: T,
    /// The plan's L1 marginal error Σ|P1 − a| + Σ|Pᵀ1 − b| (mass units): the VJP is
    /// that of a solution only as far as this is small.
    pub marginal_error: T,
}

/// The cotangent, as the caller passed it.
enum Bar<T> {
    Map((*const T, usize)),
    Potentials((*const T, usize), (*const T, usize)),
}

/// The output arrays: ∂L/∂x, ∂L/∂y, ∂L/∂a, ∂L/∂b.
type Outs<T> = [(*mut T, usize); 4];

/// # Safety
/// As the exported `otc_plan_barycentric_vjp_f32`.
unsafe fn vjp<T: Real>(
    problem: *const otc_ot_problem<T>,
    (epsilon, f, g): (T, (*const T, usize), (*const T, usize)),
    bar: Bar<T>,
    cg: Cg<T>,
    (ws, ws_bytes): (*mut c_void, usize),
    outs: Outs<T>,
    report: *mut otc_implicit_report<T>,
) -> i32 {
    run(|| {
        // SAFETY: readable by the caller's contract (NULL is checked).
        let prob = unsafe { ProblemArrays::read(problem)? };
        if !report.is_null() {
            // SAFETY: as above.
            unsafe { check_sized(report)? };
        }
        let len = implicit_workspace_len(prob.n(), prob.m(), prob.dim());
        let ws = workspace::<T>(ws, ws_bytes, len)?;
        let (q0, q1) = (Array::input(f.0, f.1)?, Array::input(g.0, g.1)?);
        let (b0, b1) = match bar {
            Bar::Map(t) => (Array::input(t.0, t.1)?, None),
            Bar::Potentials(fb, gb) => (Array::input(fb.0, fb.1)?, Some(Array::input(gb.0, gb.1)?)),
        };
        let [o0, o1, o2, o3] = outs.map(|(p, l)| Array::output(p, l));
        let (o0, o1, o2, o3) = (o0?, o1?, o2?, o3?);
        let res = if report.is_null() {
            None
        } else {
            Some(Array::output(report, 1)?)
        };
        let [s0, s1, s2, s3] = prob.spans();
        disjoint(&[
            s0,
            s1,
            s2,
            s3,
            q0.span(),
            q1.span(),
            b0.span(),
            b1.as_ref().map_or(Span::NONE, Array::span),
            ws.span(),
            o0.span(),
            o1.span(),
            o2.span(),
            o3.span(),
            res.as_ref().map_or(Span::NONE, Array::span),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract, and
        // no written one overlaps another (`disjoint`).
        let (problem, ws, f, g, tb, gb, out) = unsafe {
            (
                prob.problem(),
                zeroed(ws),
                q0.slice(),
                q1.slice(),
                b0.slice(),
                b1.map(|b| b.slice()),
                Gradient {
                    x: o0.slice_mut(),
                    y: o1.slice_mut(),
                    a: o2.slice_mut(),
                    b: o3.slice_mut(),
                },
            )
        };
        let plan = Plan::new(problem, epsilon, f, g);
        let r: ImplicitReport<T> = match gb {
            None => plan.barycentric_vjp(tb, &cg, out, ws)?,
            Some(gb) => plan.potentials_vjp(tb, gb, &cg, out, ws)?,
        };
        if let Some(res) = res {
            let value = otc_implicit_report {
                struct_size: size_of::<otc_implicit_report<T>>(),
                cg_iterations: r.cg.iterations,
                cg_residual: r.cg.residual,
                marginal_error: r.marginal_error,
            };
            // SAFETY: as above (the struct states our size: `check_sized`).
            unsafe { res.fill(value) };
        }
        Ok(otc_status::Ok)
    })
}

/// Workspace size, in bytes, of `otc_plan_barycentric_vjp_f32` and
/// `otc_plan_potentials_vjp_f32` for n and m points in dimension d:
///
/// `bytes = sizeof(float) · (W(n, m, d) + (d + 1)(n + m + n̂) + 6(n̂ + m̂) + (2d + 1)·max(n̂, m̂) + 2d + 2)`,
/// W the element count of `otc_sinkhorn_workspace_size_f32`, n̂, m̂ = n, m rounded up
/// to the kernel width. O(n + m): no n×m matrix is stored. Exact (a test checks it).
///
/// Returns as `otc_sinkhorn_workspace_size_f32`.
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_implicit_workspace_size_f32(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(implicit_workspace_len(n, m, d)), out_bytes) }
}

/// The `double` version of `otc_implicit_workspace_size_f32`.
///
/// # Safety
/// As `otc_implicit_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_implicit_workspace_size_f64(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(implicit_workspace_len(n, m, d)), out_bytes) }
}

/// The vector–Jacobian product of the barycentric map T (as `otc_plan_barycentric_f32`
/// returns it) of the plan of a balanced solve with absolute ε `epsilon` and
/// potentials f (n), g (m): given `tbar` = ∂L/∂T (n×d row-major) writes ∂L/∂x (n×d),
/// ∂L/∂y (m×d), ∂L/∂a (n), ∂L/∂b (m) by implicit differentiation (the adjoint system
/// solved by conjugate gradient to `cg_tolerance`, at most `cg_max_iterations`
/// iterations of two streamed passes). Exact at a converged solution: `report` (may
/// be NULL) gives the plan's marginal error and the adjoint residual. Weight gradients
/// are those orthogonal to (1, −1) (only Σa = Σb directions are meaningful);
/// zero-weight points get 0.
///
/// Returns `OTC_STATUS_OK`; the statuses of the problem checks; `NULL_POINTER`,
/// `MISALIGNED`, `LENGTH_MISMATCH`, `NON_FINITE_INPUT` (`tbar`, potentials of positive
/// weights), `INVALID_PARAMETER` (`cg_tolerance` not finite and positive),
/// `NEEDS_POINT_CLOUDS`, `WORKSPACE_TOO_SMALL`, `STRUCT_SIZE`, `NON_FINITE`
/// (`INVALID_PARAMETER` also when a written array overlaps another).
/// Nothing is written unless it returns `OTC_STATUS_OK`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length; `report` NULL or a
/// writable `otc_implicit_report_f32` with `struct_size` set.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_barycentric_vjp_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    tbar: *const f32,
    tbar_len: usize,
    cg_tolerance: f32,
    cg_max_iterations: u32,
    ws: *mut c_void,
    ws_bytes: usize,
    grad_x: *mut f32,
    grad_x_len: usize,
    grad_y: *mut f32,
    grad_y_len: usize,
    grad_a: *mut f32,
    grad_a_len: usize,
    grad_b: *mut f32,
    grad_b_len: usize,
    report: *mut otc_implicit_report<f32>,
) -> i32 {
    let outs = [
        (grad_x, grad_x_len),
        (grad_y, grad_y_len),
        (grad_a, grad_a_len),
        (grad_b, grad_b_len),
    ];
    let cg = Cg {
        tolerance: cg_tolerance,
        max_iterations: cg_max_iterations,
    };
    let plan = (epsilon, (f, f_len), (g, g_len));
    // SAFETY: the caller's contract, stated above.
    unsafe {
        vjp(
            problem,
            plan,
            Bar::Map((tbar, tbar_len)),
            cg,
            (ws, ws_bytes),
            outs,
            report,
        )
    }
}

/// The `double` version of `otc_plan_barycentric_vjp_f32`.
///
/// # Safety
/// As `otc_plan_barycentric_vjp_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_barycentric_vjp_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    tbar: *const f64,
    tbar_len: usize,
    cg_tolerance: f64,
    cg_max_iterations: u32,
    ws: *mut c_void,
    ws_bytes: usize,
    grad_x: *mut f64,
    grad_x_len: usize,
    grad_y: *mut f64,
    grad_y_len: usize,
    grad_a: *mut f64,
    grad_a_len: usize,
    grad_b: *mut f64,
    grad_b_len: usize,
    report: *mut otc_implicit_report<f64>,
) -> i32 {
    let outs = [
        (grad_x, grad_x_len),
        (grad_y, grad_y_len),
        (grad_a, grad_a_len),
        (grad_b, grad_b_len),
    ];
    let cg = Cg {
        tolerance: cg_tolerance,
        max_iterations: cg_max_iterations,
    };
    let plan = (epsilon, (f, f_len), (g, g_len));
    // SAFETY: the caller's contract, stated above.
    unsafe {
        vjp(
            problem,
            plan,
            Bar::Map((tbar, tbar_len)),
            cg,
            (ws, ws_bytes),
            outs,
            report,
        )
    }
}

/// The vector–Jacobian product of the potentials f (n), g (m) of a balanced solve:
/// given `fbar` = ∂L/∂f (n) and `gbar` = ∂L/∂g (m), cost units, writes ∂L/∂x, ∂L/∂y,
/// ∂L/∂a, ∂L/∂b as `otc_plan_barycentric_vjp_f32` does. The potentials are defined up
/// to (f + k, g − k): this is the derivative in the gauge where Σf − Σg (positive
/// weights) stays fixed, exact for any loss invariant to the shift. Workspace
/// `otc_implicit_workspace_size_f32`; statuses and `report` as
/// `otc_plan_barycentric_vjp_f32`.
///
/// # Safety
/// As `otc_plan_barycentric_vjp_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_potentials_vjp_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    fbar: *const f32,
    fbar_len: usize,
    gbar: *const f32,
    gbar_len: usize,
    cg_tolerance: f32,
    cg_max_iterations: u32,
    ws: *mut c_void,
    ws_bytes: usize,
    grad_x: *mut f32,
    grad_x_len: usize,
    grad_y: *mut f32,
    grad_y_len: usize,
    grad_a: *mut f32,
    grad_a_len: usize,
    grad_b: *mut f32,
    grad_b_len: usize,
    report: *mut otc_implicit_report<f32>,
) -> i32 {
    let outs = [
        (grad_x, grad_x_len),
        (grad_y, grad_y_len),
        (grad_a, grad_a_len),
        (grad_b, grad_b_len),
    ];
    let cg = Cg {
        tolerance: cg_tolerance,
        max_iterations: cg_max_iterations,
    };
    let plan = (epsilon, (f, f_len), (g, g_len));
    let bar = Bar::Potentials((fbar, fbar_len), (gbar, gbar_len));
    // SAFETY: the caller's contract, stated above.
    unsafe { vjp(problem, plan, bar, cg, (ws, ws_bytes), outs, report) }
}

/// The `double` version of `otc_plan_potentials_vjp_f32`.
///
/// # Safety
/// As `otc_plan_potentials_vjp_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_potentials_vjp_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    fbar: *const f64,
    fbar_len: usize,
    gbar: *const f64,
    gbar_len: usize,
    cg_tolerance: f64,
    cg_max_iterations: u32,
    ws: *mut c_void,
    ws_bytes: usize,
    grad_x: *mut f64,
    grad_x_len: usize,
    grad_y: *mut f64,
    grad_y_len: usize,
    grad_a: *mut f64,
    grad_a_len: usize,
    grad_b: *mut f64,
    grad_b_len: usize,
    report: *mut otc_implicit_report<f64>,
) -> i32 {
    let outs = [
        (grad_x, grad_x_len),
        (grad_y, grad_y_len),
        (grad_a, grad_a_len),
        (grad_b, grad_b_len),
    ];
    let cg = Cg {
        tolerance: cg_tolerance,
        max_iterations: cg_max_iterations,
    };
    let plan = (epsilon, (f, f_len), (g, g_len));
    let bar = Bar::Potentials((fbar, fbar_len), (gbar, gbar_len));
    // SAFETY: the caller's contract, stated above.
    unsafe { vjp(problem, plan, bar, cg, (ws, ws_bytes), outs, report) }
}
