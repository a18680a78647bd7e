//! Out-of-sample potentials: the soft c-transform.
//!
//! A potential g on m points y (weights b, cost `s·‖x − y‖²`, ε in cost units) defines
//! the potential of any point x of weight w on the other side:
//!
//! ```text
//! f(x) = τ · (ε ln w − ε ln Σ_j exp((g_j − s‖x − y_j‖²)/ε)),     τ = ρ/(ρ + ε)
//! ```
//!
//! which is exactly the solver's f-update (τ = 1 for a hard marginal), so at the
//! solver's own points it returns the solver's f (up to one iteration's change). It is
//! what carries potentials to a new point set (the next frame of a tracker, the full
//! cloud after a solve on a subsample): the weights of the second side enter through
//! g (convention P_ij = exp((f_i + g_j − C_ij)/ε)). One streamed pass over the n·m
//! pairs through the shared kernel; nothing n×m is stored.

use crate::dispatch::dispatch;
use crate::error::Error;
use crate::kernel::{padded, shifted, Clouds, CostSource, Tuned};
use crate::points::Points;
use crate::real::Real;

use super::workspace::{load_points, to_kernel_units};
use crate::buf::take;

/// A potential known on a point cloud: the second side of a solved problem, as the
/// soft c-transform reads it.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug)]
pub struct DualPotential<'a, T> {
    /// The m points the potential lives on, `dim` coordinates each.
    pub points: Points<'a, T>,
    /// The potential at each point, cost units (length m); −∞ marks a point without
    /// mass (it is skipped), as the solver returns for zero weights.
    pub values: &'a [T],
    /// Point dimension d ≥ 1.
    pub dim: usize,
    /// Cost scale s > 0 (`c(x, y) = s·‖x − y‖²`).
    pub scale: T,
    /// ε in cost units (the solve's [`Solution::epsilon`](super::Solution)).
    pub epsilon: T,
}

/// Workspace elements that [`DualPotential::c_transform`] needs to evaluate the
/// potential of n points from m: `(d + 1)·m̂ + n`, m̂ = m rounded up to a multiple of
/// [`LANES`](crate::kernel::LANES). Saturates at `usize::MAX` on overflow.
#[must_use]
pub const fn c_transform_workspace_len(n: usize, m: usize, dim: usize) -> usize {
    sources_len(m, dim).saturating_add(n)
}

/// Elements of the chunk-major sources and their potentials: `(d + 1)·m̂`.
pub(crate) const fn sources_len(m: usize, dim: usize) -> usize {
    if m > usize::MAX - crate::kernel::LANES {
        return usize::MAX;
    }
    dim.saturating_add(1).saturating_mul(padded(m))
}

impl<'a, T: Real> DualPotential<'a, T> {
    /// Evaluates the soft c-transform f(x) = τ·(ε ln w − ε ln Σ_j exp((g_j −
    /// s‖x − y_j‖²)/ε)), τ = ρ/(ρ + ε), the solver's own f-update, at the n points `at` with weights `weights` (length n) into `out` (length n): a point of
    /// weight 0 gets −∞. `rho` is the KL relaxation ρ of the evaluated side, in cost
    /// units (`T::INFINITY` for a hard marginal, the balanced case).
    ///
    /// # Errors
    /// Nothing is written to `out` on error.
    /// - [`Error::EmptyInput`] (n, m or d zero), [`Error::LengthMismatch`] (`out`, a view
    ///   that does not hold its points),
    /// - [`Error::NonFiniteInput`] (coordinates, weights, a potential that is NaN or
    ///   +∞), [`Error::NegativeWeight`], [`Error::ZeroMass`] (every potential −∞),
    /// - [`Error::InvalidEpsilon`] (ε not finite and > 0, or the largest cost over ε
    ///   overflows), [`Error::InvalidParameter`] (scale not finite and > 0, ρ ≤ 0 or
    ///   NaN, a squared distance that overflows),
    /// - [`Error::WorkspaceTooSmall`] (fewer than
    ///   [`c_transform_workspace_len`]`(n, m, d)` elements), [`Error::NonFinite`].
    pub fn c_transform(
        &self,
        at: Points<'_, T>,
        weights: &[T],
        rho: T,
        out: &mut [T],
        workspace: &mut [T],
    ) -> Result<(), Error> {
        let n = weights.len();
        if out.len() != n {
            return Err(Error::LengthMismatch);
        }
        if workspace.len() < c_transform_workspace_len(n, self.values.len(), self.dim) {
            return Err(Error::WorkspaceTooSmall);
        }
        let (head, tail) = workspace
            .split_at_mut_checked(sources_len(self.values.len(), self.dim))
            .ok_or(Error::WorkspaceTooSmall)?;
        let buf = tail.get_mut(..n).ok_or(Error::WorkspaceTooSmall)?;
        self.evaluate(at, weights, rho, buf, head)?;
        out.copy_from_slice(buf);
        Ok(())
    }

    /// [`c_transform`](Self::c_transform) writing straight into `out` (which it may
    /// leave partly written on error), with `ws` of at least [`sources_len`] elements.
    pub(crate) fn evaluate(
        &self,
        at: Points<'_, T>,
        weights: &[T],
        rho: T,
        out: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        let (n, m, dim) = (weights.len(), self.values.len(), self.dim);
        if n == 0 || m == 0 || dim == 0 {
            return Err(Error::EmptyInput);
        }
        if out.len() != n || !at.holds(n, dim) || !self.points.holds(m, dim) {
            return Err(Error::LengthMismatch);
        }
        if !(self.scale.is_finite() && self.scale > T::ZERO) || rho.is_nan() || rho <= T::ZERO {
            return Err(Error::InvalidParameter);
        }
        let eps = self.epsilon;
        if !(eps.is_finite() && eps > T::ZERO) {
            return Err(Error::InvalidEpsilon);
        }
        if weights.iter().any(|w| !w.is_finite()) {
            return Err(Error::NonFiniteInput);
        }
        if weights.iter().any(|&w| w < T::ZERO) {
            return Err(Error::NegativeWeight);
        }
        if self.values.iter().any(|&g| g.is_nan() || g == T::INFINITY) {
            return Err(Error::NonFiniteInput);
        }
        if self.values.iter().all(|&g| g == T::NEG_INFINITY) {
            return Err(Error::ZeroMass);
        }
        // Every cost s·‖x − y‖² is at most s·(r_x + r_y)² with r the largest distance
        // of a point from the first source point, the centre of the kernel.
        let (rx, ry) = (self.radius(&at, n)?, self.radius(&self.points, m)?);
        let reach = rx + ry;
        if !(self.scale * reach * reach / eps).is_finite() {
            return Err(Error::InvalidEpsilon);
        }

        let mp = padded(m);
        let mut rest = ws;
        let ys = take(&mut rest, dim * mp)?;
        let src = take(&mut rest, mp)?;
        let center = self.points;
        load_points(ys, &self.points, m, &center, dim, mp);
        let unit = to_kernel_units(eps);
        for (j, slot) in src.iter_mut().enumerate() {
            *slot = self.values.get(j).map_or(T::NEG_INFINITY, |&g| g * unit);
        }
        let kappa = self.scale * unit;
        let clouds = Clouds::new(at, &*ys, center, dim);
        clouds.absorb_sources(src, kappa);
        let tau = if rho == T::INFINITY {
            T::ONE
        } else {
            rho / (rho + eps)
        };
        dispatch!(|isa| {
            let clouds = &Tuned::new(&clouds, isa);
            for (i, (o, &w)) in out.iter_mut().zip(weights).enumerate() {
                if w == T::ZERO {
                    *o = T::NEG_INFINITY;
                    continue;
                }
                let u = clouds.absorb_target(i, T::ZERO, kappa);
                let (shift, s) = shifted(clouds, i, u, src, kappa, &mut ());
                let v = tau * (eps * (w.ln() - shift.ln() - s.ln_kernel()));
                if !v.is_finite() {
                    return Err(Error::NonFinite);
                }
                *o = v;
            }
            Ok(())
        })
    }

    /// The largest distance of the first `count` points of `pts` from the first source
    /// point.
    ///
    /// # Errors
    /// [`Error::NonFiniteInput`] for a non-finite coordinate,
    /// [`Error::InvalidParameter`] if a squared distance overflows.
    fn radius(&self, pts: &Points<'_, T>, count: usize) -> Result<T, Error> {
        let mut r2 = T::ZERO;
        for i in 0..count {
            let mut s = T::ZERO;
            for k in 0..self.dim {
                let c = pts.get(i, k);
                if !c.is_finite() {
                    return Err(Error::NonFiniteInput);
                }
                let t = c - self.points.get(0, k);
                s = t.mul_add(t, s);
            }
            if !s.is_finite() {
                return Err(Error::InvalidParameter);
            }
            r2 = r2.max_fast(s);
        }
        Ok(r2.sqrt())
    }
}
