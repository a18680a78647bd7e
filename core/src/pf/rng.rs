//! Explicit randomness: the caller owns and seeds every random stream.
//!
//! The filter and the random resamplers take any [`RandomSource`] (a source of
//! uniform 64-bit words). [`SplitMix64`] is the one shipped: a counter-based generator
//! (Steele, Lea & Flood 2014) whose whole state is one `u64`, so a C caller can store
//! it in a struct, copy it to fork a stream, and reproduce a run bit for bit.

use crate::error::Error;
use crate::real::Real;

/// A source of independent uniform 64-bit words; uniforms and normals derive from it.
pub trait RandomSource {
    /// The next uniform 64-bit word.
    fn next_u64(&mut self) -> u64;

    /// A uniform draw in [0, 1) (53 random bits, rounded to `T`; never 1).
    fn uniform<T: Real>(&mut self) -> T {
        // 53 bits rounded to `T`, then scaled by 2^-53 (exact): the same value as the
        // 53-bit fraction rounded to `T`, without f64 arithmetic, which on a
        // Cortex-M4F is soft-float (flash and time).
        let t = T::from_u64(self.next_u64() >> 11) * T::from_f64(1.0 / 9_007_199_254_740_992.0);
        if t < T::ONE {
            t
        } else {
            // f32 rounds values above 1 − 2^-25 up to 1: take the largest float below 1.
            T::ONE - T::EPSILON * T::HALF
        }
    }

    /// A standard normal draw: the first of the [`Real::normal_pair`] of the next
    /// [`Real::NORMAL_WORDS`] words (f32: one word, f64: two); the second normal is
    /// discarded so that the state stays one word. Branch-free Box–Muller
    /// ([`crate::rng`]).
    fn normal<T: Real>(&mut self) -> T {
        let w0 = self.next_u64();
        let w1 = if T::NORMAL_WORDS > 1 {
            self.next_u64()
        } else {
            0
        };
        T::normal_pair(w0, w1).0
    }

    /// Fills `out` with [`uniform`](Self::uniform) draws, in order.
    fn fill_uniform<T: Real>(&mut self, out: &mut [T]) {
        out.iter_mut().for_each(|v| *v = self.uniform());
    }

    /// Fills `out` with standard normals, both of each pair used: `out[2p]` and
    /// `out[2p + 1]` are the [`Real::normal_pair`] of the stream's next
    /// [`Real::NORMAL_WORDS`] words, so ⌈len/2⌉·`NORMAL_WORDS` words are drawn (for an
    /// odd length the last pair's second value is discarded). Not the same values as
    /// `len` calls of [`normal`](Self::normal), about half the words, and drawn in
    /// blocks that vectorise ([`crate::rng::fill_normals`]).
    fn fill_normal<T: Real>(&mut self, out: &mut [T]) {
        crate::rng::fill_normals(out, || self.next_u64());
    }
}

/// SplitMix64: state `s`; each draw adds the golden-ratio increment and mixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    /// The whole state (any value is valid).
    pub state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl RandomSource for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(crate::rng::GAMMA);
        crate::rng::mix(self.state)
    }
}

/// Runs `step` on `rng` and puts the stream back if it fails, so that a refused or
/// failed call consumes no random numbers (every stepping function's contract).
pub(crate) fn restoring<R: Clone, V>(
    rng: &mut R,
    step: impl FnOnce(&mut R) -> Result<V, Error>,
) -> Result<V, Error> {
    let saved = rng.clone();
    let out = step(rng);
    if out.is_err() {
        *rng = saved;
    }
    out
}
