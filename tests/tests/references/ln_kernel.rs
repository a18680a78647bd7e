//! The kernel's per-row `ln` (`Real::ln_kernel`: off Cortex-M, a 64-interval table and
//! a series evaluated in f64 and rounded to f32 once) against libm's f64 `log`
//! (contract in its docs; the Cortex-M f32 form is checked on target).

use otcore::Real;

/// Error ≤ 0.5 ulp of the result + 1e-11 on positive normal numbers: every float of
/// [1/4, 4), where the Sinkhorn sums lie near convergence, and every 61st bit pattern
/// of the whole positive normal range. 0.5 ulp is the final rounding to f32; 1e-11
/// covers the series' truncation (≤ 6e-12) and the f64 roundings before it, which
/// matter only where ln x is near 0. libm's f64 `log` is exact to ~1e-16. Outside the
/// table's domain (0, subnormal, negative, ∞, NaN) the values are libm's `logf`, bit
/// for bit.
#[test]
fn f32_error_within_the_contract() {
    let near = (0.25f32.to_bits()..4.0f32.to_bits()).map(f32::from_bits);
    let all = (f32::MIN_POSITIVE.to_bits()..=f32::MAX.to_bits())
        .step_by(61)
        .map(f32::from_bits);
    let mut worst = 0.0f64;
    for x in near.chain(all) {
        let want = libm::log(f64::from(x));
        // 2^⌊log2 |ln x|⌋ (the binade's power of two, from the exponent bits) · 2^-24.
        let binade = f64::from_bits(want.abs().to_bits() & 0x7FF0_0000_0000_0000);
        let half_ulp = binade.max(f64::from(f32::MIN_POSITIVE)) * f64::from(f32::EPSILON) / 2.0;
        let err = (f64::from(x.ln_kernel()) - want).abs();
        worst = worst.max((err - 1e-11) / half_ulp);
    }
    println!("f32 ln_kernel worst error: {worst:.6} half-ulps (after 1e-11)");
    assert!(worst <= 1.0, "{worst}");
    for x in [0.0f32, 1e-40, -1.0, f32::INFINITY, f32::NAN] {
        assert_eq!(x.ln_kernel().to_bits(), libm::logf(x).to_bits(), "{x}");
    }
}

/// f64 keeps libm's `log` (the table form would not reach f64 precision).
#[test]
fn f64_is_libm() {
    for x in [1e-300f64, 0.3, 1.0, 2.5, 1e300] {
        assert_eq!(x.ln_kernel().to_bits(), libm::log(x).to_bits(), "{x}");
    }
}
