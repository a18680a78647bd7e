//! Every invalid input gets its error and leaves the caller's outputs untouched
//! (checked with canary values).

use otcore::ot::{self, Config, Epsilon, Init, Plan, Problem};
use otcore::Error;

const CANARY: f64 = 42.0;

struct Case {
    x: Vec<f64>,
    y: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    dim: usize,
    scale: f64,
    config: Config<f64>,
}

fn good() -> Case {
    Case {
        x: vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0],
        y: vec![0.5, 0.5, 1.0, 1.0],
        a: vec![0.2, 0.3, 0.5],
        b: vec![0.6, 0.4],
        dim: 2,
        scale: 1.0,
        config: Config::default(),
    }
}

/// Runs `solve` on the case with canary-filled f, g and checks error + canaries.
fn expect(case: &Case, init: Init, want: Error) {
    let problem = Problem::point_clouds(&case.x, &case.y, case.dim, case.scale, &case.a, &case.b);
    let (n, m) = (case.a.len(), case.b.len());
    let mut ws = vec![0.0; ot::workspace_len(n.max(1), m.max(1), case.dim.max(1))];
    let mut f = vec![CANARY; n];
    let mut g = vec![CANARY; m];
    let got = ot::solve(&problem, &case.config, init, &mut f, &mut g, &mut ws);
    assert_eq!(got, Err(want));
    assert!(f.iter().chain(&g).all(|&v| v == CANARY), "outputs touched");
}

fn with(mutate: impl FnOnce(&mut Case)) -> Case {
    let mut c = good();
    mutate(&mut c);
    c
}

#[test]
fn the_good_case_is_good() {
    let c = good();
    let problem = Problem::point_clouds(&c.x, &c.y, 2, 1.0, &c.a, &c.b);
    let mut ws = vec![0.0; ot::workspace_len(3, 2, 2)];
    let (mut f, mut g) = (vec![0.0; 3], vec![0.0; 2]);
    assert!(ot::solve(&problem, &c.config, Init::Zero, &mut f, &mut g, &mut ws).is_ok());
}

#[test]
fn sizes() {
    expect(&with(|c| c.dim = 0), Init::Zero, Error::EmptyInput);
    expect(
        &with(|c| {
            c.a.clear();
            c.x.clear();
        }),
        Init::Zero,
        Error::EmptyInput,
    );
    expect(
        &with(|c| {
            c.b.clear();
            c.y.clear();
        }),
        Init::Zero,
        Error::EmptyInput,
    );
    expect(
        &with(|c| {
            c.x.pop();
        }),
        Init::Zero,
        Error::LengthMismatch,
    );
    expect(&with(|c| c.y.push(1.0)), Init::Zero, Error::LengthMismatch);
    expect(&with(|c| c.dim = 3), Init::Zero, Error::LengthMismatch);
    // f and g of the wrong length.
    let c = good();
    let problem = Problem::point_clouds(&c.x, &c.y, 2, 1.0, &c.a, &c.b);
    let mut ws = vec![0.0; ot::workspace_len(3, 2, 2)];
    let (mut f, mut g) = (vec![CANARY; 2], vec![CANARY; 2]);
    assert_eq!(
        ot::solve(&problem, &c.config, Init::Zero, &mut f, &mut g, &mut ws),
        Err(Error::LengthMismatch)
    );
    assert!(f.iter().chain(&g).all(|&v| v == CANARY));
}

#[test]
fn non_finite_values() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        expect(&with(|c| c.x[3] = bad), Init::Zero, Error::NonFiniteInput);
        expect(&with(|c| c.y[0] = bad), Init::Zero, Error::NonFiniteInput);
        expect(&with(|c| c.a[1] = bad), Init::Zero, Error::NonFiniteInput);
        expect(&with(|c| c.b[1] = bad), Init::Zero, Error::NonFiniteInput);
    }
}

#[test]
fn weights() {
    expect(&with(|c| c.a[0] = -0.1), Init::Zero, Error::NegativeWeight);
    expect(
        &with(|c| c.b[1] = -1e-300),
        Init::Zero,
        Error::NegativeWeight,
    );
    expect(&with(|c| c.a = vec![0.0; 3]), Init::Zero, Error::ZeroMass);
    expect(&with(|c| c.b = vec![0.0; 2]), Init::Zero, Error::ZeroMass);
    // Balanced with masses 1 and 1.001 (tolerance 1e-10 relative in f64)...
    expect(&with(|c| c.b[0] += 1e-3), Init::Zero, Error::MassMismatch);
    // ...but fine when a marginal is relaxed.
    let c = with(|c| {
        c.b[0] += 1e-3;
        c.config.rho_b = 1.0;
    });
    let problem = Problem::point_clouds(&c.x, &c.y, 2, 1.0, &c.a, &c.b);
    let mut ws = vec![0.0; ot::workspace_len(3, 2, 2)];
    let (mut f, mut g) = (vec![0.0; 3], vec![0.0; 2]);
    assert!(ot::solve(&problem, &c.config, Init::Zero, &mut f, &mut g, &mut ws).is_ok());
}

#[test]
fn epsilon_and_parameters() {
    for eps in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        expect(
            &with(|c| c.config.epsilon = Epsilon::Absolute(eps)),
            Init::Zero,
            Error::InvalidEpsilon,
        );
        expect(
            &with(|c| c.config.epsilon = Epsilon::RelativeToMeanCost(eps)),
            Init::Zero,
            Error::InvalidEpsilon,
        );
    }
    // ε so small that max C / ε overflows.
    expect(
        &with(|c| c.config.epsilon = Epsilon::Absolute(1e-310)),
        Init::Zero,
        Error::InvalidEpsilon,
    );
    for tol in [-1e-3, f64::NAN, f64::INFINITY] {
        expect(
            &with(|c| c.config.tolerance = tol),
            Init::Zero,
            Error::InvalidParameter,
        );
    }
    for rho in [0.0, -1.0, f64::NAN] {
        expect(
            &with(|c| c.config.rho_a = rho),
            Init::Zero,
            Error::InvalidParameter,
        );
        expect(
            &with(|c| c.config.rho_b = rho),
            Init::Zero,
            Error::InvalidParameter,
        );
    }
    for q in [-0.5, 1.0, 2.0, f64::NAN] {
        expect(
            &with(|c| c.config.epsilon_scaling = q),
            Init::Zero,
            Error::InvalidParameter,
        );
    }
    for scale in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        expect(
            &with(|c| c.scale = scale),
            Init::Zero,
            Error::InvalidParameter,
        );
    }
    // A cost that overflows: s·‖x − y‖² up to 1e308 · 2.
    expect(
        &with(|c| c.scale = 1e308),
        Init::Zero,
        Error::InvalidParameter,
    );
    let big = with(|c| c.x[0] = 1e200);
    expect(&big, Init::Zero, Error::InvalidParameter);
}

#[test]
fn starting_potentials() {
    let c = good();
    let problem = Problem::point_clouds(&c.x, &c.y, 2, 1.0, &c.a, &c.b);
    let mut ws = vec![0.0; ot::workspace_len(3, 2, 2)];
    for init in [Init::Potentials, Init::Resume] {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut f = vec![0.0, bad, 0.0];
            let mut g = vec![0.0; 2];
            let (f0, g0) = (f.clone(), g.clone());
            assert_eq!(
                ot::solve(&problem, &c.config, init, &mut f, &mut g, &mut ws),
                Err(Error::NonFiniteInput)
            );
            assert_eq!(format!("{f:?}{g:?}"), format!("{f0:?}{g0:?}"));
        }
    }
    // −∞ (or anything) at a zero-weight point is fine: it is ignored.
    let a = [0.0, 0.5, 0.5];
    let problem = Problem::point_clouds(&c.x, &c.y, 2, 1.0, &a, &c.b);
    let (mut f, mut g) = (vec![f64::NAN, 0.0, 0.0], vec![0.0; 2]);
    assert!(ot::solve(
        &problem,
        &c.config,
        Init::Potentials,
        &mut f,
        &mut g,
        &mut ws
    )
    .is_ok());
    assert_eq!(f[0], f64::NEG_INFINITY);
}

#[test]
fn workspace_too_small() {
    let c = good();
    let problem = Problem::point_clouds(&c.x, &c.y, 2, 1.0, &c.a, &c.b);
    let need = ot::workspace_len(3, 2, 2);
    let mut ws = vec![0.0; need - 1];
    let (mut f, mut g) = (vec![CANARY; 3], vec![CANARY; 2]);
    assert_eq!(
        ot::solve(&problem, &c.config, Init::Zero, &mut f, &mut g, &mut ws),
        Err(Error::WorkspaceTooSmall)
    );
    assert!(f.iter().chain(&g).all(|&v| v == CANARY));
    let (ff, gg) = (vec![0.0; 3], vec![0.0; 2]);
    let plan = Plan::new(problem, 0.1, &ff, &gg);
    let mut out = vec![CANARY; 3];
    assert_eq!(
        plan.apply(&[1.0, 1.0], &mut out, &mut ws),
        Err(Error::WorkspaceTooSmall)
    );
    assert!(out.iter().all(|&v| v == CANARY));
}

#[test]
fn workspace_formula() {
    // (d + 2)(n̂ + m̂) + 2 max(n̂, m̂), n̂ = n rounded up to a multiple of 16.
    assert_eq!(ot::workspace_len(3, 2, 2), 4 * 32 + 2 * 16);
    assert_eq!(ot::workspace_len(17, 1, 3), 5 * (32 + 16) + 2 * 32);
    assert_eq!(ot::workspace_len(64, 64, 0), 2 * 128 + 2 * 64);
    assert_eq!(ot::workspace_len(usize::MAX, 1, 1), usize::MAX);
}

#[test]
fn dense_cost_matrix() {
    let (a, b) = ([0.5, 0.5], [0.25, 0.75]);
    let mut ws = vec![0.0; ot::workspace_len(2, 2, 0)];
    let cfg = Config::default();
    for (c, want) in [
        (vec![0.0, 1.0, 1.0], Error::LengthMismatch),
        (vec![0.0, 1.0, f64::NAN, 0.0], Error::NonFiniteInput),
        (vec![0.0, 1.0, f64::INFINITY, 0.0], Error::NonFiniteInput),
    ] {
        let problem = Problem::matrix(&c, &a, &b);
        let (mut f, mut g) = (vec![CANARY; 2], vec![CANARY; 2]);
        assert_eq!(
            ot::solve(&problem, &cfg, Init::Zero, &mut f, &mut g, &mut ws),
            Err(want)
        );
        assert!(f.iter().chain(&g).all(|&v| v == CANARY));
    }
}

#[test]
fn plan_operations() {
    let c = good();
    let problem = Problem::point_clouds(&c.x, &c.y, 2, 1.0, &c.a, &c.b);
    let mut ws = vec![0.0; ot::workspace_len(3, 2, 2)];
    let (f, g) = (vec![0.0; 3], vec![0.0; 2]);
    let plan = Plan::new(problem, 0.5, &f, &g);
    let check = |r: Result<(), Error>, out: &[f64], want: Error| {
        assert_eq!(r, Err(want));
        assert!(out.iter().all(|&v| v == CANARY));
    };
    let mut out3 = vec![CANARY; 3];
    let mut out2 = vec![CANARY; 2];
    check(
        plan.apply(&[1.0], &mut out3, &mut ws),
        &out3,
        Error::LengthMismatch,
    );
    check(
        plan.apply(&[1.0, 1.0], &mut out2, &mut ws),
        &out2,
        Error::LengthMismatch,
    );
    check(
        plan.apply(&[1.0, f64::NAN], &mut out3, &mut ws),
        &out3,
        Error::NonFiniteInput,
    );
    check(
        plan.apply_transpose(&[1.0, 1.0], &mut out2, &mut ws),
        &out2,
        Error::LengthMismatch,
    );
    let mut bary = vec![CANARY; 5];
    check(
        plan.barycentric(&mut bary, &mut ws),
        &bary,
        Error::LengthMismatch,
    );
    let mut dense = vec![CANARY; 5];
    check(
        plan.dense(&mut dense, &mut ws),
        &dense,
        Error::LengthMismatch,
    );
    for eps in [0.0, -1.0, f64::NAN] {
        let p = Plan::new(problem, eps, &f, &g);
        check(
            p.apply(&[1.0, 1.0], &mut out3, &mut ws),
            &out3,
            Error::InvalidEpsilon,
        );
        assert_eq!(p.transport_cost(&mut ws), Err(Error::InvalidEpsilon));
    }
    let fbad = vec![0.0, f64::NAN, 0.0];
    let p = Plan::new(problem, 0.5, &fbad, &g);
    check(
        p.apply(&[1.0, 1.0], &mut out3, &mut ws),
        &out3,
        Error::NonFiniteInput,
    );
    // Potentials so large that plan entries overflow: refused before writing.
    let fhuge = vec![1e6, 0.0, 0.0];
    let p = Plan::new(problem, 0.5, &fhuge, &g);
    let mut dense = vec![CANARY; 6];
    check(p.dense(&mut dense, &mut ws), &dense, Error::NonFinite);
    check(
        p.apply(&[1.0, 1.0], &mut out3, &mut ws),
        &out3,
        Error::NonFinite,
    );
    // Barycentric projection needs point clouds.
    let cm = [0.0; 6];
    let pm = Plan::new(Problem::matrix(&cm, &c.a, &c.b), 0.5, &f, &g);
    let mut bary = vec![CANARY; 6];
    check(
        pm.barycentric(&mut bary, &mut ws),
        &bary,
        Error::NeedsPointClouds,
    );
}
