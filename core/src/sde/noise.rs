//! Counter-based Gaussian noise: every draw is a pure function of
//! `(seed, sample index, key, coordinate)`, so a sample's path does not depend on the
//! batch size, the batch order, or on what other samples did.
//!
//! Method: the key is hashed with SplitMix64's finaliser (Steele, Lea & Flood 2014)
//! into a 64-bit stream id; the stream's `k`-th word (k = 1, 2, …) is `mix(id + k·γ)`
//! with the golden gamma γ = 0x9E3779B97F4A7C15. Coordinates 2p and 2p + 1 are the
//! Box–Muller pair ([`Real::normal_pair`], branch-free with polynomial ln, sin and
//! cos, see [`crate::rng`]) of words p·W + 1 … p·W + W, W = [`Real::NORMAL_WORDS`]
//! (f32: one word per pair, f64: two). No rejection: every pair costs the same.
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

pub use crate::rng::mix;
use crate::rng::GAMMA;

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
    let mut counter = stream(seed, sample, key);
    crate::rng::fill_normals(out, || {
        counter = counter.wrapping_add(GAMMA);
        mix(counter)
    });
}
