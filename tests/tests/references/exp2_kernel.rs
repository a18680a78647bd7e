//! The kernel's branch-free 2^x against an accurate reference over the range it is
//! used on (contract in `Real::exp2_kernel`'s docs).

use otcore::Real;

/// Relative error of `got` against the exact 2^x, computed in f64 by libm (within
/// 1 ulp of f64, ~1e-16: negligible at f32 scale; for f64 it adds at most 2.2e-16 to
/// what is measured, which the f64 bound below accounts for).
fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want
}

/// Evenly spaced points over [lo, hi] plus a dense sweep of [-4, 4], where most
/// Sinkhorn exponents lie near convergence.
fn points(lo: f64, hi: f64) -> impl Iterator<Item = f64> {
    let steps = 2_000_000u32;
    let even = (0..=steps).map(move |k| lo + (hi - lo) * (f64::from(k) / f64::from(steps)));
    let dense = (0..=(8u32 << 20)).map(|k| -4.0 + f64::from(k) / f64::from(1u32 << 20));
    even.chain(dense)
}

#[test]
fn f32_relative_error_on_normal_range() {
    let mut worst = 0.0f64;
    for x in points(-125.0, 127.0) {
        let x = x as f32;
        worst = worst.max(rel(f64::from(x.exp2_kernel()), libm::exp2(f64::from(x))));
    }
    println!("f32 exp2_kernel worst relative error: {worst:.3e}");
    // The documented contract: 3e-7 ≈ 2.5 ulp. The degree-5 polynomial's rounded fit
    // reaches 2.5e-7 on tools/reference/fit_exp2.py's grid and 2.8e-7 on this denser
    // sweep, with or without FMA; the scaling by 2^k is exact.
    assert!(worst <= 3e-7, "worst relative error {worst:e}");
}

/// The kernel's split of a target's offset: with (b, φ) = `exp2_bias(base)`,
/// 2^φ·`exp2_biased(w, b)` is 2^(w + base) within the exponential's 3e-7 (the
/// exponent w + base' is exact, the integer base' being folded into b) for offsets
/// up to ±2^22 in kernel units, with w sweeping exponents w + base in [−120, 120].
/// Beyond, no split (`None`: the kernel adds the offset to each exponent, see
/// `tests/hardening.rs::plan_with_potentials_of_millions_of_epsilon`). The 2^φ is
/// taken in f64 (as the kernel takes it once per target).
#[test]
fn f32_bias_split() {
    let bases = [
        0.0f32,
        0.3,
        -0.7,
        1234.56,
        -98_765.4,
        4_000_000.0,
        -4_194_304.0,
    ];
    let mut worst = 0.0f64;
    for base in bases {
        let (b, phi) = f32::exp2_bias(base).unwrap();
        for k in 0..=24_000 {
            let x = -120.0 + f64::from(k) * 0.01;
            let w = (x - f64::from(base)) as f32;
            let want = libm::exp2(f64::from(w) + f64::from(base));
            let got = f64::from(w.exp2_biased::<true>(b)) * libm::exp2(f64::from(phi));
            worst = worst.max(rel(got, want));
        }
    }
    println!("f32 exp2_biased worst relative error: {worst:.3e}");
    assert!(worst <= 3e-7, "worst relative error {worst:e}");
    for base in [4_194_305.0f32, -3e7, 1e30, f32::INFINITY] {
        assert_eq!(f32::exp2_bias(base), None, "{base}");
    }
}

#[test]
fn f32_underflow() {
    for x in [
        -127.0f32,
        -127.5,
        -200.0,
        -1e30,
        f32::MASKED,
        f32::NEG_INFINITY,
    ] {
        assert_eq!(x.exp2_kernel(), 0.0, "exp2_kernel({x})");
    }
    let mut x = -127.0f32;
    while x < -125.0 {
        let e = x.exp2_kernel();
        assert!(
            (0.0..=2f32.powi(-124)).contains(&e),
            "exp2_kernel({x}) = {e:e}"
        );
        x += 1e-3;
    }
}

#[test]
fn f64_relative_error_on_normal_range() {
    let mut worst = 0.0f64;
    for x in points(-1021.0, 1023.0) {
        worst = worst.max(rel(x.exp2_kernel(), libm::exp2(x)));
    }
    println!("f64 exp2_kernel worst relative error: {worst:.3e}");
    // Contract 1e-14: the degree-8 fit of 2^(r/2), squared, is 7.1e-15 after rounding
    // (tools/reference/fit_exp2.py; the scaling by 2^k is exact); the reference's own
    // ≤ 1 ulp of libm is far inside the margin.
    assert!(worst <= 1e-14, "worst relative error {worst:e}");
}

#[test]
fn f64_underflow() {
    for x in [
        -1023.0f64,
        -1023.5,
        -2000.0,
        -1e300,
        f64::MASKED,
        f64::NEG_INFINITY,
    ] {
        assert_eq!(x.exp2_kernel(), 0.0, "exp2_kernel({x})");
    }
    let mut x = -1023.0f64;
    while x < -1021.0 {
        let e = x.exp2_kernel();
        assert!(
            (0.0..=2f64.powi(-1020)).contains(&e),
            "exp2_kernel({x}) = {e:e}"
        );
        x += 1e-3;
    }
}

/// The AVX-512 path's f32 chunk exponential (a 32-entry table, a quadratic and
/// `vscalefps`, `exp2_avx512`), on this CPU if it has AVX-512: 2^φ·e is 2^(w + base)
/// within the same 3e-7 contract over exponents w + base in [−125, 127] for offsets
/// up to its split's limit (|base| < 2^17; the table and quadratic alone reach 1.9e-7
/// in tools/reference/fit_exp2.py), and the sums it adds into are its values.
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[test]
fn f32_avx512_chunk() {
    if !otcore::is_available(otcore::SimdPath::Avx512) {
        println!("no AVX-512 on this CPU: nothing to check");
        return;
    }
    let chunk = |w: &[f32; 16], b: f32| {
        let (mut e, mut sum) = ([0.0f32; 16], [1.0f32; 16]);
        // SAFETY: the CPU has AVX-512 F/BW/DQ/VL and FMA (`is_available`).
        #[allow(unsafe_code)]
        unsafe {
            assert!(f32::exp2_chunk_avx512(w, b, &mut e, &mut sum));
        }
        for l in 0..16 {
            assert_eq!(sum[l], 1.0 + e[l], "the sum is 1 + e");
        }
        e
    };
    let mut worst = 0.0f64;
    for base in [0.0f32, 0.3, -0.7, 1234.56, -98_765.4, 131_071.0, -131_071.5] {
        let (b, phi) = f32::exp2_bias_avx512(base).unwrap();
        let xs: Vec<f64> = points(-125.0, 127.0).step_by(3).collect();
        for xs in xs.chunks_exact(16) {
            let w: [f32; 16] = core::array::from_fn(|l| (xs[l] - f64::from(base)) as f32);
            let e = chunk(&w, b);
            for l in 0..16 {
                let want = libm::exp2(f64::from(w[l]) + f64::from(base));
                worst = worst.max(rel(f64::from(e[l]) * libm::exp2(f64::from(phi)), want));
            }
        }
    }
    println!("f32 AVX-512 chunk exponential worst relative error: {worst:.3e}");
    assert!(worst <= 3e-7, "worst relative error {worst:e}");
    for base in [131_072.0f32, -3e7, 1e30, f32::INFINITY] {
        assert_eq!(f32::exp2_bias_avx512(base), None, "{base}");
    }
    // Saturation without clamps, for any finite exponent: +∞ from 128 (the kernel's
    // overflow signal), exactly 0 from −150, at most 2^−124 below −125, never NaN.
    let (b, _) = f32::exp2_bias_avx512(0.0).unwrap();
    let far = [
        128.0f32,
        128.2,
        200.0,
        3e5,
        1e9,
        3e38,
        -150.0,
        -150.5,
        -1e4,
        -1e9,
        -3e38,
        f32::MASKED,
    ];
    let mut w = [0.0f32; 16];
    w[..far.len()].copy_from_slice(&far);
    let e = chunk(&w, b);
    for (&x, &v) in far.iter().zip(&e) {
        if x >= 128.0 {
            assert_eq!(v, f32::INFINITY, "2^{x}");
        } else {
            assert_eq!(v, 0.0, "2^{x}");
        }
    }
    let mut x = -150.0f32;
    while x < -125.0 {
        let e = chunk(&[x; 16], b)[0];
        assert!((0.0..=2f32.powi(-124)).contains(&e), "2^{x} = {e:e}");
        x += 1e-3;
    }
    // Large exponents against a large offset (the split's own limits): still +∞ or 0.
    let (b, _) = f32::exp2_bias_avx512(100_000.0).unwrap();
    let e = chunk(
        &[
            1e6, -1e6, 1e20, -1e20, 5e4, -3e5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ],
        b,
    );
    assert_eq!(
        &e[..6],
        &[f32::INFINITY, 0.0, f32::INFINITY, 0.0, f32::INFINITY, 0.0]
    );
}
