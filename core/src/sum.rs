//! Compensated summation for the O(n + m) reductions (masses, errors, costs).
//!
//! The O(n·m) kernel sums lane-wise in plain arithmetic; the short reductions that
//! decide convergence and report costs use Neumaier's compensated sum, which stays
//! accurate in f32 without pulling soft-float f64 onto a Cortex-M4F.

use crate::real::Real;

/// Neumaier (improved Kahan–Babuška) running sum.
#[derive(Clone, Copy, Debug, Default)]
pub struct Compensated<T> {
    sum: T,
    comp: T,
}

impl<T: Real> Compensated<T> {
    /// An empty sum.
    #[must_use]
    pub fn new() -> Self {
        Self {
            sum: T::ZERO,
            comp: T::ZERO,
        }
    }

    /// Adds one term.
    #[inline]
    pub fn add(&mut self, v: T) {
        let t = self.sum + v;
        if self.sum.abs() >= v.abs() {
            self.comp += (self.sum - t) + v;
        } else {
            self.comp += (v - t) + self.sum;
        }
        self.sum = t;
    }

    /// The sum so far.
    #[inline]
    #[must_use]
    pub fn value(&self) -> T {
        self.sum + self.comp
    }
}

/// Compensated sum of a slice.
#[must_use]
pub fn sum<T: Real>(values: &[T]) -> T {
    let mut s = Compensated::new();
    for &v in values {
        s.add(v);
    }
    s.value()
}
