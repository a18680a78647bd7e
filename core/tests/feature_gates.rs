//! The optional parts of the solver (cargo features `dense`, `initializers` and
//! `variants`): with the feature a call works, without it the call is refused with
//! `Error::FeatureDisabled` and writes nothing. `cargo test --workspace` runs the
//! first half (default features); `scripts/test.sh` runs this file again with
//! `--no-default-features` for the second.

use otcore::ot::{self, Config, Init, Problem};
#[cfg(not(all(feature = "dense", feature = "initializers", feature = "variants")))]
use otcore::Error;

/// 8 × 8, d = 1: points on a line, uniform weights.
fn clouds() -> ([f64; 8], [f64; 8], [f64; 8]) {
    let x = core::array::from_fn(|i| i as f64 / 8.0);
    let y = core::array::from_fn(|i| 0.3 + i as f64 / 10.0);
    (x, y, [0.125; 8])
}

/// Solves `problem` with `init` from f = g = 7 (a value no solve returns here) and
/// returns the result with the potentials.
fn solve(
    problem: &Problem<'_, f64>,
    init: Init,
) -> (Result<ot::Solution<f64>, otcore::Error>, [f64; 8], [f64; 8]) {
    let cfg = Config::default();
    let mut ws = vec![0.0; ot::solve_workspace_len(8, 8, problem.dim(), init)];
    let (mut f, mut g) = ([7.0; 8], [7.0; 8]);
    let r = ot::solve(problem, &cfg, init, &mut f, &mut g, &mut ws);
    (r, f, g)
}

#[test]
fn dense_costs() {
    let (x, y, w) = clouds();
    let c: Vec<f64> = (0..64).map(|k| (x[k / 8] - y[k % 8]).powi(2)).collect();
    let (r, f, g) = solve(&Problem::matrix(&c, &w, &w), Init::Zero);
    #[cfg(feature = "dense")]
    {
        // The same problem as point clouds: the same solution to the default
        // tolerance (1e-7 of the mass in the marginals; potentials of O(1)).
        let (rc, fc, gc) = solve(&Problem::point_clouds(&x, &y, 1, 1.0, &w, &w), Init::Zero);
        let (s, sc) = (r.unwrap(), rc.unwrap());
        assert!(
            (s.reg_ot_cost - sc.reg_ot_cost).abs() < 1e-6,
            "{s:?} vs {sc:?}"
        );
        for (a, b) in f.iter().chain(&g).zip(fc.iter().chain(&gc)) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
    #[cfg(not(feature = "dense"))]
    {
        assert_eq!(r, Err(Error::FeatureDisabled));
        assert_eq!((f, g), ([7.0; 8], [7.0; 8]), "written on error");
    }
}

#[test]
fn initializers() {
    let (x, y, w) = clouds();
    let p = Problem::point_clouds(&x, &y, 1, 1.0, &w, &w);
    for init in [Init::Gaussian, Init::Sorted, Init::Subsample { size: 4 }] {
        let (r, f, g) = solve(&p, init);
        #[cfg(feature = "initializers")]
        assert!(r.is_ok() && f[0] != 7.0 && g[0] != 7.0, "{init:?}: {r:?}");
        #[cfg(not(feature = "initializers"))]
        {
            assert_eq!(r, Err(Error::FeatureDisabled), "{init:?}");
            assert_eq!((f, g), ([7.0; 8], [7.0; 8]), "{init:?}: written on error");
        }
    }
    // The plain starts need no feature.
    let (r, _, _) = solve(&p, Init::Zero);
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn variants() {
    let (x, y, w) = clouds();
    let p = Problem::point_clouds(&x, &y, 1, 1.0, &w, &w);
    let plain = Config::default();
    let asks = [
        Config {
            rho_a: 1.0,
            ..plain
        },
        Config {
            rho_b: 1.0,
            ..plain
        },
        Config {
            epsilon_scaling: 0.5,
            ..plain
        },
        Config {
            acceleration: ot::Acceleration::Adaptive { start: 2 },
            ..plain
        },
    ];
    for cfg in asks {
        let mut ws = vec![0.0; ot::solve_workspace_len(8, 8, 1, Init::Zero)];
        let (mut f, mut g) = ([7.0; 8], [7.0; 8]);
        let r = ot::solve(&p, &cfg, Init::Zero, &mut f, &mut g, &mut ws);
        #[cfg(feature = "variants")]
        assert!(r.is_ok() && f[0] != 7.0 && g[0] != 7.0, "{cfg:?}: {r:?}");
        #[cfg(not(feature = "variants"))]
        {
            assert_eq!(r, Err(Error::FeatureDisabled), "{cfg:?}");
            assert_eq!((f, g), ([7.0; 8], [7.0; 8]), "{cfg:?}: written on error");
        }
    }
    // Invalid parameters are refused as such, with the feature or without.
    let bad = Config {
        rho_a: f64::NAN,
        ..plain
    };
    let mut ws = vec![0.0; ot::solve_workspace_len(8, 8, 1, Init::Zero)];
    let (mut f, mut g) = ([7.0; 8], [7.0; 8]);
    let r = ot::solve(&p, &bad, Init::Zero, &mut f, &mut g, &mut ws);
    assert_eq!(r, Err(otcore::Error::InvalidParameter));
}
