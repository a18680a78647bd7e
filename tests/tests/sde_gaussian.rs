//! Gaussian data, where the probability-flow ODE has an exact solution: per-sample
//! error of each ODE stepper and the observed order of convergence under step halving.
//!
//! Reference (sde-anchors §8.2, checked there against RK4): for `p_0 = N(m, vI)` the
//! PF-ODE flow is `x_t = a_t·m + √(V_t/V_T)·(x_T − a_T·m)`, `V_t = a_t²v + s_t²`.

use otcore::sde::{self, grid, Churn, Config, Covariance, Method, Mixture, Process, Spacing};
use otcore_tests::Rng;

const D: usize = 2;
const M: [f64; 2] = [0.7, -1.3];
const V: f64 = 0.25;

/// RMS over samples and coordinates of (sampled − exact) at the end of `grid`.
fn rms_error(process: Process, method: Method, grid: &[f64]) -> f64 {
    let n = 64;
    let mut rng = Rng::new(11);
    let x0: Vec<f64> = rng.normals(n * D, 0.0, process.prior_std());
    let (w, var) = ([1.0], [V]);
    let mut mix = Mixture::new(process, &w, &M, Covariance::Isotropic(&var), D).unwrap();
    let mut x = x0.clone();
    let mut ws = vec![0.0; sde::workspace_len(n, D)];
    sde::sample(
        &process,
        &Config::new(method),
        &mut mix,
        grid,
        &mut x,
        D,
        1,
        0,
        &mut ws,
    )
    .unwrap();
    let (t0, t1) = (grid[0], *grid.last().unwrap());
    let (c0, c1) = (process.coefs(t0), process.coefs(t1));
    let (v0, v1) = (c0.a * c0.a * V + c0.s * c0.s, c1.a * c1.a * V + c1.s * c1.s);
    let ratio = (v1 / v0).sqrt();
    let mut sq = 0.0;
    for (i, (xs, xt)) in x.iter().zip(&x0).enumerate() {
        let m = M[i % D];
        let exact = c1.a * m + ratio * (xt - c0.a * m);
        sq += (xs - exact) * (xs - exact);
    }
    (sq / x.len() as f64).sqrt()
}

fn grid_of(process: Process, spacing: Spacing, steps: usize) -> Vec<f64> {
    let mut g = vec![0.0; steps + 1];
    grid::fill(&process, spacing, process.t_max(), process.t_eps(), &mut g).unwrap();
    g
}

/// Errors at N, 2N, 4N steps and the two observed orders log2(e_N / e_2N).
fn orders(process: Process, method: Method, spacing: Spacing, n: usize) -> ([f64; 3], [f64; 2]) {
    let e = [n, 2 * n, 4 * n].map(|s| rms_error(process, method, &grid_of(process, spacing, s)));
    (e, [(e[0] / e[1]).log2(), (e[1] / e[2]).log2()])
}

fn check_order(
    name: &str,
    process: Process,
    method: Method,
    spacing: Spacing,
    n: usize,
    want: f64,
) {
    let (e, p) = orders(process, method, spacing, n);
    println!("{name}: errors {e:?}, observed orders {p:.3?}");
    // The asymptotic order is `want`; at these step counts the observed slope is within
    // 0.25 of it (higher-order terms of the local error are still visible at the coarse
    // end, and a step-halving ratio is a ratio of two f64 errors ≥ 1e-9, far above
    // rounding).
    for o in p {
        assert!((o - want).abs() < 0.25, "{name}: order {o} vs {want}");
    }
    assert!(e[2] < e[0]);
}

#[test]
fn euler_is_first_order() {
    check_order(
        "euler VP",
        Process::VP,
        Method::ProbabilityFlowEuler,
        Spacing::UniformTime,
        200,
        1.0,
    );
    check_order(
        "euler VE",
        Process::VE,
        Method::ProbabilityFlowEuler,
        Spacing::UniformLogSnr,
        200,
        1.0,
    );
}

#[test]
fn ddim_is_first_order() {
    check_order(
        "ddim VP",
        Process::VP,
        Method::Ddim,
        Spacing::UniformLogSnr,
        100,
        1.0,
    );
}

#[test]
fn heun_is_second_order() {
    let heun = Method::Heun(Churn::NONE);
    check_order(
        "heun VP",
        Process::VP,
        heun,
        Spacing::Karras { rho: 7.0 },
        40,
        2.0,
    );
    check_order(
        "heun EDM",
        Process::EDM,
        heun,
        Spacing::Karras { rho: 7.0 },
        40,
        2.0,
    );
}

#[test]
fn dpm_solver_pp_2m_is_second_order() {
    check_order(
        "2M VP",
        Process::VP,
        Method::DpmSolverPp2M,
        Spacing::UniformLogSnr,
        40,
        2.0,
    );
    check_order(
        "2M sub-VP",
        Process::SUB_VP,
        Method::DpmSolverPp2M,
        Spacing::UniformLogSnr,
        40,
        2.0,
    );
    check_order(
        "2M cosine",
        Process::VP_COSINE,
        Method::DpmSolverPp2M,
        Spacing::UniformLogSnr,
        40,
        2.0,
    );
}
