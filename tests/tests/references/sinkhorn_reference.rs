//! Sinkhorn against reference solutions computed by OTT-JAX 0.6.0 (cross-checked with
//! POT 0.9.7) in f64: 47 problems, n, m ∈ {1, 2, 7, 64, 300}, d ∈ {1, 2, 3, 8},
//! ε from 1e-3 to 1 × mean cost, uniform / random / zero weights, balanced and
//! unbalanced (`tests/data/sinkhorn_reference.txt`, made by
//! `tools/reference/gen_sinkhorn.py`).

use otcore::ot::{self, Acceleration, Config, Epsilon, Init, Plan, Problem, Status};
use otcore::Real;
use otcore_tests::{load_reference, RefProblem};

/// Worst discrepancies of one solve against the reference, each already divided by
/// the scale it is measured against.
#[derive(Debug, Default, Clone, Copy)]
struct Worst {
    potential: f64,
    plan: f64,
    reg_cost: f64,
    transport: f64,
}

fn solve_ref<T: Real>(r: &RefProblem, tol: f64) -> Worst {
    solve_ref_with::<T>(r, tol, Init::Zero, Acceleration::Off)
}

fn solve_ref_with<T: Real>(r: &RefProblem, tol: f64, init: Init, acc: Acceleration) -> Worst {
    let c = r.cast::<T>();
    let problem = Problem::point_clouds(&c.x, &c.y, r.d, c.scale, &c.a, &c.b);
    let config = Config {
        epsilon: Epsilon::RelativeToMeanCost(T::from_f64(r.eps_rel)),
        rho_a: T::from_f64(r.rho_a),
        rho_b: T::from_f64(r.rho_b),
        tolerance: T::from_f64(tol),
        max_iterations: 400_000,
        epsilon_scaling: T::ZERO,
        acceleration: acc,
    };
    let mut ws = vec![T::ZERO; ot::solve_workspace_len(r.n, r.m, r.d, init)];
    let (mut f, mut g) = (vec![T::ZERO; r.n], vec![T::ZERO; r.m]);
    let sol = ot::solve(&problem, &config, init, &mut f, &mut g, &mut ws)
        .unwrap_or_else(|e| panic!("{}: {e}", r.name));
    assert_eq!(sol.status, Status::Converged, "{}: {sol:?}", r.name);
    // Our mean cost (closed form, O((n+m)d)) reproduces numpy's C.mean().
    let eps = sol.epsilon.to_f64();
    assert!(
        (eps - r.eps).abs() <= 1e-5 * r.eps.max(1e-300).max(T::EPSILON.to_f64() * 10.0 * r.eps),
        "{}: eps {eps} vs {}",
        r.name,
        r.eps
    );

    let (f64v, g64v): (Vec<f64>, Vec<f64>) = (
        f.iter().map(|v| v.to_f64()).collect(),
        g.iter().map(|v| v.to_f64()).collect(),
    );
    // −∞ exactly where the weight is 0.
    for (p, w) in f64v.iter().zip(&r.a).chain(g64v.iter().zip(&r.b)) {
        assert_eq!(*p == f64::NEG_INFINITY, *w == 0.0, "{}", r.name);
    }
    // Balanced potentials are defined up to (f + k, g − k).
    let k = if r.balanced() {
        let (s, cnt) = f64v
            .iter()
            .zip(&r.f)
            .filter(|(v, _)| v.is_finite())
            .fold((0.0, 0usize), |(s, c), (v, w)| (s + (w - v), c + 1));
        s / cnt as f64
    } else {
        0.0
    };
    let mut w = Worst::default();
    let pot_scale = r.mean_cost + r.eps;
    for (ours, theirs, shift) in [(&f64v, &r.f, k), (&g64v, &r.g, -k)] {
        for (o, t) in ours.iter().zip(theirs.iter()) {
            if t.is_finite() {
                w.potential = w
                    .potential
                    .max((o + shift - t).abs() / (pot_scale + t.abs()));
            }
        }
    }
    let plan = Plan::new(problem, sol.epsilon, &f, &g);
    let mut dense = vec![T::ZERO; r.n * r.m];
    plan.dense(&mut dense, &mut ws).unwrap();
    let pmax = r
        .plan_rows
        .iter()
        .flat_map(|(_, row)| row.iter())
        .cloned()
        .fold(0.0, f64::max);
    for (i, row) in &r.plan_rows {
        for (j, want) in row.iter().enumerate() {
            let got = dense[i * r.m + j].to_f64();
            w.plan = w.plan.max((got - want).abs() / pmax);
        }
    }
    let mass: f64 = r.a.iter().sum();
    w.reg_cost =
        (sol.reg_ot_cost.to_f64() - r.reg_ot_cost).abs() / (r.reg_ot_cost.abs() + r.eps * mass);
    w.transport = (sol.transport_cost.to_f64() - r.transport_cost).abs()
        / (r.transport_cost.abs() + r.eps * mass);
    w
}

fn report(kind: &str, rows: &[(String, Worst)]) -> Worst {
    let mut all = Worst::default();
    for (name, w) in rows {
        println!(
            "{kind} {name:<40} pot {:.1e} plan {:.1e} reg {:.1e} cost {:.1e}",
            w.potential, w.plan, w.reg_cost, w.transport
        );
        all.potential = all.potential.max(w.potential);
        all.plan = all.plan.max(w.plan);
        all.reg_cost = all.reg_cost.max(w.reg_cost);
        all.transport = all.transport.max(w.transport);
    }
    println!("{kind} worst: {all:?}");
    all
}

/// f64: potentials (up to the balanced additive constant) relative to
/// |f| + mean cost + ε, plan entries relative to the largest entry, and both costs
/// relative to |cost| + ε·mass, all within 1e-9. Solved to an L1 error of 1e-13, at the
/// f64 rounding floor of these problems like the references themselves.
#[test]
fn f64_matches_ott_and_pot() {
    let refs = load_reference();
    assert!(refs.len() >= 30);
    let rows: Vec<_> = refs
        .iter()
        .map(|r| (r.name.clone(), solve_ref::<f64>(r, 1e-13)))
        .collect();
    let all = report("f64", &rows);
    assert!(
        all.potential <= 1e-9 && all.plan <= 1e-9 && all.reg_cost <= 1e-9 && all.transport <= 1e-9,
        "{all:?}"
    );
}

/// Every initializer, and the adaptive acceleration, reaches the reference solution
/// with the reference tolerance of `f64_matches_ott_and_pot` (1e-9 relative, solved to
/// an L1 error of 1e-13): they change where the iteration starts and how it steps, not
/// its fixed point. The 1-D initializer runs on the d = 1 problems only.
#[test]
fn f64_initializers_and_acceleration_reach_the_reference() {
    let refs = load_reference();
    let modes = [
        (Init::Gaussian, Acceleration::Off),
        (Init::Subsample { size: 16 }, Acceleration::Off),
        (Init::Sorted, Acceleration::Off),
        (Init::Zero, Acceleration::Adaptive { start: 10 }),
        (Init::Gaussian, Acceleration::Adaptive { start: 2 }),
    ];
    for (init, acc) in modes {
        let rows: Vec<_> = refs
            .iter()
            .filter(|r| init != Init::Sorted || r.d == 1)
            .map(|r| (r.name.clone(), solve_ref_with::<f64>(r, 1e-13, init, acc)))
            .collect();
        assert!(!rows.is_empty());
        let all = report(&format!("{init:?} {acc:?}"), &rows);
        assert!(
            all.potential <= 1e-9
                && all.plan <= 1e-9
                && all.reg_cost <= 1e-9
                && all.transport <= 1e-9,
            "{init:?} {acc:?}: {all:?}"
        );
    }
}

/// f32 against the same f64 references. Sources of error: inputs rounded to f32
/// (relative 6e-8), the kernel argument (f_i + g_j − C_ij)/ε evaluated in f32 with an
/// absolute error of a few ulp of max(|f|, |g|, C)/ε — up to ~2e-3 at ε = 1e-3 × mean
/// cost, where max C/ε ≈ 1e4 —, and stopping at an L1 error of 1e-5 (1e-3 for
/// ε < 0.01 × mean cost: there the f32 marginal error stalls at a few 1e-5 to 1e-4,
/// e.g. 3.5e-5 on `bal_2x2_d1_eps1e-3`). Plan entries and
/// potentials therefore agree to a few 1e-2 relative at the smallest ε (where the
/// loose stopping tolerance dominates: the problem is ill-conditioned) and a few 1e-4
/// at ε ≥ 0.01 × mean; the bounds are about 3× what is measured (printed by the test).
#[test]
fn f32_matches_ott_and_pot() {
    let refs = load_reference();
    let mut rows = Vec::new();
    for r in &refs {
        let small_eps = r.eps_rel < 0.01;
        let w = solve_ref::<f32>(r, if small_eps { 1e-3 } else { 1e-5 });
        rows.push((small_eps, r.name.clone(), w));
    }
    for small in [false, true] {
        let part: Vec<_> = rows
            .iter()
            .filter(|r| r.0 == small)
            .map(|r| (r.1.clone(), r.2))
            .collect();
        let all = report(
            if small {
                "f32 eps<0.01"
            } else {
                "f32 eps>=0.01"
            },
            &part,
        );
        // Measured worst (see the doc comment): ε ≥ 0.01 × mean — potentials 3.5e-4,
        // plan 1.6e-4, costs 3.4e-5; ε = 1e-3 × mean — potentials 2.5e-2, plan 3.2e-2,
        // costs 2.3e-3. Bounds: about 3× those.
        let (pot, plan, cost) = if small {
            (0.1, 0.1, 1e-2)
        } else {
            (1e-3, 5e-4, 1e-4)
        };
        assert!(
            all.potential <= pot
                && all.plan <= plan
                && all.reg_cost <= cost
                && all.transport <= cost,
            "{all:?}"
        );
    }
}
