//! OT resampling: transport-matrix properties, the two ε limits, a dense transcription
//! of filterflow's pseudo-code, and bad input.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use otcore::ot::Status;
use otcore::pf::{
    ot_resample, ot_resample_warm, ot_transport_matrix, ot_warm_len, ot_workspace_len, OtConfig,
    OtSchedule,
};
use otcore::{Error, Real};
use otcore_tests::{cast, filterflow_dense, Rng};

/// A random cloud (N×d, standard normal around (3, −2, …)) and random log-weights.
fn cloud(n: usize, d: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut r = Rng::new(seed);
    let x: Vec<f64> = (0..n * d)
        .map(|k| r.normal() + if k % 2 == 0 { 3.0 } else { -2.0 })
        .collect();
    let logw: Vec<f64> = (0..n).map(|_| 1.5 * r.normal()).collect();
    (x, logw)
}

fn normalised(logw: &[f64]) -> Vec<f64> {
    let m = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = logw.iter().map(|l| (l - m).exp()).sum();
    logw.iter().map(|l| (l - m).exp() / s).collect()
}

fn matrix<T: Real>(x: &[T], logw: &[T], d: usize, cfg: &OtConfig<T>) -> Vec<T> {
    let n = logw.len();
    let mut ws = vec![T::ZERO; ot_workspace_len(n, d)];
    let mut t = vec![T::ZERO; n * n];
    ot_transport_matrix(x, logw, d, cfg, &mut t, &mut ws).unwrap();
    t
}

fn resampled<T: Real>(x: &[T], logw: &[T], d: usize, cfg: &OtConfig<T>) -> Vec<T> {
    let mut ws = vec![T::ZERO; ot_workspace_len(logw.len(), d)];
    let mut out = vec![T::ZERO; x.len()];
    ot_resample(x, logw, d, cfg, &mut out, &mut ws).unwrap();
    out
}

fn check_marginals<T: Real>(n: usize, d: usize, seed: u64, col_tol: f64, mean_tol: f64) {
    let (x, logw) = cloud(n, d, seed);
    let w = normalised(&logw);
    let (xt, lt) = (cast::<T>(&x), cast::<T>(&logw));
    let cfg = OtConfig::new(T::from_f64(0.5));
    let t = matrix(&xt, &lt, d, &cfg);
    let mut worst_row = 0.0f64;
    for j in 0..n {
        let col: f64 = (0..n).map(|i| t[i * n + j].to_f64()).sum();
        let want = n as f64 * w[j];
        assert!(
            (col - want).abs() <= col_tol * (1.0 + want),
            "column {j}: {col} vs {want}"
        );
    }
    for i in 0..n {
        let row: f64 = (0..n).map(|j| t[i * n + j].to_f64()).sum();
        worst_row = worst_row.max((row - 1.0).abs());
    }
    // Rows: the potentials stop changing by ≤ tolerance 1e-3 (cost units of the
    // normalised cloud); a row sum is exp(Δa/ε) with Δa the remaining error of a*,
    // so |row − 1| ≲ e^{2·1e-3/0.5} − 1 ≈ 4e-3 once the final extrapolation is done;
    // we allow 1e-2, filterflow's own test tolerance (atol 1e-2).
    assert!(worst_row < 1e-2, "worst row error {worst_row}");
    // Weighted mean preserved: (1/N)Σ x̃_i = Σ w_j x_j up to rounding.
    let out = resampled(&xt, &lt, d, &cfg);
    for k in 0..d {
        let got: f64 = (0..n).map(|i| out[i * d + k].to_f64()).sum::<f64>() / n as f64;
        let want: f64 = (0..n).map(|j| w[j] * xt[j * d + k].to_f64()).sum();
        assert!(
            (got - want).abs() <= mean_tol * (1.0 + want.abs()),
            "mean {k}: {got} vs {want}"
        );
    }
}

#[test]
fn columns_exact_rows_within_solver_error_mean_preserved_f64() {
    // f64: the column sums and the mean are sums of N terms of size ~1: rounding
    // ~N·2^-53 ≈ 1e-14; 1e-11 leaves room for the exp/ln roundings of the potentials.
    for (n, d, seed) in [(25, 2, 1), (64, 4, 2), (100, 2, 3), (7, 1, 4)] {
        check_marginals::<f64>(n, d, seed, 1e-11, 1e-11);
    }
}

#[test]
fn columns_exact_rows_within_solver_error_mean_preserved_f32() {
    // f32: the same sums at 2^-24 ≈ 6e-8 per term; N ≤ 100 terms plus exp/ln
    // roundings of the potentials scaled by 1/ε: 1e-4 relative.
    for (n, d, seed) in [(25, 2, 1), (64, 4, 2), (100, 2, 3)] {
        check_marginals::<f32>(n, d, seed, 1e-4, 1e-4);
    }
}

#[test]
fn large_epsilon_collapses_to_the_weighted_mean() {
    let (n, d) = (30, 2);
    let (x, logw) = cloud(n, d, 11);
    let w = normalised(&logw);
    let cfg = OtConfig::new(1e6);
    let out = resampled(&x, &logw, d, &cfg);
    for k in 0..d {
        let mean: f64 = (0..n).map(|j| w[j] * x[j * d + k]).sum();
        for i in 0..n {
            // The plan at ε is the product plan plus O(C/ε): with normalised costs
            // C ≲ 10 and ε = 1e6, deviations are ~1e-5 of the spread (≈ 1).
            assert!(
                (out[i * d + k] - mean).abs() < 1e-4,
                "{} vs {mean}",
                out[i * d + k]
            );
        }
    }
}

/// Exact OT from Σ_j (c_j/N) δ_{x_j} to (1/N) Σ_i δ_{x_i} by brute force over the
/// assignments of targets to source copies (integral counts: an optimal vertex is an
/// assignment). Returns the source of each target.
fn brute_force(x: &[f64], d: usize, counts: &[usize]) -> Vec<usize> {
    let n = counts.len();
    let cost = |i: usize, j: usize| {
        (0..d)
            .map(|k| (x[i * d + k] - x[j * d + k]).powi(2))
            .sum::<f64>()
    };
    let mut best = (f64::INFINITY, vec![]);
    let mut left = counts.to_vec();
    let mut cur = vec![0; n];
    fn rec(
        i: usize,
        n: usize,
        acc: f64,
        left: &mut [usize],
        cur: &mut [usize],
        cost: &dyn Fn(usize, usize) -> f64,
        best: &mut (f64, Vec<usize>),
    ) {
        if i == n {
            if acc < best.0 {
                *best = (acc, cur.to_vec());
            }
            return;
        }
        for j in 0..n {
            if left[j] > 0 {
                left[j] -= 1;
                cur[i] = j;
                rec(i + 1, n, acc + cost(i, j), left, cur, cost, best);
                left[j] += 1;
            }
        }
    }
    rec(0, n, 0.0, &mut left, &mut cur, &cost, &mut best);
    best.1
}

#[test]
fn small_epsilon_approaches_the_exact_assignment() {
    let d = 2;
    let counts = [2usize, 0, 1, 0, 3, 0, 1, 1];
    let n = counts.len();
    let (x, _) = cloud(n, d, 21);
    let logw: Vec<f64> = counts.iter().map(|&c| (c as f64).ln()).collect();
    let assign = brute_force(&x, d, &counts);
    let mut cfg = OtConfig::new(5e-4);
    cfg.tolerance = 1e-10;
    cfg.max_iterations = 5000;
    let out = resampled(&x, &logw, d, &cfg);
    let mut gap = f64::INFINITY;
    for i in 0..n {
        for j in 0..i {
            let dist = (0..d)
                .map(|k| (x[i * d + k] - x[j * d + k]).powi(2))
                .sum::<f64>()
                .sqrt();
            gap = gap.min(dist);
        }
    }
    assert!(gap > 0.1, "points too close to tell the assignment: {gap}");
    for i in 0..n {
        for k in 0..d {
            let want = x[assign[i] * d + k];
            // The entropic plan deviates from the optimal vertex by ~exp(−Δ/ε), Δ the
            // cost gap to the next vertex, and filterflow's ½-damped Jacobi iteration
            // converges slowly at ε = 5e-4 (measured residual ≈ 2e-3 after 5000
            // iterations). 5e-3 still identifies the assignment: distinct particles
            // are ≥ `gap` apart (asserted above).
            assert!(
                (out[i * d + k] - want).abs() < 5e-3,
                "target {i}: {} vs {want}",
                out[i * d + k]
            );
        }
    }
}

#[test]
fn matches_a_dense_transcription_of_filterflow() {
    for (n, d, eps, seed) in [(25, 2, 0.25, 31), (40, 3, 0.5, 32), (16, 1, 0.75, 33)] {
        let (x, logw) = cloud(n, d, seed);
        let cfg = OtConfig {
            schedule: OtSchedule::Filterflow,
            ..OtConfig::new(eps)
        };
        let ours = resampled(&x, &logw, d, &cfg);
        // Same iterates in exact arithmetic: 1e-9 is f64 rounding through ~100 LSE
        // iterations.
        assert_matches_filterflow(&ours, &x, &logw, d, eps, 1e-9);
    }
}

/// Two tight clusters a normalised distance ≈ 2 apart, the second one's weights
/// `gap` nats below the first's: at small ε every term of a second-cluster row is
/// far below the underflow threshold in product form (the geometric factor across
/// the gap, the weight factor within the cluster), so `softmin_pair` must redo those
/// rows in the log domain; without that redo they come out +∞ and the resampler
/// fails with `NonFinite`.
fn far_apart_clusters(n: usize, gap: f64) -> (Vec<f64>, Vec<f64>) {
    let mut r = Rng::new(41);
    let x: Vec<f64> = (0..n * 2)
        .map(|k| 0.02 * r.normal() + if (k / 2) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let logw = (0..n)
        .map(|i| r.normal() - if i % 2 == 0 { 0.0 } else { gap })
        .collect();
    (x, logw)
}

/// Compares resampled particles `ours` with the dense filterflow transcription, after
/// removing our centring term m·(1 − row_i) (module docs of `ot_resample`).
fn assert_matches_filterflow(ours: &[f64], x: &[f64], logw: &[f64], d: usize, eps: f64, tol: f64) {
    let n = logw.len();
    let theirs = filterflow_dense(x, logw, d, eps, None, None);
    for i in 0..n {
        for k in 0..d {
            let m = (0..n).map(|j| x[j * d + k]).sum::<f64>() / n as f64;
            let ff = theirs.x[i * d + k] + m * (1.0 - theirs.rows[i]);
            assert!(
                (ours[i * d + k] - ff).abs() < tol,
                "n={n} i={i}: {} vs {ff}",
                ours[i * d + k]
            );
        }
    }
}

#[test]
fn rows_beyond_the_product_form_range_match_filterflow() {
    // f64: LSE_SUM_MIN = 2^-865 ≈ e^-600. ε = 1e-3 puts the clusters ≈ 1000 nats
    // apart (½·2²/ε), the weight gap 1000 nats; same 1e-9 as the test above.
    let (n, d, eps) = (24, 2, 1e-3);
    let (x, logw) = far_apart_clusters(n, 1000.0);
    // Filterflow's schedule: the transcription runs its iterates.
    let ff = |eps| OtConfig {
        schedule: OtSchedule::Filterflow,
        ..OtConfig::new(eps)
    };
    let ours = resampled(&x, &logw, d, &ff(eps));
    assert_matches_filterflow(&ours, &x, &logw, d, eps, 1e-9);
    // f32: LSE_SUM_MIN = 2^-72 ≈ e^-50; ε = 0.02 (clusters 100 nats apart), gap 200
    // nats. Against the f64 transcription: the particles move within their cluster
    // (spread 0.02), so 1e-4 is f32 rounding of O(1) coordinates through the annealed
    // iterations with a wide margin, and far below the cluster spread.
    let eps = 0.02;
    let (x, logw) = far_apart_clusters(n, 200.0);
    let ours = resampled(
        &cast::<f32>(&x),
        &cast::<f32>(&logw),
        d,
        &OtConfig {
            schedule: OtSchedule::Filterflow,
            ..OtConfig::new(eps as f32)
        },
    );
    let ours: Vec<f64> = ours.iter().map(|&v| f64::from(v)).collect();
    assert_matches_filterflow(&ours, &x, &logw, d, eps, 1e-4);
}

#[test]
fn workspace_contents_are_ignored() {
    // N = 25 leaves padding in every workspace vector (kernel width 16 or 4). A
    // workspace full of NaN must give the same particles, bit for bit, as a zeroed one.
    let (n, d) = (25, 2);
    let (x, logw) = cloud(n, d, 51);
    let cfg = OtConfig::new(0.5);
    let run = |fill: f64| {
        let mut ws = vec![fill; ot_workspace_len(n, d)];
        let mut out = vec![0.0; n * d];
        ot_resample(&x, &logw, d, &cfg, &mut out, &mut ws).map(|_| out)
    };
    let clean = run(0.0).unwrap();
    let dirty = run(f64::NAN).unwrap();
    assert!(clean
        .iter()
        .zip(&dirty)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn bad_input_is_refused_and_nothing_written() {
    let (n, d) = (10, 2);
    let (x, logw) = cloud(n, d, 41);
    let cfg = OtConfig::new(0.5);
    let mut ws = vec![0.0; ot_workspace_len(n, d)];
    let canary = 12345.0;
    let mut out = vec![canary; n * d];
    let run =
        |x: &[f64], l: &[f64], d: usize, cfg: &OtConfig<f64>, ws: &mut [f64], out: &mut [f64]| {
            ot_resample(x, l, d, cfg, out, ws)
        };
    let mut nan_x = x.clone();
    nan_x[3] = f64::NAN;
    let mut inf_l = logw.clone();
    inf_l[2] = f64::INFINITY;
    let dead = vec![f64::NEG_INFINITY; n];
    let mut bad_eps = cfg;
    bad_eps.epsilon = 0.0;
    let mut bad_scaling = cfg;
    bad_scaling.scaling = 1.0;
    let mut small_ws = vec![0.0; ot_workspace_len(n, d) - 1];
    assert_eq!(
        run(&nan_x, &logw, d, &cfg, &mut ws, &mut out),
        Err(Error::NonFiniteInput)
    );
    assert_eq!(
        run(&x, &inf_l, d, &cfg, &mut ws, &mut out),
        Err(Error::NonFiniteInput)
    );
    assert_eq!(
        run(&x, &dead, d, &cfg, &mut ws, &mut out),
        Err(Error::ZeroMass)
    );
    assert_eq!(
        run(&x, &logw, d, &bad_eps, &mut ws, &mut out),
        Err(Error::InvalidEpsilon)
    );
    assert_eq!(
        run(&x, &logw, d, &bad_scaling, &mut ws, &mut out),
        Err(Error::InvalidParameter)
    );
    assert_eq!(
        run(&x, &logw, d, &cfg, &mut small_ws, &mut out),
        Err(Error::WorkspaceTooSmall)
    );
    assert_eq!(
        run(&x, &logw, 0, &cfg, &mut ws, &mut out),
        Err(Error::EmptyInput)
    );
    assert_eq!(
        run(&[], &[], d, &cfg, &mut ws, &mut []),
        Err(Error::EmptyInput)
    );
    assert_eq!(
        run(&x[1..], &logw, d, &cfg, &mut ws, &mut out),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        run(&x, &logw, d, &cfg, &mut ws, &mut out[1..]),
        Err(Error::LengthMismatch)
    );
    assert!(out.iter().all(|&v| v == canary));
}

/// The cloud of `cloud(n, d, seed)` moved as a filter moves it between two ticks:
/// shrunk towards its mean, shifted, and jittered.
fn next_tick(x: &[f64], seed: u64) -> Vec<f64> {
    let mut r = Rng::new(seed);
    x.iter().map(|v| 0.8 * v + 0.5 + 0.3 * r.normal()).collect()
}

#[test]
fn marginal_stop_meets_its_tolerance_in_fewer_passes_than_filterflow() {
    let (n, d) = (64, 2);
    let (x, logw) = cloud(n, d, 5);
    let mut ws = vec![0.0; ot_workspace_len(n, d)];
    let (mut ours, mut theirs) = (vec![0.0; n * d], vec![0.0; n * d]);
    let marginal = OtConfig::new(0.5);
    let filterflow = OtConfig {
        schedule: OtSchedule::Filterflow,
        ..marginal
    };
    let a = ot_resample(&x, &logw, d, &marginal, &mut ours, &mut ws).unwrap();
    let b = ot_resample(&x, &logw, d, &filterflow, &mut theirs, &mut ws).unwrap();
    assert_eq!(a.status, Status::Converged);
    assert!(a.error <= marginal.tolerance, "{a:?}");
    assert!(a.passes < b.passes, "{a:?} {b:?}");
    // Same fixed point: each result's rows are within its `error` of summing to 1, so
    // particles differ by at most (error_a + error_b)·max|x − m| (≈ 6 here, the
    // cloud's reach from its mean) up to rounding.
    let reach = 6.0 * (a.error + b.error) + 1e-9;
    for (p, q) in ours.iter().zip(&theirs) {
        assert!((p - q).abs() <= reach, "{p} {q} {reach}");
    }
}

#[test]
fn warm_start_from_the_previous_tick_converges_in_fewer_passes() {
    let (n, d) = (128, 3);
    // Weights from a Gaussian likelihood around an observation that moves with the
    // cloud, as in a filter (unrelated weights would make the previous potential no
    // better a start than annealing).
    let lik = |x: &[f64], y: &[f64]| -> Vec<f64> {
        x.chunks(d)
            .map(|p| -0.5 * p.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
            .collect()
    };
    let (x0, _) = cloud(n, d, 8);
    let x1 = next_tick(&x0, 10);
    let (logw0, logw1) = (lik(&x0, &[3.5, -2.0, 3.0]), lik(&x1, &[3.4, -1.0, 3.1]));
    let cfg = OtConfig::new(0.5);
    let mut ws = vec![0.0; ot_workspace_len(n, d)];
    let mut state = vec![0.0; ot_warm_len(n, d)];
    let mut out = vec![0.0; n * d];
    // First tick: an empty state is a cold start, bit for bit.
    let first = ot_resample_warm(&x0, &logw0, d, &cfg, &mut out, &mut ws, &mut state).unwrap();
    assert_eq!(out, resampled(&x0, &logw0, d, &cfg));
    assert!(state.iter().any(|&v| v != 0.0));
    // Second tick, warm and cold.
    let warm = ot_resample_warm(&x1, &logw1, d, &cfg, &mut out, &mut ws, &mut state).unwrap();
    let mut cold_out = vec![0.0; n * d];
    let cold = ot_resample(&x1, &logw1, d, &cfg, &mut cold_out, &mut ws).unwrap();
    assert_eq!(warm.status, Status::Converged);
    assert!(warm.error <= cfg.tolerance);
    assert!(warm.passes < cold.passes, "{first:?} {warm:?} {cold:?}");
    assert_eq!(warm.epsilon_start, cfg.epsilon);
    // Same fixed point within both row errors (reach of the cloud ≈ 8 from its mean).
    let reach = 8.0 * (warm.error + cold.error) + 1e-9;
    for (p, q) in out.iter().zip(&cold_out) {
        assert!((p - q).abs() <= reach, "{p} {q} {reach}");
    }
}

#[test]
fn warm_start_keeps_the_iteration_cap_and_the_filterflow_schedule() {
    let (n, d) = (64, 2);
    let (x0, logw0) = cloud(n, d, 12);
    let x1 = next_tick(&x0, 13);
    let mut ws = vec![0.0; ot_workspace_len(n, d)];
    let mut out = vec![0.0; n * d];
    for schedule in [OtSchedule::Marginal, OtSchedule::Filterflow] {
        let mut state = vec![0.0; ot_warm_len(n, d)];
        let cfg = OtConfig {
            schedule,
            ..OtConfig::new(0.5)
        };
        ot_resample_warm(&x0, &logw0, d, &cfg, &mut out, &mut ws, &mut state).unwrap();
        let capped = OtConfig {
            tolerance: 0.0,
            max_iterations: 3,
            ..cfg
        };
        let r = ot_resample_warm(&x1, &logw0, d, &capped, &mut out, &mut ws, &mut state).unwrap();
        assert_eq!(r.status, Status::MaxIterations);
        assert_eq!(r.iterations, 3);
        let r = ot_resample_warm(&x1, &logw0, d, &cfg, &mut out, &mut ws, &mut state).unwrap();
        assert_eq!(r.status, Status::Converged, "{schedule:?}");
    }
}

#[test]
fn a_bad_warm_state_is_refused_and_nothing_written() {
    let (n, d) = (32, 2);
    let (x, logw) = cloud(n, d, 14);
    let cfg = OtConfig::new(0.5);
    let mut ws = vec![0.0; ot_workspace_len(n, d)];
    let mut out = vec![7.0; n * d];
    // Wrong length.
    let mut short = vec![0.0; ot_warm_len(n, d) - 1];
    let r = ot_resample_warm(&x, &logw, d, &cfg, &mut out, &mut ws, &mut short);
    assert_eq!(r, Err(Error::LengthMismatch));
    assert!(out.iter().all(|&v| v == 7.0) && short.iter().all(|&v| v == 0.0));
    // A held state with a NaN potential, or a NaN count.
    let mut state = vec![0.0; ot_warm_len(n, d)];
    let mut scratch = vec![0.0; n * d];
    ot_resample_warm(&x, &logw, d, &cfg, &mut scratch, &mut ws, &mut state).unwrap();
    let held = state.len() - 2;
    for k in [held - 1, held] {
        let mut bad = state.clone();
        bad[k] = f64::NAN;
        let before = bad.clone();
        let r = ot_resample_warm(&x, &logw, d, &cfg, &mut out, &mut ws, &mut bad);
        assert_eq!(r, Err(Error::NonFiniteInput), "element {k}");
        assert!(out.iter().all(|&v| v == 7.0));
        assert!(bad
            .iter()
            .zip(&before)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    // A state written for another count starts cold (as `ot_resample`) and is replaced.
    let mut other = state.clone();
    other[held] = (n + 1) as f64;
    ot_resample_warm(&x, &logw, d, &cfg, &mut out, &mut ws, &mut other).unwrap();
    assert_eq!(out, resampled(&x, &logw, d, &cfg));
    assert_eq!(other[held], n as f64);
}
