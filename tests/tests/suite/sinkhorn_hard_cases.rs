//! Inputs that break other Sinkhorn implementations must work here, without NaN.

use otcore::ot::{self, Config, Epsilon, Init, Problem, Solution, Status};
use otcore::Real;
use otcore_tests::{cast, dense_plan, solve_owned, uniform_weights, Rng};

fn config<T: Real>(eps_rel: f64, tol: f64, max_iterations: u32) -> Config<T> {
    Config {
        epsilon: Epsilon::RelativeToMeanCost(T::from_f64(eps_rel)),
        tolerance: T::from_f64(tol),
        max_iterations,
        ..Config::default()
    }
}

fn assert_finite<T: Real>(sol: &Solution<T>) {
    for v in [
        sol.error,
        sol.epsilon,
        sol.reg_ot_cost,
        sol.transport_cost,
        sol.plan_mass,
    ] {
        assert!(v.is_finite(), "{sol:?}");
    }
}

fn zero_weights<T: Real>() {
    let mut rng = Rng::new(1);
    let x = cast::<T>(&rng.normals(10 * 2, 0.0, 1.0));
    let y = cast::<T>(&rng.normals(12 * 2, 0.5, 1.0));
    let mut a = vec![T::from_f64(0.125); 10];
    a[0] = T::ZERO;
    a[7] = T::ZERO;
    let mut b = vec![T::from_f64(0.1); 12];
    b[3] = T::ZERO;
    b[11] = T::ZERO;
    let problem = Problem::point_clouds(&x, &y, 2, T::ONE, &a, &b);
    let (sol, f, g) = solve_owned(&problem, &config::<T>(0.05, 1e-4, 10_000));
    assert_eq!(sol.status, Status::Converged);
    assert_finite(&sol);
    for (i, &fi) in f.iter().enumerate() {
        assert_eq!(fi == T::NEG_INFINITY, a[i] == T::ZERO, "f[{i}] = {fi:?}");
        assert!(!fi.is_nan());
    }
    for (j, &gj) in g.iter().enumerate() {
        assert_eq!(gj == T::NEG_INFINITY, b[j] == T::ZERO, "g[{j}] = {gj:?}");
    }
    let p = dense_plan(&problem, sol.epsilon, &f, &g);
    assert!(p.iter().all(|v| v.is_finite()));
    assert!(
        p[..12].iter().all(|&v| v == T::ZERO),
        "row of a zero-weight point"
    );
    assert!(
        (0..10).all(|i| p[i * 12 + 3] == T::ZERO),
        "column of a zero-weight point"
    );
}

#[test]
fn zero_weight_points() {
    zero_weights::<f32>();
    zero_weights::<f64>();
}

/// With a single point on one side, the only feasible plan is a·bᵀ.
fn single_point<T: Real>(n: usize, m: usize) {
    let mut rng = Rng::new(2);
    let x = cast::<T>(&rng.normals(n * 3, 0.0, 1.0));
    let y = cast::<T>(&rng.normals(m * 3, 0.0, 1.0));
    let (a, b) = (cast::<T>(&rng.weights(n)), cast::<T>(&rng.weights(m)));
    let problem = Problem::point_clouds(&x, &y, 3, T::ONE, &a, &b);
    let (sol, f, g) = solve_owned(&problem, &config::<T>(0.05, 1e-5, 100));
    assert_eq!(sol.status, Status::Converged, "{n}x{m}: {sol:?}");
    assert_finite(&sol);
    let p = dense_plan(&problem, sol.epsilon, &f, &g);
    let tol = if T::EPSILON.to_f64() > 1e-10 {
        1e-5
    } else {
        1e-13
    };
    for i in 0..n {
        for j in 0..m {
            let want = a[i].to_f64() * b[j].to_f64();
            assert!(
                (p[i * m + j].to_f64() - want).abs() <= tol,
                "{n}x{m} P[{i},{j}]"
            );
        }
    }
}

#[test]
fn one_point_on_a_side() {
    for (n, m) in [(1, 1), (1, 9), (9, 1), (1, 40)] {
        single_point::<f32>(n, m);
        single_point::<f64>(n, m);
    }
}

/// x = y: converges, the plan is symmetric, and at small ε (with ε-scaling) nearly the
/// identity coupling. Plain Sinkhorn converges slowly here (the plan is close to a
/// permutation: 24 915 iterations to an error of 1e-9 at ε = 0.05 × mean), and the
/// potentials are ill-conditioned: at error 1e-9 they are symmetric only to ~1e-5 cost
/// units (ε ≈ 0.2), i.e. plan entries to ~1e-4 relative; the check allows 1e-3.
#[test]
fn identical_clouds() {
    let mut rng = Rng::new(3);
    let x = rng.normals(50 * 2, 0.0, 1.0);
    let a = uniform_weights::<f64>(50);
    for (eps_rel, q, tol) in [(0.05, 0.0, 1e-9), (1e-3, 0.5, 1e-6)] {
        let problem = Problem::point_clouds(&x, &x, 2, 1.0, &a, &a);
        let cfg = Config {
            epsilon_scaling: q,
            ..config::<f64>(eps_rel, tol, 100_000)
        };
        let (sol, f, g) = solve_owned(&problem, &cfg);
        assert_eq!(sol.status, Status::Converged);
        assert_finite(&sol);
        let p = dense_plan(&problem, sol.epsilon, &f, &g);
        let max = p.iter().cloned().fold(0.0, f64::max);
        for i in 0..50 {
            for j in 0..i {
                assert!(
                    (p[i * 50 + j] - p[j * 50 + i]).abs() <= 1e-3 * max,
                    "P[{i},{j}]"
                );
            }
        }
        let diag: f64 = (0..50).map(|i| p[i * 50 + i]).sum();
        println!(
            "eps_rel {eps_rel}: {} iterations, diagonal mass {diag}",
            sol.iterations
        );
        if eps_rel == 1e-3 {
            assert!(diag > 0.95, "diagonal mass {diag}");
        }
    }
}

/// Every point at one location: all costs are 0, the mean cost is 0, a relative ε
/// falls back to r cost units, and the plan is a·bᵀ.
fn one_location<T: Real>() {
    let x = vec![T::from_f64(3.5); 7 * 2];
    let y = vec![T::from_f64(3.5); 5 * 2];
    let a = cast::<T>(&Rng::new(4).weights(7));
    let b = uniform_weights::<T>(5);
    let problem = Problem::point_clouds(&x, &y, 2, T::ONE, &a, &b);
    let (sol, f, g) = solve_owned(&problem, &config::<T>(0.05, 1e-6, 100));
    assert_eq!(sol.status, Status::Converged);
    assert_eq!(sol.epsilon, T::from_f64(0.05));
    assert_eq!(sol.transport_cost, T::ZERO);
    assert!(sol.reg_ot_cost.abs().to_f64() < 1e-6);
    let p = dense_plan(&problem, sol.epsilon, &f, &g);
    for i in 0..7 {
        for j in 0..5 {
            assert!((p[i * 5 + j].to_f64() - a[i].to_f64() * 0.2).abs() < 1e-6);
        }
    }
}

#[test]
fn all_points_at_one_location() {
    one_location::<f32>();
    one_location::<f64>();
}

/// Exact OT cost of a uniform n×n assignment problem by brute force over permutations.
fn exact_assignment_cost(c: &[f64], n: usize) -> f64 {
    fn rec(c: &[f64], n: usize, row: usize, used: &mut [bool], acc: f64, best: &mut f64) {
        if acc >= *best {
            return;
        }
        if row == n {
            *best = acc;
            return;
        }
        for j in 0..n {
            if !used[j] {
                used[j] = true;
                rec(c, n, row + 1, used, acc + c[row * n + j], best);
                used[j] = false;
            }
        }
    }
    let mut best = f64::INFINITY;
    rec(c, n, 0, &mut vec![false; n], 0.0, &mut best);
    best / n as f64
}

/// Tiny ε: 1e-4 × mean cost in f32, 1e-6 × mean cost in f64, with ε-scaling (plain
/// Sinkhorn needs ~max(C)/ε iterations). The solve must converge, stay finite, and its
/// transport cost must lie within the entropic gap of the exact assignment cost:
/// |⟨C,P⟩ − OT| ≤ ε·ln(n²) + error·max(C) (the second term because the plan is
/// feasible only up to the marginal error).
fn tiny_epsilon<T: Real>(eps_rel: f64, tol: f64) {
    let n = 8;
    let mut rng = Rng::new(5);
    let x64 = rng.normals(n * 2, 0.0, 1.0);
    let y64 = rng.normals(n * 2, 0.3, 1.0);
    let (x, y) = (cast::<T>(&x64), cast::<T>(&y64));
    let a = uniform_weights::<T>(n);
    let problem = Problem::point_clouds(&x, &y, 2, T::ONE, &a, &a);
    let cfg = Config {
        epsilon_scaling: T::from_f64(0.5),
        ..config::<T>(eps_rel, tol, 200_000)
    };
    let (sol, f, g) = solve_owned(&problem, &cfg);
    assert_eq!(sol.status, Status::Converged);
    assert_finite(&sol);
    assert!(f.iter().chain(&g).all(|v| v.is_finite()));
    let c: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            (0..2)
                .map(|l| (x[i * 2 + l].to_f64() - y[j * 2 + l].to_f64()).powi(2))
                .sum()
        })
        .collect();
    let exact = exact_assignment_cost(&c, n);
    let cmax = c.iter().cloned().fold(0.0, f64::max);
    let gap = sol.epsilon.to_f64() * ((n * n) as f64).ln() + sol.error.to_f64() * cmax;
    let got = sol.transport_cost.to_f64();
    println!(
        "eps_rel {eps_rel:e}: status {:?} after {} its, error {:e}, cost {got} vs exact {exact}",
        sol.status,
        sol.iterations,
        sol.error.to_f64()
    );
    assert!(
        got >= exact - gap && got <= exact + gap,
        "{got} vs {exact} ± {gap}"
    );
}

/// In f32 at ε = 1e-4 × mean cost the kernel arguments (f + g − C)/ε carry an absolute
/// rounding error of ~6e-8 × max(C)/ε ≈ 2e-3, so the marginal error cannot go much
/// below ~2e-4 (measured: it stalls at 2.07e-4); the tolerance is 1e-3.
#[test]
fn tiny_epsilon_f32() {
    tiny_epsilon::<f32>(1e-4, 1e-3);
}

#[test]
fn tiny_epsilon_f64() {
    tiny_epsilon::<f64>(1e-6, 1e-7);
}

/// Coordinates around 10⁶: the f32 solve of the f32-rounded points agrees with the f64
/// solve of the same (rounded) points. Differences of nearby f32 values are exact, so
/// the only extra error is f32 rounding in the solver (tolerance 1e-4 relative on the
/// cost, 1e-3 relative on the largest plan entries, at the f32 stopping tolerance).
#[test]
fn coordinates_up_to_a_million() {
    let mut rng = Rng::new(6);
    let n = 30;
    let x64: Vec<f64> = rng.normals(n * 2, 1e6, 2.0);
    let y64: Vec<f64> = rng.normals(n * 2, 1e6 - 1.0, 2.0);
    let (x, y) = (cast::<f32>(&x64), cast::<f32>(&y64));
    let (xr, yr) = (
        cast::<f64>(&x.iter().map(|v| *v as f64).collect::<Vec<_>>()),
        cast::<f64>(&y.iter().map(|v| *v as f64).collect::<Vec<_>>()),
    );
    let a32 = uniform_weights::<f32>(n);
    let a64 = uniform_weights::<f64>(n);
    let p32 = Problem::point_clouds(&x, &y, 2, 1.0f32, &a32, &a32);
    let p64 = Problem::point_clouds(&xr, &yr, 2, 1.0f64, &a64, &a64);
    let (s32, f32_, g32) = solve_owned(&p32, &config::<f32>(0.05, 1e-5, 10_000));
    let (s64, f64_, g64) = solve_owned(&p64, &config::<f64>(0.05, 1e-12, 10_000));
    assert_eq!(s32.status, Status::Converged);
    assert!((s32.epsilon as f64 - s64.epsilon).abs() <= 1e-4 * s64.epsilon);
    assert!((s32.transport_cost as f64 - s64.transport_cost).abs() <= 1e-4 * s64.transport_cost);
    let d32 = dense_plan(&p32, s32.epsilon, &f32_, &g32);
    let d64 = dense_plan(&p64, s64.epsilon, &f64_, &g64);
    let max = d64.iter().cloned().fold(0.0, f64::max);
    for (u, v) in d32.iter().zip(&d64) {
        assert!((*u as f64 - v).abs() <= 1e-3 * max);
    }
    // And spread over ±10⁶: costs up to ~10¹³ stay finite in f32.
    let x: Vec<f32> = (0..n * 2)
        .map(|_| (rng.uniform() * 2e6 - 1e6) as f32)
        .collect();
    let y: Vec<f32> = (0..n * 2)
        .map(|_| (rng.uniform() * 2e6 - 1e6) as f32)
        .collect();
    let problem = Problem::point_clouds(&x, &y, 2, 1.0f32, &a32, &a32);
    let (sol, _, _) = solve_owned(&problem, &config::<f32>(0.05, 1e-4, 10_000));
    assert_eq!(sol.status, Status::Converged);
    assert_finite(&sol);
}

/// Balanced masses that differ by less than the documented tolerance are accepted
/// (b is rescaled to the mass of a) and converge.
#[test]
fn masses_within_tolerance_converge() {
    let mut rng = Rng::new(8);
    let x = rng.normals(16 * 2, 0.0, 1.0);
    let y = rng.normals(16 * 2, 1.0, 1.0);
    let a = uniform_weights::<f64>(16);
    let b: Vec<f64> = a.iter().map(|v| v * (1.0 + 5e-11)).collect();
    let problem = Problem::point_clouds(&x, &y, 2, 1.0, &a, &b);
    let (sol, _, _) = solve_owned(&problem, &config::<f64>(0.05, 1e-12, 10_000));
    assert_eq!(sol.status, Status::Converged);
    let (x, y) = (cast::<f32>(&x), cast::<f32>(&y));
    let a = uniform_weights::<f32>(16);
    let b: Vec<f32> = a.iter().map(|v| v * (1.0 + 5e-5)).collect();
    let problem = Problem::point_clouds(&x, &y, 2, 1.0, &a, &b);
    let (sol, _, _) = solve_owned(&problem, &config::<f32>(0.05, 1e-5, 10_000));
    assert_eq!(sol.status, Status::Converged);
}

/// A fixed budget per tick (the control-loop use) reports MaxIterations with a usable,
/// finite result, and the workspace contents on entry do not matter.
#[test]
fn budget_per_tick_and_dirty_workspace() {
    let mut rng = Rng::new(10);
    let x = rng.normals(20 * 2, 0.0, 1.0);
    let y = rng.normals(20 * 2, 2.0, 1.0);
    let a = uniform_weights::<f64>(20);
    let problem = Problem::point_clouds(&x, &y, 2, 1.0, &a, &a);
    let cfg = config::<f64>(0.01, 1e-12, 3);
    let mut clean = vec![0.0; ot::workspace_len(20, 20, 2)];
    let mut dirty = vec![f64::NAN; ot::workspace_len(20, 20, 2)];
    let (mut f1, mut g1, mut f2, mut g2) =
        (vec![0.0; 20], vec![0.0; 20], vec![0.0; 20], vec![0.0; 20]);
    let s1 = ot::solve(&problem, &cfg, Init::Zero, &mut f1, &mut g1, &mut clean).unwrap();
    let s2 = ot::solve(&problem, &cfg, Init::Zero, &mut f2, &mut g2, &mut dirty).unwrap();
    assert_eq!(s1.status, Status::MaxIterations);
    assert_eq!(s1.iterations, 3);
    assert_finite(&s1);
    assert_eq!((s1, f1), (s2, f2));
}
