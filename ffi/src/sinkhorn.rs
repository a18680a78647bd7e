//! Sinkhorn: the workspace-size query, the config initializer and the solver, each a
//! generic implementation with one exported wrapper per precision.

use core::ffi::c_void;

use otcore::ot::workspace_len;
use otcore::Real;

use crate::args::{check_sized, disjoint, read_sized, workspace, zeroed, Array, ProblemArrays};
use crate::boundary::run;
use crate::pool::Pool;
use crate::sizes::write_workspace_size;
use crate::status::otc_status;
use crate::types::{otc_ot_problem, otc_sinkhorn_config, otc_sinkhorn_result};

/// Writes the default settings.
///
/// # Safety
/// `out` must be NULL or writable.
unsafe fn config_default<T: Real>(out: *mut otc_sinkhorn_config<T>) -> i32 {
    run(|| {
        let out = Array::output(out, 1)?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { out.fill(otc_sinkhorn_config::default_values()) };
        Ok(otc_status::Ok)
    })
}

/// Validates every argument, runs [`otcore::ot::solve_on`] (on the caller's pool, if
/// any), writes the result.
///
/// # Safety
/// As the exported `otc_sinkhorn_solve_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn solve<T: Real>(
    problem: *const otc_ot_problem<T>,
    config: *const otc_sinkhorn_config<T>,
    ws: *mut c_void,
    ws_bytes: usize,
    f: *mut T,
    f_len: usize,
    g: *mut T,
    g_len: usize,
    out: *mut otc_sinkhorn_result<T>,
) -> i32 {
    run(|| {
        // SAFETY: the descriptor, config and result are readable by the caller's
        // contract (NULL is checked).
        let (prob, cfg) = unsafe { (ProblemArrays::read(problem)?, read_sized(config)?) };
        // SAFETY: as above.
        unsafe { check_sized(out)? };
        let (core_cfg, init) = cfg.to_core()?;
        // SAFETY: `parallel` is NULL or a readable pool by the caller's contract.
        let pool = unsafe { Pool::read(cfg.parallel)? };
        let ws = workspace::<T>(ws, ws_bytes, prob.solve_workspace_len(init))?;
        let (f, g) = (Array::output(f, f_len)?, Array::output(g, g_len)?);
        let res = Array::output(out, 1)?;
        let [p0, p1, p2, p3] = prob.spans();
        disjoint(&[p0, p1, p2, p3, ws.span(), f.span(), g.span(), res.span()])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract, and
        // no written one overlaps another (`disjoint`).
        let (problem, f, g, ws) =
            unsafe { (prob.problem(), f.slice_mut(), g.slice_mut(), zeroed(ws)) };
        let sol = otcore::ot::solve_on(&pool, &problem, &core_cfg, init, f, g, ws)?;
        // SAFETY: as above (the result struct states our size: `check_sized`).
        unsafe { res.fill(otc_sinkhorn_result::from_core(&sol)) };
        Ok(sol.status.into())
    })
}

/// Workspace size, in bytes, that `otc_sinkhorn_solve_f32` and every `otc_plan_*_f32`
/// function need for n source points, m target points in dimension d (d = 0 for a
/// dense cost matrix):
///
/// `bytes = sizeof(float) · ((d + 2)·(n̂ + m̂) + 2·max(n̂, m̂))`, with
/// n̂, m̂ = n, m rounded up to a multiple of the kernel width (16; 4 in Cortex-M builds).
///
/// The formula is exact (a test checks it), so firmware can size a `static` buffer at
/// compile time; align it to `OTC_WORKSPACE_ALIGN`. Memory is O(n + m) for point
/// clouds: no n×m matrix is ever stored.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER` (`out_bytes`),
/// `OTC_STATUS_MISALIGNED` (`out_bytes`), `OTC_STATUS_LENGTH_MISMATCH` (the size
/// overflows `size_t`).
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sinkhorn_workspace_size_f32(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(Ok(workspace_len(n, m, d)), out_bytes) }
}

/// The `double` version of `otc_sinkhorn_workspace_size_f32`: the same formula with
/// `sizeof(double)`.
///
/// # Safety
/// As `otc_sinkhorn_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sinkhorn_workspace_size_f64(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(Ok(workspace_len(n, m, d)), out_bytes) }
}

/// Fills `*out` with the default settings: `struct_size = sizeof *out`, ε = 0.05 × mean
/// cost (`OTC_EPSILON_RELATIVE`), both marginals hard (ρ = `INFINITY`), tolerance 1e-4
/// on the L1 marginal error, no ε-scaling, 1000 iterations, `OTC_INIT_ZERO`, reserved
/// fields zero.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_sinkhorn_config_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sinkhorn_config_default_f32(
    out: *mut otc_sinkhorn_config<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out) }
}

/// The `double` version of `otc_sinkhorn_config_default_f32` (tolerance 1e-7).
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_sinkhorn_config_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sinkhorn_config_default_f64(
    out: *mut otc_sinkhorn_config<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out) }
}

/// Solves the entropic OT problem by log-domain Sinkhorn (sequential g → f updates,
/// OTT-JAX order; relaxed marginals through τ = ρ/(ρ + ε)).
///
/// - `problem`: the cost and the weights (see `otc_ot_problem_f32`).
/// - `config`: settings from `otc_sinkhorn_config_default_f32`.
/// - `ws`, `ws_bytes`: scratch memory of at least `otc_sinkhorn_workspace_size_f32(n,
///   m, d)` bytes (d = 0 for a dense cost) — `otc_sinkhorn_workspace_size_for_f32` with
///   an initializer (`OTC_INIT_GAUSSIAN`, `OTC_INIT_SORTED`, `OTC_INIT_SUBSAMPLE`) —,
///   aligned to `OTC_WORKSPACE_ALIGN`; contents on entry do not matter and are
///   unspecified on return.
/// - `f` (`f_len` = n) and `g` (`g_len` = m): the potentials, in cost units, with
///   P_ij = exp((f_i + g_j − C_ij)/ε); zero-weight points get −∞. Written on success
///   (status ≥ 0). **In/out exception:** with `init` = `OTC_INIT_POTENTIALS` or
///   `OTC_INIT_RESUME` they are also read as the starting point (entries of zero-weight
///   points are ignored); with `OTC_INIT_ZERO` or an initializer their contents are
///   ignored.
/// - `out`: iterations, L1 marginal error, the absolute ε used (pass it to the
///   `otc_plan_*_f32` functions), `reg_ot_cost`, transport cost ⟨C, P⟩ and plan mass;
///   set `out->struct_size = sizeof *out` first. Written on success.
///
/// A balanced problem (both ρ infinite) needs Σa = Σb within 1e-4 relative; b is then
/// rescaled internally to the mass of a. `out->iterations` never exceeds
/// `max_iterations`, over all ε-scaling stages (the stages stop early so that the last
/// iteration of the budget runs at ε); with `OTC_INIT_ZERO` or `OTC_INIT_POTENTIALS`
/// the budget must be at least 1. Cost per iteration: two passes over the n·m pairs.
///
/// Returns
/// - `OTC_STATUS_OK` (converged) or `OTC_STATUS_MAX_ITERATIONS` (budget exhausted;
///   outputs written and usable, continue with `OTC_INIT_RESUME`), or, with a relaxed
///   marginal, `OTC_STATUS_REG_COST_OVERFLOW` (outputs written and usable, but
///   `reg_ot_cost` is below the float range and written as −INFINITY);
/// - nothing written: `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
///   `OTC_STATUS_STRUCT_SIZE` (config or result), `OTC_STATUS_INVALID_PARAMETER`
///   (unknown `epsilon_mode`/`init`, both clouds and a matrix, overlapping buffers,
///   tolerance < 0 or not finite, ρ ≤ 0 or NaN, `epsilon_scaling` outside {0} ∪ (0, 1),
///   scale not finite and > 0, `max_iterations` = 0 without `OTC_INIT_RESUME`,
///   `OTC_INIT_SORTED` with d ≠ 1, `OTC_INIT_SUBSAMPLE` with `subsample_size` = 0,
///   `acceleration_start` = 1), `OTC_STATUS_NEEDS_POINT_CLOUDS` (an initializer on a
///   dense cost),
///   `OTC_STATUS_EMPTY_INPUT`, `OTC_STATUS_LENGTH_MISMATCH` (`f_len` ≠ n, `g_len` ≠ m),
///   `OTC_STATUS_NON_FINITE_INPUT` (coordinates, costs, weights, starting potentials),
///   `OTC_STATUS_NEGATIVE_WEIGHT`, `OTC_STATUS_ZERO_MASS`, `OTC_STATUS_MASS_MISMATCH`,
///   `OTC_STATUS_INVALID_EPSILON`, `OTC_STATUS_WORKSPACE_TOO_SMALL`,
///   `OTC_STATUS_NON_FINITE` (the iteration or a total overflowed),
///   `OTC_STATUS_FEATURE_DISABLED` (an initializer, a dense cost, or a relaxed marginal,
///   ε-scaling or acceleration in a build without the `initializers`, `dense` or
///   `variants` feature: firmware archives),
///   `OTC_STATUS_CALLBACK_FAILED` (`config->parallel`'s `run` returned non-zero or
///   returned before running every task; its `struct_size` wrong gives
///   `OTC_STATUS_STRUCT_SIZE`, its `run` NULL `OTC_STATUS_NULL_POINTER`),
///   `OTC_STATUS_PANIC`.
///
/// With `config->parallel` set, the passes split their rows over the caller's pool
/// (see `otc_parallel_for`); the results are the same bits as without it.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length (reads for inputs,
/// reads and writes for `ws`, `f`, `g`, `out`) for the duration of the call;
/// `config->parallel` NULL or a valid `otc_parallel_for` whose `run` keeps its contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sinkhorn_solve_f32(
    problem: *const otc_ot_problem<f32>,
    config: *const otc_sinkhorn_config<f32>,
    ws: *mut c_void,
    ws_bytes: usize,
    f: *mut f32,
    f_len: usize,
    g: *mut f32,
    g_len: usize,
    out: *mut otc_sinkhorn_result<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { solve(problem, config, ws, ws_bytes, f, f_len, g, g_len, out) }
}

/// The `double` version of `otc_sinkhorn_solve_f32`: same arguments, conventions and
/// statuses (a balanced problem needs Σa = Σb within 1e-10 relative).
///
/// # Safety
/// As `otc_sinkhorn_solve_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sinkhorn_solve_f64(
    problem: *const otc_ot_problem<f64>,
    config: *const otc_sinkhorn_config<f64>,
    ws: *mut c_void,
    ws_bytes: usize,
    f: *mut f64,
    f_len: usize,
    g: *mut f64,
    g_len: usize,
    out: *mut otc_sinkhorn_result<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { solve(problem, config, ws, ws_bytes, f, f_len, g, g_len, out) }
}
