//! Sinkhorn initializers and out-of-sample potentials: the workspace query for a solve
//! with an initializer, and the soft c-transform.

use core::ffi::c_void;

use otcore::ot::{c_transform_workspace_len, solve_workspace_len, DualPotential};
use otcore::{Points, Real};

use crate::args::{disjoint, read_sized, workspace, zeroed, Array};
use crate::boundary::run;
use crate::status::otc_status;
use crate::types::{otc_points_layout, otc_sinkhorn_config};

/// A potential known on m points: the second side of a solved problem, as the soft
/// c-transform reads it. Scalars are `float` in `otc_dual_potential_f32` and `double`
/// in `otc_dual_potential_f64`. Initialise with
/// `otc_dual_potential_f32 p = { .struct_size = sizeof p };`, then fill in the fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_dual_potential<T> {
    /// `sizeof` this struct, set by the caller; anything else gives
    /// `OTC_STATUS_STRUCT_SIZE`.
    pub struct_size: usize,
    /// The m points, m×d in the layout `layout` (zeroed: row-major).
    pub points: *const T,
    /// Layout of `points`.
    pub layout: otc_points_layout,
    /// The potential at each point, in cost units (length m); `-INFINITY` marks a
    /// point without mass (skipped), as the solver returns for zero weights.
    pub values: *const T,
    /// Number of points, ≥ 1.
    pub m: usize,
    /// Point dimension, ≥ 1.
    pub d: usize,
    /// Cost scale s > 0 (C = s·‖x − y‖²).
    pub scale: T,
    /// ε in cost units (`otc_sinkhorn_result.epsilon` of the solve).
    pub epsilon: T,
}

/// Workspace bytes of a solve with `config`'s start mode.
///
/// # Safety
/// `config` must be NULL or readable, `out_bytes` NULL or writable.
unsafe fn solve_workspace_size<T: Real>(
    n: usize,
    m: usize,
    d: usize,
    config: *const otc_sinkhorn_config<T>,
    out_bytes: *mut usize,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL is checked).
        let cfg = unsafe { read_sized(config)? };
        let out = Array::output(out_bytes, 1)?;
        let (_, init) = cfg.to_core()?;
        let bytes = bytes::<T>(solve_workspace_len(n, m, d, init))?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { out.fill(bytes) };
        Ok(otc_status::Ok)
    })
}

/// Bytes of `len` elements of `T`.
///
/// # Errors
/// `LengthMismatch` if the length saturated or the product overflows.
fn bytes<T>(len: usize) -> Result<usize, otc_status> {
    match len {
        usize::MAX => None,
        len => len.checked_mul(size_of::<T>()),
    }
    .ok_or(otc_status::LengthMismatch)
}

/// Workspace bytes of the c-transform.
///
/// # Safety
/// `out_bytes` must be NULL or writable.
unsafe fn c_transform_workspace_size<T>(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    run(|| {
        let out = Array::output(out_bytes, 1)?;
        let bytes = bytes::<T>(c_transform_workspace_len(n, m, d))?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { out.fill(bytes) };
        Ok(otc_status::Ok)
    })
}

/// Validates every argument and runs [`DualPotential::c_transform`].
///
/// # Safety
/// As the exported `otc_c_transform_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn c_transform<T: Real>(
    potential: *const otc_dual_potential<T>,
    x: *const T,
    x_layout: otc_points_layout,
    weights: *const T,
    n: usize,
    rho: T,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut T,
    out_len: usize,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL is checked).
        let p = unsafe { read_sized(potential)? };
        let (m, d) = (p.m, p.d);
        let extent = |count: usize, layout: otc_points_layout| {
            let (point, coord) = layout.strides(d);
            Points::<T>::extent(point, coord, count, d)
                .map(|len| (len, point, coord))
                .ok_or(otc_status::LengthMismatch)
        };
        let (src_len, sp, sc) = extent(m, p.layout)?;
        let (x_len, xp, xc) = extent(n, x_layout)?;
        let src = Array::input(p.points, src_len)?;
        let values = Array::input(p.values, m)?;
        let xs = Array::input(x, x_len)?;
        let w = Array::input(weights, n)?;
        let ws = workspace::<T>(ws, ws_bytes, c_transform_workspace_len(n, m, d))?;
        let res = Array::output(out, out_len)?;
        disjoint(&[
            src.span(),
            values.span(),
            xs.span(),
            w.span(),
            ws.span(),
            res.span(),
        ])?;
        // SAFETY: every array is non-NULL, aligned, valid by the caller's contract, and
        // no written one overlaps another (`disjoint`).
        let (src, values, xs, w, ws, res) = unsafe {
            (
                src.slice(),
                values.slice(),
                xs.slice(),
                w.slice(),
                zeroed(ws),
                res.slice_mut(),
            )
        };
        let pot = DualPotential {
            points: Points::strided(src, sp, sc),
            values,
            dim: d,
            scale: p.scale,
            epsilon: p.epsilon,
        };
        pot.c_transform(Points::strided(xs, xp, xc), w, rho, res, ws)?;
        Ok(otc_status::Ok)
    })
}

/// Workspace size, in bytes, that `otc_sinkhorn_solve_f32` needs with `config` (its
/// `init` and `subsample_size` decide) for n source points, m target points in
/// dimension d (d = 0 for a dense cost matrix): `otc_sinkhorn_workspace_size_f32(n, m,
/// d)` plus, in `float`s,
/// - `OTC_INIT_ZERO`, `OTC_INIT_POTENTIALS`, `OTC_INIT_RESUME`: nothing;
/// - `OTC_INIT_GAUSSIAN`: n + m + 6·d² + 3·d;
/// - `OTC_INIT_SORTED`: n + m + max(n + m, 2·n + 2·n̂), n̂ = n rounded up to the kernel
///   width (16; 4 in Cortex-M builds);
/// - `OTC_INIT_SUBSAMPLE` (k = `subsample_size`, k₁ = min(k, n), k₂ = min(k, m)):
///   n + m + (d + 2)·(k₁ + k₂) + the Sinkhorn workspace of a k₁×k₂ problem in elements,
///   (d + 2)·(k̂₁ + k̂₂) + 2·max(k̂₁, k̂₂), hats rounded up to the kernel width (16; 4 in
///   Cortex-M builds).
///
/// The formula is exact (a test checks it), so firmware can size a `static` buffer.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER` (`config`, `out_bytes`),
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE` (config), `OTC_STATUS_INVALID_PARAMETER`
/// (unknown `epsilon_mode` or `init`), `OTC_STATUS_LENGTH_MISMATCH` (the size overflows
/// `size_t`).
///
/// # Safety
/// `config` must be NULL or point to a readable `otc_sinkhorn_config_f32`, `out_bytes`
/// NULL or to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sinkhorn_workspace_size_for_f32(
    n: usize,
    m: usize,
    d: usize,
    config: *const otc_sinkhorn_config<f32>,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { solve_workspace_size(n, m, d, config, out_bytes) }
}

/// The `double` version of `otc_sinkhorn_workspace_size_for_f32`: the same formula in
/// `double`s.
///
/// # Safety
/// As `otc_sinkhorn_workspace_size_for_f32`, with `otc_sinkhorn_config_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sinkhorn_workspace_size_for_f64(
    n: usize,
    m: usize,
    d: usize,
    config: *const otc_sinkhorn_config<f64>,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { solve_workspace_size(n, m, d, config, out_bytes) }
}

/// Workspace size, in bytes, that `otc_c_transform_f32` needs to evaluate a potential
/// known on m points at n points in dimension d:
/// `sizeof(float)·((d + 1)·m̂ + n)`, m̂ = m rounded up to the kernel width (16; 4 in
/// Cortex-M builds). Exact (a test checks it).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (the size overflows `size_t`).
///
/// # Safety
/// `out_bytes` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_c_transform_workspace_size_f32(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { c_transform_workspace_size::<f32>(n, m, d, out_bytes) }
}

/// The `double` version of `otc_c_transform_workspace_size_f32`.
///
/// # Safety
/// As `otc_c_transform_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_c_transform_workspace_size_f64(
    n: usize,
    m: usize,
    d: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { c_transform_workspace_size::<f64>(n, m, d, out_bytes) }
}

/// Out-of-sample potentials (the soft c-transform): from a potential g known on m
/// points y (`potential`), the potential of n new points x with weights w on the other
/// side,
///
/// `out_i = τ·(ε·ln w_i − ε·ln Σ_j exp((g_j − scale·‖x_i − y_j‖²)/ε))`,
/// τ = ρ/(ρ + ε) (1 for `rho` = `INFINITY`, a hard marginal),
///
/// which is the solver's own f-update: at the solver's points it returns the solver's
/// f. Use it to carry potentials to a new point set (the next frame of a tracker:
/// evaluate f at the new x from the last g, g at the new y from the last f, then solve
/// with `OTC_INIT_POTENTIALS`). A point of weight 0 gets `-INFINITY`. One streamed pass
/// over the n·m pairs; nothing n×m is stored.
///
/// - `x`: n×d points in the layout `x_layout` (zeroed: row-major); `weights`: n.
/// - `ws`, `ws_bytes`: at least `otc_c_transform_workspace_size_f32(n, m, d)` bytes,
///   aligned to `OTC_WORKSPACE_ALIGN`.
/// - `out` (`out_len` = n): written on success only.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE` (`potential`),
/// `OTC_STATUS_INVALID_PARAMETER` (overlapping buffers, scale not finite and > 0, ρ ≤ 0
/// or NaN), `OTC_STATUS_EMPTY_INPUT` (n, m or d zero), `OTC_STATUS_LENGTH_MISMATCH`
/// (`out_len` ≠ n, a size overflows), `OTC_STATUS_NON_FINITE_INPUT` (coordinates,
/// weights, a potential NaN or +∞), `OTC_STATUS_NEGATIVE_WEIGHT`, `OTC_STATUS_ZERO_MASS`
/// (every potential −∞), `OTC_STATUS_INVALID_EPSILON`,
/// `OTC_STATUS_WORKSPACE_TOO_SMALL`, `OTC_STATUS_NON_FINITE`, `OTC_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length (reads for inputs, reads
/// and writes for `ws` and `out`) for the duration of the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_c_transform_f32(
    potential: *const otc_dual_potential<f32>,
    x: *const f32,
    x_layout: otc_points_layout,
    weights: *const f32,
    n: usize,
    rho: f32,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f32,
    out_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        c_transform(
            potential, x, x_layout, weights, n, rho, ws, ws_bytes, out, out_len,
        )
    }
}

/// The `double` version of `otc_c_transform_f32`: same arguments, conventions and
/// statuses.
///
/// # Safety
/// As `otc_c_transform_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_c_transform_f64(
    potential: *const otc_dual_potential<f64>,
    x: *const f64,
    x_layout: otc_points_layout,
    weights: *const f64,
    n: usize,
    rho: f64,
    ws: *mut c_void,
    ws_bytes: usize,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        c_transform(
            potential, x, x_layout, weights, n, rho, ws, ws_bytes, out, out_len,
        )
    }
}
