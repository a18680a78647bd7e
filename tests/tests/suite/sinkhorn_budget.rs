//! `max_iterations` is a hard bound on the reported iterations in every mode:
//! balanced, unbalanced, resumed, warm-started and ε-scaled, f32 and f64. Regression
//! test of issue 16, bug 2 (n = m = 64, ε = 1e-3 absolute, ε-scaling 0.7: a cap of 10
//! reported 36 iterations, a cap of 100 reported 114).

use otcore::ot::{self, Acceleration, Config, Epsilon, Init, Problem, Status};
use otcore::{Error, Real};
use otcore_tests::{cast, Rng};

const N: usize = 64;
const CAPS: [u32; 9] = [1, 2, 3, 5, 10, 17, 50, 100, 400];
const OFF: Acceleration = Acceleration::Off;
const PLAIN: (Init, Acceleration) = (Init::Zero, OFF);
const NEW_MODES: [(Init, Acceleration); 4] = [
    (Init::Gaussian, OFF),
    (Init::Subsample { size: 16 }, OFF),
    (Init::Zero, Acceleration::Adaptive { start: 2 }),
    (Init::Gaussian, Acceleration::Adaptive { start: 3 }),
];

struct Case {
    x: Vec<f64>,
    y: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
}

fn case() -> Case {
    let mut rng = Rng::new(16);
    let a = rng.weights(N);
    // Unbalanced runs take b with a different mass; balanced ones rescale it.
    let b: Vec<f64> = rng.weights(N).iter().map(|w| 3.0 * w).collect();
    Case {
        x: rng.normals(N * 2, 0.0, 1.0),
        y: rng.normals(N * 2, 0.5, 0.8),
        a,
        b,
    }
}

/// Solves with the given budget and init; returns the iterations and status, after
/// checking the potentials are finite where the weights are positive.
fn solve<T: Real>(
    c: &Case,
    rho: f64,
    scaling: f64,
    cap: u32,
    (init, acceleration): (Init, Acceleration),
    f: &mut [T],
    g: &mut [T],
) -> Result<(u32, Status), Error> {
    let balanced = rho == f64::INFINITY;
    let sb: f64 = c.b.iter().sum::<f64>() / c.a.iter().sum::<f64>();
    let b: Vec<f64> = if balanced {
        c.b.iter().map(|w| w / sb).collect()
    } else {
        c.b.clone()
    };
    let (x, y, a, b) = (
        cast::<T>(&c.x),
        cast::<T>(&c.y),
        cast::<T>(&c.a),
        cast::<T>(&b),
    );
    let problem = Problem::point_clouds(&x, &y, 2, T::ONE, &a, &b);
    let cfg = Config {
        epsilon: Epsilon::Absolute(T::from_f64(1e-3)),
        rho_a: T::from_f64(rho),
        rho_b: T::from_f64(rho),
        tolerance: T::from_f64(1e-6),
        max_iterations: cap,
        epsilon_scaling: T::from_f64(scaling),
        acceleration,
    };
    let mut ws = vec![T::ZERO; ot::solve_workspace_len(N, N, 2, init)];
    let sol = ot::solve(&problem, &cfg, init, f, g, &mut ws)?;
    assert!(f.iter().chain(g.iter()).all(|v| v.is_finite()));
    Ok((sol.iterations, sol.status))
}

fn every_mode<T: Real>() {
    let c = case();
    for rho in [f64::INFINITY, 0.5] {
        for scaling in [0.0, 0.7, 0.95] {
            for cap in CAPS {
                let mode = format!(
                    "{} rho {rho} scaling {scaling} cap {cap}",
                    core::any::type_name::<T>()
                );
                let (mut f, mut g) = (vec![T::ZERO; N], vec![T::ZERO; N]);
                let (it, st) = solve(&c, rho, scaling, cap, PLAIN, &mut f, &mut g)
                    .unwrap_or_else(|e| panic!("{mode}: {e}"));
                assert!(it <= cap, "{mode}: cold start ran {it} iterations");
                assert!(it >= 1, "{mode}: no iteration");
                if st == Status::MaxIterations {
                    assert_eq!(it, cap, "{mode}: stopped short of the budget");
                }
                // Resumed and warm-started from where it stopped.
                for init in [Init::Resume, Init::Potentials] {
                    let (mut f2, mut g2) = (f.clone(), g.clone());
                    let (it2, _) = solve(&c, rho, scaling, cap, (init, OFF), &mut f2, &mut g2)
                        .unwrap_or_else(|e| panic!("{mode} {init:?}: {e}"));
                    assert!(it2 <= cap, "{mode} {init:?}: ran {it2} iterations");
                }
                // The initializers and the acceleration (the subsample's own solve has
                // its own budget, not counted in `iterations`).
                for start in NEW_MODES {
                    let (mut f2, mut g2) = (vec![T::ZERO; N], vec![T::ZERO; N]);
                    let (it2, st2) = solve(&c, rho, scaling, cap, start, &mut f2, &mut g2)
                        .unwrap_or_else(|e| panic!("{mode} {start:?}: {e}"));
                    assert!(it2 <= cap, "{mode} {start:?}: ran {it2} iterations");
                    if st2 == Status::MaxIterations {
                        assert_eq!(it2, cap, "{mode} {start:?}: stopped short of the budget");
                    }
                }
            }
        }
    }
}

#[test]
fn budget_is_a_hard_bound_f64() {
    every_mode::<f64>();
}

#[test]
fn budget_is_a_hard_bound_f32() {
    every_mode::<f32>();
}

/// A budget of 0 cannot measure the error of a cold or warm start: refused, nothing
/// written; resuming with 0 iterations reports the error of the given pair.
#[test]
fn zero_budget() {
    let c = case();
    for init in [Init::Zero, Init::Potentials] {
        let (mut f, mut g) = (vec![7.0f64; N], vec![7.0f64; N]);
        let r = solve(&c, f64::INFINITY, 0.7, 0, (init, OFF), &mut f, &mut g);
        assert_eq!(r, Err(Error::InvalidParameter), "{init:?}");
        assert!(
            f.iter().chain(&g).all(|&v| v == 7.0),
            "{init:?}: wrote outputs"
        );
    }
    let (mut f, mut g) = (vec![0.0f64; N], vec![0.0f64; N]);
    solve(&c, f64::INFINITY, 0.0, 5, PLAIN, &mut f, &mut g).expect("solve");
    let r = solve(
        &c,
        f64::INFINITY,
        0.0,
        0,
        (Init::Resume, OFF),
        &mut f,
        &mut g,
    );
    assert_eq!(r, Ok((0, Status::MaxIterations)));
}
