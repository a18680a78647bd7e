//! Monte Carlo localisation's resampling step, as AMCL runs it: an adaptive particle
//! count (KLD-sampling, [`kld`](super::kld)), recovery by injecting particles from a
//! caller's sampler (augmented MCL, *Probabilistic Robotics* table 8.3), and any
//! resampler, OT per the state description included.
//!
//! One tick, the caller: moves its M particles (motion model), weights them
//! (log-weights ℓ_i + λ_i, normalised with
//! [`normalise`](super::weights::normalise), which returns Δℓ = log Σ W_i e^{λ_i}),
//! reads the estimate ([`state_moments`](super::state::state_moments),
//! [`largest_cluster`](super::kld::largest_cluster)), updates its [`Recovery`]
//! with Δℓ, and calls [`mcl_resample`] with the injection probability it returns.
//! The new set has uniform weights −log M'.

use crate::buf::{copy, take};
use crate::error::Error;
use crate::real::Real;

use super::filter::Resampler;
use super::kld::{check_bins, count_bins, kld_bound, kld_table_len, KldConfig};
use super::ot_resample::{check_inputs, OtReport};
use super::resample::gather_count;
use super::rng::{restoring, RandomSource};
use super::state::{
    check_coords, embedded_dim, ot_resample_state, ot_state_workspace_len, out_count, Angles, Coord,
};

/// Augmented MCL's likelihood averages (table 8.3), kept as logarithms so that
/// likelihoods of e^{−100} and below stay representable in f32.
///
/// w_slow ← w_slow + α_slow·(w_avg − w_slow), w_fast likewise, w_avg = e^{Δℓ} the
/// mean likelihood of the tick; particles are injected with probability
/// max(0, 1 − w_fast/w_slow). With both α = 0 (the default, as nav2) it never injects.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recovery<T> {
    /// α_slow in [0, 1] (ROS 1 AMCL: 0.001).
    pub alpha_slow: T,
    /// α_fast in [α_slow, 1] (ROS 1 AMCL: 0.1); must exceed α_slow unless both are 0.
    pub alpha_fast: T,
    /// ln w_slow (−∞ before the first update).
    pub log_slow: T,
    /// ln w_fast (−∞ before the first update).
    pub log_fast: T,
}

impl<T: Real> Recovery<T> {
    /// Recovery with these rates, averages empty.
    #[must_use]
    pub fn new(alpha_slow: T, alpha_fast: T) -> Self {
        Self {
            alpha_slow,
            alpha_fast,
            log_slow: T::NEG_INFINITY,
            log_fast: T::NEG_INFINITY,
        }
    }

    /// No recovery (both rates 0).
    #[must_use]
    pub fn off() -> Self {
        Self::new(T::ZERO, T::ZERO)
    }

    /// Folds in one tick's Δℓ (log mean likelihood, nats) and returns the injection
    /// probability max(0, 1 − w_fast/w_slow) in [0, 1].
    ///
    /// # Errors
    /// `InvalidParameter` (rates outside 0 ≤ α_slow < α_fast ≤ 1, both 0 excepted;
    /// a log average NaN or +∞), `NonFiniteInput` (Δℓ NaN or +∞). Nothing changes on
    /// error.
    pub fn update(&mut self, log_likelihood_increment: T) -> Result<T, Error> {
        self.check()?;
        let (s, f) = (self.alpha_slow, self.alpha_fast);
        let off = s == T::ZERO && f == T::ZERO;
        let dl = log_likelihood_increment;
        if dl.is_nan() || dl == T::INFINITY {
            return Err(Error::NonFiniteInput);
        }
        if off {
            return Ok(T::ZERO);
        }
        self.log_slow = blend(self.log_slow, dl, s);
        self.log_fast = blend(self.log_fast, dl, f);
        Ok(self.inject_probability())
    }

    /// Checks the rates (0 ≤ α_slow < α_fast ≤ 1, or both 0) and that the log
    /// averages are not NaN or +∞.
    ///
    /// # Errors
    /// `InvalidParameter`.
    pub fn check(&self) -> Result<(), Error> {
        let (s, f) = (self.alpha_slow, self.alpha_fast);
        let off = s == T::ZERO && f == T::ZERO;
        let rates = off || (s >= T::ZERO && s < f && f <= T::ONE);
        let logs = [self.log_slow, self.log_fast]
            .iter()
            .all(|v| !v.is_nan() && *v != T::INFINITY);
        if rates && logs {
            Ok(())
        } else {
            Err(Error::InvalidParameter)
        }
    }

    /// max(0, 1 − w_fast/w_slow) (0 while w_slow is 0).
    #[must_use]
    pub fn inject_probability(&self) -> T {
        if self.log_slow == T::NEG_INFINITY {
            return T::ZERO;
        }
        (T::ONE - (self.log_fast - self.log_slow).exp()).max_fast(T::ZERO)
    }
}

/// ln((1 − α)·e^{a} + α·e^{b}) without leaving the log domain.
fn blend<T: Real>(a: T, b: T, alpha: T) -> T {
    let terms = [(T::ONE - alpha).ln() + a, alpha.ln() + b];
    let [a, b] = terms;
    let top = a.max_fast(b);
    if top == T::NEG_INFINITY {
        return top;
    }
    top + ((a - top).exp() + (b - top).exp()).ln()
}

/// Settings of [`mcl_resample`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MclConfig<T> {
    /// The resampler (OT runs per the state description).
    pub resampler: Resampler<T>,
    /// KLD-sampling, or `None` for a fixed count.
    pub kld: Option<KldConfig<T>>,
    /// The count without KLD-sampling (0: keep N).
    pub count: usize,
}

/// What [`mcl_resample`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MclReport<T> {
    /// M', the particles written (rows of `x_out`).
    pub count: usize,
    /// Bins occupied by the input set (0 without KLD-sampling).
    pub bins: usize,
    /// Of the M', how many came from the sampler (the last rows).
    pub injected: usize,
    /// The OT resampler's report, when it ran.
    pub ot: Option<OtReport<T>>,
}

/// Workspace elements [`mcl_resample`] needs for N input particles, a capacity of C
/// particles and d coordinates: C·d for the sampler's particles, plus with OT
/// [`ot_state_workspace_len`]`(N, d')` (d' = d + the number of periodic
/// coordinates).
#[must_use]
pub fn mcl_workspace_len(
    n: usize,
    d: usize,
    embedded_dim: usize,
    capacity: usize,
    optimal: bool,
) -> usize {
    let base = capacity.saturating_mul(d);
    if optimal {
        base.saturating_add(ot_state_workspace_len(n, embedded_dim))
    } else {
        base
    }
}

/// The resampling of one MCL tick: chooses M' (KLD-sampling between its minimum and
/// the capacity C = `x_out.len() / d`, or the fixed count), draws the number r of
/// injected particles (M' Bernoulli trials of probability `inject_probability`; no
/// draw when it is 0), resamples M' − r particles from the weighted set with the
/// configured resampler into the first rows of `x_out`, and has
/// `sampler(out, r, rng)` write r particles (r·d values) for the last r rows.
///
/// `x`: N×d row-major, `logw`: N normalised log-weights (−∞ allowed), `table`: ≥
/// [`kld_table_len`]`(N)` slots with KLD-sampling (else unused), `ws`:
/// [`mcl_workspace_len`] elements; contents of both ignored.
///
/// # Errors
/// `EmptyInput`, `LengthMismatch` (`x`, `coords`, `x_out` not a positive multiple of
/// d), `NonFiniteInput`, `ZeroMass`, `InvalidParameter` (description, bins, KLD
/// settings, minimum > capacity, fixed count > capacity, probability outside [0, 1]),
/// `WorkspaceTooSmall` (`ws`, `table`), the OT resampler's errors, the sampler's
/// error, `NonFinite` (the sampler wrote NaN/∞). Nothing is written and the RNG is
/// restored on error.
#[allow(clippy::too_many_arguments)]
pub fn mcl_resample<T, R, S>(
    x: &[T],
    logw: &[T],
    coords: &[Coord<T>],
    cfg: &MclConfig<T>,
    inject_probability: T,
    rng: &mut R,
    sampler: S,
    x_out: &mut [T],
    ws: &mut [T],
    table: &mut [u64],
) -> Result<MclReport<T>, Error>
where
    T: Real + Angles,
    R: RandomSource + Clone,
    S: FnOnce(&mut [T], usize, &mut R) -> Result<(), Error>,
{
    restoring(rng, |rng| -> Result<MclReport<T>, Error> {
        let d = coords.len();
        check_coords(coords, d)?;
        check_inputs(x, logw, d)?;
        let cap = out_count(x_out, d)?;
        let n = logw.len();
        if let Resampler::Optimal(c) = cfg.resampler {
            c.check()?;
        }
        if !(inject_probability >= T::ZERO && inject_probability <= T::ONE) {
            return Err(Error::InvalidParameter);
        }
        let optimal = matches!(cfg.resampler, Resampler::Optimal(_));
        let de = embedded_dim(coords);
        if ws.len() < mcl_workspace_len(n, d, de, cap, optimal) {
            return Err(Error::WorkspaceTooSmall);
        }
        let (bins, m) = match cfg.kld {
            Some(k) => {
                check_bins(coords)?;
                k.check(cap)?;
                if table.len() < kld_table_len(n) {
                    return Err(Error::WorkspaceTooSmall);
                }
                let bins = count_bins(x, logw, coords, table);
                (bins, kld_bound(bins, &k, cap))
            }
            None if cfg.count == 0 && n <= cap => (0, n),
            None if cfg.count >= 1 && cfg.count <= cap => (0, cfg.count),
            None => return Err(Error::InvalidParameter),
        };
        let mut r = 0;
        if inject_probability > T::ZERO {
            for _ in 0..m {
                r += usize::from(rng.uniform::<T>() < inject_probability);
            }
        }
        let keep = m - r;
        let mut rest = ws;
        let fresh = take(&mut rest, r * d)?;
        if r > 0 {
            sampler(fresh, r, rng)?;
            if fresh.iter().any(|v| !v.is_finite()) {
                return Err(Error::NonFinite);
            }
        }
        let (head, tail) = x_out
            .split_at_mut_checked(keep * d)
            .ok_or(Error::LengthMismatch)?;
        let mut ot = None;
        if keep > 0 {
            match cfg.resampler {
                Resampler::Optimal(c) => {
                    ot = Some(ot_resample_state(x, logw, coords, &c, rng, head, rest)?);
                }
                Resampler::Classical(s) => gather_count(s, logw, keep, rng, x, d, head),
            }
        }
        if let Some(t) = tail.get_mut(..r * d) {
            copy(t, fresh);
        }
        Ok(MclReport {
            count: m,
            bins,
            injected: r,
            ot,
        })
    })
}
