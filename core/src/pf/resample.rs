//! Classical resampling: multinomial, stratified, systematic and residual, each O(N)
//! by one inverse-CDF walk over sorted uniforms, without an index buffer.
//!
//! Every scheme draws N ancestors from normalised log-weights ℓ (Σ exp ℓ = 1) and
//! hands them out in slot order through a callback `emit(slot, ancestor)`; the public
//! functions turn that into an ancestor array ([`ancestors`]) or copy particles
//! ([`resample_particles`]). The walk compares against the *computed* total of the
//! weights, not 1, and never returns a zero-weight particle, so rounding in the
//! cumulative sum cannot index past the end (filterpy PR #186) or pick a dead
//! particle. Residual resampling takes ⌊N·W_i⌋ copies and draws the remaining
//! R = N − Σ⌊N·W_i⌋ multinomially from the residuals N·W_i − ⌊N·W_i⌋ (the N·W form;
//! filterpy #290 forgot the N).

use crate::error::Error;
use crate::real::Real;
use crate::sum::Compensated;

use super::rng::RandomSource;

/// A classical resampling scheme (`particles`' names; systematic is the usual default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// N i.i.d. draws from the weights, produced as sorted uniforms (O(N) by the
    /// descending order-statistics recursion U₍ₖ₎ = U₍ₖ₊₁₎·V^{1/k}).
    Multinomial,
    /// One uniform per stratum: u_k = (k + U_k)/N.
    Stratified,
    /// One shared uniform: u_k = (k + U)/N (lowest variance in practice).
    Systematic,
    /// ⌊N·W_i⌋ deterministic copies, the rest multinomial on the residuals.
    Residual,
}

/// Inverse-CDF walk: for each sorted uniform u in [0, 1), the first particle whose
/// cumulative weight exceeds u·total (zero-weight particles are never chosen).
fn walk<T: Real>(
    weight: impl Fn(usize) -> T,
    n: usize,
    total: T,
    uniforms: impl Iterator<Item = T>,
    mut emit: impl FnMut(usize),
) {
    let last_alive = (0..n).rev().find(|&i| weight(i) > T::ZERO).unwrap_or(0);
    let mut j = 0;
    let mut cum = weight(0);
    for u in uniforms {
        let target = u * total;
        while j < last_alive && cum <= target {
            j += 1;
            cum += weight(j);
        }
        // Past the last live particle only through rounding: stay on it.
        emit(j.min(last_alive));
    }
}

/// `count` sorted uniforms in [0, 1), ascending, in O(count) without storage:
/// 1 − U₍count₎, 1 − U₍count−1₎, … with log U₍ₖ₎ = log U₍ₖ₊₁₎ + ln(V)/k.
fn sorted_uniforms<'a, T: Real + 'a, R: RandomSource + ?Sized>(
    rng: &'a mut R,
    count: usize,
) -> impl Iterator<Item = T> + 'a {
    let mut log_u = T::ZERO;
    (1..=count).rev().map(move |k| {
        // 1 − uniform lies in (0, 1]: its log is finite.
        let v = T::ONE - rng.uniform::<T>();
        log_u += v.ln() / T::from_usize(k);
        let u = T::ONE - log_u.exp();
        u.max_fast(T::ZERO)
    })
}

/// Draws N ancestors and calls `emit(slot, ancestor)` for slot = 0..N in order.
/// `logw` must be normalised and have a live entry (checked by the callers).
pub(crate) fn draw<T: Real, R: RandomSource + ?Sized>(
    scheme: Scheme,
    logw: &[T],
    rng: &mut R,
    emit: impl FnMut(usize, usize),
) {
    draw_count(scheme, logw, logw.len(), rng, emit);
}

/// [`draw`] of `count` ancestors (any count ≥ 1) from the N weights: the uniforms,
/// strata and residual copies are those of a sample of size `count`.
pub(crate) fn draw_count<T: Real, R: RandomSource + ?Sized>(
    scheme: Scheme,
    logw: &[T],
    count: usize,
    rng: &mut R,
    mut emit: impl FnMut(usize, usize),
) {
    let n = logw.len();
    let nf = T::from_usize(count);
    let w = |i: usize| logw.get(i).map_or(T::ZERO, |l| l.exp());
    let mut tot = Compensated::new();
    for i in 0..n {
        tot.add(w(i));
    }
    let total = tot.value();
    let mut slot = 0;
    let mut out = |a: usize| {
        if slot < count {
            emit(slot, a);
            slot += 1;
        }
    };
    match scheme {
        Scheme::Multinomial => walk(w, n, total, sorted_uniforms(rng, count), out),
        Scheme::Stratified => {
            let us = (0..count).map(|k| (T::from_usize(k) + rng.uniform::<T>()) / nf);
            walk(w, n, total, us, out);
        }
        Scheme::Systematic => {
            let u0 = rng.uniform::<T>();
            let us = (0..count).map(|k| (T::from_usize(k) + u0) / nf);
            walk(w, n, total, us, out);
        }
        Scheme::Residual => {
            let scaled = |i: usize| w(i) / total * nf;
            let mut copies = 0;
            let mut res_total = Compensated::new();
            for i in 0..n {
                let s = scaled(i);
                let r = floor_count(s);
                for _ in 0..r {
                    out(i);
                }
                copies += r;
                res_total.add(s - T::from_usize(r));
            }
            let rest = count.saturating_sub(copies);
            if rest > 0 {
                let residual = |i: usize| {
                    let s = scaled(i);
                    s - T::from_usize(floor_count(s))
                };
                let rt = res_total.value();
                if rt > T::ZERO {
                    walk(residual, n, rt, sorted_uniforms(rng, rest), out);
                } else {
                    // Only through rounding (Σ⌊N·W⌋ < N with no residual mass left):
                    // draw the missing slots from the weights themselves.
                    walk(w, n, total, sorted_uniforms(rng, rest), out);
                }
            }
        }
    }
}

/// ⌊s⌋ for 0 ≤ s ≤ count (a number of copies).
fn floor_count<T: Real>(s: T) -> usize {
    let mut k = 0usize;
    // s ≤ count·(1 + rounding), so this loop is bounded by count + 1 iterations in total per
    // call; particles with s < 1 exit at once.
    while T::from_usize(k + 1) <= s {
        k += 1;
    }
    k
}

/// Checks normalised-looking log-weights: finite or −∞, at least one live, lengths.
fn check_logw<T: Real>(logw: &[T]) -> Result<(), Error> {
    if logw.is_empty() {
        return Err(Error::EmptyInput);
    }
    super::weights::log_sum_exp(logw).map(|_| ())
}

/// Writes N ancestor indices (sorted ascending) drawn by `scheme` into `out`.
///
/// `logw` are log-weights; they need not be normalised (they are used relative to
/// their total), −∞ marks a dead particle.
///
/// # Errors
/// `EmptyInput` (N = 0), `LengthMismatch` (`out.len() != N`), `NonFiniteInput`
/// (NaN or +∞ log-weight), `ZeroMass` (all −∞). Nothing is written on error.
///
/// # Panics
/// Never.
pub fn ancestors<T: Real, R: RandomSource + ?Sized>(
    scheme: Scheme,
    logw: &[T],
    rng: &mut R,
    out: &mut [usize],
) -> Result<(), Error> {
    check_logw(logw)?;
    if out.len() != logw.len() {
        return Err(Error::LengthMismatch);
    }
    draw(scheme, logw, rng, |slot, a| {
        if let Some(o) = out.get_mut(slot) {
            *o = a;
        }
    });
    Ok(())
}

/// Resamples particles: `x_out[k] = x_in[ancestor_k]` (N×d row-major each).
///
/// # Errors
/// As [`ancestors`], plus `EmptyInput` (d = 0) and `LengthMismatch` (`x_in` or
/// `x_out` not N·d long). `NonFiniteInput` also for a NaN/∞ coordinate. Nothing is
/// written on error.
///
/// # Panics
/// Never.
pub fn resample_particles<T: Real, R: RandomSource + ?Sized>(
    scheme: Scheme,
    logw: &[T],
    rng: &mut R,
    x_in: &[T],
    d: usize,
    x_out: &mut [T],
) -> Result<(), Error> {
    super::ot_resample::check_inputs(x_in, logw, d)?;
    if x_out.len() != x_in.len() {
        return Err(Error::LengthMismatch);
    }
    resample_to(scheme, logw, rng, x_in, d, x_out)
}

/// Resamples N weighted particles to M = `x_out.len() / d` equally weighted ones
/// (M may differ from N: an adaptive particle count), ancestors drawn by `scheme`
/// for a sample of size M.
///
/// # Errors
/// As [`resample_particles`], with `LengthMismatch` when `x_out` is not a positive
/// multiple of d long. Nothing is written on error.
///
/// # Panics
/// Never.
pub fn resample_to<T: Real, R: RandomSource + ?Sized>(
    scheme: Scheme,
    logw: &[T],
    rng: &mut R,
    x_in: &[T],
    d: usize,
    x_out: &mut [T],
) -> Result<(), Error> {
    super::ot_resample::check_inputs(x_in, logw, d)?;
    let m = super::state::out_count(x_out, d)?;
    gather_count(scheme, logw, m, rng, x_in, d, x_out);
    Ok(())
}

/// [`resample_to`] without the checks (the callers have done them): M = `count`
/// rows of `x_out`.
pub(crate) fn gather_count<T: Real, R: RandomSource + ?Sized>(
    scheme: Scheme,
    logw: &[T],
    count: usize,
    rng: &mut R,
    x_in: &[T],
    d: usize,
    x_out: &mut [T],
) {
    draw_count(scheme, logw, count, rng, |slot, a| {
        super::state::copy_row(x_out, slot, x_in, a, d);
    });
}
