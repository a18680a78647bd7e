//! The adjoint system of a balanced entropic plan, shared by every implicit
//! derivative (the plan VJPs of [`implicit`](super::implicit) and OT resampling's).
//!
//! At a solution of the balanced problem the marginal equations Σ_j P_ij = a_i,
//! Σ_i P_ij = b_j have the Jacobian H/ε in (f, g), with
//!
//! ```text
//! H = [[diag(P·1), P], [Pᵀ, diag(Pᵀ·1)]]
//! ```
//!
//! symmetric positive semi-definite, with the null vector (1, −1) over the live rows and
//! columns (and every dead point's unit vector). The implicit function theorem turns a
//! cotangent of the potentials into μ = H⁺·rhs, solved here by preconditioned
//! conjugate gradient on the Schur complement (see [`solve`]) with one P·v and one
//! Pᵀ·u pass per iteration (the caller's `apply`): no n×m matrix. Vectors are laid
//! out `[rows | columns]`, each padded as the caller's kernel fields are.

use crate::buf::take;
use crate::error::Error;
use crate::kernel::chunk_major;
use crate::real::Real;

/// Conjugate-gradient stop and budget of an implicit derivative.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cg<T> {
    /// Stop when ‖residual‖ ≤ tolerance·‖right-hand side‖ (finite, > 0).
    pub tolerance: T,
    /// Iteration cap (a hard bound: two kernel passes each).
    pub max_iterations: u32,
}

impl<T: Real> Cg<T> {
    /// Checks the tolerance.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a tolerance that is not finite and positive.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.tolerance > T::ZERO && self.tolerance.is_finite() {
            Ok(())
        } else {
            Err(Error::InvalidParameter)
        }
    }
}

/// How a conjugate-gradient solve ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CgReport<T> {
    /// Iterations run.
    pub iterations: u32,
    /// Final ‖residual‖ / ‖right-hand side‖ (0 for a zero right-hand side).
    pub residual: T,
}

/// Workspace elements [`solve`] needs for a system of `len` = rows + columns
/// entries: residual, direction and S·direction on the columns, one row vector.
pub(crate) const fn cg_workspace_len(len: usize) -> usize {
    len.saturating_mul(3)
}

/// A product with the plan: `P` (out = P·v, v over the columns, out over the rows)
/// or `Pt` (out = Pᵀ·u).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Product {
    P,
    Pt,
}

/// The plan as the adjoint solve sees it: its row and column masses r = P·1,
/// c = Pᵀ·1 (as computed, not the target marginals: H must be the plan's own) and
/// `apply(product, v, out)`, one kernel pass.
pub(crate) struct System<'a, T, F> {
    /// Row masses (the rows' length).
    pub r: &'a [T],
    /// Column masses (the columns' length).
    pub c: &'a [T],
    /// The products.
    pub apply: F,
}

/// Solves H μ = rhs (`rhs`, `mu`: rows, then columns).
///
/// The rows are eliminated (H is 2-cyclic with diagonal blocks diag(r), diag(c)): the
/// solve runs on the Schur complement S = diag(c) − Pᵀ diag(r)⁻¹ P, preconditioned by
/// diag(c), and μ_rows = diag(r)⁻¹ (rhs_rows − P μ_cols) follows in one pass. Both
/// cost two kernel passes per iteration, and conjugate gradient on the reduced
/// system needs about half the iterations of the full one (Hageman & Young); the
/// preconditioner evens out particle weights of very different sizes. The residual
/// of S is that of H (the row equations hold exactly), so the stop is the same.
///
/// `live(k)` tells the entries of the system (live rows `k < r.len()`, live columns
/// after): the others are 0 in μ. The right-hand side's component along the null
/// vector (1 on live rows, −1 on live columns) is removed first, and the solution is
/// the one orthogonal to it (for a cotangent of the potentials: the gauge in which
/// Σ f − Σ g stays fixed). `pool` supplies [`cg_workspace_len`]`(rhs.len())` elements.
///
/// # Errors
/// [`Error::NonFinite`] if the iteration overflows; [`Error::WorkspaceTooSmall`];
/// whatever the products return.
pub(crate) fn solve<T: Real, F>(
    sys: System<'_, T, F>,
    live: impl Fn(usize) -> bool,
    rhs: &[T],
    mu: &mut [T],
    cg: &Cg<T>,
    pool: &mut &mut [T],
) -> Result<CgReport<T>, Error>
where
    F: FnMut(Product, &[T], &mut [T]) -> Result<(), Error>,
{
    let System { r, c, mut apply } = sys;
    let (nr, nc) = (r.len(), c.len());
    let (hr, hc) = rhs.split_at_checked(nr).ok_or(Error::WorkspaceTooSmall)?;
    let (mr, mc) = mu
        .split_at_mut_checked(nr)
        .ok_or(Error::WorkspaceTooSmall)?;
    if hc.len() != nc || mc.len() != nc {
        return Err(Error::WorkspaceTooSmall);
    }
    let res = take(pool, nc)?;
    let dir = take(pool, nc)?;
    let sd = take(pool, nc)?;
    let tr = take(pool, nr)?;
    let dot = |a: &[T], b: &[T]| a.iter().zip(b).fold(T::ZERO, |s, (&x, &y)| s + x * y);
    let inverse = |m: T, on: bool| {
        if on && m > T::ZERO {
            T::ONE / m
        } else {
            T::ZERO
        }
    };
    let inv_r = |i: usize| inverse(r.get(i).copied().unwrap_or(T::ZERO), live(i));
    let inv_c = |j: usize| inverse(c.get(j).copied().unwrap_or(T::ZERO), live(nr + j));
    // The null vector's component: Σ_live rhs_rows − Σ_live rhs_cols over the count.
    let (mut proj, mut count) = (T::ZERO, 0usize);
    for (k, &h) in rhs.iter().enumerate() {
        if live(k) {
            proj += if k < nr { h } else { -h };
            count += 1;
        }
    }
    if count > 0 {
        proj = proj / T::from_usize(count);
    }
    let row_rhs = |i: usize| if live(i) { at(hr, i) - proj } else { T::ZERO };
    let col_rhs = |j: usize| {
        if live(nr + j) {
            at(hc, j) + proj
        } else {
            T::ZERO
        }
    };
    let mut norm0 = T::ZERO;
    for k in 0..nr {
        norm0 += row_rhs(k) * row_rhs(k);
    }
    for k in 0..nc {
        norm0 += col_rhs(k) * col_rhs(k);
    }
    let norm0 = norm0.sqrt();
    if !norm0.is_finite() {
        return Err(Error::NonFinite);
    }
    mr.fill(T::ZERO);
    mc.fill(T::ZERO);
    if norm0 == T::ZERO {
        return Ok(CgReport {
            iterations: 0,
            residual: T::ZERO,
        });
    }
    // The reduced right-hand side rhs_cols − Pᵀ diag(r)⁻¹ rhs_rows.
    for (i, t) in tr.iter_mut().enumerate() {
        *t = row_rhs(i) * inv_r(i);
    }
    apply(Product::Pt, tr, sd)?;
    for (j, (o, &p)) in res.iter_mut().zip(sd.iter()).enumerate() {
        *o = if live(nr + j) {
            col_rhs(j) - p
        } else {
            T::ZERO
        };
    }
    for (j, (p, &o)) in dir.iter_mut().zip(res.iter()).enumerate() {
        *p = inv_c(j) * o;
    }
    let mut rz = dot(res, dir);
    let mut rr = dot(res, res);
    let mut it = 0;
    while it < cg.max_iterations && rr.sqrt() > cg.tolerance * norm0 {
        // sd = S·dir = c ⊙ dir − Pᵀ (diag(r)⁻¹ P dir).
        apply(Product::P, dir, tr)?;
        for (i, t) in tr.iter_mut().enumerate() {
            *t *= inv_r(i);
        }
        apply(Product::Pt, tr, sd)?;
        for (((s, &p), &m), j) in sd.iter_mut().zip(dir.iter()).zip(c).zip(0..) {
            *s = if live(nr + j) { m * p - *s } else { T::ZERO };
        }
        let dsd = dot(dir, sd);
        if dsd.is_nan() || dsd <= T::ZERO {
            break;
        }
        let alpha = rz / dsd;
        for ((m, o), (&p, &s)) in mc
            .iter_mut()
            .zip(res.iter_mut())
            .zip(dir.iter().zip(sd.iter()))
        {
            *m += alpha * p;
            *o -= alpha * s;
        }
        let mut rz_new = T::ZERO;
        for (j, &o) in res.iter().enumerate() {
            rz_new += o * o * inv_c(j);
        }
        let beta = rz_new / rz;
        for (j, (p, &o)) in dir.iter_mut().zip(res.iter()).enumerate() {
            *p = inv_c(j) * o + beta * *p;
        }
        rz = rz_new;
        rr = dot(res, res);
        it += 1;
    }
    // μ_rows = diag(r)⁻¹ (rhs_rows − P μ_cols), then the gauge.
    apply(Product::P, mc, tr)?;
    for (i, (m, &t)) in mr.iter_mut().zip(tr.iter()).enumerate() {
        *m = inv_r(i) * (row_rhs(i) - t);
    }
    let mut shift = T::ZERO;
    for (k, &m) in mr.iter().chain(mc.iter()).enumerate() {
        if live(k) {
            shift += if k < nr { m } else { -m };
        }
    }
    let shift = shift / T::from_usize(count.max(1));
    for (k, m) in mr.iter_mut().chain(mc.iter_mut()).enumerate() {
        *m = if !live(k) {
            T::ZERO
        } else if k < nr {
            *m - shift
        } else {
            *m + shift
        };
    }
    if !rr.is_finite() || mu.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite);
    }
    Ok(CgReport {
        iterations: it,
        residual: rr.sqrt() / norm0,
    })
}

fn at<T: Real>(v: &[T], i: usize) -> T {
    v.get(i).copied().unwrap_or(T::ZERO)
}

/// Writes f(i) (0 on padding, i ≥ n) into channel `c` of the chunk-major
/// `nch`-channel field `chan` of `np` padded sources (the layout of the kernel's
/// `Weighted` and `Bilinear` reducers).
pub(crate) fn set_channel<T: Real>(
    chan: &mut [T],
    (np, nch): (usize, usize),
    c: usize,
    n: usize,
    f: impl Fn(usize) -> T,
) {
    for i in 0..np {
        if let Some(v) = chan.get_mut(chunk_major(i, c, nch)) {
            *v = if i < n { f(i) } else { T::ZERO };
        }
    }
}
