//! Adaptive over-relaxation of the Sinkhorn updates (see
//! [`Acceleration::Adaptive`](super::Acceleration::Adaptive)): O(1) state, no extra
//! pass (the error it watches is the one the column pass measures anyway).

use crate::real::Real;

use super::config::Acceleration;

/// The largest error ratio used to choose ω: at 0.99, ω = 2/(1 + 0.1) ≈ 1.82, as
/// OTT-JAX caps it (an iteration that barely contracts says nothing reliable about
/// the rate, and ω → 2 would stall).
const MAX_RATIO: f64 = 0.99;

/// Over-relaxation state for one solve.
pub(super) struct Momentum<T> {
    /// Iteration at which ω is chosen; 0 = never.
    start: u32,
    /// The relaxation factor in use (1 = plain).
    omega: T,
    /// The error measured one iteration earlier (∞ before the first).
    prev: T,
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
            // Safeguard: an increase, or the end in sight, returns to plain steps.
            if error > self.prev || error <= tolerance {
                self.omega = T::ONE;
                self.off = true;
            }
        } else if iterations >= self.start {
            let r = error / self.prev;
            if r.is_finite() && r > T::ZERO && r < T::ONE {
                let r = r.min_fast(T::from_f64(MAX_RATIO));
                self.omega = (T::ONE + T::ONE) / (T::ONE + (T::ONE - r).sqrt());
            } else {
                self.off = true;
            }
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

/// `h ← (1 − ω)·h + ω·new` for one potential (exactly `new` when ω = 1).
#[inline]
pub(super) fn relax<T: Real>(h: T, new: T, omega: T) -> T {
    if omega == T::ONE {
        new
    } else {
        (T::ONE - omega).mul_add(h, omega * new)
    }
}
