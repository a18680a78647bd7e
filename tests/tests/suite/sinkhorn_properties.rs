//! Properties of the Sinkhorn solver that hold whatever the reference: marginals vs
//! the reported error, symmetry, translation invariance, exact resumption, agreement
//! of the point-cloud and dense-matrix paths, and of every plan operation with the
//! dense plan.

use otcore::ot::{self, Config, Epsilon, Init, Plan, Problem, Sinkhorn, Status};
use otcore::Real;
use otcore_tests::{cast, dense_plan, solve_owned, Rng};

/// A random 2-D problem: x ~ N(0, 1), y ~ N(1, 0.7²), random weights.
fn random_problem(
    rng: &mut Rng,
    n: usize,
    m: usize,
    d: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    (
        rng.normals(n * d, 0.0, 1.0),
        rng.normals(m * d, 1.0, 0.7),
        rng.weights(n),
        rng.weights(m),
    )
}

fn tight<T: Real>(rho_a: f64, rho_b: f64, tol: f64) -> Config<T> {
    Config {
        epsilon: Epsilon::RelativeToMeanCost(T::from_f64(0.05)),
        rho_a: T::from_f64(rho_a),
        rho_b: T::from_f64(rho_b),
        tolerance: T::from_f64(tol),
        max_iterations: 100_000,
        ..Config::default()
    }
}

/// ‖P1 − a e^{−f/ρ_a}‖₁ + ‖Pᵀ1 − b e^{−g/ρ_b}‖₁ from the dense plan, in f64.
fn marginal_error(p: &[f64], a: &[f64], b: &[f64], f: &[f64], g: &[f64], rho: (f64, f64)) -> f64 {
    let (n, m) = (a.len(), b.len());
    let target = |w: f64, h: f64, r: f64| {
        if r.is_infinite() || w == 0.0 {
            w
        } else {
            w * (-h / r).exp()
        }
    };
    let mut err = 0.0;
    for i in 0..n {
        let row: f64 = p[i * m..(i + 1) * m].iter().sum();
        err += (row - target(a[i], f[i], rho.0)).abs();
    }
    for j in 0..m {
        let col: f64 = (0..n).map(|i| p[i * m + j]).sum();
        err += (col - target(b[j], g[j], rho.1)).abs();
    }
    err
}

fn check_reported_error<T: Real>(rho: (f64, f64), max_iterations: u32, slack: f64) {
    let mut rng = Rng::new(7);
    let (x, y, a, b) = random_problem(&mut rng, 37, 23, 2);
    let (xt, yt, at, bt) = (cast::<T>(&x), cast::<T>(&y), cast::<T>(&a), cast::<T>(&b));
    let problem = Problem::point_clouds(&xt, &yt, 2, T::ONE, &at, &bt);
    let config = Config {
        max_iterations,
        ..tight::<T>(rho.0, rho.1, 1e-9)
    };
    let (sol, f, g) = solve_owned(&problem, &config);
    let p: Vec<f64> = dense_plan(&problem, sol.epsilon, &f, &g)
        .iter()
        .map(|v| v.to_f64())
        .collect();
    let to64 = |v: &[T]| v.iter().map(|x| x.to_f64()).collect::<Vec<_>>();
    let (a64, b64) = (to64(&at), to64(&bt));
    let recomputed = marginal_error(&p, &a64, &b64, &to64(&f), &to64(&g), rho);
    let reported = sol.error.to_f64();
    println!("{rho:?} budget {max_iterations}: reported {reported:e}, recomputed {recomputed:e}");
    assert!(
        (reported - recomputed).abs() <= slack,
        "reported {reported:e} vs recomputed {recomputed:e}"
    );
    let mass: f64 = p.iter().sum();
    assert!((mass - sol.plan_mass.to_f64()).abs() <= slack);
}

/// The reported error is the L1 marginal violation of the returned plan, both when
/// converged and when stopped by the budget. Slack: f64 — 60 summed entries each
/// rounded to ~1e-16 relative, so 1e-13; f32 — the row marginal is exact only to f32
/// rounding of a 23/37-term sum (≈ 40 × 6e-8 per row), so 5e-6 in total.
#[test]
fn reported_error_is_the_marginal_violation() {
    for rho in [
        (f64::INFINITY, f64::INFINITY),
        (0.5, 2.0),
        (f64::INFINITY, 0.3),
    ] {
        for budget in [2, 100_000] {
            check_reported_error::<f64>(rho, budget, 1e-13);
            check_reported_error::<f32>(rho, budget, 5e-6);
        }
    }
}

/// Swapping the two sides transposes the plan (to the convergence tolerance: the
/// g → f order makes the two iterations differ, not their limit).
#[test]
fn swapping_sides_transposes_the_plan() {
    let mut rng = Rng::new(11);
    let (x, y, a, b) = random_problem(&mut rng, 19, 31, 3);
    for rho in [(f64::INFINITY, f64::INFINITY), (0.7, 0.2)] {
        let p1 = Problem::point_clouds(&x, &y, 3, 1.0, &a, &b);
        let p2 = Problem::point_clouds(&y, &x, 3, 1.0, &b, &a);
        let (s1, f1, g1) = solve_owned(&p1, &tight(rho.0, rho.1, 1e-13));
        let (s2, f2, g2) = solve_owned(&p2, &tight(rho.1, rho.0, 1e-13));
        assert_eq!(s1.status, Status::Converged);
        let (d1, d2) = (
            dense_plan(&p1, s1.epsilon, &f1, &g1),
            dense_plan(&p2, s2.epsilon, &f2, &g2),
        );
        let max = d1.iter().cloned().fold(0.0, f64::max);
        for i in 0..19 {
            for j in 0..31 {
                let (u, v) = (d1[i * 31 + j], d2[j * 19 + i]);
                assert!((u - v).abs() <= 1e-10 * max, "P[{i},{j}] = {u:e} vs {v:e}");
            }
        }
        assert!((s1.transport_cost - s2.transport_cost).abs() <= 1e-10 * s1.transport_cost);
        assert!((s1.reg_ot_cost - s2.reg_ot_cost).abs() <= 1e-10 * s1.reg_ot_cost.abs());
    }
}

/// Translating both clouds by the same vector changes nothing but rounding.
#[test]
fn translation_invariance() {
    let mut rng = Rng::new(5);
    let (x, y, a, b) = random_problem(&mut rng, 24, 24, 2);
    let shift = [30.0, -12.5];
    let tr = |v: &[f64]| {
        v.chunks(2)
            .flat_map(|p| [p[0] + shift[0], p[1] + shift[1]])
            .collect::<Vec<_>>()
    };
    let (xs, ys) = (tr(&x), tr(&y));
    let p1 = Problem::point_clouds(&x, &y, 2, 1.0, &a, &b);
    let p2 = Problem::point_clouds(&xs, &ys, 2, 1.0, &a, &b);
    let (s1, f1, g1) = solve_owned(&p1, &tight(f64::INFINITY, f64::INFINITY, 1e-13));
    let (s2, f2, g2) = solve_owned(&p2, &tight(f64::INFINITY, f64::INFINITY, 1e-13));
    // Coordinates near 30 carry ~7e-15 absolute rounding, costs ~1e-13 relative.
    assert!((s1.epsilon - s2.epsilon).abs() <= 1e-12 * s1.epsilon);
    let c = f1[0] - f2[0];
    for i in 0..24 {
        assert!((f1[i] - f2[i] - c).abs() <= 1e-10, "f[{i}]");
        assert!((g1[i] - g2[i] + c).abs() <= 1e-10, "g[{i}]");
    }
    assert!((s1.transport_cost - s2.transport_cost).abs() <= 1e-10 * s1.transport_cost);
}

/// k calls with budget b and `Init::Resume` give bit for bit what one call with
/// budget k·b gives, and a converged pair resumes with 0 iterations.
fn resume_is_exact<T: Real>() {
    let mut rng = Rng::new(3);
    let (x, y, a, b) = random_problem(&mut rng, 40, 33, 2);
    let (xt, yt, at, bt) = (cast::<T>(&x), cast::<T>(&y), cast::<T>(&a), cast::<T>(&b));
    for rho in [(f64::INFINITY, f64::INFINITY), (1.0, f64::INFINITY)] {
        let problem = Problem::point_clouds(&xt, &yt, 2, T::ONE, &at, &bt);
        let mut ws = vec![T::ZERO; ot::workspace_len(40, 33, 2)];
        let long = Config {
            max_iterations: 60,
            ..tight::<T>(rho.0, rho.1, 0.0)
        };
        let (mut f1, mut g1) = (vec![T::ZERO; 40], vec![T::ZERO; 33]);
        let s1 = ot::solve(&problem, &long, Init::Zero, &mut f1, &mut g1, &mut ws).unwrap();
        let short = Config {
            max_iterations: 6,
            ..long
        };
        let (mut f2, mut g2) = (vec![T::ZERO; 40], vec![T::ZERO; 33]);
        let mut s2 = ot::solve(&problem, &short, Init::Zero, &mut f2, &mut g2, &mut ws).unwrap();
        let mut total = s2.iterations;
        for _ in 1..10 {
            s2 = ot::solve(&problem, &short, Init::Resume, &mut f2, &mut g2, &mut ws).unwrap();
            total += s2.iterations;
        }
        assert_eq!(total, s1.iterations);
        assert_eq!(f1, f2);
        assert_eq!(g1, g2);
        assert_eq!(s1.error, s2.error);
        assert_eq!(s1.transport_cost, s2.transport_cost);
        assert_eq!(s1.reg_ot_cost, s2.reg_ot_cost);

        // Converged → resuming does nothing.
        let conv = Config {
            tolerance: T::from_f64(1e-3),
            ..long
        };
        let s3 = ot::solve(&problem, &conv, Init::Resume, &mut f1, &mut g1, &mut ws).unwrap();
        let s4 = ot::solve(&problem, &conv, Init::Resume, &mut f1, &mut g1, &mut ws).unwrap();
        assert_eq!(s3.status, Status::Converged);
        assert_eq!(
            (s4.status, s4.iterations, s4.error),
            (Status::Converged, 0, s3.error)
        );
    }
}

#[test]
fn resume_is_exact_f64() {
    resume_is_exact::<f64>();
}

#[test]
fn resume_is_exact_f32() {
    resume_is_exact::<f32>();
}

/// Warm-starting the next frame of a moving cloud from the last potentials converges
/// to the same answer as a cold start, in fewer iterations.
#[test]
fn warm_start_next_frame() {
    let mut rng = Rng::new(21);
    let (x, y, a, b) = random_problem(&mut rng, 64, 64, 2);
    let moved: Vec<f64> = y.iter().map(|v| v + 0.02).collect();
    let config = tight::<f64>(f64::INFINITY, f64::INFINITY, 1e-10);
    let p1 = Problem::point_clouds(&x, &y, 2, 1.0, &a, &b);
    let (_, mut f, mut g) = solve_owned(&p1, &config);
    let p2 = Problem::point_clouds(&x, &moved, 2, 1.0, &a, &b);
    let (cold, fc, _) = solve_owned(&p2, &config);
    let mut ws = vec![0.0; ot::workspace_len(64, 64, 2)];
    let warm = ot::solve(&p2, &config, Init::Potentials, &mut f, &mut g, &mut ws).unwrap();
    println!(
        "cold {} iterations, warm {}",
        cold.iterations, warm.iterations
    );
    assert!(warm.iterations < cold.iterations);
    assert!((warm.transport_cost - cold.transport_cost).abs() <= 1e-9 * cold.transport_cost);
    let c = f[0] - fc[0];
    assert!(f.iter().zip(&fc).all(|(u, v)| (u - v - c).abs() <= 1e-8));
}

/// The same problem as point clouds and as a dense cost matrix gives the same answer.
#[test]
fn dense_matrix_matches_point_clouds() {
    let mut rng = Rng::new(9);
    let (n, m, d) = (21, 17, 3);
    let (x, y, a, b) = random_problem(&mut rng, n, m, d);
    let c: Vec<f64> = (0..n * m)
        .map(|k| {
            let (i, j) = (k / m, k % m);
            0.5 * (0..d)
                .map(|l| (x[i * d + l] - y[j * d + l]).powi(2))
                .sum::<f64>()
        })
        .collect();
    for rho in [(f64::INFINITY, f64::INFINITY), (0.4, 0.9)] {
        let config = tight::<f64>(rho.0, rho.1, 1e-12);
        let pc = Problem::point_clouds(&x, &y, d, 0.5, &a, &b);
        let pm = Problem::matrix(&c, &a, &b);
        let (s1, f1, g1) = solve_owned(&pc, &config);
        let (s2, f2, g2) = solve_owned(&pm, &config);
        assert!((s1.epsilon - s2.epsilon).abs() <= 1e-14 * s1.epsilon);
        assert_eq!(s1.iterations, s2.iterations);
        for (u, v) in f1.iter().zip(&f2).chain(g1.iter().zip(&g2)) {
            assert!((u - v).abs() <= 1e-12, "{u} vs {v}");
        }
        assert!((s1.reg_ot_cost - s2.reg_ot_cost).abs() <= 1e-12);
    }
}

/// Every streamed plan operation equals the same operation on the dense plan.
fn plan_ops_match_dense<T: Real>(tol: f64) {
    let mut rng = Rng::new(13);
    let (n, m, d) = (29, 18, 2);
    let (x, y, a, mut b) = random_problem(&mut rng, n, m, d);
    b[4] = 0.0; // a zero-weight column
    let s: f64 = b.iter().sum();
    b.iter_mut().for_each(|v| *v /= s);
    let (xt, yt, at, bt) = (cast::<T>(&x), cast::<T>(&y), cast::<T>(&a), cast::<T>(&b));
    let problem = Problem::point_clouds(&xt, &yt, d, T::ONE, &at, &bt);
    let (sol, f, g) = solve_owned(&problem, &tight::<T>(f64::INFINITY, f64::INFINITY, 1e-5));
    let p: Vec<f64> = dense_plan(&problem, sol.epsilon, &f, &g)
        .iter()
        .map(|v| v.to_f64())
        .collect();
    let plan = Plan::new(problem, sol.epsilon, &f, &g);
    let mut ws = vec![T::ZERO; ot::workspace_len(n, m, d)];
    let close = |u: T, v: f64, what: &str| {
        assert!(
            (u.to_f64() - v).abs() <= tol * (1.0 + v.abs()),
            "{what}: {u:?} vs {v}"
        );
    };

    let v: Vec<f64> = rng.normals(m, 0.0, 1.0);
    let mut out = vec![T::ZERO; n];
    plan.apply(&cast::<T>(&v), &mut out, &mut ws).unwrap();
    for i in 0..n {
        let want: f64 = (0..m)
            .map(|j| p[i * m + j] * cast::<T>(&v)[j].to_f64())
            .sum();
        close(out[i], want, "P v");
    }
    let u: Vec<f64> = rng.normals(n, 0.0, 1.0);
    let mut out = vec![T::ZERO; m];
    plan.apply_transpose(&cast::<T>(&u), &mut out, &mut ws)
        .unwrap();
    for j in 0..m {
        let want: f64 = (0..n)
            .map(|i| p[i * m + j] * cast::<T>(&u)[i].to_f64())
            .sum();
        close(out[j], want, "P^T u");
    }
    assert_eq!(out[4], T::ZERO, "zero-weight column");
    let mut bary = vec![T::ZERO; n * d];
    plan.barycentric(&mut bary, &mut ws).unwrap();
    for i in 0..n {
        let row: f64 = p[i * m..(i + 1) * m].iter().sum();
        for k in 0..d {
            let want: f64 = (0..m)
                .map(|j| p[i * m + j] * yt[j * d + k].to_f64())
                .sum::<f64>()
                / row;
            close(bary[i * d + k], want, "barycentric");
        }
    }
    let cost = plan.transport_cost(&mut ws).unwrap();
    let want: f64 = (0..n * m)
        .map(|k| {
            let (i, j) = (k / m, k % m);
            let c: f64 = (0..d)
                .map(|l| (xt[i * d + l].to_f64() - yt[j * d + l].to_f64()).powi(2))
                .sum();
            c * p[k]
        })
        .sum();
    close(cost, want, "transport cost");
    close(sol.transport_cost, want, "solve's transport cost");
}

/// Tolerances: f64 — sums of ≤ 29 products, 1e-13; f32 — the same sums accumulated in
/// f32 (≈ 30 × 6e-8 relative) plus exp2_kernel's 2.5e-7, 1e-5 relative.
#[test]
fn plan_operations_match_dense_plan() {
    plan_ops_match_dense::<f64>(1e-13);
    plan_ops_match_dense::<f32>(1e-5);
}

/// The const-generic owner runs the same solver: same bits as the slice API.
#[test]
fn owner_matches_slice_api() {
    const W: usize = ot::workspace_len(8, 5, 2);
    let x = [
        [0.0f32, 0.0],
        [1.0, 0.0],
        [0.0, 1.0],
        [1.0, 1.0],
        [0.5, 0.5],
        [2.0, 0.0],
        [0.0, 2.0],
        [2.0, 2.0],
    ];
    let y = [
        [0.1f32, 0.2],
        [0.9, 0.1],
        [0.3, 1.2],
        [1.5, 1.5],
        [0.7, 0.4],
    ];
    let (a, b) = ([0.125f32; 8], [0.2f32; 5]);
    let mut owner = Sinkhorn::<f32, 8, 5, 2, W>::new();
    let problem = Sinkhorn::<f32, 8, 5, 2, W>::problem(&x, &y, &a, &b, 1.0);
    let config = Config::default();
    let s1 = owner.solve(&problem, &config, Init::Zero).unwrap();
    let (sol, f, g) = solve_owned(&problem, &config);
    assert_eq!(s1, sol);
    assert_eq!(owner.potentials().0.as_slice(), f.as_slice());
    assert_eq!(owner.potentials().1.as_slice(), g.as_slice());
    let (plan, ws) = owner.plan(problem, s1.epsilon);
    // The solve measures ⟨C,P⟩ column by column, the plan row by row: the same 40
    // terms summed in another order, so f32 rounding allows 40·2^-24 ≈ 2.4e-6 relative.
    let cost = plan.transport_cost(ws).unwrap();
    assert!(
        (cost - s1.transport_cost).abs() <= 2.4e-6 * s1.transport_cost,
        "{cost} vs {}",
        s1.transport_cost
    );
}
