//! Differentiable particle filtering, reverse mode over a window: [`tape_step`] runs
//! the filter step of [`diff`](super::diff) without tangents and records each tick on
//! a caller-sized [`Tape`]; [`tape_gradient`] then runs backwards through the window
//! once and returns the gradient of J = c·ℓ̂ + Σ_t ⟨μ̄_t, μ_t⟩ (ℓ̂ the window's
//! log-likelihood, μ_t the filtered means, c and μ̄_t the caller's cotangents) with
//! respect to θ, at a cost independent of P in the library's own work (filterflow's
//! use: learning offline, or on a sliding window).
//!
//! Per tick the tape holds what the backward pass cannot recompute cheaply: the input
//! particles x (N·d), the normals ξ (N·k), the proposed particles x' (N·d), the
//! normalised log-weights ℓ' (N), the ancestors (N, exact integers) and what
//! resampled (1: none, classical, OT). The backward pass calls the model's
//! [`seek`](super::DiffModel::seek), then `loglik_grad` and `transition_vjp`, at each
//! tick from the last to the first; OT resampling is differentiated by its implicit
//! VJP ([`ot_resample_vjp`]), which re-solves the map.
//!
//! Backward through one tick, given x̄⁺, ℓ̄⁺ (cotangents of the tick's outputs):
//! 1. resampling: none — x̄' = x̄⁺, ℓ̄' = ℓ̄⁺; classical — x̄'_{a_j} += x̄⁺_j, and with
//!    [`Gradient::StopGradient`] ℓ̄'_{a_j} += ℓ̄⁺_j (with `Detach` the new weights are
//!    constants); OT — (x̄', ℓ̄') = the map's VJP at x̄⁺ (the new weights are constants);
//! 2. the mean: x̄'_i += W'_i μ̄, ℓ̄'_i += W'_i ⟨μ̄, x'_i⟩;
//! 3. normalisation and Δℓ: ū_i = ℓ̄'_i − W'_i Σ_k ℓ̄'_k + c·W'_i (0 for dead particles);
//! 4. the log-likelihood: x̄'_i += ū_i ∇_x λ_i, θ̄ += ū_i ∇_θ λ_i;
//! 5. the transition: (x̄_i, θ̄_i) = VJP of f at x̄'_i, θ̄ += Σ_i θ̄_i; ℓ̄ = ū.
//!
//! This is the transpose of [`diff_step`](super::diff_step)'s forward mode: both give
//! the same gradient of ℓ̂ for the same random numbers (to rounding; to the CG
//! tolerance with OT resampling).

use crate::buf::{copy, take};
use crate::error::Error;
use crate::real::Real;

use super::diff::{finite, reweigh, row, row_mut, weighted_mean, DiffConfig, DiffModel, Gradient};
use super::filter::{uniform_log_weights, StepReport, Totals};
use super::grad::{ot_resample_vjp, vjp_workspace_len, Vjp};
use super::ot_resample::{check_inputs, ot_resample, ot_workspace_len};
use super::resample::draw;
use super::rng::{restoring, RandomSource};
use super::state::copy_row;
use super::weights::ess;

/// What a recorded tick did at resampling (the tick's last tape value).
const NONE: usize = 0;
const CLASSICAL: usize = 1;
const OPTIMAL: usize = 2;

/// Values one tick takes on the tape: N·(2d + k + 2) + 1.
#[must_use]
pub const fn tape_tick_len(n: usize, d: usize, k: usize) -> usize {
    n.saturating_mul(d.saturating_mul(2).saturating_add(k).saturating_add(2))
        .saturating_add(1)
}

/// Values of a tape for `window` ticks of N particles, dimension d, k normals per
/// particle: `window`·(N·(2d + k + 2) + 1). Saturates at `usize::MAX` on overflow.
#[must_use]
pub const fn tape_len(n: usize, d: usize, k: usize, window: usize) -> usize {
    tape_tick_len(n, d, k).saturating_mul(window)
}

/// Workspace values [`tape_step`] needs: N·(k + d + 1) + d (the normals, the proposed
/// particles, the log-weights, the mean before they are committed), plus with OT
/// resampling N·d + [`ot_workspace_len`]`(N, d)`. Saturates at `usize::MAX`.
#[must_use]
pub const fn tape_step_workspace_len(n: usize, d: usize, k: usize, ot: bool) -> usize {
    let base = n
        .saturating_mul(k.saturating_add(d).saturating_add(1))
        .saturating_add(d);
    if ot {
        base.saturating_add(n.saturating_mul(d))
            .saturating_add(ot_workspace_len(n, d))
    } else {
        base
    }
}

/// Workspace values [`tape_gradient`] needs: N·(4d + 2 + P) + P (the cotangents of
/// both ends of a tick, ∇_x λ, the per-particle θ̄, the running θ̄), plus with OT
/// resampling [`vjp_workspace_len`]`(N, d)`. Saturates at `usize::MAX`.
#[must_use]
pub const fn tape_gradient_workspace_len(n: usize, d: usize, p: usize, ot: bool) -> usize {
    let base = n
        .saturating_mul(d.saturating_mul(4).saturating_add(2).saturating_add(p))
        .saturating_add(p);
    if ot {
        base.saturating_add(vjp_workspace_len(n, d))
    } else {
        base
    }
}

/// A window of recorded ticks in caller memory ([`tape_len`] values): N, d, k and the
/// capacity are fixed at creation; [`tape_step`] appends, [`tape_gradient`] reads
/// (through [`recorded`](Self::recorded)), [`clear`](Self::clear) starts a new window.
#[derive(Debug)]
pub struct Tape<'a, T> {
    values: &'a mut [T],
    shape: Shape,
}

/// A recorded window, read only: what [`tape_gradient`] reads. From a [`Tape`]
/// ([`Tape::recorded`], or `&tape` through `From`), or over values recorded earlier
/// ([`Recorded::new`]: the C ABI keeps the tape's values and counts between calls).
#[derive(Clone, Copy, Debug)]
pub struct Recorded<'a, T> {
    values: &'a [T],
    shape: Shape,
}

/// What a tape holds: N particles in dimension d, k noise values each, room for
/// `window` ticks of which `ticks` are recorded.
#[derive(Clone, Copy, Debug)]
struct Shape {
    n: usize,
    d: usize,
    k: usize,
    window: usize,
    ticks: usize,
}

impl Shape {
    /// The shape of a tape over `len` values of `T`, checked (see [`Tape::new`]).
    fn checked<T: Real>(
        (n, d, k): (usize, usize, usize),
        window: usize,
        ticks: usize,
        len: usize,
    ) -> Result<Self, Error> {
        if n == 0 || d == 0 || window == 0 {
            return Err(Error::EmptyInput);
        }
        let need = tape_len(n, d, k, window);
        if need == usize::MAX || len < need {
            return Err(Error::WorkspaceTooSmall);
        }
        if ticks > window || index(T::from_usize(n - 1)) != n - 1 {
            return Err(Error::InvalidParameter);
        }
        Ok(Shape {
            n,
            d,
            k,
            window,
            ticks,
        })
    }
}

impl<'a, T: Real> Tape<'a, T> {
    /// A tape over `values` holding `ticks` recorded ticks (0 for a new window; the C
    /// ABI keeps the count between calls).
    ///
    /// # Errors
    /// `EmptyInput` (N, d or `window` = 0), `WorkspaceTooSmall` (`values` shorter
    /// than [`tape_len`]), `InvalidParameter` (`ticks` > `window`, or N − 1 not exact
    /// in `T`: ancestors are stored as values, so f32 holds N ≤ 2²⁴ + 1).
    pub fn new(
        values: &'a mut [T],
        n: usize,
        d: usize,
        k: usize,
        window: usize,
        ticks: usize,
    ) -> Result<Self, Error> {
        let shape = Shape::checked::<T>((n, d, k), window, ticks, values.len())?;
        Ok(Self { values, shape })
    }

    /// Ticks recorded in this window.
    #[must_use]
    pub fn ticks(&self) -> usize {
        self.shape.ticks
    }

    /// Forgets the recorded ticks (the values are overwritten as new ticks come).
    pub fn clear(&mut self) {
        self.shape.ticks = 0;
    }

    /// The recorded window, read only.
    #[must_use]
    pub fn recorded(&self) -> Recorded<'_, T> {
        Recorded {
            values: self.values,
            shape: self.shape,
        }
    }
}

impl<'t, T: Real> From<&'t Tape<'_, T>> for Recorded<'t, T> {
    fn from(tape: &'t Tape<'_, T>) -> Self {
        tape.recorded()
    }
}

impl<'a, T: Real> Recorded<'a, T> {
    /// `ticks` ticks recorded in `values` by a tape of the same shape.
    ///
    /// # Errors
    /// As [`Tape::new`].
    pub fn new(
        values: &'a [T],
        n: usize,
        d: usize,
        k: usize,
        window: usize,
        ticks: usize,
    ) -> Result<Self, Error> {
        let shape = Shape::checked::<T>((n, d, k), window, ticks, values.len())?;
        Ok(Self { values, shape })
    }

    /// Tick `t`'s values.
    fn tick(&self, t: usize) -> Tick<'a, T> {
        let Shape { n, d, k, .. } = self.shape;
        let len = tape_tick_len(n, d, k);
        let mut v = self.values.get(t * len..(t + 1) * len).unwrap_or(&[]);
        let mut cut = |m: usize| {
            let (a, b) = v.split_at(m.min(v.len()));
            v = b;
            a
        };
        Tick {
            x: cut(n * d),
            xi: cut(n * k),
            xp: cut(n * d),
            lam: cut(n),
            anc: cut(n),
            flag: v.first().map_or(NONE, |&f| index(f)),
        }
    }
}

/// One recorded tick (see the module documentation).
struct Tick<'t, T> {
    x: &'t [T],
    xi: &'t [T],
    xp: &'t [T],
    lam: &'t [T],
    anc: &'t [T],
    flag: usize,
}

/// A stored small non-negative integer back as an index.
fn index<T: Real>(v: T) -> usize {
    v.to_f64() as usize
}

/// One forward step of the filter, recorded on `tape` as its next tick: the values
/// are those of [`diff_step`](super::diff_step) with the same settings and random
/// stream (bit for bit), without tangents.
///
/// - `theta` (P ≥ 1), `d`, `cfg`, `rng`, `x` (N·d), `logw` (N, normalised), `totals`,
///   `mean` (d): as [`diff_step`](super::diff_step).
/// - `tape`: created for this N, d and the model's k; its count grows by one.
/// - `ws`: [`tape_step_workspace_len`]`(N, d, k, cfg.ot.is_some())` values.
///
/// # Errors
/// As [`diff_step`](super::diff_step) (`InvalidParameter` for
/// [`Gradient::Score`], which has no pathwise reverse mode), plus `LengthMismatch`
/// (the tape's N, d or k differ) and `WorkspaceTooSmall` (`ws` short, or the tape
/// already holds its window: take the gradient and [`clear`](Tape::clear) it).
/// Nothing is changed on error, the RNG and the tape included.
#[allow(clippy::too_many_arguments)]
pub fn tape_step<T, R, M>(
    model: &mut M,
    theta: &[T],
    d: usize,
    cfg: &DiffConfig<T>,
    rng: &mut R,
    x: &mut [T],
    logw: &mut [T],
    totals: &mut Totals<T>,
    mean: &mut [T],
    tape: &mut Tape<'_, T>,
    ws: &mut [T],
) -> Result<StepReport<T>, Error>
where
    T: Real,
    R: RandomSource + Clone,
    M: DiffModel<T> + ?Sized,
{
    restoring(rng, |rng| {
        record(model, theta, d, cfg, rng, x, logw, totals, mean, tape, ws)
    })
}

/// [`tape_step`] without the RNG restore.
#[allow(clippy::too_many_arguments)]
fn record<T, R, M>(
    model: &mut M,
    theta: &[T],
    d: usize,
    cfg: &DiffConfig<T>,
    rng: &mut R,
    x: &mut [T],
    logw: &mut [T],
    totals: &mut Totals<T>,
    mean: &mut [T],
    tape: &mut Tape<'_, T>,
    ws: &mut [T],
) -> Result<StepReport<T>, Error>
where
    T: Real,
    R: RandomSource,
    M: DiffModel<T> + ?Sized,
{
    if theta.is_empty() {
        return Err(Error::EmptyInput);
    }
    let prev = check_inputs(x, logw, d)?;
    cfg.check()?;
    if cfg.gradient == Gradient::Score {
        return Err(Error::InvalidParameter);
    }
    let n = logw.len();
    let k = model.noise_dim();
    if mean.len() != d || tape.shape.n != n || tape.shape.d != d || tape.shape.k != k {
        return Err(Error::LengthMismatch);
    }
    if !finite(theta) {
        return Err(Error::NonFiniteInput);
    }
    if tape.shape.ticks >= tape.shape.window
        || ws.len() < tape_step_workspace_len(n, d, k, cfg.ot.is_some())
    {
        return Err(Error::WorkspaceTooSmall);
    }
    let mut rest = ws;
    let xi = take(&mut rest, n * k)?;
    let xp = take(&mut rest, n * d)?;
    let lam = take(&mut rest, n)?;
    let mean_ws = take(&mut rest, d)?;

    rng.fill_normal(xi);
    model.transition(theta, x, xi, xp)?;
    if !finite(xp) {
        return Err(Error::NonFinite);
    }
    model.loglik(theta, xp, lam)?;
    let delta = reweigh(lam, logw, prev)?;
    let ess_now = ess(lam);
    let resample = cfg.trigger.fires(ess_now, n);
    weighted_mean(lam, xp, d, mean_ws);
    let log_likelihood = totals.log_likelihood + delta;
    if !log_likelihood.is_finite() || !finite(mean_ws) {
        return Err(Error::NonFinite);
    }
    let ot = match (&cfg.ot, resample) {
        (Some((otc, _)), true) => {
            let xo = take(&mut rest, n * d)?;
            let r = ot_resample(xp, lam, d, otc, xo, rest)?;
            Some((xo, r))
        }
        _ => None,
    };

    // Commit (infallible from here on): the tick, then the filter's state.
    let len = tape_tick_len(n, d, k);
    let slot = tape
        .values
        .get_mut(tape.shape.ticks * len..(tape.shape.ticks + 1) * len)
        .ok_or(Error::WorkspaceTooSmall)?;
    let mut s: &mut [T] = slot;
    let (tx, txi, txp, tlam, tanc) = (
        take(&mut s, n * d)?,
        take(&mut s, n * k)?,
        take(&mut s, n * d)?,
        take(&mut s, n)?,
        take(&mut s, n)?,
    );
    copy(tx, x);
    copy(txi, xi);
    copy(txp, xp);
    copy(tlam, lam);
    copy(mean, mean_ws);
    let report = ot.as_ref().map(|(_, r)| *r);
    let flag = match ot {
        Some((xo, _)) => {
            copy(x, xo);
            uniform_log_weights(logw);
            OPTIMAL
        }
        None if resample => {
            draw(cfg.scheme, lam, rng, |j, a| {
                copy_row(x, j, xp, a, d);
                if let Some(o) = tanc.get_mut(j) {
                    *o = T::from_usize(a);
                }
            });
            uniform_log_weights(logw);
            CLASSICAL
        }
        None => {
            copy(x, xp);
            copy(logw, lam);
            NONE
        }
    };
    if let Some(f) = s.first_mut() {
        *f = T::from_usize(flag);
    }
    tape.shape.ticks += 1;
    totals.log_likelihood = log_likelihood;
    totals.steps += 1;
    totals.resamples += u64::from(resample);
    Ok(StepReport {
        log_likelihood_increment: delta,
        log_likelihood,
        ess: ess_now,
        resampled: resample,
        ot: report,
    })
}

/// The gradient of J = `loglik_bar`·ℓ̂ + Σ_t ⟨μ̄_t, μ_t⟩ over the tape's window with
/// respect to θ, by one backward pass (see the module documentation).
///
/// - `model`, `theta` (P ≥ 1), `d`, `cfg`: those the window was recorded with (the
///   model must implement [`seek`](DiffModel::seek) and
///   [`transition_vjp`](DiffModel::transition_vjp)).
/// - `tape`: the recorded window, `&tape` or a [`Recorded`] view; only read.
/// - `mean_bar`: μ̄_t for every recorded tick (ticks × d, row-major), or empty for
///   none.
/// - `dtheta` (P): ∂J/∂θ, written. `x0_bar` (N·d) and `logw0_bar` (N): ∂J/∂x and
///   ∂J/∂ℓ at the window's start (to chain windows), written; pass empty slices when
///   not wanted.
/// - `ws`: [`tape_gradient_workspace_len`]`(N, d, P, cfg.ot.is_some())` values.
///
/// # Errors
/// `EmptyInput` (P = 0 or no tick recorded), `LengthMismatch` (a slice against N, d,
/// P and the tick count; `d` or the model's k not the tape's), `NonFiniteInput` (θ,
/// `loglik_bar` or `mean_bar`), `InvalidParameter` (the settings, as
/// [`tape_step`]), `WorkspaceTooSmall`, whatever a model method or OT resampling's VJP
/// returns, `NonFinite` (a model wrote a non-finite gradient, or a result
/// overflowed). Nothing is written on error.
#[allow(clippy::too_many_arguments)]
pub fn tape_gradient<'r, T, M>(
    model: &mut M,
    theta: &[T],
    d: usize,
    cfg: &DiffConfig<T>,
    tape: impl Into<Recorded<'r, T>>,
    loglik_bar: T,
    mean_bar: &[T],
    dtheta: &mut [T],
    x0_bar: &mut [T],
    logw0_bar: &mut [T],
    ws: &mut [T],
) -> Result<(), Error>
where
    T: Real + 'r,
    M: DiffModel<T> + ?Sized,
{
    let tape = tape.into();
    let Shape { n, ticks, .. } = tape.shape;
    let p = theta.len();
    if p == 0 || ticks == 0 {
        return Err(Error::EmptyInput);
    }
    cfg.check()?;
    if cfg.gradient == Gradient::Score {
        return Err(Error::InvalidParameter);
    }
    let nd = n * d;
    if tape.shape.d != d
        || tape.shape.k != model.noise_dim()
        || dtheta.len() != p
        || !(mean_bar.is_empty() || mean_bar.len() == ticks * d)
        || !(x0_bar.is_empty() || x0_bar.len() == nd)
        || !(logw0_bar.is_empty() || logw0_bar.len() == n)
    {
        return Err(Error::LengthMismatch);
    }
    if !finite(theta) || !loglik_bar.is_finite() || !finite(mean_bar) {
        return Err(Error::NonFiniteInput);
    }
    let ot = cfg.ot.map(|(otc, cg)| {
        let vjp = Vjp::Implicit {
            cg_tolerance: cg.tolerance,
            cg_max_iterations: cg.max_iterations,
        };
        (otc, vjp)
    });
    if ws.len() < tape_gradient_workspace_len(n, d, p, ot.is_some()) {
        return Err(Error::WorkspaceTooSmall);
    }
    let mut rest = ws;
    let mut xb = take(&mut rest, nd)?; // x̄⁺, then x̄ (the tick's input)
    let mut lb = take(&mut rest, n)?; // ℓ̄⁺, then ū = ℓ̄
    let mut xb2 = take(&mut rest, nd)?; // x̄'
    let mut lb2 = take(&mut rest, n)?; // ℓ̄'
    let gx = take(&mut rest, nd)?; // the weights exp(ℓ'), then ∇_x' λ
    let gt = take(&mut rest, n * p)?;
    let acc = take(&mut rest, p)?;
    xb.fill(T::ZERO);
    lb.fill(T::ZERO);
    acc.fill(T::ZERO);

    for t in (0..ticks).rev() {
        let tick = tape.tick(t);
        // 1. resampling.
        match tick.flag {
            OPTIMAL => {
                let (otc, vjp) = ot.ok_or(Error::InvalidParameter)?;
                ot_resample_vjp(tick.xp, tick.lam, d, &otc, &vjp, xb, xb2, lb2, rest)?;
            }
            CLASSICAL => {
                xb2.fill(T::ZERO);
                lb2.fill(T::ZERO);
                let keep = cfg.gradient == Gradient::StopGradient;
                for (j, &a) in tick.anc.iter().enumerate() {
                    let a = index(a);
                    for (o, &v) in row_mut(xb2, a, d).iter_mut().zip(row(xb, j, d)) {
                        *o += v;
                    }
                    if keep {
                        if let (Some(o), Some(&v)) = (lb2.get_mut(a), lb.get(j)) {
                            *o += v;
                        }
                    }
                }
            }
            _ => {
                // x̄ is overwritten by the transition's VJP below.
                core::mem::swap(&mut xb, &mut xb2);
                core::mem::swap(&mut lb, &mut lb2);
            }
        }
        // 2. the mean, 3. normalisation and Δℓ.
        let mb = mean_bar.get(t * d..(t + 1) * d).unwrap_or(&[]);
        let mut sum = T::ZERO;
        for (i, ((&l, o), wi)) in tick
            .lam
            .iter()
            .zip(lb2.iter_mut())
            .zip(gx.iter_mut())
            .enumerate()
        {
            let w = l.exp();
            *wi = w;
            if !mb.is_empty() {
                let mut dot = T::ZERO;
                for ((xv, &m), &xpv) in row_mut(xb2, i, d)
                    .iter_mut()
                    .zip(mb)
                    .zip(row(tick.xp, i, d))
                {
                    *xv += w * m;
                    dot += m * xpv;
                }
                *o += w * dot;
            }
            sum += *o;
        }
        for ((&l, o), &w) in tick.lam.iter().zip(lb2.iter_mut()).zip(gx.iter()) {
            *o = if l == T::NEG_INFINITY {
                T::ZERO
            } else {
                *o - w * sum + loglik_bar * w
            };
        }
        // 4. the log-likelihood.
        model.seek(t)?;
        model.loglik_grad(theta, tick.xp, gx, gt)?;
        for (i, &u) in lb2.iter().enumerate() {
            if tick.lam.get(i) == Some(&T::NEG_INFINITY) {
                continue;
            }
            let (gxi, gti) = (row(gx, i, d), row(gt, i, p));
            if !finite(gxi) || !finite(gti) {
                return Err(Error::NonFinite);
            }
            for (o, &g) in row_mut(xb2, i, d).iter_mut().zip(gxi) {
                *o += u * g;
            }
            for (o, &g) in acc.iter_mut().zip(gti) {
                *o += u * g;
            }
        }
        // 5. the transition.
        model.transition_vjp(theta, tick.x, tick.xi, tick.xp, xb2, xb, gt)?;
        if !finite(xb) || !finite(gt) {
            return Err(Error::NonFinite);
        }
        for i in 0..n {
            for (o, &g) in acc.iter_mut().zip(row(gt, i, p)) {
                *o += g;
            }
        }
        core::mem::swap(&mut lb, &mut lb2);
    }
    if !finite(acc) || !finite(xb) || !finite(lb) {
        return Err(Error::NonFinite);
    }
    copy(dtheta, acc);
    copy(x0_bar, xb);
    copy(logw0_bar, lb);
    Ok(())
}
