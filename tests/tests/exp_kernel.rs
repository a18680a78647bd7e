//! The kernel's branch-free exp against libm over the range it is used on
//! (contract in `Real::exp_kernel`'s docs).

use otcore::Real;

/// Distance in ulps between `got` and the correctly rounded f32 of the exact value
/// `want` (computed in f64, whose own error is ~1e-16, negligible at f32 ulp scale).
fn ulps_f32(got: f32, want: f64) -> f64 {
    let w = want as f32;
    let ulp = (f32::from_bits(w.to_bits() + 1) - w) as f64;
    (got as f64 - want).abs() / ulp
}

#[test]
fn f32_within_one_ulp_on_normal_range() {
    let (lo, hi) = (-87.3f32, 88.0f32);
    let steps = 2_000_000u32;
    let mut worst = 0.0f64;
    for k in 0..=steps {
        let x = lo + (hi - lo) * (k as f32 / steps as f32);
        let e = ulps_f32(x.exp_kernel(), (x as f64).exp());
        worst = worst.max(e);
    }
    // Densely on [-2, 2], where most Sinkhorn arguments lie near convergence.
    let mut x = -2.0f32;
    while x <= 2.0 {
        worst = worst.max(ulps_f32(x.exp_kernel(), (x as f64).exp()));
        x += 1.0 / 1_048_576.0;
    }
    println!("f32 exp_kernel worst error: {worst:.3} ulp");
    assert!(worst <= 1.0, "worst error {worst} ulp");
}

#[test]
fn f32_underflow_and_clamp() {
    for x in [-87.7f32, -88.0, -100.0, -1e30, f32::NEG_INFINITY] {
        assert_eq!(x.exp_kernel(), 0.0, "exp_kernel({x})");
    }
    // Between the accurate range and exact zero the result is at most e^-87.3
    // (absolute error ≤ 1.3e-38).
    let mut x = -87.7f32;
    while x < -87.3 {
        let e = x.exp_kernel();
        assert!((0.0..=1.3e-38).contains(&e), "exp_kernel({x}) = {e:e}");
        x += 1e-3;
    }
    assert_eq!(1e30f32.exp_kernel(), 88.0f32.exp_kernel());
    assert!(f32::INFINITY.exp_kernel().is_finite());
}

#[test]
fn f64_within_one_ulp_of_libm_on_normal_range() {
    let (lo, hi) = (-708.3f64, 709.0f64);
    let steps = 2_000_000u32;
    let mut worst = 0.0f64;
    for k in 0..=steps {
        let x = lo + (hi - lo) * (k as f64 / steps as f64);
        let want = libm::exp(x);
        let ulp = f64::from_bits(want.to_bits() + 1) - want;
        worst = worst.max((x.exp_kernel() - want).abs() / ulp);
    }
    println!("f64 exp_kernel worst distance to libm: {worst:.3} ulp");
    // libm is within 1 ulp of exact, so this bounds our error by 2 ulp.
    assert!(worst <= 1.0, "worst error {worst} ulp");
}

#[test]
fn f64_underflow_and_clamp() {
    for x in [-709.1f64, -710.0, -1e300, f64::NEG_INFINITY] {
        assert_eq!(x.exp_kernel(), 0.0, "exp_kernel({x})");
    }
    assert_eq!(1e300f64.exp_kernel(), 709.0f64.exp_kernel());
    assert!(f64::INFINITY.exp_kernel().is_finite());
}
