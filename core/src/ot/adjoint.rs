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
//! cotangent of the potentials into μ = H⁺·rhs, solved here by conjugate gradient with
//! one P·v and one Pᵀ·u pass per iteration (the caller's `apply`): no n×m matrix.
//! Vectors are laid out `[rows, padded to split | columns]`.

use crate::buf::{copy, take};
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

/// Workspace elements [`solve`] needs beyond its vectors for `len`-long vectors:
/// residual, direction and H·direction.
pub(crate) const fn cg_workspace_len(len: usize) -> usize {
    len.saturating_mul(3)
}

/// Solves H μ = rhs by conjugate gradient, `apply(v, out)` computing H·v.
///
/// `live(k)` tells the entries of the system (live rows `k < split`, live columns
/// after): the others are 0 in μ. The right-hand side's component along the null
/// vector (1 on live rows, −1 on live columns) is removed first: the solution is the
/// one orthogonal to it (for a cotangent of the potentials: the gauge in which
/// Σ f − Σ g stays fixed). `pool` supplies [`cg_workspace_len`]`(rhs.len())` elements.
///
/// # Errors
/// [`Error::NonFinite`] if the iteration overflows; [`Error::WorkspaceTooSmall`];
/// whatever `apply` returns.
pub(crate) fn solve<T: Real>(
    mut apply: impl FnMut(&[T], &mut [T]) -> Result<(), Error>,
    live: impl Fn(usize) -> bool,
    split: usize,
    rhs: &[T],
    mu: &mut [T],
    cg: &Cg<T>,
    pool: &mut &mut [T],
) -> Result<CgReport<T>, Error> {
    let len = rhs.len();
    let res = take(pool, len)?;
    let dir = take(pool, len)?;
    let hd = take(pool, len)?;
    let dot = |a: &[T], c: &[T]| a.iter().zip(c).fold(T::ZERO, |s, (&x, &y)| s + x * y);
    mu.fill(T::ZERO);
    copy(res, rhs);
    let sign = |k: usize| if k < split { T::ONE } else { -T::ONE };
    let mut proj = T::ZERO;
    let mut count = 0usize;
    for (k, &r) in res.iter().enumerate() {
        if live(k) {
            proj += sign(k) * r;
            count += 1;
        }
    }
    if count > 0 {
        proj = proj / T::from_usize(count);
    }
    for (k, r) in res.iter_mut().enumerate() {
        *r = if live(k) {
            *r - sign(k) * proj
        } else {
            T::ZERO
        };
    }
    let norm0 = dot(res, res).sqrt();
    if !norm0.is_finite() {
        return Err(Error::NonFinite);
    }
    if norm0 == T::ZERO {
        return Ok(CgReport {
            iterations: 0,
            residual: T::ZERO,
        });
    }
    copy(dir, res);
    let mut rr = dot(res, res);
    let mut it = 0;
    while it < cg.max_iterations && rr.sqrt() > cg.tolerance * norm0 {
        apply(dir, hd)?;
        let dhd = dot(dir, hd);
        if dhd.is_nan() || dhd <= T::ZERO {
            break;
        }
        let alpha = rr / dhd;
        for ((m, r), (&p, &h)) in mu
            .iter_mut()
            .zip(res.iter_mut())
            .zip(dir.iter().zip(hd.iter()))
        {
            *m += alpha * p;
            *r -= alpha * h;
        }
        let rr_new = dot(res, res);
        let beta = rr_new / rr;
        for (p, &r) in dir.iter_mut().zip(res.iter()) {
            *p = r + beta * *p;
        }
        rr = rr_new;
        it += 1;
    }
    if !rr.is_finite() || mu.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite);
    }
    Ok(CgReport {
        iterations: it,
        residual: rr.sqrt() / norm0,
    })
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
