//! Carving the caller's workspace for Sinkhorn and plan operations.
//!
//! Layout, in elements of `T`, with `n̂ = padded(n)`, `m̂ = padded(m)` (multiples of
//! [`LANES`](crate::kernel::LANES)) and `d` the point dimension (0 for a dense cost
//! matrix):
//!
//! ```text
//! [ x coords d·n̂ | y coords d·m̂ | u n̂ | v m̂ | log a n̂ | log b m̂ | scratch max(n̂, m̂) | sources max(n̂, m̂) ]
//! ```
//!
//! so `workspace_len(n, m, d) = (d + 2)·(n̂ + m̂) + 2·max(n̂, m̂)`. Coordinates are
//! stored chunk-major (16 points × d coordinates per contiguous block, see
//! [`crate::kernel::Clouds`]) so that the kernel reads each chunk as one slice, and
//! relative to the first point of x ([`center`]). The solver keeps the potentials in
//! cost units in `u`, `v` (so a resumed solve continues bit for bit) and writes the
//! current pass's source potentials into `sources`, in kernel units and absorbed form
//! (see [`crate::kernel::CostSource`]); plan operations keep absorbed potentials in
//! kernel units in `u`, `v`.

use super::config::Init;
use super::ctransform::c_transform_workspace_len;
use crate::buf::take;
use crate::error::Error;
use crate::kernel::{chunk_major, padded, LANES};
use crate::points::Points;
use crate::real::Real;

use super::problem::{Cost, Problem};

/// Number of `T` elements of workspace that [`solve`](super::solve) and the
/// [`Plan`](super::Plan) operations need for an n×m problem in dimension `dim`
/// (`dim` = 0 for a dense cost matrix):
/// `(dim + 2)·(n̂ + m̂) + 2·max(n̂, m̂)` with n̂, m̂ = n, m rounded up to a multiple of
/// [`LANES`] (16; 4 on 32-bit Arm).
///
/// Saturates at `usize::MAX` on overflow (a size no caller can provide).
#[must_use]
pub const fn workspace_len(n: usize, m: usize, dim: usize) -> usize {
    let np = padded_sat(n);
    let mp = padded_sat(m);
    let per_side = np.saturating_add(mp);
    let big = if np > mp { np } else { mp };
    dim.saturating_add(2)
        .saturating_mul(per_side)
        .saturating_add(big.saturating_mul(2))
}

/// Workspace elements that [`gaussian_potential`](super::gaussian_potential) needs in dimension d: `6·d² + 3·d`
/// (two means, two covariances, eigenvectors, two square roots, one product, the
/// eigenvalues). Saturates at `usize::MAX` on overflow.
#[must_use]
pub const fn gaussian_workspace_len(dim: usize) -> usize {
    let dd = dim.saturating_mul(dim);
    dd.saturating_mul(6).saturating_add(dim.saturating_mul(3))
}

/// Workspace elements that [`sorted_dual`](super::sorted_dual) needs: `n + m` (the two sorting
/// permutations). Saturates at `usize::MAX` on overflow.
#[must_use]
pub const fn sorted_workspace_len(n: usize, m: usize) -> usize {
    n.saturating_add(m)
}

/// Workspace elements that [`solve`](super::solve) needs beyond
/// [`workspace_len`]`(n, m, d)` to start with `init` (`d` = 0 for a dense cost, which
/// only the plain starts accept):
///
/// - [`Init::Zero`], [`Init::Potentials`], [`Init::Resume`]: 0;
/// - [`Init::Gaussian`]: `n + m + 6·d² + 3·d`;
/// - [`Init::Sorted`]: `n + m + max(n + m, 2·n + 2·n̂)`, n̂ = n rounded up to a multiple
///   of [`LANES`](crate::kernel::LANES) (the sort, then the smoothing pass);
/// - [`Init::Subsample`] of size k: with k₁ = min(k, n), k₂ = min(k, m),
///   `n + m + (d + 2)·(k₁ + k₂) + workspace_len(k₁, k₂, d)`.
///
/// Saturates at `usize::MAX` on overflow.
#[must_use]
pub const fn init_workspace_len(n: usize, m: usize, dim: usize, init: Init) -> usize {
    let start = n.saturating_add(m);
    match init {
        Init::Zero | Init::Potentials | Init::Resume => 0,
        Init::Gaussian => start.saturating_add(gaussian_workspace_len(dim)),
        Init::Sorted => {
            let sort = sorted_workspace_len(n, m);
            let smooth = n.saturating_add(c_transform_workspace_len(n, n, 1));
            start.saturating_add(if sort > smooth { sort } else { smooth })
        }
        Init::Subsample { size } => {
            let k = size as usize;
            let k1 = if k < n { k } else { n };
            let k2 = if k < m { k } else { m };
            start
                .saturating_add(dim.saturating_add(2).saturating_mul(k1.saturating_add(k2)))
                .saturating_add(workspace_len(k1, k2, dim))
        }
    }
}

/// Total workspace elements of [`solve`](super::solve) with `init`:
/// [`workspace_len`]`(n, m, d)` + [`init_workspace_len`]`(n, m, d, init)`.
#[must_use]
pub const fn solve_workspace_len(n: usize, m: usize, dim: usize, init: Init) -> usize {
    workspace_len(n, m, dim).saturating_add(init_workspace_len(n, m, dim, init))
}

/// [`padded`] saturating at `usize::MAX` (the size formulas saturate on overflow).
pub(crate) const fn padded_sat(len: usize) -> usize {
    if len > usize::MAX - LANES {
        usize::MAX
    } else {
        padded(len)
    }
}

/// The workspace cut into its regions.
pub(crate) struct Layout<'w, T> {
    pub np: usize,
    pub mp: usize,
    pub xs: &'w mut [T],
    pub ys: &'w mut [T],
    pub u: &'w mut [T],
    pub v: &'w mut [T],
    pub la: &'w mut [T],
    pub lb: &'w mut [T],
    pub scratch: &'w mut [T],
    pub sources: &'w mut [T],
}

/// Splits `ws` for an n×m problem in dimension `dim`.
///
/// # Errors
/// [`Error::WorkspaceTooSmall`] if `ws.len() < workspace_len(n, m, dim)`.
pub(crate) fn carve<T>(
    ws: &mut [T],
    n: usize,
    m: usize,
    dim: usize,
) -> Result<Layout<'_, T>, Error> {
    if ws.len() < workspace_len(n, m, dim) {
        return Err(Error::WorkspaceTooSmall);
    }
    let (np, mp) = (padded(n), padded(m));
    let mut rest = ws;
    Ok(Layout {
        np,
        mp,
        xs: take(&mut rest, dim * np)?,
        ys: take(&mut rest, dim * mp)?,
        u: take(&mut rest, np)?,
        v: take(&mut rest, mp)?,
        la: take(&mut rest, np)?,
        lb: take(&mut rest, mp)?,
        scratch: take(&mut rest, np.max(mp))?,
        sources: take(&mut rest, np.max(mp))?,
    })
}

/// Copies `count` points minus `center` (its point 0; [`Points::empty`]: the origin)
/// into chunk-major storage (see [`chunk_major`]) for `padded` points, padding with
/// copies of the last point (finite costs for masked lanes).
pub(crate) fn load_points<T: Real>(
    dst: &mut [T],
    pts: &Points<'_, T>,
    count: usize,
    center: &Points<'_, T>,
    dim: usize,
    padded: usize,
) {
    for i in 0..padded {
        let from = i.min(count.saturating_sub(1));
        for k in 0..dim {
            if let Some(slot) = dst.get_mut(chunk_major(i, k, dim)) {
                *slot = pts.get(from, k) - center.get(0, k);
            }
        }
    }
}

/// Potentials `p·scale` where the weight is positive, −∞ elsewhere and in the
/// padding. With `pot = None` the positive-weight entries are 0.
pub(crate) fn load_potentials<T: Real>(dst: &mut [T], pot: Option<&[T]>, w: &[T], scale: T) {
    for (i, slot) in dst.iter_mut().enumerate() {
        *slot = match w.get(i) {
            Some(&wi) if wi > T::ZERO => pot.and_then(|p| p.get(i)).map_or(T::ZERO, |&p| p * scale),
            _ => T::NEG_INFINITY,
        };
    }
}

/// `dst = src·scale` elementwise (−∞ stays −∞ since `scale > 0`).
pub(crate) fn scaled<T: Real>(dst: &mut [T], src: &[T], scale: T) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s * scale;
    }
}

/// `ln w_i + offset` (−∞ for zero weights and the padding).
pub(crate) fn load_log_weights<T: Real>(dst: &mut [T], w: &[T], offset: T) {
    for (i, slot) in dst.iter_mut().enumerate() {
        *slot = match w.get(i) {
            Some(&wi) if wi > T::ZERO => wi.ln() + offset,
            _ => T::NEG_INFINITY,
        };
    }
}

/// Runs `$body` with `$rows` / `$cols` bound to the cost sources of the problem: rows
/// have the first side as targets, columns the second. Monomorphises each pass once
/// per cost kind, and on SIMD targets once more for point clouds in each of 1 to 4
/// dimensions (see [`crate::kernel::Fixed`]).
macro_rules! with_sources {
    ($cost:expr, $lay_xs:expr, $lay_ys:expr, $m:expr, |$rows:ident, $cols:ident| $body:expr) => {
        match $cost {
            $crate::ot::problem::Cost::SqEuclidean { x, y, dim, .. } => {
                // The centre is the first point of x (see `load_problem`).
                let center = x;
                macro_rules! clouds {
                    ($dim:expr) => {{
                        let (xs, ys) = (&*$lay_xs, &*$lay_ys);
                        let $rows =
                            $crate::kernel::Clouds::new(x, ys, center, $dim).with_target_chunks(xs);
                        let $cols =
                            $crate::kernel::Clouds::new(y, xs, center, $dim).with_target_chunks(ys);
                        $body
                    }};
                }
                // Compile-time dimensions for the common 1- to 4-D clouds where the
                // FPU has SIMD; one generic instance on Cortex-M (flash).
                #[cfg(not(target_arch = "arm"))]
                match dim {
                    1 => clouds!($crate::kernel::Fixed::<1>),
                    2 => clouds!($crate::kernel::Fixed::<2>),
                    3 => clouds!($crate::kernel::Fixed::<3>),
                    4 => clouds!($crate::kernel::Fixed::<4>),
                    _ => clouds!(dim),
                }
                #[cfg(target_arch = "arm")]
                clouds!(dim)
            }
            #[cfg(feature = "dense")]
            $crate::ot::problem::Cost::Matrix { c } => {
                let $rows = $crate::kernel::DenseRows { c, cols: $m };
                let $cols = $crate::kernel::DenseCols { c, cols: $m };
                $body
            }
            // Refused by `Problem::check` before any pass runs.
            #[cfg(not(feature = "dense"))]
            $crate::ot::problem::Cost::Matrix { .. } => {
                let _ = $m;
                return Err($crate::Error::FeatureDisabled);
            }
        }
    };
}
pub(crate) use with_sources;

/// Cost scale `s` (1 for a dense matrix) and the kernel's κ = s·log₂e/ε (kernel
/// units, see [`crate::kernel`]).
pub(crate) fn cost_scale<T: Real>(problem: &Problem<'_, T>, eps: T) -> (T, T) {
    let s = match problem.cost {
        Cost::SqEuclidean { scale, .. } => scale,
        Cost::Matrix { .. } => T::ONE,
    };
    (s, s * to_kernel_units(eps))
}

/// The factor log₂e/ε that turns a potential (cost units) into kernel units.
pub(crate) fn to_kernel_units<T: Real>(eps: T) -> T {
    T::LOG2_E / eps
}

/// Loads the point clouds (if any) of `problem` into the layout, relative to the
/// centre: the first point of x. Both clouds are stored, and every target read,
/// relative to it, so that the absorbed potentials of the kernel (see
/// [`crate::kernel::CostSource`]) are of the size of the costs, not of the coordinates
/// (which may be offset by 10⁶).
pub(crate) fn load_problem<T: Real>(lay: &mut Layout<'_, T>, problem: &Problem<'_, T>) {
    if let Cost::SqEuclidean { x, y, dim, .. } = problem.cost {
        load_points(lay.xs, &x, problem.n(), &x, dim, lay.np);
        load_points(lay.ys, &y, problem.m(), &x, dim, lay.mp);
    }
}
