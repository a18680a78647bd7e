//! The samplers: fixed-step steppers (one step or a whole grid) and the adaptive
//! reverse-SDE solver.
//!
//! | method | kind | evaluations per step | update (`h = t − t'`, coefficients of [`Process::coefs`]) |
//! |---|---|---|---|
//! | [`Method::EulerMaruyama`] | reverse SDE | 1 | `x' = x − h(f·x − g²·score) + g√h·z` |
//! | [`Method::ReverseDiffusion`] | reverse SDE | 1 | `x' = (2 − α)x + G²·score + G·z`, `α = a_t/a_t'`, `G² = s_t² − α²s_t'²` |
//! | [`Method::Ancestral`] | reverse SDE | 1 | DDPM posterior `N(α s_t'²/s_t²·x + a_t' G²/s_t²·x̂₀, G² s_t'²/s_t²)` |
//! | [`Method::ProbabilityFlowEuler`] | PF-ODE | 1 | `x' = x − h(f·x − ½g²·score)` |
//! | [`Method::Heun`] | PF-ODE (+churn) | 2 (1 on a step to σ̃ = 0) | EDM Algorithm 2 in `y = x/a`, `σ̃ = s/a` |
//! | [`Method::Ddim`] | PF-ODE | 1 | DPM-Solver-1: `x' = (s_t'/s_t)x + a_t'(1 − e^{−Δλ})x̂₀` |
//! | [`Method::DpmSolverPp2M`] | PF-ODE | 1 | DPM-Solver++(2M): as DDIM with `D = (1 + 1/2r)x̂₀ − (1/2r)x̂₀_prev` |
//! | [`Method::ErSde1`] | reverse SDE | 1 | ER-SDE-1: `y' = r·y + (1 − r)·x̂₀ + √(σ̃'² − σ̃²r²)·z` in `y = x/a`, `r = φ(σ̃')/φ(σ̃)` |
//! | [`Method::DpmSolverPp3M`] | PF-ODE | 1 | DDIM `+ a_t'(φ₂·d₁ − 2φ₃·d₂)` with divided differences of the last three x̂₀ |
//! | [`Method::UniPc`] | PF-ODE | 1 | UniPC-2 (bh2): UniC corrects the last step with x̂₀ at its end, then DPM-Solver++(2M) |
//!
//! The reverse-diffusion predictor is score_sde's, written for any process through its
//! exact forward transition `x_t = α·x_t' + G·ξ` (which is score_sde's DDPM
//! discretisation for VP and its SMLD one for VE). The ancestral step samples the
//! exact posterior `q(x_t' | x_t, x̂₀)` (DDPM's β̃ variance; score_sde's VP ancestral
//! uses the larger β; for VE the two coincide). The Langevin corrector
//! ([`Config::corrector_steps`]) runs before each predictor step with the per-sample
//! step size `ε = 2(snr·‖z‖/‖score‖)²` (score_sde averages the norms over the batch,
//! which would make samples depend on the batch; its VP factor `α_i = 1 − β_i` ∈
//! [0.98, 1] is taken as 1). With `denoise`, the last step adds no noise (score_sde's
//! `noise_removal`). A step to a time where `s = 0` (t = 0 for VP, σ = 0 for EDM) is
//! first order and lands on `a·x̂₀`, without dividing by zero.

mod adaptive;
mod fixed;
mod restart;

pub use adaptive::{adaptive, adaptive_resume, adaptive_state_len, AdaptiveConfig, AdaptiveStats};
pub use restart::{restart, Restart};

use super::model::{Evaluator, Model, Output};
use super::process::Process;
use super::{check_finite, check_param, check_shape, grid};
use crate::buf::copy;
use crate::buf::take;
use crate::{Error, Real};

/// The fixed-step methods.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Euler–Maruyama on the reverse SDE.
    EulerMaruyama,
    /// score_sde's reverse-diffusion predictor.
    ReverseDiffusion,
    /// Ancestral sampling (DDPM posterior).
    Ancestral,
    /// Euler on the probability-flow ODE.
    ProbabilityFlowEuler,
    /// EDM's Heun with optional churn.
    Heun(Churn),
    /// DDIM (η = 0) = DPM-Solver-1.
    Ddim,
    /// DPM-Solver++(2M), multistep second order (first order on the first step and on
    /// a step to `s = 0`).
    DpmSolverPp2M,
    /// DPM-Solver++(3M), multistep third order (first order on the first step and on a
    /// step to `s = 0`, second on the second). The second divided difference gets
    /// weight `2φ₃`: DPM-Solver's and k-diffusion's `φ₃` is half the exact weight and
    /// makes their 3M second order (`tests/tests/suite/sde_gaussian.rs`).
    /// It keeps two past x̂₀, so only [`sample`] runs it; [`step`] returns
    /// `InvalidParameter`.
    DpmSolverPp3M,
    /// ER-SDE-Solver-1 (Cui et al. 2023) with its default noise-scale function
    /// `φ(σ) = σ(e^{σ^{0.3}} + 10)`: in `y = x/a`, `σ̃ = s/a`,
    /// `y' = r·y + (1 − r)·x̂₀ + √(σ̃'² − σ̃²r²)·z`, `r = φ(σ̃')/φ(σ̃)`
    /// (`φ(σ) = σ` gives DDIM, `φ(σ) = σ²` the reverse SDE's first-order step).
    ErSde1,
    /// UniPC-2 (Zhao et al. 2023) in data prediction with `B(h) = e^h − 1` ("bh2"): the
    /// predictor is DPM-Solver++(2M); before each step the UniC corrector redoes the
    /// last step with x̂₀ at its end (already evaluated for this step: no extra
    /// evaluation), which raises the order to 3. The last step is not corrected. No
    /// Langevin corrector (`corrector_steps > 0` is `InvalidParameter`). It keeps two past x̂₀ and the last step's start, so only [`sample`] runs it;
    /// [`step`] returns `InvalidParameter`.
    UniPc,
}

/// EDM's stochastic churn for [`Method::Heun`]: before the step, noise is added to
/// raise `σ̃` to `σ̂ = σ̃(1 + γ)` when `s_min ≤ σ̃ ≤ s_max`.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Churn {
    /// γ per step, EDM's `S_churn / N` (0 = deterministic Heun); at most `√2 − 1`.
    pub gamma: f64,
    /// Lower end of the σ̃ range where churn applies (EDM `S_min`, default 0).
    pub s_min: f64,
    /// Upper end of that range (EDM `S_max`, default ∞).
    pub s_max: f64,
    /// Noise inflation (EDM `S_noise`, default 1).
    pub s_noise: f64,
}

impl Churn {
    /// No churn: deterministic Heun.
    pub const NONE: Self = Self {
        gamma: 0.0,
        s_min: 0.0,
        s_max: f64::INFINITY,
        s_noise: 1.0,
    };

    fn validate(&self) -> Result<(), Error> {
        check_param(self.gamma, 0.0, false)?;
        if self.gamma > core::f64::consts::SQRT_2 - 1.0 + 1e-12 {
            return Err(Error::InvalidParameter);
        }
        check_param(self.s_min, 0.0, false)?;
        check_param(self.s_noise, 0.0, false)?;
        if self.s_max.is_nan() || self.s_max < self.s_min {
            return Err(Error::InvalidParameter);
        }
        Ok(())
    }
}

/// The corrector's step size `ε` (both run `x += ε·score + √(2ε)·z`).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corrector {
    /// score_sde's `LangevinCorrector`: `ε = 2(snr·‖z‖/‖score‖)²` per sample. The step
    /// depends on the state, which changes the chain's invariant law: in low dimension
    /// (where `‖score‖` does not concentrate) samples near a mode take huge steps and
    /// the result is biased (ring test: 14× the noise floor at snr 0.16, see
    /// `docs/sde.md`). score_sde hides this by averaging the norms over the batch,
    /// which would make a sample depend on its batch.
    Langevin,
    /// score_sde's `AnnealedLangevinDynamics`: `ε = 2(snr·s_t)²`, the same for every
    /// sample (the per-sample formula with `‖score‖² ≈ d/s_t²`, `‖z‖² ≈ d`); unbiased
    /// up to the O(ε) discretisation error. Recommended for d ≲ 100.
    Annealed,
}

/// Settings of a fixed-step sampler.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// The predictor.
    pub method: Method,
    /// Langevin corrector iterations before each predictor step (0 = none; at most 15).
    pub corrector_steps: u32,
    /// How the corrector chooses its step size.
    pub corrector: Corrector,
    /// The corrector's signal-to-noise ratio (score_sde: 0.16 for CIFAR-10 VE).
    pub snr: f64,
    /// Drop the noise of the last step (score_sde's `noise_removal`); in [`step`]:
    /// this step adds no noise.
    pub denoise: bool,
}

impl Config {
    /// A plain predictor: no corrector, noise on the last step kept.
    #[must_use]
    pub const fn new(method: Method) -> Self {
        Self {
            method,
            corrector_steps: 0,
            corrector: Corrector::Langevin,
            snr: 0.16,
            denoise: false,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        if self.corrector_steps > 15 {
            return Err(Error::InvalidParameter);
        }
        check_param(self.snr, 0.0, true)?;
        if let Method::Heun(c) = self.method {
            c.validate()?;
        }
        // UniC rebuilds the state from the last step: a Langevin move before it would
        // be discarded.
        if self.method == Method::UniPc && self.corrector_steps > 0 {
            return Err(Error::InvalidParameter);
        }
        Ok(())
    }
}

/// History of [`Method::DpmSolverPp2M`] between single steps: the previous denoised
/// estimate (n·d) and the previous step in λ. Start with `h_prev = None`.
#[derive(Debug)]
pub struct Multistep<'a, T> {
    /// x̂₀ of the previous step (n·d values; written by each step).
    pub denoised: &'a mut [T],
    /// The previous step's `Δλ`, `None` before the first step.
    pub h_prev: Option<f64>,
}

/// Workspace length (in `T` values) every sampler here needs for n samples in
/// dimension d: `6·n·d + 3·n + 3·d`.
#[must_use]
pub const fn workspace_len(n: usize, d: usize) -> usize {
    match n.checked_mul(d) {
        Some(nd) => match nd.checked_mul(6) {
            Some(v) => v.saturating_add(3 * n).saturating_add(3 * d),
            None => usize::MAX,
        },
        None => usize::MAX,
    }
}

/// The workspace cut into its parts.
pub(crate) struct Bufs<'w, T> {
    pub(crate) cur: &'w mut [T],
    pub(crate) out: &'w mut [T],
    pub(crate) a: &'w mut [T],
    pub(crate) b: &'w mut [T],
    pub(crate) c: &'w mut [T],
    pub(crate) e: &'w mut [T],
    pub(crate) t: &'w mut [T],
    pub(crate) k: &'w mut [T],
    pub(crate) dk: &'w mut [T],
    pub(crate) row: &'w mut [T],
}

impl<'w, T: Real> Bufs<'w, T> {
    pub(crate) fn split(ws: &'w mut [T], n: usize, d: usize) -> Result<Self, Error> {
        if ws.len() < workspace_len(n, d) {
            return Err(Error::WorkspaceTooSmall);
        }
        let nd = n * d;
        let mut r = ws;
        let (cur, out) = (take(&mut r, nd)?, take(&mut r, nd)?);
        let (a, b, c, e) = (
            take(&mut r, nd)?,
            take(&mut r, nd)?,
            take(&mut r, nd)?,
            take(&mut r, nd)?,
        );
        let (t, k, dk) = (take(&mut r, n)?, take(&mut r, n)?, take(&mut r, n)?);
        let row = take(&mut r, 3 * d)?;
        Ok(Self {
            cur,
            out,
            a,
            b,
            c,
            e,
            t,
            k,
            dk,
            row,
        })
    }
}

/// Where the noise of a call comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Keys {
    pub(crate) seed: u64,
    pub(crate) first_sample: u64,
}

/// Checks what every sampler needs: process, a model output the process can take (no
/// velocity: these processes are not the linear interpolant), shape, finite state;
/// returns n.
pub(crate) fn check_common<T: Real>(
    process: &Process,
    output: Output,
    x: &[T],
    d: usize,
) -> Result<usize, Error> {
    process.validate()?;
    if output == Output::Velocity {
        return Err(Error::InvalidParameter);
    }
    let n = check_shape(x.len(), d)?;
    check_finite(x)?;
    Ok(n)
}

/// One step of a fixed-step sampler from `t` to `t_next < t`, in place on `x` (n·d).
///
/// `step_index` keys the noise (use the step's position in the trajectory); sample `i`
/// draws from stream `first_sample + i`. `history` carries DPM-Solver++(2M)'s previous
/// x̂₀ (`None`: first order); other methods ignore it. Returns the number of model
/// evaluations.
///
/// # Errors
/// `EmptyInput`/`LengthMismatch` (shapes, `history.denoised.len() != x.len()`),
/// `NonFiniteInput` (x, times), `InvalidParameter` (process, config, `t` outside the
/// range or where `s = 0`, `t_next ∉ [0, t)`, [`Method::DpmSolverPp3M`],
/// [`Method::UniPc`]),
/// `WorkspaceTooSmall`, the model's error,
/// `NonFinite` (the model returned or the step produced NaN/∞). On error `x` and
/// `history` are unchanged.
///
/// # Panics
/// Never.
#[allow(clippy::too_many_arguments)]
pub fn step<T: Real, M: Model<T>>(
    process: &Process,
    config: &Config,
    model: &mut M,
    x: &mut [T],
    d: usize,
    t: T,
    t_next: T,
    step_index: u64,
    seed: u64,
    first_sample: u64,
    history: Option<&mut Multistep<'_, T>>,
    ws: &mut [T],
) -> Result<u64, Error> {
    let n = check_common(process, model.output(), x, d)?;
    config.validate()?;
    if matches!(config.method, Method::DpmSolverPp3M | Method::UniPc) {
        return Err(Error::InvalidParameter);
    }
    let (t, t_next) = (t.to_f64(), t_next.to_f64());
    grid::validate(process, &[T::from_f64(t), T::from_f64(t_next)])?;
    if let Some(h) = history.as_deref() {
        if h.denoised.len() != x.len() {
            return Err(Error::LengthMismatch);
        }
        if let Some(hp) = h.h_prev {
            check_param(hp, 0.0, true)?;
        }
    }
    let mut bufs = Bufs::split(ws, n, d)?;
    let mut ev = Evaluator::new(model, process, d);
    let keys = Keys { seed, first_sample };
    copy(bufs.cur, x);
    // Corrector first (score_sde order), then the predictor.
    fixed::correct(&mut ev, config, &mut bufs, t, step_index, keys)?;
    // Work on a copy of the history so that an error leaves it unchanged.
    let mut h_prev = [history.as_deref().and_then(|h| h.h_prev), None];
    if let Some(h) = history.as_deref() {
        copy(bufs.e, h.denoised);
    }
    let have_hist = history.is_some();
    fixed::advance(
        &mut ev,
        config.method,
        &mut bufs,
        t,
        t_next,
        step_index,
        keys,
        !config.denoise,
        have_hist.then_some(&mut h_prev),
    )?;
    check_finite(bufs.cur).map_err(|_| Error::NonFinite)?;
    if history.is_some() {
        // The stored x̂₀ is an output too: it must be finite.
        check_finite(bufs.e).map_err(|_| Error::NonFinite)?;
    }
    copy(x, bufs.cur);
    if let Some(h) = history {
        copy(h.denoised, bufs.e);
        h.h_prev = h_prev[0];
    }
    Ok(ev.count)
}

/// What a full fixed-step run did.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Batched model evaluations.
    pub evaluations: u64,
    /// Steps taken (grid length − 1).
    pub steps: u64,
}

/// Runs a fixed-step sampler along `grid` (decreasing times, see [`grid::validate`]),
/// in place on `x` (n·d samples, usually from [`Process::prior_sample`]). Step `j`
/// (from `grid[j]` to `grid[j+1]`) keys its noise with `j`.
///
/// # Errors
/// As [`step`]; on error `x` is unchanged.
///
/// # Panics
/// Never.
#[allow(clippy::too_many_arguments)]
pub fn sample<T: Real, M: Model<T>>(
    process: &Process,
    config: &Config,
    model: &mut M,
    grid: &[T],
    x: &mut [T],
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: &mut [T],
) -> Result<Stats, Error> {
    let n = check_common(process, model.output(), x, d)?;
    config.validate()?;
    grid::validate(process, grid)?;
    let mut bufs = Bufs::split(ws, n, d)?;
    let mut ev = Evaluator::new(model, process, d);
    let keys = Keys { seed, first_sample };
    copy(bufs.cur, x);
    let mut h_prev = [None, None];
    let steps = grid.len() - 1;
    for (j, pair) in (0_u64..).zip(grid.windows(2)) {
        let (t, t_next) = match pair {
            [a, b] => (a.to_f64(), b.to_f64()),
            _ => return Err(Error::EmptyInput),
        };
        let last = j + 1 == steps as u64;
        fixed::correct(&mut ev, config, &mut bufs, t, j, keys)?;
        fixed::advance(
            &mut ev,
            config.method,
            &mut bufs,
            t,
            t_next,
            j,
            keys,
            !(config.denoise && last),
            Some(&mut h_prev),
        )?;
        check_finite(bufs.cur).map_err(|_| Error::NonFinite)?;
    }
    copy(x, bufs.cur);
    Ok(Stats {
        evaluations: ev.count,
        steps: steps as u64,
    })
}
