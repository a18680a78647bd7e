//! The kernel's per-row `ln` (`Real::ln_kernel`: a 64-interval table and a cubic in
//! f32 on every target) against libm's f64 `log` (contract in its docs).

use otcore::Real;

/// Absolute error ≤ 4e-7·max(1, |ln x|) on positive normal numbers: every float of
/// [1/4, 4), where the Sinkhorn sums lie near convergence, and every 61st bit pattern
/// of the whole positive normal range. The bound is about 2.5 ulp of the result (the
/// table's two roundings, the cubic's truncation ≤ 4e-9 and the final additions);
/// libm's f64 `log` is exact to ~1e-16, negligible here. Outside the table's domain
/// (0, subnormal, negative, ∞, NaN) the values are libm's `logf`, bit for bit.
#[test]
fn f32_error_within_the_contract() {
    let near = (0.25f32.to_bits()..4.0f32.to_bits()).map(f32::from_bits);
    let all = (f32::MIN_POSITIVE.to_bits()..=f32::MAX.to_bits())
        .step_by(61)
        .map(f32::from_bits);
    let mut worst = 0.0f64;
    for x in near.chain(all) {
        let want = libm::log(f64::from(x));
        worst = worst.max((f64::from(x.ln_kernel()) - want).abs() / want.abs().max(1.0));
    }
    println!("f32 ln_kernel worst error: {worst:.3e}");
    assert!(worst <= 4e-7, "{worst:e}");
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
