//! The run-time instruction-set dispatch (x86-64): every path the CPU has gives the
//! same bits run after run, the build-time path (`OTCORE_SIMD_PATH`) is the one that
//! runs, and pinning a path the CPU lacks is refused with nothing changed.
//!
//! The tests of this file share the process-wide path: they take `LOCK`.

use std::sync::Mutex;

use otcore::ot::{self, Config, Init, Problem};
use otcore::pf::{ot_resample, ot_workspace_len, OtConfig};
use otcore::Real;
use otcore::{
    cap_detected_for_tests, is_available, set_simd_path, simd_path, start_default_for_tests, Error,
    SimdPath,
};

static LOCK: Mutex<()> = Mutex::new(());

const PATHS: [SimdPath; 3] = [SimdPath::Portable, SimdPath::Avx2Fma, SimdPath::Avx512];

fn cloud<T: Real>(n: usize, d: usize, seed: u64) -> Vec<T> {
    let mut s = seed;
    (0..n * d)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            T::from_f64(((s >> 40) as f64 / (1u64 << 24) as f64) * 2.0 - 1.0)
        })
        .collect()
}

/// A Sinkhorn solve and an OT resampling in every dimension 1..=5: the potentials,
/// the transport cost and the resampled particles.
fn run_all<T: Real>() -> Vec<T> {
    let mut values = Vec::new();
    for d in 1..=5 {
        let n = 70;
        let (x, y) = (cloud::<T>(n, d, 1), cloud::<T>(n, d, 2));
        let a = vec![T::ONE / T::from_usize(n); n];
        let problem = Problem::point_clouds(&x, &y, d, T::ONE, &a, &a);
        let config = Config {
            max_iterations: 30,
            ..Config::default()
        };
        let mut ws = vec![T::ZERO; ot::workspace_len(n, n, d)];
        let (mut f, mut g) = (vec![T::ZERO; n], vec![T::ZERO; n]);
        let sol = ot::solve(&problem, &config, Init::Zero, &mut f, &mut g, &mut ws).unwrap();
        values.extend(f.iter().chain(&g));
        values.push(sol.transport_cost);
        let logw = cloud::<T>(n, 1, 3);
        let mut out = vec![T::ZERO; n * d];
        let mut ws = vec![T::ZERO; ot_workspace_len(n, d)];
        ot_resample(&x, &logw, d, &OtConfig::new(T::HALF), &mut out, &mut ws).unwrap();
        values.extend(out);
    }
    values
}

/// Bit patterns, for exact comparisons.
fn bits<T: Real>(v: &[T]) -> Vec<u64> {
    v.iter().map(|x| x.to_f64().to_bits()).collect()
}

#[test]
fn each_available_path_is_deterministic_and_reported() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut results = Vec::new();
    for path in PATHS.into_iter().filter(|&p| is_available(p)) {
        set_simd_path(path).unwrap();
        assert_eq!(simd_path(), path);
        let (f32s, f64s) = (run_all::<f32>(), run_all::<f64>());
        assert_eq!(
            bits(&f32s),
            bits(&run_all::<f32>()),
            "{path:?}: two f32 runs differ"
        );
        assert_eq!(
            bits(&f64s),
            bits(&run_all::<f64>()),
            "{path:?}: two f64 runs differ"
        );
        results.push((path, f32s, f64s));
    }
    let fma: Vec<_> = results
        .iter()
        .filter(|(p, _, _)| *p != SimdPath::Portable)
        .collect();
    if let [avx2, avx512] = fma.as_slice() {
        // f64: AVX2 and AVX-512 do the same operations per lane in the same order.
        assert_eq!(
            bits(&avx2.2),
            bits(&avx512.2),
            "f64: AVX2 and AVX-512 differ"
        );
        // f32: AVX-512 has its own exponential, so the results differ by roundings.
        // Both exponentials are within 3e-7 of 2^x: each pass's potentials move by
        // less than 1e-6·ε between them, and Sinkhorn's contraction keeps the sum over
        // passes within a few such steps. The values here are of size ≤ 3, so 1e-5
        // (measured: 4.8e-7) is a margin of 20 over what was seen, far below any
        // difference a wrong exponential (≥ 1e-3) makes.
        let worst = avx2
            .1
            .iter()
            .zip(&avx512.1)
            .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
            .fold(0.0f32, f32::max);
        println!("f32, AVX2 against AVX-512: worst difference {worst:e}");
        assert!(worst <= 1e-5, "f32: AVX2 and AVX-512 differ by {worst:e}");
    }
    set_simd_path(SimdPath::Auto).unwrap();
    assert_ne!(simd_path(), SimdPath::Auto);
}

#[test]
fn the_build_time_path_runs() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // The run-time test hook (this crate enables `test-simd-path-env`) wins over the
    // build-time default.
    let run_time = std::env::var("OTCORE_TEST_SIMD_PATH").ok();
    let want = match run_time.as_deref().or(option_env!("OTCORE_SIMD_PATH")) {
        Some("portable") => SimdPath::Portable,
        Some("avx2") => SimdPath::Avx2Fma,
        Some("avx512") => SimdPath::Avx512,
        _ => return,
    };
    assert_eq!(
        start_default_for_tests(),
        want,
        "the process does not start on {want:?}"
    );
    // The other tests reset to Auto, i.e. the best path; the build-time one is what a
    // fresh process starts on, which the kernel suites of the same build run.
    assert!(
        is_available(want),
        "the CPU lacks {want:?}: the suites ran another path"
    );
}

#[test]
fn pinning_a_missing_path_is_refused_and_changes_nothing() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    set_simd_path(SimdPath::Portable).unwrap();
    let portable = bits(&run_all::<f32>());
    // As on a CPU without AVX2.
    cap_detected_for_tests(SimdPath::Portable);
    assert_eq!(
        set_simd_path(SimdPath::Avx2Fma),
        Err(Error::FeatureDisabled)
    );
    assert_eq!(set_simd_path(SimdPath::Avx512), Err(Error::FeatureDisabled));
    assert_eq!(simd_path(), SimdPath::Portable);
    assert_eq!(bits(&run_all::<f32>()), portable);
    cap_detected_for_tests(SimdPath::Auto);
    if is_available(SimdPath::Avx2Fma) {
        set_simd_path(SimdPath::Avx2Fma).unwrap();
        cap_detected_for_tests(SimdPath::Avx2Fma);
        assert_eq!(set_simd_path(SimdPath::Avx512), Err(Error::FeatureDisabled));
        assert_eq!(simd_path(), SimdPath::Avx2Fma);
        cap_detected_for_tests(SimdPath::Auto);
    }
    set_simd_path(SimdPath::Auto).unwrap();
}
