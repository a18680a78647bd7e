//! Hard matches (row argmax, mutual argmax with a confidence threshold) and SuperGlue-
//! style dustbin partial matching: against the dense plan, and on a known partial
//! correspondence with outliers in both clouds.

use otcore::ot::{self, Config, Epsilon, Init, Matches, Plan, Problem, UNMATCHED};
use otcore::{Error, Real};
use otcore_tests::{dense_plan, uniform_weights, Rng};

fn config<T: Real>(eps: f64, tol: f64) -> Config<T> {
    Config {
        epsilon: Epsilon::Absolute(T::from_f64(eps)),
        tolerance: T::from_f64(tol),
        max_iterations: 100_000,
        ..Config::default()
    }
}

fn run_matches(plan: &Plan<'_, f64>, threshold: f64) -> (Vec<usize>, Vec<f64>, Vec<usize>) {
    let (n, m) = (plan.problem.n(), plan.problem.m());
    let (mut rows, mut conf, mut cols) = (vec![0; n], vec![0.0; n], vec![0; m]);
    let mut ws = vec![0.0; ot::matches_workspace_len(n, m, plan.problem.dim())];
    let out = Matches {
        rows: &mut rows,
        confidence: &mut conf,
        cols: &mut cols,
    };
    ot::matches(plan, threshold, out, &mut ws).unwrap();
    (rows, conf, cols)
}

#[test]
fn argmax_and_confidence_match_the_dense_plan() {
    let mut rng = Rng::new(41);
    let (n, m, d) = (23, 17, 2);
    let (x, y) = (rng.normals(n * d, 0.0, 1.0), rng.normals(m * d, 0.2, 1.0));
    let (mut a, b) = (rng.weights(n), rng.weights(m));
    // A zero-weight row has no match.
    let moved = a[4];
    a[4] = 0.0;
    a[5] += moved;
    let problem = Problem::point_clouds(&x, &y, d, 1.0, &a, &b);
    let (mut f, mut g) = (vec![0.0; n], vec![0.0; m]);
    let mut ws = vec![0.0; ot::workspace_len(n, m, d) + n + m];
    let sol = ot::solve(
        &problem,
        &config(0.1, 1e-12),
        Init::Zero,
        &mut f,
        &mut g,
        &mut ws,
    )
    .unwrap();
    let plan = Plan::new(problem, sol.epsilon, &f, &g);
    let dense = dense_plan(&problem, sol.epsilon, &f, &g);
    let (mut at, mut conf) = (vec![0; n], vec![0.0; n]);
    plan.row_argmax(&mut at, &mut conf, &mut ws).unwrap();
    let (mut cat, mut cconf) = (vec![0; m], vec![0.0; m]);
    plan.col_argmax(&mut cat, &mut cconf, &mut ws).unwrap();
    for i in 0..n {
        let row = &dense[i * m..(i + 1) * m];
        if a[i] == 0.0 {
            assert_eq!((at[i], conf[i]), (UNMATCHED, 0.0));
            continue;
        }
        let j = (0..m).fold(0, |best, j| if row[j] > row[best] { j } else { best });
        assert_eq!(at[i], j, "row {i}");
        // The kernel's exponential: 1e-14 relative in f64.
        assert!((conf[i] - row[j] / a[i]).abs() <= 1e-12, "row {i}");
    }
    for j in 0..m {
        let i = (0..n).fold(0, |best, i| {
            if dense[i * m + j] > dense[best * m + j] {
                i
            } else {
                best
            }
        });
        assert_eq!(cat[j], i, "column {j}");
        assert!((cconf[j] - dense[i * m + j] / b[j]).abs() <= 1e-12);
    }
    // Mutual pairs: consistent both ways, and exactly the mutual argmaxes.
    let (rows, _, cols) = run_matches(&plan, 0.0);
    for i in 0..n {
        let mutual = at[i] != UNMATCHED && cat[at[i]] == i;
        assert_eq!(rows[i] != UNMATCHED, mutual);
        if mutual {
            assert_eq!(cols[rows[i]], i);
        }
    }
}

/// A partial correspondence: `inliers` points seen in both clouds (y a rotated,
/// shifted, noisy and shuffled copy of x), plus `outliers` unrelated points in each.
struct Scene {
    x: Vec<f64>,
    y: Vec<f64>,
    /// truth[i] = the index in y of x's point i, or UNMATCHED.
    truth: Vec<usize>,
}

fn scene(rng: &mut Rng, inliers: usize, outliers: usize, noise: f64) -> Scene {
    let n = inliers + outliers;
    let mut x = Vec::new();
    for _ in 0..n * 2 {
        x.push(10.0 * rng.uniform());
    }
    // Shuffle the y order.
    let mut perm: Vec<usize> = (0..n).collect();
    for k in (1..n).rev() {
        let r = (rng.uniform() * (k + 1) as f64) as usize;
        perm.swap(k, r.min(k));
    }
    let mut y = vec![0.0; n * 2];
    let mut truth = vec![UNMATCHED; n];
    let (c, s) = (0.03f64.cos(), 0.03f64.sin());
    for i in 0..n {
        let j = perm[i];
        if i < inliers {
            let (px, py) = (x[2 * i] - 5.0, x[2 * i + 1] - 5.0);
            y[2 * j] = 5.0 + c * px - s * py + 0.1 + noise * rng.normal();
            y[2 * j + 1] = 5.0 + s * px + c * py - 0.05 + noise * rng.normal();
            truth[i] = j;
        } else {
            y[2 * j] = 10.0 * rng.uniform();
            y[2 * j + 1] = 10.0 * rng.uniform();
        }
    }
    Scene { x, y, truth }
}

/// (precision, recall, F1) of predicted pairs `rows` against the truth.
fn score(rows: &[usize], truth: &[usize]) -> (f64, f64, f64) {
    let predicted = rows.iter().filter(|&&j| j != UNMATCHED).count() as f64;
    let real = truth.iter().filter(|&&j| j != UNMATCHED).count() as f64;
    let correct = rows
        .iter()
        .zip(truth)
        .filter(|(r, t)| **r != UNMATCHED && r == t)
        .count() as f64;
    let (p, r) = (correct / predicted.max(1.0), correct / real);
    (
        p,
        r,
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        },
    )
}

/// Hard argmax of the balanced plan against dustbin + mutual argmax + threshold on the
/// same scene; returns both scores.
fn compare(rng: &mut Rng, inliers: usize, outliers: usize) -> [(f64, f64, f64); 2] {
    let s = scene(rng, inliers, outliers, 0.02);
    let n = inliers + outliers;
    let w = uniform_weights::<f64>(n);
    let problem = Problem::point_clouds(&s.x, &s.y, 2, 1.0, &w, &w);
    let cfg = config::<f64>(0.01, 1e-9);
    let mut ws = vec![0.0; ot::matches_workspace_len(n, n, 2)];
    // Hard argmax of the balanced plan: every row is matched.
    let (mut f, mut g) = (vec![0.0; n], vec![0.0; n]);
    let sol = ot::solve(&problem, &cfg, Init::Zero, &mut f, &mut g, &mut ws).unwrap();
    let plan = Plan::new(problem, sol.epsilon, &f, &g);
    let (mut at, mut conf) = (vec![0; n], vec![0.0; n]);
    plan.row_argmax(&mut at, &mut conf, &mut ws).unwrap();
    // Dustbin at cost 0.15 (a match farther than ~0.4 units is worse than none:
    // displacements here are below 0.3), SuperGlue's
    // threshold 0.2.
    let (mut fd, mut gd) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let sol =
        ot::dustbin_solve(&problem, 0.15, &cfg, Init::Zero, &mut fd, &mut gd, &mut ws).unwrap();
    assert_eq!(sol.status, ot::Status::Converged);
    let real = Plan::new(problem, sol.epsilon, &fd[..n], &gd[..n]);
    let (rows, _, _) = run_matches(&real, 0.2);
    [score(&at, &s.truth), score(&rows, &s.truth)]
}

#[test]
fn dustbin_recovers_a_partial_correspondence_better_than_hard_argmax() {
    let mut rng = Rng::new(43);
    for (inliers, outliers) in [(40, 10), (30, 30), (60, 5)] {
        let [hard, bin] = compare(&mut rng, inliers, outliers);
        eprintln!(
            "{inliers} inliers + {outliers} outliers: hard argmax P/R/F1 {:.3}/{:.3}/{:.3}, \
             dustbin {:.3}/{:.3}/{:.3}",
            hard.0, hard.1, hard.2, bin.0, bin.1, bin.2
        );
        // Hard argmax matches every outlier somewhere (precision at most
        // inliers / (inliers + outliers)), and the balanced marginals pull inliers
        // towards outliers. The dustbin leaves most outliers unmatched (an outlier
        // pair closer than about √z is a match under the model, hence not 1).
        assert!(
            bin.0 >= 0.85 && bin.2 > hard.2 + 0.05,
            "{bin:?} vs {hard:?}"
        );
    }
}

#[test]
fn dustbin_plan_has_the_augmented_marginals() {
    let mut rng = Rng::new(47);
    let (n, m) = (9, 6);
    let (x, y) = (rng.normals(n * 2, 0.0, 1.0), rng.normals(m * 2, 0.5, 1.0));
    let (a, b) = (rng.weights(n), rng.weights(m));
    let problem = Problem::point_clouds(&x, &y, 2, 1.0, &a, &b);
    let (mut f, mut g) = (vec![0.0; n + 1], vec![0.0; m + 1]);
    let mut ws = vec![0.0; ot::workspace_len(n, m, 2)];
    let (z, eps) = (0.7, 0.2);
    let sol = ot::dustbin_solve(
        &problem,
        z,
        &config(eps, 1e-12),
        Init::Zero,
        &mut f,
        &mut g,
        &mut ws,
    )
    .unwrap();
    assert_eq!(sol.status, ot::Status::Converged);
    let block = dense_plan(&problem, eps, &f[..n], &g[..m]);
    let p = |fi: f64, gj: f64| ((fi + gj - z) / eps).exp();
    // Rows: real block + dustbin column = a_i; dustbin row = Σb. Columns likewise.
    for i in 0..n {
        let s: f64 = block[i * m..(i + 1) * m].iter().sum::<f64>() + p(f[i], g[m]);
        assert!((s - a[i]).abs() <= 1e-12, "row {i}: {s} vs {}", a[i]);
    }
    let bin_row: f64 = (0..m).map(|j| p(f[n], g[j])).sum::<f64>() + p(f[n], g[m]);
    assert!((bin_row - 1.0).abs() <= 1e-12, "dustbin row {bin_row}");
    for j in 0..m {
        let s: f64 = (0..n).map(|i| block[i * m + j]).sum::<f64>() + p(f[n], g[j]);
        assert!((s - b[j]).abs() <= 1e-11, "column {j}");
    }
    // A warm start from the solution is already converged after one iteration.
    let again = ot::dustbin_solve(
        &problem,
        z,
        &config(eps, 1e-12),
        Init::Potentials,
        &mut f,
        &mut g,
        &mut ws,
    )
    .unwrap();
    assert_eq!(again.iterations, 1);
}

#[test]
fn bad_input_changes_nothing() {
    let (x, y) = ([0.0f64, 1.0, 2.0], [0.5f64, 1.5]);
    let (a, b) = ([0.3f64, 0.3, 0.4], [0.5f64, 0.5]);
    let problem = Problem::point_clouds(&x, &y, 1, 1.0, &a, &b);
    let (mut f, mut g) = ([7.0; 4], [7.0; 3]);
    let mut ws = vec![0.0; ot::matches_workspace_len(3, 2, 1)];
    let cfg = config::<f64>(0.1, 1e-9);
    let relaxed = Config { rho_a: 1.0, ..cfg };
    for (z, c, init) in [
        (f64::NAN, cfg, Init::Zero),
        (1.0, relaxed, Init::Zero),
        (1.0, cfg, Init::Gaussian),
    ] {
        let r = ot::dustbin_solve(&problem, z, &c, init, &mut f, &mut g, &mut ws);
        assert_eq!(r, Err(Error::InvalidParameter));
    }
    let r = ot::dustbin_solve(
        &problem,
        1.0,
        &cfg,
        Init::Zero,
        &mut f[..3],
        &mut g,
        &mut ws,
    );
    assert_eq!(r, Err(Error::LengthMismatch));
    assert!(f.iter().chain(&g).all(|&v| v == 7.0));
    let (pf, pg) = ([0.0; 3], [0.0; 2]);
    let plan = Plan::new(problem, 0.1, &pf, &pg);
    let (mut rows, mut conf, mut cols) = ([9; 3], [9.0; 3], [9; 2]);
    for (t, len) in [(f64::NAN, ws.len()), (1.5, ws.len()), (0.2, ws.len() - 1)] {
        let out = Matches {
            rows: &mut rows,
            confidence: &mut conf,
            cols: &mut cols,
        };
        assert!(ot::matches(&plan, t, out, &mut ws[..len]).is_err());
    }
    assert!(rows.iter().chain(&cols).all(|&v| v == 9) && conf.iter().all(|&v| v == 9.0));
}
