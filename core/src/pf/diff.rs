//! Differentiable particle filtering, forward mode: the filter step of
//! [`filter`](super::filter) carrying the tangents of every particle and log-weight
//! with respect to model parameters θ ∈ R^P, so that the gradient of the running
//! log-likelihood estimate ℓ̂_t = log p̂(y_1:t | θ) and of the filtered mean are
//! available at every tick (online recursive maximum likelihood, adaptive control).
//!
//! **Model** ([`DiffModel`]): a reparameterised transition x' = f_θ(x, ξ) with
//! ξ ~ N(0, I_k) drawn by the library from the caller's random stream (so a run
//! replays bit for bit, and finite differences with the same seed use the same ξ),
//! and the observation log-density λ = log g_θ(y | x'). Forward mode needs, per
//! particle, the tangent product of f (∂f/∂x · Ẋ + ∂f/∂θ, a d×P block) and the
//! gradients of λ in x' (d) and θ (P).
//!
//! **One step** (N particles x_i with normalised log-weights ℓ_i and tangents
//! Ẋ_i = ∂x_i/∂θ, ℓ̇_i = ∂ℓ_i/∂θ):
//! 1. ξ_i ← N·k normals; x'_i = f(x_i, ξ_i); Ẋ'_i = ∂f/∂x Ẋ_i + ∂f/∂θ;
//! 2. λ_i, λ̇_i = ∇_x'λ_i · Ẋ'_i + ∇_θλ_i; u_i = ℓ_i + λ_i, u̇_i = ℓ̇_i + λ̇_i;
//! 3. Δℓ = LSE(u), Δℓ̇ = Σ W'_i u̇_i with W'_i = exp(u_i − Δℓ); the new weights
//!    ℓ'_i = u_i − Δℓ, ℓ̇'_i = u̇_i − Δℓ̇ (Σ W'_i ℓ̇'_i = 0); ℓ̂ += Δℓ, ℓ̂̇ += Δℓ̇;
//! 4. the filtered mean μ = Σ W'_i x'_i and μ̇ = Σ W'_i (Ẋ'_i + (x'_i − μ) ℓ̇'_i);
//! 5. if the trigger fires, classical resampling draws ancestors a_i from ℓ' and
//!    copies x'_{a_i} and Ẋ'_{a_i}: the ancestor indices are held fixed (they have no
//!    derivative). The new log-weights are −log N; their tangents are
//!    - [`Gradient::Detach`]: 0 (the "detach" DPF: the gradient of the computed ℓ̂
//!      with the ancestors held fixed; biased, see `docs/differentiable_filter.md`);
//!    - [`Gradient::StopGradient`]: ℓ̇'_{a_i}, Ścibior & Wood's (2021) correction
//!      −log N + ℓ'_{a_i} − stopgrad(ℓ'_{a_i}): the value is unchanged, the ancestor's
//!      log-weight tangent survives. Then p̂·ℓ̂̇ is an unbiased estimator of ∇p
//!      (pathwise through x, score-function through the ancestor draw);
//!    - [`Gradient::Score`]: as `StopGradient`, but with the states stopped too
//!      (Ẋ ≡ 0, no transition tangent) and ∇_θ log f(x'_i | x_i) added to u̇_i: the
//!      Fisher-identity score estimator along ancestral paths (Poyiadjis, Doucet &
//!      Singh 2011, O(N·P) per step): ℓ̂̇ = Σ_i W_i α_i with α_i the path sums of
//!      ∇_θ log f + ∇_θ log g. Needs [`DiffModel::transition_score`], not the JVP.
//!
//! Tangent memory, caller-owned and carried tick to tick: [`tangent_len`] =
//! N·(d + 1)·P values, Ẋ first (N×d×P, particle-major, θ index fastest), then ℓ̇ (N×P).
//!
//! With [`DiffConfig::ot`] set, a triggered resampling is OT resampling instead
//! (deterministic, no random numbers): x̃ = the entropic OT map of (x', ℓ'), all
//! log-weights −log N with zero tangents, and Ẋ̃ = the map's Jacobian–vector product
//! ([`ot_resample_jvp`]) applied to (Ẋ', ℓ̇'), one direction per parameter, exact for
//! the converged map with its normalisation scale held constant. `Score` is refused
//! with OT (its states are stopped; the OT map moves them).

use crate::buf::{copy, take};
use crate::error::Error;
use crate::real::Real;

use super::filter::{uniform_log_weights, StepReport, Totals, Trigger};
use super::grad::{jvp_workspace_len, ot_resample_jvp};
use super::ot_resample::{check_inputs, OtConfig};
use super::resample::{draw, Scheme};
use super::rng::{restoring, RandomSource};
use super::state::copy_row;
use super::weights::{ess, log_sum_exp_parts, LogSumExp};
use crate::ot::Cg;

/// A parameterised state-space model with the derivative products forward mode needs.
///
/// Slices are batched over the N particles, row-major: `x`, `x_next` N×d; `xi` N×k
/// (k = [`noise_dim`](Self::noise_dim)); `theta` P; tangents N×d×P (for particle i,
/// the d×P block ∂x_i/∂θ row-major). Every method returns `Err` (any error; the C
/// adapter uses [`Error::CallbackFailed`]) to abort the step with nothing changed.
pub trait DiffModel<T: Real> {
    /// k ≥ 0: standard normals drawn per particle per step for the transition.
    fn noise_dim(&self) -> usize;

    /// x_next_i = f_θ(x_i, ξ_i).
    ///
    /// # Errors
    /// Any, to abort the step.
    fn transition(&mut self, theta: &[T], x: &[T], xi: &[T], x_next: &mut [T])
        -> Result<(), Error>;

    /// dx_next_i = ∂f/∂x(x_i, ξ_i) · dx_i + ∂f/∂θ(x_i, ξ_i), d×P per particle
    /// (`x_next` is the value [`transition`](Self::transition) wrote).
    ///
    /// # Errors
    /// Any, to abort the step.
    #[allow(clippy::too_many_arguments)]
    fn transition_jvp(
        &mut self,
        theta: &[T],
        x: &[T],
        xi: &[T],
        x_next: &[T],
        dx: &[T],
        dx_next: &mut [T],
    ) -> Result<(), Error>;

    /// score_i = ∇_θ log f_θ(x_next_i | x_i) (N×P), the gradient of the transition
    /// density, for [`Gradient::Score`]. The default reports that the model has none
    /// ([`Error::InvalidParameter`]).
    ///
    /// # Errors
    /// Any, to abort the step.
    fn transition_score(
        &mut self,
        theta: &[T],
        x: &[T],
        x_next: &[T],
        score: &mut [T],
    ) -> Result<(), Error> {
        let _ = (theta, x, x_next, score);
        Err(Error::InvalidParameter)
    }

    /// Reverse mode ([`tape_gradient`](super::tape_gradient)): per particle i, given
    /// x̄'_i = `x_next_bar` (d values), writes `x_bar`_i = (∂f/∂x)ᵀ x̄'_i (d) and
    /// `theta_bar`_i = (∂f/∂θ)ᵀ x̄'_i (P; the library sums them in particle order), at
    /// the (x_i, ξ_i) of the tick [`seek`](Self::seek) selected. The default reports
    /// that the model has none ([`Error::InvalidParameter`]).
    ///
    /// # Errors
    /// Any, to abort the reverse pass.
    #[allow(clippy::too_many_arguments)]
    fn transition_vjp(
        &mut self,
        theta: &[T],
        x: &[T],
        xi: &[T],
        x_next: &[T],
        x_next_bar: &[T],
        x_bar: &mut [T],
        theta_bar: &mut [T],
    ) -> Result<(), Error> {
        let _ = (theta, x, xi, x_next, x_next_bar, x_bar, theta_bar);
        Err(Error::InvalidParameter)
    }

    /// Reverse mode: the calls that follow (until the next `seek`) are for tick `tick`
    /// of the tape (0-based, in recording order): use that tick's observation and
    /// inputs. The default reports that the model has none
    /// ([`Error::InvalidParameter`]).
    ///
    /// # Errors
    /// Any, to abort the reverse pass.
    fn seek(&mut self, tick: usize) -> Result<(), Error> {
        let _ = tick;
        Err(Error::InvalidParameter)
    }

    /// loglik_i = log g_θ(y | x_i) in nats (−∞ allowed: a dead particle).
    ///
    /// # Errors
    /// Any, to abort the step.
    fn loglik(&mut self, theta: &[T], x: &[T], loglik: &mut [T]) -> Result<(), Error>;

    /// ∇_x log g_θ(y | x_i) (N×d) and ∇_θ log g_θ(y | x_i) (N×P). Entries of particles
    /// whose log-likelihood is −∞ are ignored.
    ///
    /// # Errors
    /// Any, to abort the step.
    fn loglik_grad(
        &mut self,
        theta: &[T],
        x: &[T],
        grad_x: &mut [T],
        grad_theta: &mut [T],
    ) -> Result<(), Error>;
}

/// What the log-weight tangents become at a resampling (the ancestors themselves are
/// held fixed in both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gradient {
    /// Reset to 0 ("detach" DPF): the pathwise gradient of ℓ̂ with the ancestor
    /// indices held fixed. Biased for ∇ log p.
    Detach,
    /// The ancestor's tangent is kept (Ścibior & Wood 2021): p̂·∇ℓ̂ is unbiased for ∇p.
    StopGradient,
    /// Fisher's identity along ancestral paths: states stopped, ∇_θ log f added to
    /// the log-weight tangents, which are kept at resampling (Poyiadjis, Doucet &
    /// Singh 2011). p̂·∇ℓ̂ is unbiased for ∇p; ∇ℓ̂'s variance grows with t (path
    /// degeneracy).
    Score,
}

/// Settings of [`diff_step`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiffConfig<T> {
    /// Classical resampling scheme.
    pub scheme: Scheme,
    /// When to resample.
    pub trigger: Trigger<T>,
    /// Log-weight tangents at a classical resampling.
    pub gradient: Gradient,
    /// `Some`: resample by OT instead of `scheme` (then `gradient` must not be
    /// `Score`), with the map's settings and the conjugate-gradient tolerance and cap
    /// of its JVP. Workspace [`diff_ot_workspace_len`].
    pub ot: Option<(OtConfig<T>, Cg<T>)>,
}

/// Workspace values [`diff_step`] needs with OT resampling ([`DiffConfig::ot`]):
/// [`diff_workspace_len`]`(N, d, P, k)` + [`jvp_workspace_len`]`(N, d, P)` +
/// N·d·(2P + 1) + N·P (the tangents regrouped by direction, the map and its tangents before
/// they are committed). Saturates at `usize::MAX` on overflow.
#[must_use]
pub const fn diff_ot_workspace_len(n: usize, d: usize, p: usize, k: usize) -> usize {
    let nd = n.saturating_mul(d);
    diff_workspace_len(n, d, p, k)
        .saturating_add(jvp_workspace_len(n, d, p))
        .saturating_add(nd.saturating_mul(p.saturating_mul(2).saturating_add(1)))
        .saturating_add(n.saturating_mul(p))
}

/// Values of the tangent state [`diff_step`] carries: N·(d + 1)·P (Ẋ: N·d·P, then
/// ℓ̇: N·P); saturates at `usize::MAX` on overflow.
#[must_use]
pub const fn tangent_len(n: usize, d: usize, p: usize) -> usize {
    n.saturating_mul(d.saturating_add(1)).saturating_mul(p)
}

/// Workspace values [`diff_step`] needs for N particles, dimension d, P parameters and
/// k normals per particle: N·(k + 2d + 1 + (d + 1)·P) + d·P + d + P (the normals, the
/// proposed particles and their tangents, λ, ∇_x λ, the log-weight tangents, then the
/// outputs before they are committed). Saturates at `usize::MAX` on overflow.
#[must_use]
pub const fn diff_workspace_len(n: usize, d: usize, p: usize, k: usize) -> usize {
    let per = k
        .saturating_add(d.saturating_mul(2))
        .saturating_add(1)
        .saturating_add(d.saturating_add(1).saturating_mul(p));
    n.saturating_mul(per)
        .saturating_add(d.saturating_mul(p))
        .saturating_add(d)
        .saturating_add(p)
}

impl<T: Real> DiffConfig<T> {
    pub(super) fn check(&self) -> Result<(), Error> {
        self.trigger.check()?;
        match &self.ot {
            Some(_) if self.gradient == Gradient::Score => Err(Error::InvalidParameter),
            Some((ot, cg)) => {
                ot.check()?;
                cg.check()
            }
            None => Ok(()),
        }
    }
}

/// Row `i` of width `w` of a row-major buffer (empty if out of range: never, by the
/// callers' length checks).
pub(super) fn row<T>(v: &[T], i: usize, w: usize) -> &[T] {
    v.get(i * w..i * w + w).unwrap_or(&[])
}

/// Mutable [`row`].
pub(super) fn row_mut<T>(v: &mut [T], i: usize, w: usize) -> &mut [T] {
    v.get_mut(i * w..i * w + w).unwrap_or(&mut [])
}

/// Whether every value is finite.
pub(super) fn finite<T: Real>(v: &[T]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// Weighting, shared by the forward- and reverse-mode steps: checks the
/// log-likelihoods `lam` (NaN or +∞: `NonFinite`; all −∞, or −∞ wherever the weight is
/// not: `ZeroMass`), replaces them by the normalised log-weights
/// ℓ'_i = ℓ_i + λ_i − Δℓ (as `filter::step`: λ_max taken out first, so that large
/// log-likelihoods do not overflow) and returns Δℓ. A dead particle has ℓ'_i = −∞.
pub(super) fn reweigh<T: Real>(lam: &mut [T], logw: &[T], prev: LogSumExp<T>) -> Result<T, Error> {
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
    for l in lam.iter_mut() {
        *l = lse.centre(*l);
    }
    Ok(lam_max + lse.value())
}

/// μ = Σ_i exp(ℓ'_i) x'_i into `mean` (d) for normalised log-weights `lam` (N) and
/// particles `xp` (N×d).
pub(super) fn weighted_mean<T: Real>(lam: &[T], xp: &[T], d: usize, mean: &mut [T]) {
    mean.fill(T::ZERO);
    for (i, &l) in lam.iter().enumerate() {
        let w = l.exp();
        for (m, &v) in mean.iter_mut().zip(row(xp, i, d)) {
            *m += w * v;
        }
    }
}

/// One forward-mode step of the differentiable filter (see the module documentation).
///
/// - `theta` (P ≥ 1): the parameters; `d` the state dimension.
/// - `x` (N·d), `logw` (N, normalised), `tangent` ([`tangent_len`]`(N, d, P)`): the
///   particle set and its tangents, updated in place. Start from zero tangents (or
///   ∂x_0/∂θ if the initial draw depends on θ).
/// - `totals` and `dloglik` (P): ℓ̂ and ∂ℓ̂/∂θ, accumulated.
/// - `mean` (d), `dmean` (d×P row-major): the weighted mean after weighting, before
///   resampling, and its derivative.
/// - `ws`: [`diff_workspace_len`]`(N, d, P, k)` values ([`diff_ot_workspace_len`]
///   with OT resampling), contents ignored.
///
/// # Errors
/// `EmptyInput` (N, d or P = 0), `LengthMismatch` (any slice against N, d, P),
/// `NonFiniteInput` (NaN/∞ in θ, particles, tangents or `dloglik`; NaN/+∞
/// log-weight), `ZeroMass` (all log-weights −∞, or every particle got λ = −∞),
/// `InvalidParameter` (ESS threshold outside [0, 1]; OT settings or CG tolerance
/// invalid; OT with `Score`), `WorkspaceTooSmall`, what OT resampling returns, whatever a
/// model method returns, `NonFinite` (the model wrote NaN/∞ particles, tangents or
/// gradients, NaN/+∞ log-likelihoods, or an output overflowed). Nothing is changed on
/// error, the RNG included.
#[allow(clippy::too_many_arguments)]
pub fn diff_step<T, R, M>(
    model: &mut M,
    theta: &[T],
    d: usize,
    cfg: &DiffConfig<T>,
    rng: &mut R,
    x: &mut [T],
    logw: &mut [T],
    tangent: &mut [T],
    totals: &mut Totals<T>,
    dloglik: &mut [T],
    mean: &mut [T],
    dmean: &mut [T],
    ws: &mut [T],
) -> Result<StepReport<T>, Error>
where
    T: Real,
    R: RandomSource + Clone,
    M: DiffModel<T> + ?Sized,
{
    restoring(rng, |rng| {
        diff_step_inner::<T, R, M, true>(
            model, theta, d, cfg, rng, x, logw, tangent, totals, dloglik, mean, dmean, ws,
        )
    })
}

/// [`diff_step`] with classical resampling only: the same computation, bit for bit,
/// for a configuration without [`DiffConfig::ot`], with none of OT resampling or its
/// JVP in the code, so that a firmware calling it (the C ABI's step, which has no OT
/// settings yet) does not link them.
///
/// # Errors
/// `InvalidParameter` if `cfg.ot` is set (nothing changed); otherwise as
/// [`diff_step`].
#[allow(clippy::too_many_arguments)]
pub fn diff_step_classical<T, R, M>(
    model: &mut M,
    theta: &[T],
    d: usize,
    cfg: &DiffConfig<T>,
    rng: &mut R,
    x: &mut [T],
    logw: &mut [T],
    tangent: &mut [T],
    totals: &mut Totals<T>,
    dloglik: &mut [T],
    mean: &mut [T],
    dmean: &mut [T],
    ws: &mut [T],
) -> Result<StepReport<T>, Error>
where
    T: Real,
    R: RandomSource + Clone,
    M: DiffModel<T> + ?Sized,
{
    if cfg.ot.is_some() {
        return Err(Error::InvalidParameter);
    }
    restoring(rng, |rng| {
        diff_step_inner::<T, R, M, false>(
            model, theta, d, cfg, rng, x, logw, tangent, totals, dloglik, mean, dmean, ws,
        )
    })
}

/// The step; with `OT` false, the OT branch is compiled out (`cfg.ot` must be `None`).
#[allow(clippy::too_many_arguments)]
fn diff_step_inner<T, R, M, const OT: bool>(
    model: &mut M,
    theta: &[T],
    d: usize,
    cfg: &DiffConfig<T>,
    rng: &mut R,
    x: &mut [T],
    logw: &mut [T],
    tangent: &mut [T],
    totals: &mut Totals<T>,
    dloglik: &mut [T],
    mean: &mut [T],
    dmean: &mut [T],
    ws: &mut [T],
) -> Result<StepReport<T>, Error>
where
    T: Real,
    R: RandomSource,
    M: DiffModel<T> + ?Sized,
{
    let p = theta.len();
    if p == 0 {
        return Err(Error::EmptyInput);
    }
    let prev = check_inputs(x, logw, d)?;
    cfg.check()?;
    let n = logw.len();
    let dp = d.saturating_mul(p);
    if tangent.len() != tangent_len(n, d, p)
        || dp == usize::MAX
        || dloglik.len() != p
        || mean.len() != d
        || dmean.len() != dp
    {
        return Err(Error::LengthMismatch);
    }
    if !finite(theta) || !finite(tangent) || !finite(dloglik) {
        return Err(Error::NonFiniteInput);
    }
    let k = model.noise_dim();
    let need = if OT && cfg.ot.is_some() {
        diff_ot_workspace_len(n, d, p, k)
    } else {
        diff_workspace_len(n, d, p, k)
    };
    if ws.len() < need {
        return Err(Error::WorkspaceTooSmall);
    }
    let mut rest = ws;
    let xi = take(&mut rest, n.saturating_mul(k))?;
    let xp = take(&mut rest, n.saturating_mul(d))?;
    let dxp = take(&mut rest, n.saturating_mul(dp))?;
    let lam = take(&mut rest, n)?;
    let gx = take(&mut rest, n.saturating_mul(d))?;
    let du = take(&mut rest, n.saturating_mul(p))?;
    let ddelta = take(&mut rest, p)?;
    let mean_ws = take(&mut rest, d)?;
    let dmean_ws = take(&mut rest, dp)?;
    let (dx, dlogw) = {
        let mut t: &mut [T] = tangent;
        (take(&mut t, n.saturating_mul(dp))?, t)
    };

    // 1. transition and its tangent.
    rng.fill_normal(xi);
    model.transition(theta, x, xi, xp)?;
    if !finite(xp) {
        return Err(Error::NonFinite);
    }
    // Score mode: the states are stopped (Ẋ' = 0); ∇_θ log f goes to the first N·P
    // values of `dxp` until it is added to u̇ below.
    let score = cfg.gradient == Gradient::Score;
    if score {
        let (sc, _) = dxp
            .split_at_mut_checked(n.saturating_mul(p))
            .unwrap_or((&mut [], &mut []));
        model.transition_score(theta, x, xp, sc)?;
    } else {
        model.transition_jvp(theta, x, xi, xp, dx, dxp)?;
    }
    if !finite(dxp) {
        return Err(Error::NonFinite);
    }
    // 2–3. log-likelihoods, the weights (lam ← ℓ'), Δℓ, then the gradients and Δℓ̇.
    model.loglik(theta, xp, lam)?;
    let delta = reweigh(lam, logw, prev)?;
    model.loglik_grad(theta, xp, gx, du)?;
    // u̇_i = ℓ̇_i + ∇_θλ_i + ∇_x'λ_i·Ẋ'_i (in `du`); 0 for dead particles. Rows are
    // taken by index (`row`), not by zipping chunk iterators: a non-inlined
    // `Zip::new` of two `ChunksExact` keeps a division-by-zero panic branch.
    for (i, &l) in lam.iter().enumerate() {
        let dui = row_mut(du, i, p);
        if l == T::NEG_INFINITY {
            dui.fill(T::ZERO);
            continue;
        }
        let (gxi, dxi, dli) = (row(gx, i, d), row(dxp, i, dp), row(dlogw, i, p));
        if !finite(dui) || !finite(gxi) {
            return Err(Error::NonFinite);
        }
        if score {
            for ((o, &dl), &sc) in dui.iter_mut().zip(dli).zip(row(dxp, i, p)) {
                *o += dl + sc;
            }
            continue;
        }
        for (c, (o, &dl)) in dui.iter_mut().zip(dli).enumerate() {
            let mut s = *o + dl;
            for (k, &g) in gxi.iter().enumerate() {
                s += g * dxi.get(k * p + c).copied().unwrap_or(T::ZERO);
            }
            *o = s;
        }
    }
    if score {
        dxp.fill(T::ZERO);
    }
    ddelta.fill(T::ZERO);
    for (i, &l) in lam.iter().enumerate() {
        let w = l.exp();
        for (o, &v) in ddelta.iter_mut().zip(row(du, i, p)) {
            *o += w * v;
        }
    }
    for (i, &l) in lam.iter().enumerate() {
        if l != T::NEG_INFINITY {
            for (o, &v) in row_mut(du, i, p).iter_mut().zip(ddelta.iter()) {
                *o -= v;
            }
        }
    }
    let ess_now = ess(lam);
    let resample = cfg.trigger.fires(ess_now, n);
    // 4. the filtered mean and its tangent.
    weighted_mean(lam, xp, d, mean_ws);
    dmean_ws.fill(T::ZERO);
    for (i, &l) in lam.iter().enumerate() {
        let w = l.exp();
        if w == T::ZERO {
            continue;
        }
        let (xrow, dxrow, dui) = (row(xp, i, d), row(dxp, i, dp), row(du, i, p));
        for (k, (&xv, &m)) in xrow.iter().zip(mean_ws.iter()).enumerate() {
            let off = xv - m;
            let out = row_mut(dmean_ws, k, p);
            for ((o, &dv), &dl) in out.iter_mut().zip(row(dxrow, k, p)).zip(dui) {
                *o += w * (dv + off * dl);
            }
        }
    }
    // The outputs must be representable before anything is written.
    let log_likelihood = totals.log_likelihood + delta;
    for (o, &v) in ddelta.iter_mut().zip(dloglik.iter()) {
        *o += v;
    }
    if !log_likelihood.is_finite() || !finite(ddelta) || !finite(mean_ws) || !finite(dmean_ws) {
        return Err(Error::NonFinite);
    }
    // OT resampling and its JVP, before anything is committed: the tangents are
    // regrouped direction-major (θ index slowest) for `ot_resample_jvp` and back.
    let ot = match (&cfg.ot, resample) {
        (Some((otc, cg)), true) if OT => {
            let nd = n.saturating_mul(d);
            let xd = take(&mut rest, nd.saturating_mul(p))?;
            let ld = take(&mut rest, n.saturating_mul(p))?;
            let xo = take(&mut rest, nd)?;
            let xod = take(&mut rest, nd.saturating_mul(p))?;
            for (i, v) in dxp.iter().enumerate() {
                // i = (particle·d + k)·P + c  →  c·N·d + particle·d + k.
                if let Some(o) = xd.get_mut((i % p.max(1)) * nd + i / p.max(1)) {
                    *o = *v;
                }
            }
            for (i, v) in du.iter().enumerate() {
                if let Some(o) = ld.get_mut((i % p.max(1)) * n + i / p.max(1)) {
                    *o = *v;
                }
            }
            let r = ot_resample_jvp(xp, lam, d, otc, cg, (xd, ld), (xo, xod), rest)?;
            Some((xo, xod, r))
        }
        _ => None,
    };
    // 5. commit (infallible from here on).
    copy(mean, mean_ws);
    copy(dmean, dmean_ws);
    copy(dloglik, ddelta);
    let ot_report = if let Some((xo, xod, r)) = ot {
        let nd = n.saturating_mul(d);
        copy(x, xo);
        for (i, o) in dx.iter_mut().enumerate() {
            *o = xod
                .get((i % p.max(1)) * nd + i / p.max(1))
                .copied()
                .unwrap_or(T::ZERO);
        }
        dlogw.fill(T::ZERO);
        uniform_log_weights(logw);
        Some(r.forward)
    } else {
        None
    };
    if ot_report.is_none() {
        if resample {
            let keep = cfg.gradient != Gradient::Detach;
            draw(cfg.scheme, lam, rng, |slot, a| {
                copy_row(x, slot, xp, a, d);
                copy_row(dx, slot, dxp, a, dp);
                if keep {
                    copy_row(dlogw, slot, du, a, p);
                }
            });
            if !keep {
                dlogw.fill(T::ZERO);
            }
            uniform_log_weights(logw);
        } else {
            copy(x, xp);
            copy(dx, dxp);
            copy(dlogw, du);
            copy(logw, lam);
        }
    }
    totals.log_likelihood = log_likelihood;
    totals.steps += 1;
    totals.resamples += u64::from(resample);
    Ok(StepReport {
        log_likelihood_increment: delta,
        log_likelihood,
        ess: ess_now,
        resampled: resample,
        ot: ot_report,
    })
}
