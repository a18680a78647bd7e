//! Operations on the plan P_ij = exp((f_i + g_j − C_ij)/ε), streamed: one generic
//! implementation, one exported wrapper per operation and precision.

use core::ffi::c_void;

use otcore::ot::{Plan, PlanOn};
use otcore::{Error, Real};

use crate::args::{disjoint, workspace, zeroed, Array, ProblemArrays};
use crate::boundary::run;
use crate::pool::Pool;
use crate::status::otc_status;
use crate::types::{otc_ot_problem, otc_parallel_for};

/// The arguments every plan operation shares.
struct PlanArgs<T> {
    problem: *const otc_ot_problem<T>,
    epsilon: T,
    f: *const T,
    f_len: usize,
    g: *const T,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    /// The caller's pool, or NULL.
    parallel: *const otc_parallel_for,
}

/// Checks the shared arguments, an optional input vector and the output array, then
/// runs `op(plan, input, output, workspace)`.
///
/// # Safety
/// As the exported `otc_plan_apply_f32`.
unsafe fn run_plan<T: Real>(
    args: PlanArgs<T>,
    input: Option<(*const T, usize)>,
    out: *mut T,
    out_len: usize,
    op: impl FnOnce(&PlanOn<'_, '_, T, Pool>, &[T], &mut [T], &mut [T]) -> Result<(), Error>,
) -> i32 {
    run(|| {
        // SAFETY: the descriptor is readable by the caller's contract (NULL is checked).
        let prob = unsafe { ProblemArrays::read(args.problem)? };
        // SAFETY: `parallel` is NULL or a readable pool by the caller's contract.
        let pool = unsafe { Pool::read(args.parallel)? };
        let f = Array::input(args.f, args.f_len)?;
        let g = Array::input(args.g, args.g_len)?;
        let input = match input {
            Some((ptr, len)) => Some(Array::input(ptr, len)?),
            None => None,
        };
        let ws = workspace::<T>(args.ws, args.ws_bytes, prob.workspace_len())?;
        let out = Array::output(out, out_len)?;
        let [p0, p1, p2, p3] = prob.spans();
        let vec = input.map_or(f.span(), |v| v.span());
        disjoint(&[
            p0,
            p1,
            p2,
            p3,
            f.span(),
            g.span(),
            vec,
            ws.span(),
            out.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract, and
        // no written one overlaps another (`disjoint`).
        let (problem, f, g, input, out, ws) = unsafe {
            (
                prob.problem(),
                f.slice(),
                g.slice(),
                input.map_or(&[][..], |v| v.slice()),
                out.slice_mut(),
                zeroed(ws),
            )
        };
        op(
            &Plan::new(problem, args.epsilon, f, g).on(&pool),
            input,
            out,
            ws,
        )?;
        Ok(otc_status::Ok)
    })
}

/// `out_i = Σ_j P_ij v_j`, i < n (P·v), for the plan of `problem`, ε (absolute, cost
/// units: `otc_sinkhorn_result_f32.epsilon`) and potentials f (`f_len` = n), g
/// (`g_len` = m) in cost units, as returned by `otc_sinkhorn_solve_f32`.
///
/// `v` has `v_len` = m entries, `out` has `out_len` = n; the units of `out` are
/// mass × units of v (v = 1 gives the row marginal). `ws`, `ws_bytes`: as for
/// `otc_sinkhorn_solve_f32` (same size). One streamed pass over the n·m pairs; P is
/// never stored. Entries of f (g) at zero-weight points are ignored: those rows
/// (columns) of P are 0. `out` is written only on success.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_INVALID_PARAMETER` (both clouds and a matrix,
/// overlapping buffers, scale), `OTC_STATUS_EMPTY_INPUT`, `OTC_STATUS_LENGTH_MISMATCH`
/// (`f_len`, `g_len`, `v_len`, `out_len`), `OTC_STATUS_NON_FINITE_INPUT` (problem, f, g
/// at positive-weight points, v), `OTC_STATUS_NEGATIVE_WEIGHT`, `OTC_STATUS_ZERO_MASS`,
/// `OTC_STATUS_INVALID_EPSILON` (ε not finite and > 0, or max C/ε overflows),
/// `OTC_STATUS_WORKSPACE_TOO_SMALL`, `OTC_STATUS_NON_FINITE` (a result overflows),
/// `OTC_STATUS_FEATURE_DISABLED` (a dense cost in a build without `dense`),
/// `OTC_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length (reads for inputs,
/// reads and writes for `ws` and `out`) for the duration of the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_apply_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    v: *const f32,
    v_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f32,
    out_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above (no pool).
    unsafe {
        otc_plan_apply_parallel_f32(
            problem,
            epsilon,
            f,
            f_len,
            g,
            g_len,
            v,
            v_len,
            ws,
            ws_bytes,
            out,
            out_len,
            core::ptr::null(),
        )
    }
}

/// `otc_plan_apply_f32` with the rows of its passes split over the caller's pool
/// `parallel` (NULL: none, the same as `otc_plan_apply_f32`; see `otc_parallel_for`):
/// the same bits whatever the pool and its number of workers.
///
/// Also returns, with nothing written: `OTC_STATUS_CALLBACK_FAILED` (the pool's `run`
/// returned non-zero or before running every task), `OTC_STATUS_STRUCT_SIZE` (its
/// `struct_size`), `OTC_STATUS_NULL_POINTER` (its `run` NULL).
///
/// # Safety
/// As `otc_plan_apply_f32`; `parallel` NULL or a valid `otc_parallel_for` whose `run`
/// keeps its contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_apply_parallel_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    v: *const f32,
    v_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f32,
    out_len: usize,
    parallel: *const otc_parallel_for,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe {
        run_plan(args, Some((v, v_len)), out, out_len, |p, v, o, w| {
            p.apply(v, o, w)
        })
    }
}

/// The `double` version of `otc_plan_apply_f32`.
///
/// # Safety
/// As `otc_plan_apply_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_apply_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    v: *const f64,
    v_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above (no pool).
    unsafe {
        otc_plan_apply_parallel_f64(
            problem,
            epsilon,
            f,
            f_len,
            g,
            g_len,
            v,
            v_len,
            ws,
            ws_bytes,
            out,
            out_len,
            core::ptr::null(),
        )
    }
}

/// The `double` version of `otc_plan_apply_parallel_f32`.
///
/// # Safety
/// As `otc_plan_apply_parallel_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_apply_parallel_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    v: *const f64,
    v_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f64,
    out_len: usize,
    parallel: *const otc_parallel_for,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe {
        run_plan(args, Some((v, v_len)), out, out_len, |p, v, o, w| {
            p.apply(v, o, w)
        })
    }
}

/// `out_j = Σ_i P_ij u_i`, j < m (Pᵀ·u): `u` has `u_len` = n entries, `out` has
/// `out_len` = m. Everything else as `otc_plan_apply_f32` (u = 1 gives the column
/// marginal).
///
/// # Safety
/// As `otc_plan_apply_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_apply_transpose_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    u: *const f32,
    u_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f32,
    out_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above (no pool).
    unsafe {
        otc_plan_apply_transpose_parallel_f32(
            problem,
            epsilon,
            f,
            f_len,
            g,
            g_len,
            u,
            u_len,
            ws,
            ws_bytes,
            out,
            out_len,
            core::ptr::null(),
        )
    }
}

/// `otc_plan_apply_transpose_f32` with the rows of its passes split over the caller's pool
/// `parallel` (NULL: none, the same as `otc_plan_apply_transpose_f32`; see `otc_parallel_for`):
/// the same bits whatever the pool and its number of workers.
///
/// Also returns, with nothing written: `OTC_STATUS_CALLBACK_FAILED` (the pool's `run`
/// returned non-zero or before running every task), `OTC_STATUS_STRUCT_SIZE` (its
/// `struct_size`), `OTC_STATUS_NULL_POINTER` (its `run` NULL).
///
/// # Safety
/// As `otc_plan_apply_transpose_f32`; `parallel` NULL or a valid `otc_parallel_for` whose `run`
/// keeps its contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_apply_transpose_parallel_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    u: *const f32,
    u_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f32,
    out_len: usize,
    parallel: *const otc_parallel_for,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe {
        run_plan(args, Some((u, u_len)), out, out_len, |p, u, o, w| {
            p.apply_transpose(u, o, w)
        })
    }
}

/// The `double` version of `otc_plan_apply_transpose_f32`.
///
/// # Safety
/// As `otc_plan_apply_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_apply_transpose_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    u: *const f64,
    u_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above (no pool).
    unsafe {
        otc_plan_apply_transpose_parallel_f64(
            problem,
            epsilon,
            f,
            f_len,
            g,
            g_len,
            u,
            u_len,
            ws,
            ws_bytes,
            out,
            out_len,
            core::ptr::null(),
        )
    }
}

/// The `double` version of `otc_plan_apply_transpose_parallel_f32`.
///
/// # Safety
/// As `otc_plan_apply_transpose_parallel_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_apply_transpose_parallel_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    u: *const f64,
    u_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f64,
    out_len: usize,
    parallel: *const otc_parallel_for,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe {
        run_plan(args, Some((u, u_len)), out, out_len, |p, u, o, w| {
            p.apply_transpose(u, o, w)
        })
    }
}

/// The barycentric projection (entropic map) T(x_i) = Σ_j P_ij y_j / Σ_j P_ij, in the
/// units of y, written row-major into `out` (`out_len` = n·d). It does not depend on
/// f, so it is defined at zero-weight points too. Point clouds only. Everything else as
/// `otc_plan_apply_f32`.
///
/// Also returns `OTC_STATUS_NEEDS_POINT_CLOUDS` for a dense-cost problem.
///
/// # Safety
/// As `otc_plan_apply_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_barycentric_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f32,
    out_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above (no pool).
    unsafe {
        otc_plan_barycentric_parallel_f32(
            problem,
            epsilon,
            f,
            f_len,
            g,
            g_len,
            ws,
            ws_bytes,
            out,
            out_len,
            core::ptr::null(),
        )
    }
}

/// `otc_plan_barycentric_f32` with the rows of its passes split over the caller's pool
/// `parallel` (NULL: none, the same as `otc_plan_barycentric_f32`; see `otc_parallel_for`):
/// the same bits whatever the pool and its number of workers.
///
/// Also returns, with nothing written: `OTC_STATUS_CALLBACK_FAILED` (the pool's `run`
/// returned non-zero or before running every task), `OTC_STATUS_STRUCT_SIZE` (its
/// `struct_size`), `OTC_STATUS_NULL_POINTER` (its `run` NULL).
///
/// # Safety
/// As `otc_plan_barycentric_f32`; `parallel` NULL or a valid `otc_parallel_for` whose `run`
/// keeps its contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_barycentric_parallel_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f32,
    out_len: usize,
    parallel: *const otc_parallel_for,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe { run_plan(args, None, out, out_len, |p, _, o, w| p.barycentric(o, w)) }
}

/// The `double` version of `otc_plan_barycentric_f32`.
///
/// # Safety
/// As `otc_plan_apply_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_barycentric_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above (no pool).
    unsafe {
        otc_plan_barycentric_parallel_f64(
            problem,
            epsilon,
            f,
            f_len,
            g,
            g_len,
            ws,
            ws_bytes,
            out,
            out_len,
            core::ptr::null(),
        )
    }
}

/// The `double` version of `otc_plan_barycentric_parallel_f32`.
///
/// # Safety
/// As `otc_plan_barycentric_parallel_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_barycentric_parallel_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f64,
    out_len: usize,
    parallel: *const otc_parallel_for,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe { run_plan(args, None, out, out_len, |p, _, o, w| p.barycentric(o, w)) }
}

/// The transport cost ⟨C, P⟩ = Σ_ij C_ij P_ij (cost × mass units) into `*out_cost`.
/// Everything else as `otc_plan_apply_f32` (without the vector arguments).
///
/// # Safety
/// As `otc_plan_apply_f32`; `out_cost` must be NULL or point to a writable float.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_transport_cost_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out_cost: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above (no pool).
    unsafe {
        otc_plan_transport_cost_parallel_f32(
            problem,
            epsilon,
            f,
            f_len,
            g,
            g_len,
            ws,
            ws_bytes,
            out_cost,
            core::ptr::null(),
        )
    }
}

/// `otc_plan_transport_cost_f32` with the rows of its passes split over the caller's pool
/// `parallel` (NULL: none, the same as `otc_plan_transport_cost_f32`; see `otc_parallel_for`):
/// the same bits whatever the pool and its number of workers.
///
/// Also returns, with nothing written: `OTC_STATUS_CALLBACK_FAILED` (the pool's `run`
/// returned non-zero or before running every task), `OTC_STATUS_STRUCT_SIZE` (its
/// `struct_size`), `OTC_STATUS_NULL_POINTER` (its `run` NULL).
///
/// # Safety
/// As `otc_plan_transport_cost_f32`; `parallel` NULL or a valid `otc_parallel_for` whose `run`
/// keeps its contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_transport_cost_parallel_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out_cost: *mut f32,
    parallel: *const otc_parallel_for,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe { run_plan(args, None, out_cost, 1, transport_cost) }
}

/// The `double` version of `otc_plan_transport_cost_f32`.
///
/// # Safety
/// As `otc_plan_transport_cost_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_transport_cost_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out_cost: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above (no pool).
    unsafe {
        otc_plan_transport_cost_parallel_f64(
            problem,
            epsilon,
            f,
            f_len,
            g,
            g_len,
            ws,
            ws_bytes,
            out_cost,
            core::ptr::null(),
        )
    }
}

/// The `double` version of `otc_plan_transport_cost_parallel_f32`.
///
/// # Safety
/// As `otc_plan_transport_cost_parallel_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_transport_cost_parallel_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out_cost: *mut f64,
    parallel: *const otc_parallel_for,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel,
    };
    // SAFETY: the caller's contract, stated above.
    unsafe { run_plan(args, None, out_cost, 1, transport_cost) }
}

/// Writes ⟨C, P⟩ into the one-element output.
fn transport_cost<T: Real>(
    p: &PlanOn<'_, '_, T, Pool>,
    _: &[T],
    out: &mut [T],
    ws: &mut [T],
) -> Result<(), Error> {
    let cost = p.transport_cost(ws)?;
    out.iter_mut().for_each(|o| *o = cost);
    Ok(())
}

/// Writes the dense plan P (n×m row-major, mass units) into `out` (`out_len` = n·m):
/// the only operation whose memory is O(n·m), for debugging and small problems. Rows
/// and columns of zero-weight points are 0. Everything else as `otc_plan_apply_f32`;
/// `OTC_STATUS_NON_FINITE` if an entry would overflow (checked before anything is
/// written).
///
/// # Safety
/// As `otc_plan_apply_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_dense_f32(
    problem: *const otc_ot_problem<f32>,
    epsilon: f32,
    f: *const f32,
    f_len: usize,
    g: *const f32,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f32,
    out_len: usize,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel: core::ptr::null(),
    };
    // SAFETY: the caller's contract, stated above.
    unsafe { run_plan(args, None, out, out_len, |p, _, o, w| p.dense(o, w)) }
}

/// The `double` version of `otc_plan_dense_f32`.
///
/// # Safety
/// As `otc_plan_apply_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_plan_dense_f64(
    problem: *const otc_ot_problem<f64>,
    epsilon: f64,
    f: *const f64,
    f_len: usize,
    g: *const f64,
    g_len: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    let args = PlanArgs {
        problem,
        epsilon,
        f,
        f_len,
        g,
        g_len,
        ws,
        ws_bytes,
        parallel: core::ptr::null(),
    };
    // SAFETY: the caller's contract, stated above.
    unsafe { run_plan(args, None, out, out_len, |p, _, o, w| p.dense(o, w)) }
}
