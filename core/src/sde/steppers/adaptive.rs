//! The adaptive reverse-SDE solver of Jolicoeur-Martineau et al. (2021, "Gotta Go
//! Fast"), with per-sample times and step sizes, and a Brownian-bridge memory so that
//! rejected steps do not bias the samples.
//!
//! Per sample, with `F(x, t) = f(t)·x − g(t)²·score(x, t)` and the Brownian increment
//! `ΔW` over the attempted step `h`:
//! 1. `x' = x − h·F(x, t) + g(t)·ΔW` (Euler–Maruyama),
//! 2. `x̃ = x − h·F(x', t − h) + g(t − h)·ΔW` (same `ΔW`), `x'' = (x' + x̃)/2`
//!    (stochastic improved Euler),
//! 3. error `E = ‖(x'' − x')/δ‖₂/√d` with `δ = max(ε_abs, ε_rel·max(|x'|, |x'_prev|))`
//!    element-wise,
//! 4. accept if `E ≤ 1` (or the step is already the smallest allowed): `x ← x''`
//!    (extrapolation), `x'_prev ← x'`, `t ← t − h`,
//! 5. `h ← min(t − t_end, θ·h·E^{−r})`, the factor capped at 10 (GG does not cap it;
//!    `E = 0` would make it infinite).
//!
//! Defaults as GG: `ε_rel = 0.05` (paper runs: 0.01–0.1), `ε_abs = 0.0078`,
//! `h_init = 0.01`, `θ = 0.9`, `r = 0.9`. Two evaluations per iteration of the batch
//! loop; finished samples ride along (their results are ignored), as in GG.
//!
//! **Brownian memory.** GG draws a fresh `z` at every attempt, so the accept test
//! prefers small noise draws and the samples are biased (measured in
//! `tests/tests/suite/sde_mixture.rs` and `docs/sde.md`). With [`AdaptiveConfig::memory`] the
//! increments come from one Brownian path per sample, a *virtual Brownian tree*: time
//! `[t_end, t_start]` is cut into `2^L` cells (`L` = [`AdaptiveConfig::depth`] ≤ 24),
//! `W` at a cell boundary is found by descending from `W(t_start) = 0`,
//! `W(t_end) ~ N(0, t_start − t_end)` through Brownian-bridge midpoints, the midpoint
//! of node `j` drawn from the noise stream keyed by `j`. A rejected step's increment is
//! thus conditioned, not forgotten: the shorter retry gets the bridge of the same path.
//! Step ends are snapped to cell boundaries (at least one cell per step). Memory: the
//! current `W` per sample (n·d values); cost `L·d` normals per attempt.

use super::{check_common, Bufs, Keys};
use crate::buf::take;
use crate::buf::{copy, rows, rows_mut};
use crate::sde::model::{Evaluator, Model, Output};
use crate::sde::noise;
use crate::sde::process::Process;
use crate::sde::{check_finite, check_param};
use crate::{Error, Real};

/// Settings of [`adaptive`].
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveConfig {
    /// Start time (usually [`Process::t_max`]).
    pub t_start: f64,
    /// End time (usually [`Process::t_eps`]); must be > 0.
    pub t_end: f64,
    /// Absolute tolerance ε_abs (state units).
    pub eps_abs: f64,
    /// Relative tolerance ε_rel.
    pub eps_rel: f64,
    /// First step size (time units).
    pub h_init: f64,
    /// Safety factor θ ∈ (0, 1].
    pub safety: f64,
    /// Exponent r > 0 of the controller.
    pub exponent: f64,
    /// Brownian-bridge memory (virtual Brownian tree); `false` = GG as published.
    pub memory: bool,
    /// Tree depth L (1…24): time resolution `(t_start − t_end)/2^L`.
    pub depth: u32,
    /// Budget of batched evaluations (0 = unlimited).
    pub max_evaluations: u64,
    /// Finish with the Tweedie denoiser `x ← x̂₀(x, t_end)` (one more evaluation).
    pub denoise: bool,
}

impl AdaptiveConfig {
    /// GG's defaults with Brownian memory on, `L = 20`, no budget, no final denoise.
    #[must_use]
    pub fn new(process: &Process) -> Self {
        Self {
            t_start: process.t_max(),
            t_end: process.t_eps(),
            eps_abs: 0.0078,
            eps_rel: 0.05,
            h_init: 0.01,
            safety: 0.9,
            exponent: 0.9,
            memory: true,
            depth: 20,
            max_evaluations: 0,
            denoise: false,
        }
    }

    fn validate(&self, process: &Process) -> Result<(), Error> {
        process.check_eval_time(self.t_start)?;
        process.check_eval_time(self.t_end)?;
        if self.t_end >= self.t_start {
            return Err(Error::InvalidParameter);
        }
        check_param(self.eps_abs, 0.0, false)?;
        check_param(self.eps_rel, 0.0, false)?;
        if self.eps_abs == 0.0 && self.eps_rel == 0.0 {
            return Err(Error::InvalidParameter);
        }
        check_param(self.h_init, 0.0, true)?;
        check_param(self.safety, 0.0, true)?;
        check_param(self.exponent, 0.0, true)?;
        if self.safety > 1.0 || !(1..=24).contains(&self.depth) {
            return Err(Error::InvalidParameter);
        }
        Ok(())
    }
}

/// What an adaptive run did.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AdaptiveStats {
    /// Batched model evaluations.
    pub evaluations: u64,
    /// Accepted steps, summed over samples.
    pub accepted: u64,
    /// Rejected steps, summed over samples.
    pub rejected: u64,
    /// Samples that had not reached `t_end` when the budget ran out (0 = complete).
    pub unfinished: u64,
}

/// `W` of sample `sample` at cell `k` of `2^depth`, by bisection from the root;
/// `scratch` holds 2·d values, the result goes to `w`.
fn tree_value<T: Real>(
    keys: Keys,
    sample: u64,
    depth: u32,
    span: f64,
    k: u64,
    w: &mut [T],
    scratch: &mut [T],
) {
    let d = w.len();
    let (lo_w, hi_w) = scratch.split_at_mut(d);
    let seed = keys.seed;
    lo_w.fill(T::ZERO);
    // Root: W(end) ~ N(0, span).
    noise::normals(seed, sample, noise::TREE_KEY, hi_w);
    let root = T::from_f64(libm::sqrt(span));
    hi_w.iter_mut().for_each(|v| *v *= root);
    let (mut lo, mut hi, mut node) = (0_u64, 1_u64 << depth, 1_u64);
    if k == 0 {
        copy(w, lo_w);
        return;
    }
    while k != hi {
        let mid = (lo + hi) / 2;
        // Bridge midpoint: mean (W_lo + W_hi)/2, variance (hi − lo)·cell/4.
        noise::normals(seed, sample, noise::TREE_KEY + node, w);
        let sd = T::from_f64(libm::sqrt(
            (hi - lo) as f64 * span / (1_u64 << depth) as f64 / 4.0,
        ));
        for ((wv, l), h) in w.iter_mut().zip(lo_w.iter()).zip(hi_w.iter()) {
            *wv = T::HALF * (*l + *h) + sd * *wv;
        }
        if k == mid {
            return;
        }
        if k < mid {
            hi = mid;
            copy(hi_w, w);
            node *= 2;
        } else {
            lo = mid;
            copy(lo_w, w);
            node = 2 * node + 1;
        }
    }
    copy(w, hi_w);
}

/// Runs the adaptive solver in place on `x` (n·d prior samples) from `t_start` to
/// `t_end`. Sample `i` uses noise stream `first_sample + i`; its path does not depend
/// on the other samples.
///
/// Returns the statistics; `unfinished > 0` means the evaluation budget ran out and
/// those samples stopped early (the others are complete; all are written).
///
/// # Errors
/// `EmptyInput`, `LengthMismatch`, `NonFiniteInput`, `InvalidParameter` (process,
/// config), `WorkspaceTooSmall` ([`super::workspace_len`]), the model's error,
/// `NonFinite`. On error `x` is unchanged.
///
/// # Panics
/// Never.
#[allow(clippy::too_many_arguments)]
pub fn adaptive<T: Real, M: Model<T>>(
    process: &Process,
    config: &AdaptiveConfig,
    model: &mut M,
    x: &mut [T],
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: &mut [T],
) -> Result<AdaptiveStats, Error> {
    run(
        process,
        config,
        model,
        x,
        d,
        Keys { seed, first_sample },
        None,
        ws,
    )
}

/// Length (in `T` values) of the state of [`adaptive_resume`]: `2·n·d + 2·n`
/// (`x'_prev`, the Brownian value, cells done and proposed cells per sample).
#[must_use]
pub const fn adaptive_state_len(n: usize, d: usize) -> usize {
    match n.checked_mul(d) {
        Some(nd) => match nd.checked_mul(2) {
            Some(v) => v.saturating_add(2 * n),
            None => usize::MAX,
        },
        None => usize::MAX,
    }
}

/// The adaptive solver in pieces, for a control loop that can afford a bounded amount
/// of work per tick: the per-sample solver state lives in the caller's `state`
/// ([`adaptive_state_len`] values) between calls. With `fresh = true` the state is
/// initialised (x holds prior samples); with `fresh = false` the call continues from
/// `state` and the `x` the previous call returned, with the same process, config
/// (except `max_evaluations` and `denoise`), seed and sample indices. Each call runs
/// until every sample reaches `t_end` or `config.max_evaluations` is spent
/// (`unfinished > 0`: call again). Splitting a run this way gives the same samples, bit
/// for bit, as one call of [`adaptive`].
///
/// # Errors
/// As [`adaptive`]; `LengthMismatch` if `state` has the wrong length,
/// `InvalidParameter` if a resumed state is not one this solver writes for the config.
/// On error `x` and `state` are unchanged.
///
/// # Panics
/// Never.
#[allow(clippy::too_many_arguments)]
pub fn adaptive_resume<T: Real, M: Model<T>>(
    process: &Process,
    config: &AdaptiveConfig,
    model: &mut M,
    x: &mut [T],
    d: usize,
    seed: u64,
    first_sample: u64,
    state: &mut [T],
    fresh: bool,
    ws: &mut [T],
) -> Result<AdaptiveStats, Error> {
    let keys = Keys { seed, first_sample };
    run(process, config, model, x, d, keys, Some((state, fresh)), ws)
}

/// Copies a resumed state into the working buffers after checking it.
fn load_state<T: Real>(
    st: &[T],
    cells: u64,
    (prev, wcur, kb, dkb): (&mut [T], &mut [T], &mut [T], &mut [T]),
) -> Result<(), Error> {
    let (nd, n) = (prev.len(), kb.len());
    check_finite(st).map_err(|_| Error::InvalidParameter)?;
    let (sp, rest) = st.split_at_checked(nd).ok_or(Error::LengthMismatch)?;
    let (sw, rest) = rest.split_at_checked(nd).ok_or(Error::LengthMismatch)?;
    let (sk, sdk) = rest.split_at_checked(n).ok_or(Error::LengthMismatch)?;
    copy(prev, sp);
    copy(wcur, sw);
    copy(kb, sk);
    copy(dkb, sdk);
    let integral = |v: &T| v.to_f64() >= 0.0 && v.to_f64() == libm::floor(v.to_f64());
    for (k, dk) in kb.iter().zip(dkb.iter()) {
        let ok = integral(k)
            && integral(dk)
            && (k.to_f64() as u64) <= cells
            && (dk.to_f64() as u64) >= 1
            && (dk.to_f64() as u64) <= cells;
        if !ok {
            return Err(Error::InvalidParameter);
        }
    }
    Ok(())
}

#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
fn run<T: Real, M: Model<T>>(
    process: &Process,
    config: &AdaptiveConfig,
    model: &mut M,
    x: &mut [T],
    d: usize,
    keys: Keys,
    state: Option<(&mut [T], bool)>,
    ws: &mut [T],
) -> Result<AdaptiveStats, Error> {
    let (seed, first_sample) = (keys.seed, keys.first_sample);
    let n = check_common(process, model.output(), x, d)?;
    config.validate(process)?;
    if let Some((st, _)) = &state {
        if st.len() != adaptive_state_len(n, d) {
            return Err(Error::LengthMismatch);
        }
    }
    let b = Bufs::split(ws, n, d)?;
    let mut ev = Evaluator::new(model, process, d);
    let mut stats = AdaptiveStats::default();
    // cur = x, a = x'_prev, b = W (current), c = x' (EM candidate), e = ΔW,
    // out = model output, k = cells done, dk = proposed cells.
    let (cur, prev, wcur, cand, dw, out) = (b.cur, b.a, b.b, b.c, b.e, b.out);
    let (tb, kb, dkb, row) = (b.t, b.k, b.dk, b.row);
    copy(cur, x);
    let cells = 1_u64 << config.depth;
    let span = config.t_start - config.t_end;
    let cell = span / cells as f64;
    match &state {
        Some((st, false)) => load_state(st, cells, (&mut *prev, &mut *wcur, &mut *kb, &mut *dkb))?,
        _ => {
            copy(prev, x);
            wcur.fill(T::ZERO);
            let dk0 = ((config.h_init / cell) as u64).clamp(1, cells);
            kb.fill(T::ZERO);
            dkb.fill(T::from_f64(dk0 as f64));
        }
    }
    let time = |k: u64| config.t_start - k as f64 * cell;
    loop {
        if kb.iter().all(|k| k.to_f64() as u64 >= cells) {
            break;
        }
        if config.max_evaluations > 0 && ev.count + 2 > config.max_evaluations {
            break;
        }
        // Increments ΔW and the first evaluation at (x, t).
        for (i, ((dwr, wr), (kv, dkv))) in (0_u64..).zip(
            rows_mut(dw, d)
                .zip(rows(wcur, d))
                .zip(kb.iter().zip(dkb.iter())),
        ) {
            let (k, dk) = (kv.to_f64() as u64, dkv.to_f64() as u64);
            if k >= cells {
                dwr.fill(T::ZERO);
                continue;
            }
            if config.memory {
                let mut r = &mut *row;
                let (wn, scratch) = (take(&mut r, d)?, take(&mut r, 2 * d)?);
                tree_value(
                    keys,
                    first_sample.wrapping_add(i),
                    config.depth,
                    span,
                    k + dk,
                    wn,
                    scratch,
                );
                for ((o, a), b) in dwr.iter_mut().zip(wn.iter()).zip(wr) {
                    *o = *a - *b;
                }
            } else {
                noise::normals(
                    seed,
                    first_sample.wrapping_add(i),
                    noise::REDRAW_KEY + (k << 25) + dk,
                    dwr,
                );
                let sd = T::from_f64(libm::sqrt(dk as f64 * cell));
                dwr.iter_mut().for_each(|v| *v *= sd);
            }
        }
        for (tv, kv) in tb.iter_mut().zip(kb.iter()) {
            *tv = T::from_f64(time(kv.to_f64() as u64));
        }
        ev.eval(cur, tb, Output::Score, out)?;
        // x' = x − h·F(x, t) + g(t)·ΔW.
        for ((((cr, xr), sr), dwr), (kv, dkv)) in rows_mut(cand, d)
            .zip(rows(cur, d))
            .zip(rows(out, d))
            .zip(rows(dw, d))
            .zip(kb.iter().zip(dkb.iter()))
        {
            let (k, dk) = (kv.to_f64() as u64, dkv.to_f64() as u64);
            if k >= cells {
                copy(cr, xr);
                continue;
            }
            let c = process.coefs(time(k));
            let h = dk as f64 * cell;
            let (p, q, g) = (
                T::from_f64(1.0 - h * c.f),
                T::from_f64(h * c.g2),
                T::from_f64(libm::sqrt(c.g2)),
            );
            for (((cv, xv), sv), wv) in cr.iter_mut().zip(xr).zip(sr).zip(dwr) {
                *cv = p * *xv + q * *sv + g * *wv;
            }
        }
        for (tv, (kv, dkv)) in tb.iter_mut().zip(kb.iter().zip(dkb.iter())) {
            let (k, dk) = (kv.to_f64() as u64, dkv.to_f64() as u64);
            *tv = T::from_f64(time((k + dk).min(cells)));
        }
        ev.eval(cand, tb, Output::Score, out)?;
        for ((((xr, cr), (sr, dwr)), (pr, wr)), (kv, dkv)) in rows_mut(cur, d)
            .zip(rows(cand, d))
            .zip(rows(out, d).zip(rows(dw, d)))
            .zip(rows_mut(prev, d).zip(rows_mut(wcur, d)))
            .zip(kb.iter_mut().zip(dkb.iter_mut()))
        {
            let (k, dk) = (kv.to_f64() as u64, dkv.to_f64() as u64);
            if k >= cells {
                continue;
            }
            let h = dk as f64 * cell;
            let cn = process.coefs(time(k + dk));
            let (p, q, g) = (
                T::from_f64(h * cn.f),
                T::from_f64(h * cn.g2),
                T::from_f64(libm::sqrt(cn.g2)),
            );
            // x'' = x + (K1 + K2)/2 with K1 = x' − x, K2 = −h·F(x', t−h) + g(t−h)·ΔW;
            // the error x'' − x' = (K2 − K1)/2.
            let mut err2 = 0.0;
            for (((xv, cv), (sv, wv)), pv) in
                xr.iter().zip(cr).zip(sr.iter().zip(dwr)).zip(pr.iter())
            {
                let (xv, cv, sv, wv) = (*xv, *cv, *sv, *wv);
                let k1 = cv - xv;
                let k2 = -(p * cv) + q * sv + g * wv;
                let e = T::HALF * (k2 - k1);
                let delta = config
                    .eps_abs
                    .max(config.eps_rel * cv.abs().to_f64().max(pv.abs().to_f64()));
                let ratio = e.to_f64() / delta;
                err2 += ratio * ratio;
            }
            let err = libm::sqrt(err2 / d as f64);
            if err <= 1.0 || dk == 1 {
                for (((xv, cv), (sv, wv)), pv) in xr
                    .iter_mut()
                    .zip(cr)
                    .zip(sr.iter().zip(dwr))
                    .zip(pr.iter_mut())
                {
                    let k1 = *cv - *xv;
                    let k2 = -(p * *cv) + q * *sv + g * *wv;
                    *xv += T::HALF * (k1 + k2);
                    *pv = *cv;
                }
                if config.memory {
                    for (wv, dv) in wr.iter_mut().zip(dwr) {
                        *wv += *dv;
                    }
                }
                *kv = T::from_f64((k + dk) as f64);
                stats.accepted += 1;
            } else {
                stats.rejected += 1;
            }
            let k_now = kv.to_f64() as u64;
            let factor = if err > 0.0 {
                (config.safety * libm::pow(err, -config.exponent)).min(10.0)
            } else {
                10.0
            };
            let want = (dk as f64 * factor) as u64;
            *dkv = T::from_f64(want.clamp(1, (cells - k_now).max(1)) as f64);
        }
        if check_finite(cur).is_err() {
            return Err(Error::NonFinite);
        }
    }
    stats.unfinished = kb.iter().filter(|k| (k.to_f64() as u64) < cells).count() as u64;
    if config.denoise && stats.unfinished == 0 {
        ev.eval_at(cur, config.t_end, tb, Output::Denoised, out)?;
        copy(cur, out);
    }
    stats.evaluations = ev.count;
    copy(x, cur);
    if let Some((st, _)) = state {
        let mut rest = st;
        let (sp, sw) = (take(&mut rest, n * d)?, take(&mut rest, n * d)?);
        let (sk, sdk) = (take(&mut rest, n)?, rest);
        copy(sp, prev);
        copy(sw, wcur);
        copy(sk, kb);
        copy(sdk, dkb);
    }
    Ok(stats)
}
