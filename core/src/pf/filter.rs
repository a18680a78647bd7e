//! The particle-filter step: predict → weight → (maybe) resample, in caller memory.
//!
//! A particle set is N particles × D coordinates (row-major `x`, N·D values) with
//! normalised log-weights `logw` (N values). One [`step`]:
//! 1. **predict**: the transition callback reads the current particles and writes the
//!    proposed ones (drawing its noise from the caller's RNG);
//! 2. **weight**: the log-likelihood callback writes λ_i = log g(y | x_i) for each
//!    proposed particle; the increment Δℓ = log Σ_i W_i·exp(λ_i) (W the carried
//!    weights, see [`weights`](super::weights)) is added to the running total and the
//!    weights become W_i·exp(λ_i)/exp(Δℓ);
//! 3. **report**: ESS = 1/Σ W_i², the weighted mean and covariance of the weighted
//!    particles (the filtering estimate, before any resampling);
//! 4. **resample** if the trigger fires (ESS < threshold·N, always, or never) with a
//!    classical scheme or OT; the weights are then uniform.
//!
//! A proposal other than the transition is expressed by folding
//! log f − log q into the log-likelihood callback.
//!
//! On any error nothing changes: not the particles, weights, totals, mean, covariance,
//! nor the RNG (its state is restored).

use crate::buf::copy;
use crate::buf::take;
use crate::error::Error;
use crate::parallel::Serial;
use crate::real::Real;

use super::ot_resample::{check_inputs, fit, ot_workspace_len, split, OtConfig, OtReport};
use super::resample::{gather_count, Scheme};
use super::rng::RandomSource;
use super::weights::{ess, log_sum_exp_parts, moments};

/// Which resampler a filter uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resampler<T> {
    /// A classical scheme (ancestor copies).
    Classical(Scheme),
    /// Optimal-transport resampling.
    Optimal(OtConfig<T>),
}

/// When a filter resamples (decided after weighting).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trigger<T> {
    /// When ESS < threshold·N, threshold in [0, 1] (0.5 is the usual choice).
    Ess(T),
    /// Every step.
    Always,
    /// Never (sequential importance sampling).
    Never,
}

impl<T: Real> Trigger<T> {
    /// Checks the threshold of `Ess` (in [0, 1]).
    pub(super) fn check(&self) -> Result<(), Error> {
        match *self {
            Trigger::Ess(t) if !(t >= T::ZERO && t <= T::ONE) => Err(Error::InvalidParameter),
            _ => Ok(()),
        }
    }

    /// Whether a filter of `n` particles whose weights have effective sample size
    /// `ess` resamples now.
    pub(super) fn fires(&self, ess: T, n: usize) -> bool {
        match *self {
            Trigger::Ess(t) => ess < t * T::from_usize(n),
            Trigger::Always => true,
            Trigger::Never => false,
        }
    }
}

/// Filter settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FilterConfig<T> {
    /// The resampler.
    pub resampler: Resampler<T>,
    /// When to resample.
    pub trigger: Trigger<T>,
}

/// Running totals of a filter, updated by each successful [`step`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals<T> {
    /// ℓ̂ = Σ Δℓ over the steps so far (log-likelihood estimate of the observations).
    pub log_likelihood: T,
    /// Steps taken.
    pub steps: u64,
    /// Steps that resampled.
    pub resamples: u64,
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport<T> {
    /// Δℓ of this step.
    pub log_likelihood_increment: T,
    /// ℓ̂ after this step.
    pub log_likelihood: T,
    /// ESS after weighting, before resampling, in particles (1..N).
    pub ess: T,
    /// Whether the step resampled.
    pub resampled: bool,
    /// The OT resampler's report when it ran.
    pub ot: Option<OtReport<T>>,
}

/// Workspace elements [`step`] needs: `N·(d + 1)` plus, with an OT resampler,
/// [`ot_workspace_len`]`(N, d)` = `(2d + 7)·N̂` (N̂ = N rounded up to the kernel width).
#[must_use]
pub const fn filter_workspace_len(n: usize, d: usize, optimal: bool) -> usize {
    let base = n.saturating_mul(d.saturating_add(1));
    if optimal {
        base.saturating_add(ot_workspace_len(n, d))
    } else {
        base
    }
}

/// Uniform log-weights −log N (the state of a freshly drawn or resampled set).
pub fn uniform_log_weights<T: Real>(logw: &mut [T]) {
    let l = -T::from_usize(logw.len()).ln();
    logw.fill(l);
}

impl<T: Real> FilterConfig<T> {
    fn check(&self) -> Result<(), Error> {
        self.trigger.check()?;
        match self.resampler {
            Resampler::Optimal(c) => c.check(),
            Resampler::Classical(_) => Ok(()),
        }
    }
}

/// One filter step (see the module documentation).
///
/// - `x` (N·d, row-major) and `logw` (N): the particle set, updated in place.
/// - `predict(x_prev, x_next, rng)`: writes N·d proposed coordinates.
/// - `loglik(x, lambda)`: writes N log-likelihoods (−∞ allowed, not NaN or +∞).
/// - `mean` (d) and `cov` (d·d row-major): weighted moments after weighting.
/// - `ws`: [`filter_workspace_len`]`(N, d, optimal)` elements, contents ignored.
///
/// # Errors
/// `EmptyInput` (N = 0, d = 0), `LengthMismatch` (`x`, `mean`, `cov`),
/// `NonFiniteInput` (NaN/∞ particle, NaN/+∞ log-weight), `ZeroMass` (all log-weights
/// −∞, or every particle got λ = −∞), `InvalidParameter` (threshold outside [0, 1], OT
/// settings), `InvalidEpsilon`, `WorkspaceTooSmall`, whatever a callback returns,
/// `NonFinite` (a callback wrote NaN/∞ coordinates or NaN/+∞ log-likelihoods, or OT
/// overflowed). Nothing is changed on error (the RNG is restored).
///
/// # Panics
/// Never (unless a callback panics).
#[allow(clippy::too_many_arguments)]
pub fn step<T, R, P, L>(
    x: &mut [T],
    logw: &mut [T],
    d: usize,
    cfg: &FilterConfig<T>,
    totals: &mut Totals<T>,
    rng: &mut R,
    predict: P,
    loglik: L,
    mean: &mut [T],
    cov: &mut [T],
    ws: &mut [T],
) -> Result<StepReport<T>, Error>
where
    T: Real,
    R: RandomSource + Clone,
    P: FnOnce(&[T], &mut [T], &mut R) -> Result<(), Error>,
    L: FnOnce(&[T], &mut [T]) -> Result<(), Error>,
{
    let saved = rng.clone();
    // The body runs in a closure so that every early error return restores the RNG.
    let body = || -> Result<StepReport<T>, Error> {
        let prev = check_inputs(x, logw, d)?;
        cfg.check()?;
        let n = logw.len();
        if mean.len() != d || Some(cov.len()) != d.checked_mul(d) {
            return Err(Error::LengthMismatch);
        }
        let optimal = matches!(cfg.resampler, Resampler::Optimal(_));
        if ws.len() < filter_workspace_len(n, d, optimal) {
            return Err(Error::WorkspaceTooSmall);
        }
        let mut rest = ws;
        let xp = take(&mut rest, n * d)?;
        let lam = take(&mut rest, n)?;
        // 1. predict.
        predict(x, xp, rng)?;
        if xp.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite);
        }
        // 2. weight: lam ← (λ − λ_max) + ℓ_prev, Δℓ = λ_max + LSE(lam), then
        // normalise. The largest λ is taken out before anything is added, so the
        // weights and Δℓ are exact whatever the common offset of the λ (a λ of −1e6
        // has an ulp of 0.06 in f32).
        loglik(xp, lam)?;
        let mut lam_max = T::NEG_INFINITY;
        for &l in lam.iter() {
            if l.is_nan() || l == T::INFINITY {
                return Err(Error::NonFinite);
            }
            lam_max = lam_max.max_fast(l);
        }
        if lam_max == T::NEG_INFINITY {
            return Err(Error::ZeroMass);
        }
        for (l, &w) in lam.iter_mut().zip(logw.iter()) {
            *l = (*l - lam_max) + prev.centre(w);
        }
        let lse = log_sum_exp_parts(lam)?;
        let delta = lam_max + lse.value();
        for l in lam.iter_mut() {
            *l = lse.centre(*l);
        }
        // 3. ESS and the decision.
        let ess_now = ess(lam);
        let resample = cfg.trigger.fires(ess_now, n);
        // The outputs must be representable before anything is written.
        let log_likelihood = totals.log_likelihood + delta;
        if !log_likelihood.is_finite() {
            return Err(Error::NonFinite);
        }
        moments_fit(xp, n, d)?;
        // 4. resample (the OT fit can fail, so it runs before anything is written).
        let mut ot = None;
        match cfg.resampler {
            Resampler::Optimal(c) if resample => {
                let (mut w, _) = split(rest, n, d)?;
                let fitted = fit(xp, lam, d, &c, &mut w)?;
                moments(xp, lam, d, mean, cov);
                super::ot_resample::transport(&Serial, xp, lam, &fitted, &mut w, x)?;
                ot = Some(fitted.report);
            }
            Resampler::Classical(s) if resample => {
                moments(xp, lam, d, mean, cov);
                gather_count(s, lam, n, rng, xp, d, x);
            }
            _ => {
                moments(xp, lam, d, mean, cov);
                copy(x, xp);
            }
        }
        if resample {
            uniform_log_weights(logw);
        } else {
            copy(logw, lam);
        }
        totals.log_likelihood = log_likelihood;
        totals.steps += 1;
        totals.resamples += u64::from(resample);
        Ok(StepReport {
            log_likelihood_increment: delta,
            log_likelihood: totals.log_likelihood,
            ess: ess_now,
            resampled: resample,
            ot,
        })
    };
    let out = body();
    if out.is_err() {
        *rng = saved;
    }
    out
}

/// Checks that the weighted mean and covariance of the particles `x` (N×d row-major)
/// under N log-weights centred by [`super::weights::LogSumExp::centre`] are
/// representable, from bounds that need neither the moments nor the weights:
/// |μ_k| ≤ S·max|x_k| and |Σ_kk| ≤ S·D_k² with D_k = R_k + (|S − 1| +
/// 2N·`EPSILON`)·max|x_k| (R_k the range of coordinate k; the `EPSILON` term is the
/// rounding of μ, which the covariance squares), each times 1 + 4N·`EPSILON` for the
/// rounding of N-term sums;
/// |Σ_kl| ≤ √(Σ_kk Σ_ll). S = Σ e^{ℓ_i} as [`moments`] sums it is 1 within
/// (N + 3 ln N + 3)·`EPSILON` (the exponentials' and the sum's rounding, and the
/// centring's, which costs at most ln N in weighted |ℓ|): taken as 1 ± 8N·`EPSILON`.
/// Particles far from 0 relative to their spread (beyond √max / (N·`EPSILON`), e.g.
/// 1e30 in f32) are refused for that reason even when they coincide.
///
/// # Errors
/// [`Error::NonFinite`] if a bound overflows (a range, or the covariance of particles
/// spread over more than √max of the float range).
fn moments_fit<T: Real>(x: &[T], n: usize, d: usize) -> Result<(), Error> {
    let n_eps = T::from_usize(n) * T::EPSILON;
    let mass_err = T::from_f64(8.0) * n_eps;
    let slack = (T::ONE + mass_err) * (T::ONE + T::from_f64(4.0) * n_eps);
    let mut worst = T::ZERO;
    for k in 0..d {
        let col = x.iter().skip(k).step_by(d);
        let (lo, hi) = col.fold((T::INFINITY, T::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min_fast(v), hi.max_fast(v))
        });
        // |x − μ| ≤ R + (|S − 1| + 2N·EPSILON)·max|x|: μ is a convex combination
        // times S, each of its N products rounded.
        let big = lo.abs().max_fast(hi.abs());
        let off = mass_err + T::from_f64(2.0) * n_eps;
        let dev = (hi - lo) + off * big;
        worst = worst.max_fast(dev * dev * slack).max_fast(big * slack);
    }
    if worst.is_finite() {
        Ok(())
    } else {
        Err(Error::NonFinite)
    }
}
