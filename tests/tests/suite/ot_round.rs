//! Altschuler–Weed–Rigollet rounding of Sinkhorn plans and its certificate, against a
//! dense implementation of their Algorithm 2 and brute-force exact OT.

use otcore::ot::{self, Config, Epsilon, Init, Plan, Problem, RoundedParts, RoundedPlan};
use otcore::{Error, Real};
use otcore_tests::{cast, dense_plan, Rng};

/// Exact OT between two uniform clouds of n points: the best permutation (Birkhoff).
fn brute_force(c: &[f64], n: usize) -> f64 {
    fn go(c: &[f64], n: usize, row: usize, used: &mut [bool], acc: f64, best: &mut f64) {
        if row == n {
            *best = best.min(acc);
            return;
        }
        for j in 0..n {
            if !used[j] {
                used[j] = true;
                go(c, n, row + 1, used, acc + c[row * n + j], best);
                used[j] = false;
            }
        }
    }
    let mut best = f64::INFINITY;
    go(c, n, 0, &mut vec![false; n], 0.0, &mut best);
    best / n as f64
}

fn costs(x: &[f64], y: &[f64], d: usize) -> Vec<f64> {
    let (n, m) = (x.len() / d, y.len() / d);
    let mut c = vec![0.0; n * m];
    for i in 0..n {
        for j in 0..m {
            c[i * m + j] = (0..d).map(|k| (x[i * d + k] - y[j * d + k]).powi(2)).sum();
        }
    }
    c
}

/// Algorithm 2 of Altschuler et al. on a dense plan.
fn dense_round(f: &[f64], a: &[f64], b: &[f64]) -> Vec<f64> {
    let (n, m) = (a.len(), b.len());
    let mut g = f.to_vec();
    for i in 0..n {
        let r: f64 = g[i * m..(i + 1) * m].iter().sum();
        let x = (a[i] / r).min(1.0);
        g[i * m..(i + 1) * m].iter_mut().for_each(|v| *v *= x);
    }
    for j in 0..m {
        let c: f64 = (0..n).map(|i| g[i * m + j]).sum();
        let y = (b[j] / c).min(1.0);
        (0..n).for_each(|i| g[i * m + j] *= y);
    }
    let ea: Vec<f64> = (0..n)
        .map(|i| a[i] - g[i * m..(i + 1) * m].iter().sum::<f64>())
        .collect();
    let eb: Vec<f64> = (0..m)
        .map(|j| b[j] - (0..n).map(|i| g[i * m + j]).sum::<f64>())
        .collect();
    let s: f64 = ea.iter().sum();
    for i in 0..n {
        for j in 0..m {
            g[i * m + j] += ea[i] * eb[j] / s;
        }
    }
    g
}

struct Rounded<T> {
    f: Vec<T>,
    g: Vec<T>,
    ea: Vec<T>,
    eb: Vec<T>,
    cert: ot::Certificate<T>,
    plan_f: Vec<T>,
    plan_g: Vec<T>,
    eps: T,
}

fn solve_and_round<T: Real>(problem: &Problem<'_, T>, eps: f64, tol: f64) -> Rounded<T> {
    let (n, m, d) = (problem.n(), problem.m(), problem.dim());
    let config = Config {
        epsilon: Epsilon::Absolute(T::from_f64(eps)),
        tolerance: T::from_f64(tol),
        max_iterations: 100_000,
        epsilon_scaling: T::from_f64(0.7),
        ..Config::default()
    };
    let mut ws = vec![T::ZERO; ot::round_workspace_len(n, m, d)];
    let (mut pf, mut pg) = (vec![T::ZERO; n], vec![T::ZERO; m]);
    let sol = ot::solve(problem, &config, Init::Zero, &mut pf, &mut pg, &mut ws).unwrap();
    let plan = Plan::new(*problem, sol.epsilon, &pf, &pg);
    let (mut f, mut g, mut ea, mut eb) = (
        vec![T::ZERO; n],
        vec![T::ZERO; m],
        vec![T::ZERO; n],
        vec![T::ZERO; m],
    );
    let parts = RoundedParts {
        f: &mut f,
        g: &mut g,
        err_a: &mut ea,
        err_b: &mut eb,
    };
    let cert = ot::round(&plan, parts, &mut ws).unwrap();
    Rounded {
        f,
        g,
        ea,
        eb,
        cert,
        plan_f: pf,
        plan_g: pg,
        eps: sol.epsilon,
    }
}

/// Largest marginal violation of the rounded plan (streamed), relative to the mass.
fn marginal_violation<T: Real>(problem: &Problem<'_, T>, r: &Rounded<T>) -> f64 {
    let (n, m, d) = (problem.n(), problem.m(), problem.dim());
    let rp = RoundedPlan {
        plan: Plan::new(*problem, r.eps, &r.f, &r.g),
        err_a: &r.ea,
        err_b: &r.eb,
    };
    let mut ws = vec![T::ZERO; ot::workspace_len(n, m, d)];
    let (mut rows, mut cols) = (vec![T::ZERO; n], vec![T::ZERO; m]);
    rp.apply(&vec![T::ONE; m], &mut rows, &mut ws).unwrap();
    rp.apply_transpose(&vec![T::ONE; n], &mut cols, &mut ws)
        .unwrap();
    rows.iter()
        .zip(problem.a)
        .chain(cols.iter().zip(problem.b))
        .map(|(p, q)| (p.to_f64() - q.to_f64()).abs())
        .fold(0.0, f64::max)
}

#[test]
fn rounded_plan_is_feasible_and_matches_the_dense_algorithm() {
    let mut rng = Rng::new(17);
    for (n, m, d, eps, tol) in [
        (6, 9, 2, 0.2, 1e-2),
        (30, 20, 3, 0.05, 1e-3),
        (5, 5, 1, 1.0, 0.1),
    ] {
        let x = rng.normals(n * d, 0.0, 1.0);
        let y = rng.normals(m * d, 0.5, 1.0);
        let (a, b) = (rng.weights(n), rng.weights(m));
        let problem = Problem::point_clouds(&x, &y, d, 1.0, &a, &b);
        let r = solve_and_round::<f64>(&problem, eps, tol);
        assert!(
            r.cert.correction_mass > 0.0,
            "the test needs an inexact plan"
        );
        // Marginals exact up to the rounding of the sums (n·2^-53 relative).
        let viol = marginal_violation(&problem, &r);
        assert!(viol <= 1e-15 * (n + m) as f64, "violation {viol:.2e}");
        // The streamed G equals Algorithm 2 on the dense plan.
        let dense_f = dense_plan(&problem, r.eps, &r.plan_f, &r.plan_g);
        let want = dense_round(&dense_f, &a, &b);
        let got = {
            let mut p = dense_plan(&problem, r.eps, &r.f, &r.g);
            let s: f64 = r.ea.iter().sum();
            for i in 0..n {
                for j in 0..m {
                    p[i * m + j] += r.ea[i] * r.eb[j] / s;
                }
            }
            p
        };
        let err = want
            .iter()
            .zip(&got)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max);
        assert!(err <= 1e-14, "dense vs streamed {err:.2e}");
        // Lemma 7: ‖G − F‖₁ ≤ 2(‖F1 − a‖₁ + ‖Fᵀ1 − b‖₁).
        let l1: f64 = want.iter().zip(&dense_f).map(|(p, q)| (p - q).abs()).sum();
        let dev: f64 = (0..n)
            .map(|i| (dense_f[i * m..(i + 1) * m].iter().sum::<f64>() - a[i]).abs())
            .chain((0..m).map(|j| ((0..n).map(|i| dense_f[i * m + j]).sum::<f64>() - b[j]).abs()))
            .sum();
        assert!(l1 <= 2.0 * dev + 1e-15, "{l1} > 2·{dev}");
        // The transport cost of G, streamed, against the dense sum.
        let c = costs(&x, &y, d);
        let cost: f64 = want.iter().zip(&c).map(|(p, q)| p * q).sum();
        assert!(
            (cost - r.cert.transport_cost).abs() <= 1e-13 * cost,
            "{cost} vs {:?}",
            r.cert
        );
    }
}

#[test]
fn certificate_brackets_brute_force_ot() {
    let mut rng = Rng::new(23);
    let n = 7;
    let mut gaps = Vec::new();
    for trial in 0..6 {
        let x = rng.normals(n * 2, 0.0, 1.0);
        let y = rng.normals(n * 2, 0.3, 1.0);
        let a = vec![1.0 / n as f64; n];
        let exact = brute_force(&costs(&x, &y, 2), n);
        let problem = Problem::point_clouds(&x, &y, 2, 1.0, &a, &a);
        for eps in [0.5, 0.05, 0.005] {
            let tol = if trial % 2 == 0 { 1e-3 } else { 1e-10 };
            let r = solve_and_round::<f64>(&problem, eps, tol);
            let c = r.cert;
            // L ≤ OT₀ ≤ ⟨C, G⟩ ≤ L + gap, to the rounding of sums of size OT₀.
            let slack = 1e-13 * exact;
            assert!(c.lower_bound <= exact + slack, "{c:?} vs {exact}");
            assert!(c.transport_cost >= exact - slack, "{c:?} vs {exact}");
            assert!(
                c.transport_cost - exact <= c.gap + slack,
                "{c:?} vs {exact}"
            );
            if tol < 1e-3 {
                gaps.push((eps, c.gap));
            }
        }
    }
    eprintln!("gaps of converged plans (eps, gap): {gaps:?}");
    // For a converged plan the gap is entropic: the soft-min of the lower bound loses at
    // most ε ln n per unit of mass, and ⟨C, P⟩ exceeds OT₀ by at most ε (ln n + ln n)
    // (the entropy of P relative to a⊗b is at most ln n): 3 ε ln n in all.
    for &(eps, gap) in &gaps {
        assert!(gap <= 3.0 * eps * (n as f64).ln(), "eps {eps}: gap {gap}");
    }
}

#[test]
fn f32_rounding_is_feasible() {
    let mut rng = Rng::new(29);
    let (n, m, d) = (40, 25, 2);
    let (x, y) = (rng.normals(n * d, 0.0, 1.0), rng.normals(m * d, 0.2, 1.0));
    let (a, b) = (rng.weights(n), rng.weights(m));
    let (x, y, a, b) = (
        cast::<f32>(&x),
        cast::<f32>(&y),
        cast::<f32>(&a),
        cast::<f32>(&b),
    );
    let problem = Problem::point_clouds(&x, &y, d, 1.0, &a, &b);
    let r = solve_and_round::<f32>(&problem, 0.1, 1e-2);
    let viol = marginal_violation(&problem, &r);
    // f32 sums of n ≤ 40 terms: a few units of 2^-24 of the mass 1.
    assert!(viol <= 1e-6, "violation {viol:.2e}");
}

#[test]
fn dense_costs_round_too() {
    let mut rng = Rng::new(31);
    let (n, m) = (5, 8);
    let c: Vec<f64> = (0..n * m).map(|_| rng.uniform()).collect();
    let (a, b) = (rng.weights(n), rng.weights(m));
    let problem = Problem::matrix(&c, &a, &b);
    let r = solve_and_round::<f64>(&problem, 0.1, 1e-2);
    assert!(marginal_violation(&problem, &r) <= 1e-15 * (n + m) as f64);
    let dense_f = dense_plan(&problem, r.eps, &r.plan_f, &r.plan_g);
    let cost: f64 = dense_round(&dense_f, &a, &b)
        .iter()
        .zip(&c)
        .map(|(p, q)| p * q)
        .sum();
    assert!((cost - r.cert.transport_cost).abs() <= 1e-13 * cost);
}

#[test]
fn bad_input_changes_nothing() {
    let (x, y) = ([0.0f64, 1.0, 2.0], [0.5f64, 1.5]);
    let (a, b) = ([0.3f64, 0.3, 0.4], [0.5f64, 0.5]);
    let problem = Problem::point_clouds(&x, &y, 1, 1.0, &a, &b);
    let (f, g) = ([0.0; 3], [0.0; 2]);
    let full = ot::round_workspace_len(3, 2, 1);
    let mut outs = ([7.0; 3], [7.0; 2], [7.0; 3], [7.0; 2]);
    let mut attempt = |p: &Problem<'_, f64>, eps: f64, f: &[f64], ws_len: usize| {
        let parts = RoundedParts {
            f: &mut outs.0,
            g: &mut outs.1,
            err_a: &mut outs.2,
            err_b: &mut outs.3,
        };
        ot::round(&Plan::new(*p, eps, f, &g), parts, &mut vec![0.0; ws_len]).map(|_| ())
    };
    assert_eq!(
        attempt(&problem, 0.1, &f, full - 1),
        Err(Error::WorkspaceTooSmall)
    );
    assert_eq!(attempt(&problem, 0.0, &f, full), Err(Error::InvalidEpsilon));
    assert_eq!(
        attempt(&problem, 0.1, &[0.0, f64::NAN, 0.0], full),
        Err(Error::NonFiniteInput)
    );
    assert_eq!(
        attempt(&problem, 0.1, &[0.0; 2], full),
        Err(Error::LengthMismatch)
    );
    let heavy = [0.3, 0.3, 0.5];
    let p = Problem::point_clouds(&x, &y, 1, 1.0, &heavy, &b);
    assert_eq!(attempt(&p, 0.1, &f, full), Err(Error::MassMismatch));
    assert!(outs
        .0
        .iter()
        .chain(&outs.1)
        .chain(&outs.2)
        .chain(&outs.3)
        .all(|&v| v == 7.0));
}
