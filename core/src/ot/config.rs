//! Solver settings.

use crate::error::Error;
use crate::real::Real;

/// The entropic regularisation strength ε, in cost units.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Epsilon<T> {
    /// ε as given.
    Absolute(T),
    /// ε = r · mean(C), the unweighted mean of the cost over all n·m pairs (as
    /// `C.mean()` in POT/numpy), computed in O((n + m)·d) for point clouds. If every
    /// cost is 0 (all points at one location) the mean is taken as 1 cost unit.
    RelativeToMeanCost(T),
}

impl<T: Real> Epsilon<T> {
    /// The absolute ε for a cost whose mean is `mean_cost`.
    ///
    /// # Errors
    /// [`Error::InvalidEpsilon`] unless the value (and the result) is finite and > 0.
    pub fn resolve(self, mean_cost: T) -> Result<T, Error> {
        let eps = match self {
            Epsilon::Absolute(e) => e,
            Epsilon::RelativeToMeanCost(r) => {
                if !(r.is_finite() && r > T::ZERO) {
                    return Err(Error::InvalidEpsilon);
                }
                if mean_cost > T::ZERO {
                    r * mean_cost
                } else {
                    r
                }
            }
        };
        if eps.is_finite() && eps > T::ZERO {
            Ok(eps)
        } else {
            Err(Error::InvalidEpsilon)
        }
    }
}

/// How the Sinkhorn loop starts.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// f = g = 0.
    Zero,
    /// Start from caller potentials (f, g), in cost units, convention P = exp((f⊕g − C)/ε).
    /// Any pair is accepted; at least one full iteration runs before convergence can be
    /// declared, because the row marginal of an arbitrary pair is unknown.
    Potentials,
    /// Continue exactly where a previous [`solve`](super::solve) of the same problem left
    /// off, from the f, g it returned. Those potentials have an exact row marginal, so
    /// the first half-iteration already measures the true error: an already converged
    /// pair returns at once with 0 iterations, and k calls with budget b reproduce one
    /// call with budget k·b.
    Resume,
    /// Start from the Gaussian initializer
    /// ([`gaussian_potential`](super::gaussian_potential)): f from the Monge map between
    /// Gaussians fitted to the clouds, g = 0. Point clouds only.
    Gaussian,
    /// Start from the exact dual of the sorted (monotone) coupling
    /// ([`sorted_dual`](super::sorted_dual)), f corrected to first order in ε by half
    /// the first cloud's soft c-transform onto itself, −(ε/2)·ln of its density at the
    /// kernel's scale (one pass over the n² pairs). Point clouds in d = 1 only.
    Sorted,
    /// Solve on `size` points of each cloud first, each weighted by the mass of the
    /// cloud's points nearest to it and moved to their weighted mean (same ε and
    /// settings, its own budget of `max_iterations`, not counted in the reported
    /// `iterations`), then start from its potentials extended to every point by the
    /// soft c-transform ([`DualPotential`](super::DualPotential)). Point clouds only;
    /// `size` ≥ 1.
    Subsample {
        /// Points taken from each cloud (all of a cloud with fewer points).
        size: u32,
    },
}

/// Acceleration of the Sinkhorn iteration.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acceleration {
    /// Plain Sinkhorn updates.
    Off,
    /// Adaptive over-relaxation (Lehmann, von Renesse, Sambale & Uschmajew 2021, as
    /// OTT-JAX's `Momentum(start=…)`): from iteration `start` at the final ε, once two
    /// successive error ratios agree (the linear regime: |r − r_prev| ≤ 0.05·(1 − r)),
    /// the potentials move by ω = 2/(1 + √(1 − r)) times the Sinkhorn step, r the
    /// observed plain rate (capped at 0.99; no acceleration while the error does not
    /// decrease).
    ///
    /// Safeguard: every window of 5/√(1 − r) iterations the error must be below plain
    /// Sinkhorn's predicted one (the error when ω was chosen times r per iteration);
    /// otherwise, and once the tolerance is reached, the solve returns to plain steps
    /// for good. A failed window therefore costs at most its own length (plus the
    /// distance back to where plain Sinkhorn would be) over plain Sinkhorn. Convergence
    /// is only declared, and the budget only ends, after a plain iteration (whose row
    /// marginal is exact), so the reported error means what it does without
    /// acceleration and `max_iterations` stays a hard bound. `start` ≥ 2.
    Adaptive {
        /// Plain iterations before ω is chosen (≥ 2).
        start: u32,
    },
}

/// Sinkhorn settings. `Config::default()` gives the documented defaults.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config<T> {
    /// ε (default: 0.05 × mean cost).
    pub epsilon: Epsilon<T>,
    /// KL relaxation strength ρ_a of the row marginal, in cost units; +∞ (default)
    /// keeps it hard. The update factor is τ_a = ρ_a/(ρ_a + ε), as in OTT-JAX and POT.
    pub rho_a: T,
    /// Same for the column marginal.
    pub rho_b: T,
    /// Stop when the L1 marginal error (weight units) is ≤ this
    /// (default [`Real::DEFAULT_TOLERANCE`]: 1e-4 for f32, 1e-7 for f64).
    pub tolerance: T,
    /// Maximum number of full iterations (one g-update plus one f-update) in this call,
    /// over all ε-scaling stages (default 1000): a hard bound on the reported
    /// `iterations`. At least 1 unless the solve resumes ([`Init::Resume`]).
    pub max_iterations: u32,
    /// ε-scaling factor q ∈ (0, 1), or 0 to disable it (default 0). From
    /// [`Init::Zero`], the solver first solves at ε₀ = the largest cost, then at ε₀q,
    /// ε₀q², … down to ε, each stage warm-started from the previous one and run to an
    /// L1 error of 1e-2·Σb (or the tolerance, if larger); warm starts skip the stages.
    /// Plain Sinkhorn needs on the order of max(C)/ε iterations, so below
    /// ε ≈ 0.01 × mean cost use q ≈ 0.5–0.8.
    pub epsilon_scaling: T,
    /// Acceleration (default [`Acceleration::Off`]).
    pub acceleration: Acceleration,
}

impl<T: Real> Default for Config<T> {
    fn default() -> Self {
        Self {
            epsilon: Epsilon::RelativeToMeanCost(T::from_f64(0.05)),
            rho_a: T::INFINITY,
            rho_b: T::INFINITY,
            tolerance: T::DEFAULT_TOLERANCE,
            max_iterations: 1000,
            epsilon_scaling: T::ZERO,
            acceleration: Acceleration::Off,
        }
    }
}

impl<T: Real> Config<T> {
    /// Checks the parameters that do not depend on the problem.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if the tolerance is negative or not finite, a ρ is
    /// NaN or ≤ 0, the ε-scaling factor is outside {0} ∪ (0, 1), or the acceleration
    /// starts before iteration 2;
    /// [`Error::InvalidEpsilon`] for an invalid ε;
    /// [`Error::FeatureDisabled`] for a relaxed marginal, ε-scaling or acceleration in a
    /// build without the `variants` feature.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if !(self.tolerance.is_finite() && self.tolerance >= T::ZERO) {
            return Err(Error::InvalidParameter);
        }
        if let Acceleration::Adaptive { start } = self.acceleration {
            if start < 2 {
                return Err(Error::InvalidParameter);
            }
        }
        let q = self.epsilon_scaling;
        if !(q >= T::ZERO && q < T::ONE) {
            return Err(Error::InvalidParameter);
        }
        for rho in [self.rho_a, self.rho_b] {
            if rho.is_nan() || rho <= T::ZERO {
                return Err(Error::InvalidParameter);
            }
        }
        let (Epsilon::Absolute(e) | Epsilon::RelativeToMeanCost(e)) = self.epsilon;
        if !(e.is_finite() && e > T::ZERO) {
            return Err(Error::InvalidEpsilon);
        }
        let plain = self.is_balanced() && q == T::ZERO && self.acceleration == Acceleration::Off;
        if cfg!(feature = "variants") || plain {
            Ok(())
        } else {
            Err(Error::FeatureDisabled)
        }
    }

    /// Both marginals hard.
    #[must_use]
    pub fn is_balanced(&self) -> bool {
        self.rho_a == T::INFINITY && self.rho_b == T::INFINITY
    }
}
