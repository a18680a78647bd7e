//! Log-weights: normalisation, effective sample size and the log-likelihood increment.
//!
//! Convention: a particle set carries **normalised** log-weights ℓ_i (Σ exp ℓ_i = 1);
//! −∞ is a valid log-weight (a dead particle). The log-likelihood increment of a step
//! whose per-particle log-likelihoods are λ_i is
//!
//! ```text
//! Δℓ = log Σ_i exp(ℓ_i + λ_i)
//! ```
//!
//! with the weights *before* the step — uniform (ℓ_i = −log N) right after a
//! resampling, the carried weights otherwise. This one formula is right with and
//! without resampling at every step (the bookkeeping `particles` uses; the pitfall of
//! LowLevelParticleFilters.jl #134 was to use the mean of the new weights without the
//! carried ones).

use crate::buf::{rows, rows_mut};
use crate::error::Error;
use crate::real::Real;
use crate::sum::Compensated;

/// log Σ exp(v_i) kept as its two parts: the largest term `max` and
/// `ln_sum` = ln Σ exp(v_i − max) ∈ [0, ln N].
///
/// Kept apart because v_i − LSE is exact only as (v_i − max) − ln_sum: the first
/// difference is exact for the terms that matter (Sterbenz), whereas the rounded sum
/// max + ln_sum is off by up to half an ulp of `max` — 0.03 at max = −1e6 in f32,
/// enough to make weights sum to 0.97 and an ESS exceed N.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogSumExp<T> {
    /// The largest term (finite, or +∞ never: inputs are checked).
    pub max: T,
    /// ln Σ exp(v_i − max).
    pub ln_sum: T,
}

impl<T: Real> LogSumExp<T> {
    /// The log-sum-exp itself, max + ln_sum (one rounding).
    #[must_use]
    pub fn value(self) -> T {
        self.max + self.ln_sum
    }

    /// v − LSE computed as (v − max) − ln_sum (exact up to the last rounding of a
    /// number of the size of ln N, whatever the common offset of the terms).
    #[must_use]
    pub fn centre(self, v: T) -> T {
        (v - self.max) - self.ln_sum
    }
}

/// log Σ exp(v_i) in two parts (see [`LogSumExp`]; compensated sum of the shifted
/// exponentials).
///
/// # Errors
/// `NonFiniteInput` if an entry is NaN or +∞; `ZeroMass` if every entry is −∞ (or
/// the slice is empty).
pub fn log_sum_exp_parts<T: Real>(v: &[T]) -> Result<LogSumExp<T>, Error> {
    let mut mx = T::NEG_INFINITY;
    for &x in v {
        if x.is_nan() || x == T::INFINITY {
            return Err(Error::NonFiniteInput);
        }
        mx = mx.max_fast(x);
    }
    if mx == T::NEG_INFINITY {
        return Err(Error::ZeroMass);
    }
    let mut s = Compensated::new();
    for &x in v {
        s.add((x - mx).exp());
    }
    Ok(LogSumExp {
        max: mx,
        ln_sum: s.value().ln(),
    })
}

/// log Σ exp(v_i) with the maximum shifted out (compensated sum of the exponentials).
///
/// # Errors
/// As [`log_sum_exp_parts`].
pub fn log_sum_exp<T: Real>(v: &[T]) -> Result<T, Error> {
    log_sum_exp_parts(v).map(LogSumExp::value)
}

/// Normalises log-weights in place (ℓ_i ← ℓ_i − LSE, computed by
/// [`LogSumExp::centre`] so that Σ exp ℓ_i = 1 to rounding whatever their common
/// offset) and returns that log-sum-exp (the log of the total unnormalised weight).
///
/// # Errors
/// As [`log_sum_exp`]; on error `logw` is unchanged.
pub fn normalise<T: Real>(logw: &mut [T]) -> Result<T, Error> {
    let lse = log_sum_exp_parts(logw)?;
    for l in logw.iter_mut() {
        *l = lse.centre(*l);
    }
    Ok(lse.value())
}

/// Effective sample size 1/Σ W_i² of normalised log-weights, in [1, N] (in particles).
///
/// Computed as exp(−log Σ exp(2ℓ_i)); the input is assumed normalised (no check).
#[must_use]
pub fn ess<T: Real>(logw: &[T]) -> T {
    let mut s = Compensated::new();
    for &l in logw {
        s.add((l + l).exp());
    }
    T::ONE / s.value()
}

/// Weighted mean (length d) and covariance (d×d row-major, Σ W_i (x_i − μ)(x_i − μ)ᵀ,
/// the weighted population covariance) of particles `x` (N×d row-major) under
/// normalised log-weights.
///
/// Lengths are the caller's responsibility (checked by the public entry points).
pub(crate) fn moments<T: Real>(x: &[T], logw: &[T], d: usize, mean: &mut [T], cov: &mut [T]) {
    mean.fill(T::ZERO);
    cov.fill(T::ZERO);
    for (xi, &l) in rows(x, d).zip(logw) {
        let w = l.exp();
        for (m, &v) in mean.iter_mut().zip(xi) {
            *m += w * v;
        }
    }
    for (xi, &l) in rows(x, d).zip(logw) {
        let w = l.exp();
        for (r, row) in rows_mut(cov, d).enumerate() {
            let dr =
                xi.get(r).copied().unwrap_or(T::ZERO) - mean.get(r).copied().unwrap_or(T::ZERO);
            for ((c, &xc), &mc) in row.iter_mut().zip(xi).zip(mean.iter()) {
                *c += w * dr * (xc - mc);
            }
        }
    }
}
