//! Standard normal draws from uniform random 64-bit words: the one sampler behind both
//! random sources, the particle filter's [`SplitMix64`](crate::pf::rng::SplitMix64)
//! streams and the SDE samplers' counter-based noise ([`crate::sde::noise`]).
//!
//! Method: Box–Muller, branch-free. A pair of normals is
//! (r·cos θ, r·sin θ) with r = √(−2 ln u), u uniform on (0, 1], and θ uniform on a
//! full turn; ln, sin and cos are polynomials (no table, no rejection, no libm call), so
//! a block of pairs compiles to straight-line vector code on the host and to a short
//! scalar sequence on a Cortex-M4F (no f64 arithmetic, no 64-bit integer → float
//! conversion in the f32 path).
//!
//! Bits per pair ([`Real::NORMAL_WORDS`] words):
//! - f32, one word w: u = (⌊w/2³³⌋ + ½)·2⁻³¹ (31 bits, so |z| ≤ 6.66), θ from the 24
//!   bits 8…31 of w.
//! - f64, two words w₀, w₁: u = (⌊w₀/2¹²⌋ + ½)·2⁻⁵² (52 bits, |z| ≤ 8.57), θ from the
//!   top 52 bits of w₁.
//!
//! θ = 2π·(k + ½)/2ᵇ for the b-bit integer k: its top two bits (after a shift by an
//! eighth of a turn) pick the quadrant, the rest give x = θ − quadrant·π/2 ∈ (−π/4,
//! π/4) exactly up to one rounding, and sin x, cos x are their Taylor polynomials (f32:
//! to x⁹ and x⁸, f64: to x¹⁵ and x¹⁶; truncation below 3e-8 and 5e-17). ln u = e·ln 2 +
//! ln m with m = u·2⁻ᵉ ∈ [√½, √2) and ln m = 2·atanh s, s = (m − 1)/(m + 1), by its
//! series (f32: to s⁹, f64: to s¹⁹; truncation below 1e-9 and 1e-17 relative). Plain
//! multiplies and adds, no fused multiply-add: the bits are the same on every x86-64
//! path and build.

use crate::Real;

/// SplitMix64's golden gamma, the increment between a stream's counter values.
pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
#[inline]
#[must_use]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Random words drawn per block (f32: 32 pairs, f64: 16).
pub const BLOCK_WORDS: usize = 32;

/// Fills `out` with standard normals: pair p (`out[2p]`, `out[2p + 1]`) is
/// [`Real::normal_pair`] of the words p·W … p·W + W − 1 that `next` returns, in
/// order (W = [`Real::NORMAL_WORDS`]); for an odd length the last pair's second value
/// is dropped. ⌈len/2⌉·W words are drawn. Computed a block of [`BLOCK_WORDS`] words
/// at a time by [`Real::normal_block`] on x86-64 (vectorised), one pair at a time
/// elsewhere (the same bits).
pub fn fill_normals<T: Real>(out: &mut [T], mut next: impl FnMut() -> u64) {
    // x86-64: the vectorised block. Elsewhere (Cortex-M: a scalar FPU; flash and stack
    // count) one pair at a time, its words in registers: no 32-fold unrolled block, no
    // buffer.
    #[cfg(target_arch = "x86_64")]
    {
        let mut buf = [0u64; BLOCK_WORDS];
        let mut z = [T::ZERO; 2 * BLOCK_WORDS];
        let pairs_per_block = BLOCK_WORDS / T::NORMAL_WORDS;
        for chunk in out.chunks_mut(2 * pairs_per_block) {
            let n = chunk.len().div_ceil(2) * T::NORMAL_WORDS;
            buf.iter_mut().take(n).for_each(|w| *w = next());
            T::normal_block(&buf, &mut z);
            for (o, v) in chunk.iter_mut().zip(&z) {
                *o = *v;
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for o in out.chunks_mut(2) {
        let w0 = next();
        let w1 = if T::NORMAL_WORDS > 1 { next() } else { 0 };
        let (a, b) = T::normal_pair(w0, w1);
        match o {
            [x, y] => (*x, *y) = (a, b),
            [x] => *x = a,
            _ => {}
        }
    }
}

/// −2 ln u, the squared radius of the f32 pair of word `w` (see the module docs).
#[inline(always)]
fn radius2_f32(w: u64) -> f32 {
    // u ∈ [2^-32, 1] from 31 bits (the i32 → f32 conversion is one instruction on SSE2
    // and on the Cortex-M4F; above 2^24 it rounds, harmlessly).
    let k = (w >> 33) as i32;
    let u = (k as f32 + 0.5) * (1.0 / 2_147_483_648.0);
    -2.0 * ln_f32(u)
}

/// (cos θ, sin θ) of the f32 pair of word `w`: 24 bits k; j = k + 2^21 (mod 2^24),
/// quadrant q = j >> 22, x from the rest.
#[inline(always)]
fn angle_f32(w: u64) -> (f32, f32) {
    let j = ((w as u32 >> 8) + (1 << 21)) & 0x00FF_FFFF;
    let q = j >> 22;
    let rem = (j & 0x003F_FFFF) as i32 - (1 << 21);
    let x = (rem as f32 + 0.5) * (core::f32::consts::TAU / 16_777_216.0);
    let z = x * x;
    let s =
        x + x * z * (-1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (1.0 / 362_880.0))));
    let c = 1.0 + z * (-0.5 + z * (1.0 / 24.0 + z * (-1.0 / 720.0 + z * (1.0 / 40_320.0))));
    quadrant_f32(c, s, q)
}

/// The f32 pair of one word (see the module docs).
#[inline(always)]
pub(crate) fn pair_f32(w: u64) -> (f32, f32) {
    let r = radius2_f32(w).sqrt();
    let (cos, sin) = angle_f32(w);
    (r * cos, r * sin)
}

/// [`pair_f32`] of 32 words at once, pair i into `out[2i]`, `out[2i + 1]` (the same
/// bits), laid out so that it vectorises: the square roots in a separate pass
/// ([`sqrt_f32s`]).
#[inline(always)]
pub(crate) fn block_f32(words: &[u64; BLOCK_WORDS], out: &mut [f32; 2 * BLOCK_WORDS]) {
    let (mut r, mut c, mut s) = (
        [0.0f32; BLOCK_WORDS],
        [0.0f32; BLOCK_WORDS],
        [0.0f32; BLOCK_WORDS],
    );
    for i in 0..BLOCK_WORDS {
        r[i] = radius2_f32(words[i]);
        (c[i], s[i]) = angle_f32(words[i]);
    }
    sqrt_f32s(&mut r);
    for i in 0..BLOCK_WORDS {
        out[2 * i] = r[i] * c[i];
        out[2 * i + 1] = r[i] * s[i];
    }
}

/// Square roots in place, correctly rounded (the bits of [`Real::sqrt`]): four at a
/// time with `sqrtps` on x86-64 (libm's `sqrtf` is an `asm!` block, which does not
/// vectorise; stable `no_std` Rust has no other vector square root), [`Real::sqrt`]
/// elsewhere.
#[inline(always)]
fn sqrt_f32s(v: &mut [f32; BLOCK_WORDS]) {
    #[cfg(target_arch = "x86_64")]
    for c in v.chunks_exact_mut(4) {
        use core::arch::x86_64::{_mm_cvtss_f32, _mm_set_ps, _mm_shuffle_ps, _mm_sqrt_ps};
        // SAFETY: SSE is part of the x86-64 baseline, enabled for every build of this
        // target; the intrinsics take and return values, no memory is touched.
        #[allow(unsafe_code)]
        unsafe {
            let r = _mm_sqrt_ps(_mm_set_ps(c[3], c[2], c[1], c[0]));
            c[0] = _mm_cvtss_f32(r);
            c[1] = _mm_cvtss_f32(_mm_shuffle_ps::<1>(r, r));
            c[2] = _mm_cvtss_f32(_mm_shuffle_ps::<2>(r, r));
            c[3] = _mm_cvtss_f32(_mm_shuffle_ps::<3>(r, r));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for x in v.iter_mut() {
        *x = Real::sqrt(*x);
    }
}

/// (cos, sin) of qπ/2 + x from c = cos x, s = sin x: swap for odd q, then the signs
/// (cos < 0 for q ∈ {1, 2}, sin < 0 for q ∈ {2, 3}) by flipping sign bits.
#[inline(always)]
fn quadrant_f32(c: f32, s: f32, q: u32) -> (f32, f32) {
    let odd = q & 1 != 0;
    let (a, b) = if odd { (s, c) } else { (c, s) };
    let a = f32::from_bits(a.to_bits() ^ (((q + 1) & 2) << 30));
    let b = f32::from_bits(b.to_bits() ^ ((q & 2) << 30));
    (a, b)
}

/// ln u for a positive normal f32 (the only inputs [`pair_f32`] makes).
#[inline(always)]
fn ln_f32(u: f32) -> f32 {
    let bits = u.to_bits();
    // e = ⌊log2(u/√½)⌋, m = u·2^-e ∈ [√½, √2).
    let e = (bits.wrapping_sub(0x3F35_04F3) as i32) >> 23;
    let m = f32::from_bits(bits.wrapping_sub((e as u32) << 23));
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    let p = 1.0 + z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0))));
    e as f32 * core::f32::consts::LN_2 + 2.0 * s * p
}

/// 2^52 as f64 bits: OR-ing an integer below 2^52 into its mantissa and subtracting
/// 2^52 converts the integer exactly, without a 64-bit integer conversion instruction.
const TWO52_BITS: u64 = 0x4330_0000_0000_0000;
const TWO52: f64 = 4_503_599_627_370_496.0;

/// −2 ln u, the squared radius of the f64 pair whose first word is `w0`.
#[inline(always)]
fn radius2_f64(w0: u64) -> f64 {
    let k = f64::from_bits(TWO52_BITS | (w0 >> 12)) - TWO52;
    let u = (k + 0.5) * (1.0 / TWO52);
    -2.0 * ln_f64(u)
}

/// (cos θ, sin θ) of the f64 pair whose second word is `w1`: 52 bits k;
/// j = k + 2^49 (mod 2^52), quadrant q = j >> 50, x from the rest.
#[inline(always)]
fn angle_f64(w1: u64) -> (f64, f64) {
    let j = ((w1 >> 12) + (1 << 49)) & ((1 << 52) - 1);
    let q = j >> 50;
    // rem = (j mod 2^50) − 2^49, exactly.
    let rem = f64::from_bits(TWO52_BITS | (j & ((1 << 50) - 1))) - (TWO52 + 562_949_953_421_312.0);
    let x = (rem + 0.5) * (core::f64::consts::TAU / TWO52);
    let z = x * x;
    let s = x + x
        * z
        * (-1.0 / 6.0
            + z * (1.0 / 120.0
                + z * (-1.0 / 5040.0
                    + z * (1.0 / 362_880.0
                        + z * (-1.0 / 39_916_800.0
                            + z * (1.0 / 6_227_020_800.0 + z * (-1.0 / 1_307_674_368_000.0)))))));
    let c = 1.0
        + z * (-0.5
            + z * (1.0 / 24.0
                + z * (-1.0 / 720.0
                    + z * (1.0 / 40_320.0
                        + z * (-1.0 / 3_628_800.0
                            + z * (1.0 / 479_001_600.0
                                + z * (-1.0 / 87_178_291_200.0
                                    + z * (1.0 / 20_922_789_888_000.0))))))));
    let odd = q & 1 != 0;
    let (a, b) = if odd { (s, c) } else { (c, s) };
    let a = f64::from_bits(a.to_bits() ^ (((q + 1) & 2) << 62));
    let b = f64::from_bits(b.to_bits() ^ ((q & 2) << 62));
    (a, b)
}

/// The f64 pair of two words (see the module docs).
#[inline(always)]
pub(crate) fn pair_f64(w0: u64, w1: u64) -> (f64, f64) {
    let r = radius2_f64(w0).sqrt();
    let (cos, sin) = angle_f64(w1);
    (r * cos, r * sin)
}

/// [`pair_f64`] of the 16 word pairs of a block, pair i into `out[2i]`, `out[2i + 1]`
/// (the same bits; `out[32..]` untouched), laid out as [`block_f32`].
#[inline(always)]
pub(crate) fn block_f64(words: &[u64; BLOCK_WORDS], out: &mut [f64; 2 * BLOCK_WORDS]) {
    const P: usize = BLOCK_WORDS / 2;
    let (mut r, mut c, mut s) = ([0.0f64; P], [0.0f64; P], [0.0f64; P]);
    for i in 0..P {
        r[i] = radius2_f64(words[2 * i]);
        (c[i], s[i]) = angle_f64(words[2 * i + 1]);
    }
    #[cfg(target_arch = "x86_64")]
    for v in r.chunks_exact_mut(2) {
        use core::arch::x86_64::{_mm_cvtsd_f64, _mm_set_pd, _mm_sqrt_pd, _mm_unpackhi_pd};
        // SAFETY: SSE2 is part of the x86-64 baseline, enabled for every build of this
        // target; the intrinsics take and return values, no memory is touched.
        #[allow(unsafe_code)]
        unsafe {
            let q = _mm_sqrt_pd(_mm_set_pd(v[1], v[0]));
            v[0] = _mm_cvtsd_f64(q);
            v[1] = _mm_cvtsd_f64(_mm_unpackhi_pd(q, q));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for v in r.iter_mut() {
        *v = Real::sqrt(*v);
    }
    for i in 0..P {
        out[2 * i] = r[i] * c[i];
        out[2 * i + 1] = r[i] * s[i];
    }
}

/// ln u for a positive normal f64.
#[inline(always)]
fn ln_f64(u: f64) -> f64 {
    let bits = u.to_bits();
    let e = (bits.wrapping_sub(0x3FE6_A09E_667F_3BCD) as i64) >> 52;
    let m = f64::from_bits(bits.wrapping_sub((e as u64) << 52));
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    let mut p = 1.0 / 19.0;
    p = p * z + 1.0 / 17.0;
    p = p * z + 1.0 / 15.0;
    p = p * z + 1.0 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    p = p * z + 1.0;
    e as f64 * core::f64::consts::LN_2 + 2.0 * s * p
}
