//! Adaptive over-relaxation of the Sinkhorn updates (see
//! [`Acceleration::Adaptive`](super::Acceleration::Adaptive)): O(1) state, no extra
//! pass (the error it watches is the one the column pass measures anyway).

use crate::real::Real;

use super::config::Acceleration;

/// The largest error ratio used to choose ω: at 0.99, ω = 2/(1 + 0.1) ≈ 1.82, as
/// OTT-JAX caps it (an iteration that barely contracts says nothing reliable about
/// the rate, and ω → 2 would stall).
const MAX_RATIO: f64 = 0.99;

/// The safeguard window in time constants 1/√(1 − r) of the over-relaxed iteration.
const WINDOW: f64 = 5.0;

/// The longest safeguard window (r = 0.99 gives 50 iterations; the cap only matters
/// for rates rounded to 1).
const MAX_WINDOW: u32 = 1000;

/// Two successive plain error ratios r agreeing to this fraction of 1 − r mean the
/// iteration has reached its linear regime, whose rate sets ω: chosen from a ratio of
/// the first, faster iterations, ω would be too small to help.
const SETTLED: f64 = 0.05;

/// Over-relaxation state for one solve.
pub(super) struct Momentum<T> {
    /// Iteration at which ω is chosen; 0 = never.
    start: u32,
    /// The relaxation factor in use (1 = plain).
    omega: T,
    /// The error measured one iteration earlier (∞ before the first).
    prev: T,
    /// The last observed error ratio (plain iterations), ∞ before the second.
    ratio: T,
    /// The plain rate r when ω was chosen.
    rate: T,
    /// Plain's predicted error at this iteration: the error when ω was chosen times
    /// r per iteration since.
    plain: T,
    /// Iterations between two safeguard checks, and those left until the next.
    window: u32,
    countdown: u32,
    /// Once off, it stays off.
    off: bool,
}

impl<T: Real> Momentum<T> {
    pub(super) fn new(acc: Acceleration) -> Self {
        let start = match acc {
            Acceleration::Off => 0,
            Acceleration::Adaptive { start } => start,
        };
        Self {
            start,
            omega: T::ONE,
            prev: T::INFINITY,
            ratio: T::INFINITY,
            rate: T::ONE,
            plain: T::INFINITY,
            window: 0,
            countdown: 0,
            off: start == 0,
        }
    }

    /// Takes the error measured by the column pass after `iterations` full iterations
    /// at the final ε (`final_eps`; earlier stages are ignored) and updates ω.
    pub(super) fn observe(&mut self, error: T, iterations: u32, tolerance: T, final_eps: bool) {
        if self.off || !final_eps {
            return;
        }
        if self.omega > T::ONE {
            // Safeguard, checked once per window: an error above plain Sinkhorn's
            // predicted one (the error when ω was chosen times r per iteration since)
            // returns to plain steps for good, and so does the end in sight. Within a
            // window the over-relaxed error may rise (the row marginal is no longer
            // exact after an over-relaxed row pass) before it falls faster, so a test
            // at every iteration would stop it at once.
            self.plain *= self.rate;
            self.countdown = self.countdown.saturating_sub(1);
            if error <= tolerance || (self.countdown == 0 && error > self.plain) {
                self.omega = T::ONE;
                self.off = true;
            } else if self.countdown == 0 {
                self.countdown = self.window;
            }
        } else {
            let r = error / self.prev;
            // ω is chosen once the iteration is in its linear regime: two successive
            // ratios agree to 5 % of 1 − r, the quantity ω depends on.
            let settled = (r - self.ratio).abs() <= T::from_f64(SETTLED) * (T::ONE - r);
            if iterations >= self.start && r > T::ZERO && r < T::ONE && settled {
                self.rate = r;
                self.plain = error;
                let r = r.min_fast(T::from_f64(MAX_RATIO));
                let root = (T::ONE - r).sqrt();
                self.omega = (T::ONE + T::ONE) / (T::ONE + root);
                // The over-relaxed iteration's time constant is about 1/√(1 − r)
                // iterations; a window of WINDOW of them lets its transient pass.
                let w = T::from_f64(WINDOW) / root;
                self.window = w.to_u32().clamp(2, MAX_WINDOW);
                self.countdown = self.window;
            } else if iterations >= self.start && (r >= T::ONE || r.is_nan()) {
                // Not contracting (or not measurable): stay plain.
                self.off = true;
            }
            self.ratio = r;
        }
        self.prev = error;
    }

    /// ω for the iteration about to run: 1 (plain) for the last one of the budget
    /// (`iterations + 1 ≥ limit`), so that it ends on an exact row marginal.
    pub(super) fn omega(&self, iterations: u32, limit: u32) -> T {
        if iterations.saturating_add(1) >= limit {
            T::ONE
        } else {
            self.omega
        }
    }
}

/// `h_i ← (1 − ω)·h_i + ω·new_i` for every point whose new potential is not −∞ (a
/// zero-weight point keeps its −∞); a plain copy of `new` when ω = 1.
pub(super) fn relax_all<T: Real>(h: &mut [T], new: &[T], omega: T) {
    for (hi, &ni) in h.iter_mut().zip(new) {
        if omega == T::ONE {
            *hi = ni;
        } else if ni != T::NEG_INFINITY {
            *hi = (T::ONE - omega).mul_add(*hi, omega * ni);
        }
    }
}
