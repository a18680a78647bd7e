//! Explicit randomness: the caller owns and seeds every random stream.
//!
//! The filter and the random resamplers take any [`RandomSource`] (a source of
//! uniform 64-bit words). [`SplitMix64`] is the one shipped: a counter-based generator
//! (Steele, Lea & Flood 2014) whose whole state is one `u64`, so a C caller can store
//! it in a struct, copy it to fork a stream, and reproduce a run bit for bit.

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

    /// A standard normal draw (Marsaglia's polar method: needs only `ln` and `sqrt`;
    /// 1.27 pairs of uniforms per draw on average, the second normal is discarded so
    /// that the state stays one word).
    fn normal<T: Real>(&mut self) -> T {
        let two = T::ONE + T::ONE;
        loop {
            let u = two * self.uniform::<T>() - T::ONE;
            let v = two * self.uniform::<T>() - T::ONE;
            let s = u * u + v * v;
            if s > T::ZERO && s < T::ONE {
                return u * (-two * s.ln() / s).sqrt();
            }
        }
    }

    /// Fills `out` with [`uniform`](Self::uniform) draws, in order.
    fn fill_uniform<T: Real>(&mut self, out: &mut [T]) {
        out.iter_mut().for_each(|v| *v = self.uniform());
    }

    /// Fills `out` with [`normal`](Self::normal) draws, in order.
    fn fill_normal<T: Real>(&mut self, out: &mut [T]) {
        out.iter_mut().for_each(|v| *v = self.normal());
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
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
