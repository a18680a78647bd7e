//! The OT toolkit around the solver: the debiased Sinkhorn divergence, gradients of
//! OT_ε and S_ε, and the feasible rounding of a plan with its certificate. One generic
//! implementation per function, one exported wrapper per precision.

use core::ffi::c_void;

use otcore::ot::{
    divergence_gradient_workspace_len, matches_workspace_len, round_workspace_len, Config,
    DivergencePotentials, Gradient, Matches, Plan, RoundedParts,
};
use otcore::Real;

use crate::args::{check_sized, disjoint, read_sized, workspace, zeroed, Array, ProblemArrays};
use crate::boundary::run;
use crate::sizes::write_workspace_size;
use crate::status::otc_status;
use crate::types::{otc_ot_problem, otc_sinkhorn_config};

/// What `otc_divergence_f32` returns besides the potentials (`float` in
/// `otc_divergence_result_f32`, `double` in `otc_divergence_result_f64`). Set
/// `struct_size = sizeof` it before the call; written only on success.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_divergence_result<T> {
    /// `sizeof` this struct, set by the caller.
    pub struct_size: usize,
    /// `OTC_STATUS_OK` (all three solves converged) or `OTC_STATUS_MAX_ITERATIONS`.
    pub status: i32,
    /// Iterations of the (x, y), (x, x) and (y, y) solves.
    pub iterations: [u32; 3],
    /// S_ε, cost × mass units.
    pub value: T,
    /// OT_ε(α, β), OT_ε(α, α), OT_ε(β, β) (OTT-JAX's `reg_ot_cost` of each).
    pub terms: [T; 3],
    /// The absolute ε of all three problems: pass it to `otc_divergence_gradient_f32`.
    pub epsilon: T,
    /// The largest of the three L1 marginal errors, weight units.
    pub error: T,
}

/// What `otc_plan_round_f32` certifies, cost × mass units (`float` / `double`). Set
/// `struct_size = sizeof` it before the call; written only on success.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_round_certificate<T> {
    /// `sizeof` this struct, set by the caller.
    pub struct_size: usize,
    /// ⟨C, G⟩ of the rounded plan G (feasible: marginals a, b exactly): ≥ OT₀.
    pub transport_cost: T,
    /// ⟨a, φ⟩ + ⟨b, g⟩ for a pair feasible in the unregularised dual: ≤ OT₀.
    pub lower_bound: T,
    /// `transport_cost − lower_bound` ≥ ⟨C, G⟩ − OT₀ ≥ 0.
    pub gap: T,
    /// ‖a − F″1‖₁, the mass of the rank-one correction.
    pub correction_mass: T,
}

/// # Safety
/// As the exported `otc_divergence_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn divergence<T: Real>(
    problem: *const otc_ot_problem<T>,
    config: *const otc_sinkhorn_config<T>,
    ws: *mut c_void,
    ws_bytes: usize,
    pots: [(*mut T, usize); 4],
    out: *mut otc_divergence_result<T>,
) -> i32 {
    run(|| {
        // SAFETY: readable by the caller's contract (NULL is checked).
        let (prob, cfg) = unsafe { (ProblemArrays::read(problem)?, read_sized(config)?) };
        // SAFETY: as above.
        unsafe { check_sized(out)? };
        let (cfg, init) = cfg.to_core()?;
        let len = divergence_gradient_workspace_len(prob.n(), prob.m(), prob.dim());
        let ws = workspace::<T>(ws, ws_bytes, len)?;
        let [p0, p1, p2, p3] = pots.map(|(p, l)| Array::output(p, l));
        let (p0, p1, p2, p3) = (p0?, p1?, p2?, p3?);
        let res = Array::output(out, 1)?;
        let [s0, s1, s2, s3] = prob.spans();
        disjoint(&[
            s0,
            s1,
            s2,
            s3,
            ws.span(),
            p0.span(),
            p1.span(),
            p2.span(),
            p3.span(),
            res.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract, and
        // no written one overlaps another (`disjoint`).
        let (problem, ws, f_xy, g_xy, f_xx, g_yy) = unsafe {
            (
                prob.problem(),
                zeroed(ws),
                p0.slice_mut(),
                p1.slice_mut(),
                p2.slice_mut(),
                p3.slice_mut(),
            )
        };
        let pots = DivergencePotentials {
            f_xy,
            g_xy,
            f_xx,
            g_yy,
        };
        let div = otcore::ot::divergence(&problem, &cfg, init, pots, ws)?;
        let status: otc_status = div.status.into();
        let value = otc_divergence_result {
            struct_size: size_of::<otc_divergence_result<T>>(),
            status: status as i32,
            iterations: div.iterations,
            value: div.value,
            terms: div.terms,
            epsilon: div.epsilon,
            error: div.error,
        };
        // SAFETY: as above (the struct states our size: `check_sized`).
        unsafe { res.fill(value) };
        Ok(status)
    })
}

/// The gradient arguments of the exported functions.
struct GradArgs<T> {
    x: (*mut T, usize),
    y: (*mut T, usize),
    a: (*mut T, usize),
    b: (*mut T, usize),
}

/// # Safety
/// As the exported `otc_divergence_gradient_f32` (`pots` = None: `otc_plan_gradient_f32`).
unsafe fn gradient<T: Real>(
    problem: *const otc_ot_problem<T>,
    config: Option<*const otc_sinkhorn_config<T>>,
    epsilon: T,
    pots: [(*const T, usize); 4],
    (ws, ws_bytes): (*mut c_void, usize),
    grad: GradArgs<T>,
) -> i32 {
    run(|| {
        // SAFETY: readable by the caller's contract (NULL is checked).
        let prob = unsafe { ProblemArrays::read(problem)? };
        let cfg = match config {
            // SAFETY: as above.
            Some(c) => unsafe { read_sized(c)? }.to_core()?.0,
            None => Config::default(),
        };
        let len = divergence_gradient_workspace_len(prob.n(), prob.m(), prob.dim());
        let ws = workspace::<T>(ws, ws_bytes, len)?;
        let [q0, q1, q2, q3] = pots.map(|(p, l)| Array::input(p, l));
        let (q0, q1, q2, q3) = (q0?, q1?, q2?, q3?);
        let outs = [grad.x, grad.y, grad.a, grad.b].map(|(p, l)| Array::output(p, l));
        let [o0, o1, o2, o3] = outs;
        let (o0, o1, o2, o3) = (o0?, o1?, o2?, o3?);
        let [s0, s1, s2, s3] = prob.spans();
        disjoint(&[
            s0,
            s1,
            s2,
            s3,
            q0.span(),
            q1.span(),
            q2.span(),
            q3.span(),
            ws.span(),
            o0.span(),
            o1.span(),
            o2.span(),
            o3.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract, and
        // no written one overlaps another (`disjoint`).
        let (problem, ws, pots, out) = unsafe {
            (
                prob.problem(),
                zeroed(ws),
                [q0.slice(), q1.slice(), q2.slice(), q3.slice()],
                Gradient {
                    x: o0.slice_mut(),
                    y: o1.slice_mut(),
                    a: o2.slice_mut(),
                    b: o3.slice_mut(),
                },
            )
        };
        if config.is_some() {
            otcore::ot::divergence_gradient(&problem, &cfg, epsilon, pots, out, ws)?;
        } else {
            let plan = Plan::new(problem, epsilon, pots[0], pots[1]);
            otcore::ot::ot_gradient(&plan, &cfg, out, ws)?;
        }
        Ok(otc_status::Ok)
    })
}

/// # Safety
/// As the exported `otc_plan_round_f32`.
unsafe fn round<T: Real>(
    problem: *const otc_ot_problem<T>,
    epsilon: T,
    pots: [(*const T, usize); 2],
    (ws, ws_bytes): (*mut c_void, usize),
    parts: [(*mut T, usize); 4],
    out: *mut otc_round_certificate<T>,
) -> i32 {
    run(|| {
        // SAFETY: readable by the caller's contract (NULL is checked).
        let prob = unsafe { ProblemArrays::read(problem)? };
        // SAFETY: as above.
        unsafe { check_sized(out)? };
        let ws = workspace::<T>(
            ws,
            ws_bytes,
            round_workspace_len(prob.n(), prob.m(), prob.dim()),
        )?;
        let [q0, q1] = pots.map(|(p, l)| Array::input(p, l));
        let (q0, q1) = (q0?, q1?);
        let [o0, o1, o2, o3] = parts.map(|(p, l)| Array::output(p, l));
        let (o0, o1, o2, o3) = (o0?, o1?, o2?, o3?);
        let res = Array::output(out, 1)?;
        let [s0, s1, s2, s3] = prob.spans();
        disjoint(&[
            s0,
            s1,
            s2,
            s3,
            q0.span(),
            q1.span(),
            ws.span(),
            o0.span(),
            o1.span(),
            o2.span(),
            o3.span(),
            res.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract, and
        // no written one overlaps another (`disjoint`).
        let (problem, ws, f, g, parts) = unsafe {
            (
                prob.problem(),
                zeroed(ws),
                q0.slice(),
                q1.slice(),
                RoundedParts {
                    f: o0.slice_mut(),
                    g: o1.slice_mut(),
                    err_a: o2.slice_mut(),
                    err_b: o3.slice_mut(),
                },
            )
        };
        let cert = otcore::ot::round(&Plan::new(problem, epsilon, f, g), parts, ws)?;
        let value = otc_round_certificate {
            struct_size: size_of::<otc_round_certificate<T>>(),
            transport_cost: cert.transport_cost,
            lower_bound: cert.lower_bound,
            gap: cert.gap,
            correction_mass: cert.correction_mass,
        };
        // SAFETY: as above (the struct states our size: `check_sized`).
        unsafe { res.fill(value) };
        Ok(otc_status::Ok)
    })
}

/// Workspace size, in bytes, that `otc_divergence_f32`, `otc_divergence_gradient_f32`
/// and `otc_plan_gradient_f32` need for n and m points in dimension d:
///
/// `bytes = sizeof(float) · (2(n + m)(d + 1) + W(k, k, d))`, k = max(n, m), W the
/// element count of `otc_sinkhorn_workspace_size_f32` (`(d + 2)(k̂ + k̂) + 2k̂`, k̂ = k
/// rounded up to the kernel width). O(n + m): no n×m matrix is ever stored. The
/// formula is exact (a test checks it).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (the size overflows `size_t`).
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_divergence_workspace_size_f32(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    let len = divergence_gradient_workspace_len(n, m, d);
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(len), out_bytes) }
}

/// The debiased Sinkhorn divergence S_ε(α, β) = OT_ε(α, β) − ½ OT_ε(α, α) −
/// ½ OT_ε(β, β) + ½ ε (Σa − Σb)² between two point clouds, OT_ε being OTT-JAX's
/// `reg_ot_cost` (as OTT-JAX `sinkhorn_divergence`; GeomLoss `SamplesLoss("sinkhorn",
/// p=2, blur)` is scale ½, ε = blur²). The symmetric terms use averaged updates
/// f ← ½ (f + Sinkhorn update), as OTT-JAX and GeomLoss do.
///
/// - `problem`: point clouds (not a dense cost); `config`: ε (a relative ε is
///   resolved on the (x, y) costs and shared), ρ_a for α, ρ_b for β, tolerance and
///   budget per solve; `init` `OTC_INIT_ZERO`, or `OTC_INIT_POTENTIALS` to warm-start
///   all three solves from the potentials given (a gradient flow's steps).
/// - `ws`, `ws_bytes`: at least `otc_divergence_workspace_size_f32(n, m, d)` bytes.
/// - `f_xy` (n), `g_xy` (m): the potentials of OT_ε(α, β); `f_xx` (n), `g_yy` (m):
///   the symmetric potentials of OT_ε(α, α), OT_ε(β, β); cost units. Written on
///   success; read first with `OTC_INIT_POTENTIALS`.
/// - `out`: value, terms, ε, iterations, error. Written on success.
///
/// Three solves, each two passes (one for the symmetric ones) over its pairs per
/// iteration.
///
/// Returns `OTC_STATUS_OK` or `OTC_STATUS_MAX_ITERATIONS` (outputs written); nothing
/// written: the statuses of `otc_sinkhorn_solve_f32`, and
/// `OTC_STATUS_NEEDS_POINT_CLOUDS`, `OTC_STATUS_INVALID_PARAMETER` (an initializer other
/// than zero or potentials), `OTC_STATUS_NON_FINITE` (a value below the range with a
/// relaxed marginal).
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length (reads for inputs,
/// reads and writes for `ws`, the potentials and `out`) for the duration of the call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_divergence_f32(
    problem: *const otc_ot_problem<f32>,
    config: *const otc_sinkhorn_config<f32>,
    ws: *mut c_void,
    ws_bytes: usize,
    f_xy: *mut f32,
    f_xy_len: usize,
    g_xy: *mut f32,
    g_xy_len: usize,
    f_xx: *mut f32,
    f_xx_len: usize,
    g_yy: *mut f32,
    g_yy_len: usize,
    out: *mut otc_divergence_result<f32>,
) -> i32 {
    let pots = [
        (f_xy, f_xy_len),
        (g_xy, g_xy_len),
        (f_xx, f_xx_len),
        (g_yy, g_yy_len),
    ];
    // SAFETY: the caller's contract, stated above.
    unsafe { divergence(problem, config, ws, ws_bytes, pots, out) }
}

/// The gradients of S_ε with respect to the points x (`grad_x`, n×d row-major), y
/// (`grad_y`, m×d) and the weights a (`grad_a`, n), b (`grad_b`, m), from the
/// potentials `otc_divergence_f32` returned, its `epsilon` and its `config` (balanced
/// only). Envelope theorem, four streamed passes: exact at convergence; off it, the
/// gradient of the dual objective at the potentials given. The weight gradients are
/// defined up to +k on every ∂/∂a and −k on every ∂/∂b (only directions keeping
/// Σa = Σb are meaningful). Outputs written only on success.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_INVALID_PARAMETER`
/// (a relaxed marginal, overlapping buffers), `OTC_STATUS_NEEDS_POINT_CLOUDS`,
/// `OTC_STATUS_LENGTH_MISMATCH`, `OTC_STATUS_NON_FINITE_INPUT`,
/// `OTC_STATUS_INVALID_EPSILON`, `OTC_STATUS_WORKSPACE_TOO_SMALL`,
/// `OTC_STATUS_NON_FINITE`, and the problem's statuses.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the duration of the
/// call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_divergence_gradient_f32(
    problem: *const otc_ot_problem<f32>,
    config: *const otc_sinkhorn_config<f32>,
    epsilon: f32,
    f_xy: *const f32,
    f_xy_len: usize,
    g_xy: *const f32,
    g_xy_len: usize,
    f_xx: *const f32,
    f_xx_len: usize,
    g_yy: *const f32,
    g_yy_len: usize,
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
) -> i32 {
    let pots = [
        (f_xy, f_xy_len),
        (g_xy, g_xy_len),
        (f_xx, f_xx_len),
        (g_yy, g_yy_len),
    ];
    let grad = GradArgs {
        x: (grad_x, grad_x_len),
        y: (grad_y, grad_y_len),
        a: (grad_a, grad_a_len),
        b: (grad_b, grad_b_len),
    };
    if config.is_null() {
        return otc_status::NullPointer as i32;
    }
    // SAFETY: the caller's contract, stated above.
    unsafe { gradient(problem, Some(config), epsilon, pots, (ws, ws_bytes), grad) }
}

/// The gradients of OT_ε(α, β) (`reg_ot_cost`) with respect to x, y, a, b at the
/// potentials f (n), g (m) of a balanced solve with absolute ε `epsilon`: two streamed
/// passes; ∂/∂x_i = Σ_j P_ij ∇_x C_ij = 2·scale·a_i (x_i − T(x_i)) at convergence.
/// Conventions, workspace (`otc_divergence_workspace_size_f32`) and statuses as
/// `otc_divergence_gradient_f32`.
///
/// # Safety
/// As `otc_divergence_gradient_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_gradient_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
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
) -> i32 {
    // The symmetric potentials are unused: pass f, g again (read-only).
    let pots = [(f, f_len), (g, g_len), (f, f_len), (g, g_len)];
    let grad = GradArgs {
        x: (grad_x, grad_x_len),
        y: (grad_y, grad_y_len),
        a: (grad_a, grad_a_len),
        b: (grad_b, grad_b_len),
    };
    // SAFETY: the caller's contract, stated above.
    unsafe { gradient(problem, None, epsilon, pots, (ws, ws_bytes), grad) }
}

/// Workspace size, in bytes, of `otc_plan_round_f32`:
/// `sizeof(float) · (3(n + m) + W(n, m, d))`, W the element count of
/// `otc_sinkhorn_workspace_size_f32`. O(n + m): the rounded plan is never formed.
///
/// Returns as `otc_sinkhorn_workspace_size_f32`.
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_round_workspace_size_f32(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(round_workspace_len(n, m, d)), out_bytes) }
}

/// Rounds the plan P of (`problem`, `epsilon`, f, g) onto the transport polytope
/// U(a, b) (Altschuler, Weed & Rigollet 2017, Alg. 2) without storing it, and
/// certifies the result for the unregularised problem. The rounded plan is
/// G = F″ + err_a·err_bᵀ/‖err_a‖₁, F″ the plan of the potentials `f_out`, `g_out`:
/// apply it with `otc_plan_apply_f32` on (`f_out`, `g_out`) plus the rank-one term.
///
/// - A balanced problem (Σa = Σb within 1e-4 relative; 1e-10 for `_f64`).
/// - `ws`: at least `otc_round_workspace_size_f32(n, m, d)` bytes.
/// - `f_out` (n), `g_out` (m): scaled potentials, cost units; `err_a` (n), `err_b` (m):
///   the marginal deficits of F″, ≥ 0, mass units; `out`: ⟨C, G⟩, a lower bound on
///   exact OT and the gap. Written only on success.
///
/// Returns `OTC_STATUS_OK`; nothing written: the statuses of `otc_plan_apply_f32`,
/// `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_MASS_MISMATCH`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the duration of the
/// call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_round_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    f_out: *mut f32,
    f_out_len: usize,
    g_out: *mut f32,
    g_out_len: usize,
    err_a: *mut f32,
    err_a_len: usize,
    err_b: *mut f32,
    err_b_len: usize,
    out: *mut otc_round_certificate<f32>,
) -> i32 {
    let parts = [
        (f_out, f_out_len),
        (g_out, g_out_len),
        (err_a, err_a_len),
        (err_b, err_b_len),
    ];
    // SAFETY: the caller's contract, stated above.
    unsafe {
        round(
            problem,
            epsilon,
            [(f, f_len), (g, g_len)],
            (ws, ws_bytes),
            parts,
            out,
        )
    }
}

/// The `double` version of `otc_divergence_workspace_size_f32`.
///
/// # Safety
/// As `otc_divergence_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_divergence_workspace_size_f64(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    let len = divergence_gradient_workspace_len(n, m, d);
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(len), out_bytes) }
}

/// The `double` version of `otc_divergence_f32`.
///
/// # Safety
/// As `otc_divergence_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_divergence_f64(
    problem: *const otc_ot_problem<f64>,
    config: *const otc_sinkhorn_config<f64>,
    ws: *mut c_void,
    ws_bytes: usize,
    f_xy: *mut f64,
    f_xy_len: usize,
    g_xy: *mut f64,
    g_xy_len: usize,
    f_xx: *mut f64,
    f_xx_len: usize,
    g_yy: *mut f64,
    g_yy_len: usize,
    out: *mut otc_divergence_result<f64>,
) -> i32 {
    let pots = [
        (f_xy, f_xy_len),
        (g_xy, g_xy_len),
        (f_xx, f_xx_len),
        (g_yy, g_yy_len),
    ];
    // SAFETY: the caller's contract, stated above.
    unsafe { divergence(problem, config, ws, ws_bytes, pots, out) }
}

/// The `double` version of `otc_divergence_gradient_f32`.
///
/// # Safety
/// As `otc_divergence_gradient_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_divergence_gradient_f64(
    problem: *const otc_ot_problem<f64>,
    config: *const otc_sinkhorn_config<f64>,
    epsilon: f64,
    f_xy: *const f64,
    f_xy_len: usize,
    g_xy: *const f64,
    g_xy_len: usize,
    f_xx: *const f64,
    f_xx_len: usize,
    g_yy: *const f64,
    g_yy_len: usize,
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
) -> i32 {
    let pots = [
        (f_xy, f_xy_len),
        (g_xy, g_xy_len),
        (f_xx, f_xx_len),
        (g_yy, g_yy_len),
    ];
    let grad = GradArgs {
        x: (grad_x, grad_x_len),
        y: (grad_y, grad_y_len),
        a: (grad_a, grad_a_len),
        b: (grad_b, grad_b_len),
    };
    if config.is_null() {
        return otc_status::NullPointer as i32;
    }
    // SAFETY: the caller's contract, stated above.
    unsafe { gradient(problem, Some(config), epsilon, pots, (ws, ws_bytes), grad) }
}

/// The `double` version of `otc_plan_gradient_f32`.
///
/// # Safety
/// As `otc_plan_gradient_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_gradient_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
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
) -> i32 {
    // The symmetric potentials are unused: pass f, g again (read-only).
    let pots = [(f, f_len), (g, g_len), (f, f_len), (g, g_len)];
    let grad = GradArgs {
        x: (grad_x, grad_x_len),
        y: (grad_y, grad_y_len),
        a: (grad_a, grad_a_len),
        b: (grad_b, grad_b_len),
    };
    // SAFETY: the caller's contract, stated above.
    unsafe { gradient(problem, None, epsilon, pots, (ws, ws_bytes), grad) }
}

/// The `double` version of `otc_round_workspace_size_f32`.
///
/// # Safety
/// As `otc_round_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_round_workspace_size_f64(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(round_workspace_len(n, m, d)), out_bytes) }
}

/// The `double` version of `otc_plan_round_f32`.
///
/// # Safety
/// As `otc_plan_round_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_round_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    f_out: *mut f64,
    f_out_len: usize,
    g_out: *mut f64,
    g_out_len: usize,
    err_a: *mut f64,
    err_a_len: usize,
    err_b: *mut f64,
    err_b_len: usize,
    out: *mut otc_round_certificate<f64>,
) -> i32 {
    let parts = [
        (f_out, f_out_len),
        (g_out, g_out_len),
        (err_a, err_a_len),
        (err_b, err_b_len),
    ];
    // SAFETY: the caller's contract, stated above.
    unsafe {
        round(
            problem,
            epsilon,
            [(f, f_len), (g, g_len)],
            (ws, ws_bytes),
            parts,
            out,
        )
    }
}

/// What `otc_dustbin_solve_f32` returns besides the potentials (`float` / `double`).
/// Set `struct_size = sizeof` it before the call; written only on success.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_dustbin_result<T> {
    /// `sizeof` this struct, set by the caller.
    pub struct_size: usize,
    /// `OTC_STATUS_OK` (converged) or `OTC_STATUS_MAX_ITERATIONS`, as returned.
    pub status: i32,
    /// Full iterations performed.
    pub iterations: u32,
    /// L1 marginal error of the augmented plan, weight units.
    pub error: T,
    /// The absolute ε used, cost units: the real block is the plan of (ε, f, g).
    pub epsilon: T,
}

/// # Safety
/// As the exported `otc_plan_matches_f32`.
unsafe fn plan_matches<T: Real>(
    problem: *const otc_ot_problem<T>,
    (epsilon, threshold): (T, T),
    pots: [(*const T, usize); 2],
    (ws, ws_bytes): (*mut c_void, usize),
    (rows, rows_len): (*mut usize, usize),
    (conf, conf_len): (*mut T, usize),
    (cols, cols_len): (*mut usize, usize),
) -> i32 {
    run(|| {
        // SAFETY: readable by the caller's contract (NULL is checked).
        let prob = unsafe { ProblemArrays::read(problem)? };
        let len = matches_workspace_len(prob.n(), prob.m(), prob.dim());
        let ws = workspace::<T>(ws, ws_bytes, len)?;
        let [q0, q1] = pots.map(|(p, l)| Array::input(p, l));
        let (q0, q1) = (q0?, q1?);
        let (r, c, k) = (
            Array::output(rows, rows_len)?,
            Array::output(conf, conf_len)?,
            Array::output(cols, cols_len)?,
        );
        let [s0, s1, s2, s3] = prob.spans();
        disjoint(&[
            s0,
            s1,
            s2,
            s3,
            q0.span(),
            q1.span(),
            ws.span(),
            r.span(),
            c.span(),
            k.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract, and
        // no written one overlaps another (`disjoint`).
        let (problem, ws, f, g, out) = unsafe {
            (
                prob.problem(),
                zeroed(ws),
                q0.slice(),
                q1.slice(),
                Matches {
                    rows: r.slice_mut(),
                    confidence: c.slice_mut(),
                    cols: k.slice_mut(),
                },
            )
        };
        otcore::ot::matches(&Plan::new(problem, epsilon, f, g), threshold, out, ws)?;
        Ok(otc_status::Ok)
    })
}

/// # Safety
/// As the exported `otc_dustbin_solve_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn dustbin<T: Real>(
    problem: *const otc_ot_problem<T>,
    config: *const otc_sinkhorn_config<T>,
    z: T,
    (ws, ws_bytes): (*mut c_void, usize),
    (f, f_len): (*mut T, usize),
    (g, g_len): (*mut T, usize),
    out: *mut otc_dustbin_result<T>,
) -> i32 {
    run(|| {
        // SAFETY: readable by the caller's contract (NULL is checked).
        let (prob, cfg) = unsafe { (ProblemArrays::read(problem)?, read_sized(config)?) };
        // SAFETY: as above.
        unsafe { check_sized(out)? };
        let (cfg, init) = cfg.to_core()?;
        let ws = workspace::<T>(ws, ws_bytes, prob.workspace_len())?;
        let (f, g, res) = (
            Array::output(f, f_len)?,
            Array::output(g, g_len)?,
            Array::output(out, 1)?,
        );
        let [s0, s1, s2, s3] = prob.spans();
        disjoint(&[s0, s1, s2, s3, ws.span(), f.span(), g.span(), res.span()])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract, and
        // no written one overlaps another (`disjoint`).
        let (problem, ws, f, g) =
            unsafe { (prob.problem(), zeroed(ws), f.slice_mut(), g.slice_mut()) };
        let sol = otcore::ot::dustbin_solve(&problem, z, &cfg, init, f, g, ws)?;
        let status: otc_status = sol.status.into();
        let value = otc_dustbin_result {
            struct_size: size_of::<otc_dustbin_result<T>>(),
            status: status as i32,
            iterations: sol.iterations,
            error: sol.error,
            epsilon: sol.epsilon,
        };
        // SAFETY: as above (the struct states our size: `check_sized`).
        unsafe { res.fill(value) };
        Ok(status)
    })
}

/// Workspace size, in bytes, of `otc_plan_matches_f32`:
/// `sizeof(float) · (2(n + m) + W(n, m, d))`, W the element count of
/// `otc_sinkhorn_workspace_size_f32` (`OTC_MATCHES_WORKSPACE_SIZE_F32`).
///
/// Returns as `otc_sinkhorn_workspace_size_f32`.
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_matches_workspace_size_f32(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(matches_workspace_len(n, m, d)), out_bytes) }
}

/// Hard matches of the plan P of (`problem`, `epsilon`, f, g), streamed: `rows[i]` =
/// j if j = argmax_j P_ij, i = argmax_i P_ij (mutual) and the confidence
/// `confidence[i]` = P_ij / a_i ≥ `threshold` (in [0, 1]; SuperGlue uses 0.2), else
/// `OTC_UNMATCHED` (`SIZE_MAX`); `cols[j]` the same pairs from the other side. With the
/// potentials of `otc_dustbin_solve_f32` (their first n and m entries) these are
/// SuperGlue's dustbin matches. Two passes; workspace
/// `otc_matches_workspace_size_f32(n, m, d)`. Outputs written only on success.
///
/// Returns `OTC_STATUS_OK`; nothing written: the statuses of `otc_plan_apply_f32`,
/// `OTC_STATUS_INVALID_PARAMETER` (threshold outside [0, 1]).
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the duration of the
/// call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_matches_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    threshold: f32,
    ws: *mut c_void,
    ws_bytes: usize,
    rows: *mut usize,
    rows_len: usize,
    confidence: *mut f32,
    confidence_len: usize,
    cols: *mut usize,
    cols_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        plan_matches(
            problem,
            (epsilon, threshold),
            [(f, f_len), (g, g_len)],
            (ws, ws_bytes),
            (rows, rows_len),
            (confidence, confidence_len),
            (cols, cols_len),
        )
    }
}

/// SuperGlue-style partial matching: Sinkhorn on the problem augmented by one dustbin
/// point per side at cost `z` from every point and between the dustbins (the cost of
/// leaving a point unmatched, cost units; SuperGlue's −α), dustbin weights Σb (row
/// side) and Σa, streamed (no augmented matrix). `f` (`f_len` = n + 1) and `g` (m + 1)
/// receive the potentials, dustbins last; pass their first n, m entries to
/// `otc_plan_matches_f32`. `config`: ε, tolerance, budget; balanced, no ε-scaling, no
/// acceleration, `init` zero or potentials (then f, g are read first). Workspace:
/// `otc_sinkhorn_workspace_size_f32(n, m, d)`. Two passes per iteration.
///
/// Returns `OTC_STATUS_OK` or `OTC_STATUS_MAX_ITERATIONS` (outputs written); nothing
/// written: the statuses of `otc_sinkhorn_solve_f32` (`OTC_STATUS_INVALID_PARAMETER`
/// also for `z` not finite and for the unsupported settings above).
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the duration of the
/// call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_dustbin_solve_f32(
    problem: *const otc_ot_problem<f32>,
    config: *const otc_sinkhorn_config<f32>,
    z: f32,
    ws: *mut c_void,
    ws_bytes: usize,
    f: *mut f32,
    f_len: usize,
    g: *mut f32,
    g_len: usize,
    out: *mut otc_dustbin_result<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        dustbin(
            problem,
            config,
            z,
            (ws, ws_bytes),
            (f, f_len),
            (g, g_len),
            out,
        )
    }
}

/// The `double` version of `otc_matches_workspace_size_f32`.
///
/// # Safety
/// As `otc_matches_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_matches_workspace_size_f64(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(matches_workspace_len(n, m, d)), out_bytes) }
}

/// The `double` version of `otc_plan_matches_f32`.
///
/// # Safety
/// As `otc_plan_matches_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_plan_matches_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    threshold: f64,
    ws: *mut c_void,
    ws_bytes: usize,
    rows: *mut usize,
    rows_len: usize,
    confidence: *mut f64,
    confidence_len: usize,
    cols: *mut usize,
    cols_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        plan_matches(
            problem,
            (epsilon, threshold),
            [(f, f_len), (g, g_len)],
            (ws, ws_bytes),
            (rows, rows_len),
            (confidence, confidence_len),
            (cols, cols_len),
        )
    }
}

/// The `double` version of `otc_dustbin_solve_f32`.
///
/// # Safety
/// As `otc_dustbin_solve_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_dustbin_solve_f64(
    problem: *const otc_ot_problem<f64>,
    config: *const otc_sinkhorn_config<f64>,
    z: f64,
    ws: *mut c_void,
    ws_bytes: usize,
    f: *mut f64,
    f_len: usize,
    g: *mut f64,
    g_len: usize,
    out: *mut otc_dustbin_result<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        dustbin(
            problem,
            config,
            z,
            (ws, ws_bytes),
            (f, f_len),
            (g, g_len),
            out,
        )
    }
}
