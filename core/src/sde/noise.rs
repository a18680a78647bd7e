//! Counter-based Gaussian noise: every draw is a pure function of
//! `(seed, sample index, key, coordinate)`, so a sample's path does not depend on the
//! batch size, the batch order, or on what other samples did.
//!
//! Method: the key is hashed with SplitMix64's finaliser (Steele, Lea & Flood 2014)
//! into a 64-bit stream id; the stream's `k`-th word is `mix(id + k·γ)` with the golden
//! gamma γ = 0x9E3779B97F4A7C15. Each word gives two 24-bit uniforms on (−1, 1) for the
//! Marsaglia polar method, which turns an accepted pair into two normals with one
//! `ln` and one `sqrt` (no trigonometry, cheap on a Cortex-M4F). A pair is rejected
//! with probability 1 − π/4; the attempt count is bounded by 64 (the chance of 64
//! rejections in a row is 0.2146⁶⁴ < 10⁻⁴²), after which the pair is 0.
//!
//! Keys used by the samplers: fixed-step stepper `j` uses key `16·j + sub`
//! (`sub` = 0 for the predictor, 1…15 for corrector iterations), the prior uses
//! [`PRIOR_KEY`], the adaptive solver's Brownian tree uses [`TREE_KEY`]` + node`,
//! restart sampling's jumps [`RESTART_KEY`]` + r`.

use crate::Real;

/// Key of the prior draw.
pub const PRIOR_KEY: u64 = u64::MAX;
/// Base key of the Brownian-tree nodes (node ids are added to it).
pub const TREE_KEY: u64 = 1 << 62;
/// Base key of the adaptive solver's redrawn noise (without Brownian memory).
pub const REDRAW_KEY: u64 = 1 << 61;
/// Base key of restart sampling's jumps (round trip r uses `RESTART_KEY + r`).
pub const RESTART_KEY: u64 = 1 << 60;

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective 64-bit mixer.
#[inline]
#[must_use]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream id of `(seed, sample, key)`.
#[inline]
#[must_use]
pub fn stream(seed: u64, sample: u64, key: u64) -> u64 {
    let h = mix(seed.wrapping_add(GAMMA));
    let h = mix(h ^ sample.wrapping_mul(GAMMA));
    mix(h ^ mix(key.wrapping_add(GAMMA)))
}

/// Fills `out` with independent standard normals from stream `(seed, sample, key)`;
/// `out[j]` depends only on the stream and `j / 2`.
pub fn normals<T: Real>(seed: u64, sample: u64, key: u64, out: &mut [T]) {
    let id = stream(seed, sample, key);
    let scale = T::from_f64(1.0 / 8_388_608.0); // 2^-23
    let half = T::from_f64(0.5);
    let two = T::from_f64(2.0);
    for (pair, chunk) in (0_u64..).zip(out.chunks_mut(2)) {
        let (mut z0, mut z1) = (T::ZERO, T::ZERO);
        for attempt in 0..64_u64 {
            let w = mix(id.wrapping_add((pair * 64 + attempt + 1).wrapping_mul(GAMMA)));
            // Two 24-bit integers → (k + ½)·2^-23 − 1 ∈ (−1, 1).
            let u = T::from_usize((w >> 40) as usize) + half;
            let v = T::from_usize(((w >> 16) & 0xFF_FFFF) as usize) + half;
            let (u, v) = (u * scale - T::ONE, v * scale - T::ONE);
            let r2 = u * u + v * v;
            if r2 < T::ONE && r2 > T::ZERO {
                let f = (-(two * r2.ln()) / r2).sqrt();
                z0 = u * f;
                z1 = v * f;
                break;
            }
        }
        if let Some(c) = chunk.get_mut(0) {
            *c = z0;
        }
        if let Some(c) = chunk.get_mut(1) {
            *c = z1;
        }
    }
}
