//! The f32 chunk exponential of the AVX-512 path (`dispatch`): 2^x of 16 kernel
//! exponents in 9 vector operations where the polynomial form takes 12 (the kernel
//! loop's cost is its operation count: 12 instead of 15 per chunk at d = 2).
//!
//! Method (the Cortex-M table form, widened): t = x + 1.5·2^18 rounds x to the nearest
//! 1/32, k + j/32, held in t's low mantissa bits; the remainder r = x − (t − 1.5·2^18)
//! ∈ [−1/64, 1/64] is exact; 2^(j/32) comes from a 32-entry table by one two-register
//! permute indexed by t's bits; 2^r = 1 + Q1·r + Q2·r² (near-minimax,
//! tools/reference/fit_exp2.py); and `vscalefps` multiplies by 2^k, k = ⌊t − 1.5·2^18⌋,
//! saturating to +∞ and to 0 as 2^x does. No clamps: 1 + Q1·r + Q2·r² has no real
//! root, so for any finite x the product is positive and finite before the scaling,
//! and exponents far outside the range give +∞ or 0 (subnormal results below
//! 2^−126, exactly 0 from x ≤ −150). Relative error ≤ 3e-7 on [−125, 127] as
//! [`crate::Real::exp2_kernel`] (measured worst 2.2e-7 with the offset's split,
//! `tests/tests/references/exp2_kernel.rs`).

use core::arch::x86_64::{
    _mm512_add_ps, _mm512_castps_si512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mul_ps,
    _mm512_permutex2var_ps, _mm512_scalef_ps, _mm512_set1_ps, _mm512_storeu_ps, _mm512_sub_ps,
};

use crate::real::EXP2_64;

/// 1.5·2^18: added to an f32 of magnitude below 2^17, it rounds it to a multiple of
/// 1/32, whose five fraction bits are the low mantissa bits of the sum.
const ROUND: f32 = 393_216.0;

/// q(r) = Q1·r + Q2·r² ≈ 2^r − 1 on [−1/64, 1/64].
const Q1: f32 = 0.693_154;
const Q2: f32 = 0.240_227_68;

/// 2^(j/32), j = 0..31: the even entries of the Cortex-M table, bits restored.
const TABLE: [f32; 32] = {
    let mut t = [0.0f32; 32];
    let mut j = 0;
    while j < 32 {
        let bits = EXP2_64[2 * j].wrapping_add((127 << 23) + ((2 * j as u32) << 17));
        t[j] = f32::from_bits(bits);
        j += 1;
    }
    t
};

/// The split of a target's offset for [`chunk`] (see `Real::exp2_bias`): b = base' +
/// 1.5·2^18 with base' = base rounded to 1/32 (by the addition), φ = base − base'.
/// `None` from |base| ≥ 2^17, where b would leave the binade whose grid is 1/32.
#[inline(always)]
pub(crate) fn bias(base: f32) -> Option<(f32, f32)> {
    const LIMIT: f32 = 131_072.0; // 2^17
    (base.abs() < LIMIT).then(|| {
        let b = base + ROUND;
        (b, base - (b - ROUND))
    })
}

/// e_l = 2^(w_l + base') for the 16 lanes, with b from [`bias`] (base' = b −
/// 1.5·2^18), and `sum` += e. Inputs must be finite (the kernel's masked exponents
/// are).
///
/// # Safety
/// The CPU must have AVX-512F (`dispatch`'s AVX-512 token, `Fma(true)`, proves it).
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) unsafe fn chunk(w: &[f32; 16], b: f32, e: &mut [f32; 16], sum: &mut [f32; 16]) {
    // SAFETY: the caller guarantees AVX-512F; every load and store moves 16 floats of
    // a 16-float array (or of one half of `TABLE`).
    unsafe {
        let x = _mm512_loadu_ps(w.as_ptr());
        let b = _mm512_set1_ps(b);
        let t = _mm512_add_ps(x, b);
        let r = _mm512_sub_ps(x, _mm512_sub_ps(t, b));
        let lo = _mm512_loadu_ps(TABLE.as_ptr());
        let hi = _mm512_loadu_ps(TABLE.as_ptr().add(16));
        let tab = _mm512_permutex2var_ps(lo, _mm512_castps_si512(t), hi);
        let q = _mm512_fmadd_ps(_mm512_set1_ps(Q2), r, _mm512_set1_ps(Q1));
        let p = _mm512_fmadd_ps(_mm512_mul_ps(tab, r), q, tab);
        let v = _mm512_scalef_ps(p, _mm512_sub_ps(t, _mm512_set1_ps(ROUND)));
        _mm512_storeu_ps(e.as_mut_ptr(), v);
        _mm512_storeu_ps(
            sum.as_mut_ptr(),
            _mm512_add_ps(_mm512_loadu_ps(sum.as_ptr()), v),
        );
    }
}
