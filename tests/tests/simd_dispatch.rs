//! The run-time instruction-set dispatch (x86-64): every path the CPU has gives the
//! same bits run after run, the build-time path (`OTCORE_SIMD_PATH`) is the one that
//! runs, and pinning a path the CPU lacks is refused with nothing changed.
//!
//! The tests of this file share the process-wide path: they take `LOCK`.

use std::sync::Mutex;

use otcore::ot::{self, Config, Init, Problem};
use otcore::pf::{ot_resample, ot_workspace_len, OtConfig};
use otcore::{
    cap_detected_for_tests, is_available, set_simd_path, simd_path, start_default_for_tests, Error,
    SimdPath,
};

static LOCK: Mutex<()> = Mutex::new(());

const PATHS: [SimdPath; 3] = [SimdPath::Portable, SimdPath::Avx2Fma, SimdPath::Avx512];

fn cloud(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n * d)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// A Sinkhorn solve and an OT resampling in every dimension 1..=5: their bits.
fn run_all() -> Vec<u32> {
    let mut bits = Vec::new();
    for d in 1..=5 {
        let n = 70;
        let (x, y) = (cloud(n, d, 1), cloud(n, d, 2));
        let a = vec![1.0 / n as f32; n];
        let problem = Problem::point_clouds(&x, &y, d, 1.0, &a, &a);
        let config = Config {
            max_iterations: 30,
            ..Config::default()
        };
        let mut ws = vec![0.0; ot::workspace_len(n, n, d)];
        let (mut f, mut g) = (vec![0.0; n], vec![0.0; n]);
        let sol = ot::solve(&problem, &config, Init::Zero, &mut f, &mut g, &mut ws).unwrap();
        bits.extend(f.iter().chain(&g).map(|v| v.to_bits()));
        bits.push(sol.transport_cost.to_bits());
        let logw = cloud(n, 1, 3);
        let mut out = vec![0.0; n * d];
        let mut ws = vec![0.0; ot_workspace_len(n, d)];
        ot_resample(&x, &logw, d, &OtConfig::new(0.5), &mut out, &mut ws).unwrap();
        bits.extend(out.iter().map(|v| v.to_bits()));
    }
    bits
}

#[test]
fn each_available_path_is_deterministic_and_reported() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut results = Vec::new();
    for path in PATHS.into_iter().filter(|&p| is_available(p)) {
        set_simd_path(path).unwrap();
        assert_eq!(simd_path(), path);
        let first = run_all();
        assert_eq!(first, run_all(), "{path:?}: two runs differ");
        results.push((path, first));
    }
    // AVX2 and AVX-512 do the same operations per lane in the same order.
    let fma: Vec<_> = results
        .iter()
        .filter(|(p, _)| *p != SimdPath::Portable)
        .collect();
    if let [a, b] = fma.as_slice() {
        assert_eq!(a.1, b.1, "AVX2 and AVX-512 differ");
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
    let portable = run_all();
    // As on a CPU without AVX2.
    cap_detected_for_tests(SimdPath::Portable);
    assert_eq!(
        set_simd_path(SimdPath::Avx2Fma),
        Err(Error::FeatureDisabled)
    );
    assert_eq!(set_simd_path(SimdPath::Avx512), Err(Error::FeatureDisabled));
    assert_eq!(simd_path(), SimdPath::Portable);
    assert_eq!(run_all(), portable);
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
