//! What an OT problem is made of: a cost (two point clouds or a dense matrix) and two
//! weight vectors, with the checks every entry point runs before touching anything.

use crate::error::Error;
use crate::points::Points;
use crate::real::Real;
use crate::sum::{sum, Compensated};

/// The ground cost between the two sides.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug)]
pub enum Cost<'a, T> {
    /// Squared Euclidean cost `c(x_i, y_j) = scale · ‖x_i − y_j‖²` between point clouds,
    /// recomputed on the fly (O(n + m) memory).
    ///
    /// `x` holds n points and `y` m points of `dim` coordinates, each in its own layout
    /// (see [`Points`]). `scale` = 1 matches POT and OTT-JAX; ½ matches GeomLoss and
    /// filterflow.
    SqEuclidean {
        /// Source points (n).
        x: Points<'a, T>,
        /// Target points (m).
        y: Points<'a, T>,
        /// Dimension d ≥ 1.
        dim: usize,
        /// Cost scale s > 0.
        scale: T,
    },
    /// A caller-supplied dense cost matrix, n×m row-major (`c[i·m + j]`).
    Matrix {
        /// Entries C_ij, row-major.
        c: &'a [T],
    },
}

/// An entropic OT problem: cost plus weights `a` (length n) and `b` (length m).
///
/// Weights must be finite and ≥ 0 with a positive sum on each side; zero weights are
/// allowed (those points get potential −∞ and carry no mass).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug)]
pub struct Problem<'a, T> {
    /// The cost.
    pub cost: Cost<'a, T>,
    /// Weights of the first side (rows), length n.
    pub a: &'a [T],
    /// Weights of the second side (columns), length m.
    pub b: &'a [T],
}

/// Facts established by [`Problem::check`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked<T> {
    pub n: usize,
    pub m: usize,
    /// Point dimension, 0 for a dense matrix.
    pub dim: usize,
    /// Σa.
    pub mass_a: T,
    /// Σb.
    pub mass_b: T,
    /// Unweighted mean of C over all n·m entries (scale included).
    pub mean_cost: T,
    /// Largest entry of C (scale included); an upper bound for point clouds.
    pub max_cost: T,
}

impl<'a, T: Real> Problem<'a, T> {
    /// A point-cloud problem with cost `scale·‖x − y‖²`, `x` (n×dim) and `y` (m×dim)
    /// row-major.
    #[must_use]
    pub fn point_clouds(
        x: &'a [T],
        y: &'a [T],
        dim: usize,
        scale: T,
        a: &'a [T],
        b: &'a [T],
    ) -> Self {
        let (x, y) = (Points::row_major(x, dim), Points::row_major(y, dim));
        Self::strided_clouds(x, y, dim, scale, a, b)
    }

    /// A point-cloud problem with cost `scale·‖x − y‖²` between points in any layout
    /// (column-major, padded records: see [`Points`]).
    #[must_use]
    pub fn strided_clouds(
        x: Points<'a, T>,
        y: Points<'a, T>,
        dim: usize,
        scale: T,
        a: &'a [T],
        b: &'a [T],
    ) -> Self {
        Self {
            cost: Cost::SqEuclidean { x, y, dim, scale },
            a,
            b,
        }
    }

    /// A dense-cost problem (`c` is `a.len() × b.len()`, row-major). Solving it needs
    /// the `dense` feature (on by default): without it, [`Error::FeatureDisabled`].
    #[must_use]
    pub fn matrix(c: &'a [T], a: &'a [T], b: &'a [T]) -> Self {
        Self {
            cost: Cost::Matrix { c },
            a,
            b,
        }
    }

    /// Number of rows (first-side points).
    #[must_use]
    pub fn n(&self) -> usize {
        self.a.len()
    }

    /// Number of columns (second-side points).
    #[must_use]
    pub fn m(&self) -> usize {
        self.b.len()
    }

    /// Point dimension, 0 for a dense matrix.
    #[must_use]
    pub fn dim(&self) -> usize {
        match self.cost {
            Cost::SqEuclidean { dim, .. } => dim,
            Cost::Matrix { .. } => 0,
        }
    }

    /// Validates shapes, values and weights; computes masses and cost statistics.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] (n, m or d zero), [`Error::LengthMismatch`] (also a view
    /// that does not hold exactly its points, see [`Points::holds`]),
    /// [`Error::NonFiniteInput`], [`Error::NegativeWeight`], [`Error::ZeroMass`],
    /// [`Error::InvalidParameter`] (scale not finite and positive, or the largest cost
    /// overflows), [`Error::FeatureDisabled`] (a dense cost without the `dense` feature).
    pub(crate) fn check(&self) -> Result<Checked<T>, Error> {
        let (n, m) = (self.n(), self.m());
        if n == 0 || m == 0 {
            return Err(Error::EmptyInput);
        }
        let mass_a = check_weights(self.a)?;
        let mass_b = check_weights(self.b)?;
        let (dim, mean_cost, max_cost) = match self.cost {
            Cost::SqEuclidean { x, y, dim, scale } => {
                if dim == 0 {
                    return Err(Error::EmptyInput);
                }
                if !(x.holds(n, dim) && y.holds(m, dim)) {
                    return Err(Error::LengthMismatch);
                }
                if !(scale.is_finite() && scale > T::ZERO) {
                    return Err(Error::InvalidParameter);
                }
                for k in 0..dim {
                    if !(finite_coord(&x, k, n) && finite_coord(&y, k, m)) {
                        return Err(Error::NonFiniteInput);
                    }
                }
                let (mean, max) = cloud_cost_stats(&x, &y, (n, m), dim);
                (dim, scale * mean, scale * max)
            }
            #[cfg(not(feature = "dense"))]
            Cost::Matrix { .. } => return Err(Error::FeatureDisabled),
            #[cfg(feature = "dense")]
            Cost::Matrix { c } => {
                if Some(c.len()) != n.checked_mul(m) {
                    return Err(Error::LengthMismatch);
                }
                check_finite(c)?;
                let max = c.iter().fold(T::ZERO, |acc, &v| acc.max_fast(v.abs()));
                (0, sum(c) / T::from_usize(c.len()), max)
            }
        };
        if !(mean_cost.is_finite() && max_cost.is_finite()) {
            return Err(Error::InvalidParameter);
        }
        Ok(Checked {
            n,
            m,
            dim,
            mass_a,
            mass_b,
            mean_cost,
            max_cost,
        })
    }
}

/// Checks that every value is finite.
///
/// # Errors
/// [`Error::NonFiniteInput`] on the first NaN or ±∞.
pub(crate) fn check_finite<T: Real>(v: &[T]) -> Result<(), Error> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFiniteInput)
    }
}

/// Whether coordinate `k` of the first `n` points is finite. Out of line, like
/// [`check_weights`]: one copy for both sides (Cortex-M flash).
#[inline(never)]
fn finite_coord<T: Real>(pts: &Points<'_, T>, k: usize, n: usize) -> bool {
    pts.coord(k, n).all(T::is_finite)
}

/// Checks weights (finite, ≥ 0, positive sum) and returns their sum.
#[inline(never)]
fn check_weights<T: Real>(w: &[T]) -> Result<T, Error> {
    check_finite(w)?;
    if w.iter().any(|&v| v < T::ZERO) {
        return Err(Error::NegativeWeight);
    }
    let mass = sum(w);
    if mass > T::ZERO && mass.is_finite() {
        Ok(mass)
    } else if mass.is_finite() {
        Err(Error::ZeroMass)
    } else {
        Err(Error::NonFiniteInput)
    }
}

/// Unweighted mean of ‖x_i − y_j‖² over all pairs, in O((n + m)·d):
/// mean = var(x) + var(y) + ‖x̄ − ȳ‖² with var the mean squared distance to the
/// centroid; and an upper bound on the largest ‖x_i − y_j‖² from the bounding box of
/// both clouds. Coordinates are taken relative to the first point of `x`, so the
/// result does not lose precision when the clouds sit far from the origin (f32
/// coordinates near 10⁶ would otherwise round the centroids to 1/16).
fn cloud_cost_stats<T: Real>(
    x: &Points<'_, T>,
    y: &Points<'_, T>,
    (n, m): (usize, usize),
    dim: usize,
) -> (T, T) {
    let mut mean = Compensated::new();
    let mut diam2 = T::ZERO;
    for k in 0..dim {
        let origin = x.get(0, k);
        let range = (T::INFINITY, T::NEG_INFINITY);
        let (xbar, xvar, range) = coordinate_stats(x, k, n, origin, range);
        let (ybar, yvar, (lo, hi)) = coordinate_stats(y, k, m, origin, range);
        mean.add(xvar);
        mean.add(yvar);
        let dm = xbar - ybar;
        mean.add(dm * dm);
        let w = hi - lo;
        diam2 += w * w;
    }
    (mean.value(), diam2)
}

/// Mean and mean squared deviation (two passes, compensated) of coordinate `k` of the
/// first `n` points relative to `origin`, and the range `(lo, hi)` extended by them.
/// One function for both clouds: out of line, one copy (Cortex-M flash).
#[inline(never)]
fn coordinate_stats<T: Real>(
    pts: &Points<'_, T>,
    k: usize,
    n: usize,
    origin: T,
    range: (T, T),
) -> (T, T, (T, T)) {
    let vals = pts.coord(k, n).map(move |v| v - origin);
    let mut s = Compensated::new();
    let mut count = 0usize;
    for v in vals.clone() {
        s.add(v);
        count += 1;
    }
    let n = T::from_usize(count.max(1));
    let mean = s.value() / n;
    let mut dev = Compensated::new();
    for v in vals.clone() {
        let t = v - mean;
        dev.add(t * t);
    }
    let range = vals.fold(range, |(lo, hi), v| (lo.min_fast(v), hi.max_fast(v)));
    (mean, dev.value() / n, range)
}
