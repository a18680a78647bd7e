//! The ring of 8 Gaussians (2-D) sampled through its exact score with every sampler
//! family: the sliced Wasserstein distance between 20 000 samples and 20 000 exact
//! draws of the target must stay below a threshold set from the Monte Carlo noise
//! floor measured here (the same distance between independent exact draws).

use otcore::sde::{self, grid, AdaptiveConfig, Churn, Config, Covariance, Method, Mixture, Process, Spacing};
use otcore_tests::sde::{mixture_draws, ring, sliced_w1_2d};
use otcore_tests::{cast, Rng};

const N: usize = 20_000;
const D: usize = 2;
const DIRS: usize = 32;

struct Ring {
    w: Vec<f32>,
    mu: Vec<f32>,
    var: Vec<f32>,
}

impl Ring {
    fn new() -> Self {
        let (w, mu, var) = ring();
        Self { w: cast(&w), mu: cast(&mu), var: cast(&var) }
    }
    fn model(&self, p: Process) -> Mixture<'_, f32> {
        Mixture::new(p, &self.w, &self.mu, Covariance::Isotropic(&self.var), D).unwrap()
    }
}

/// Exact draws from the marginal at time `t` (f64).
fn exact(p: Process, t: f64, seed: u64) -> Vec<f64> {
    let (w, mu, var) = ring();
    let c = p.coefs(t);
    let (a, s) = if t == 0.0 { (1.0, 0.0) } else { (c.a, c.s) };
    mixture_draws(&mut Rng::new(seed), N, &w, &mu, &var, D, a, s)
}

fn prior(p: Process) -> Vec<f32> {
    let mut x = vec![0.0f32; N * D];
    p.prior_sample(2024, 0, D, &mut x).unwrap();
    x
}

fn to64(x: &[f32]) -> Vec<f64> {
    x.iter().map(|v| f64::from(*v)).collect()
}

/// Noise floor: mean and max of the distance between pairs of independent exact
/// draw sets of size N.
fn floor(p: Process, t: f64) -> (f64, f64) {
    let d: Vec<f64> = (0..4).map(|i| sliced_w1_2d(&exact(p, t, 100 + 2 * i), &exact(p, t, 101 + 2 * i), DIRS)).collect();
    (d.iter().sum::<f64>() / 4.0, d.iter().copied().fold(0.0, f64::max))
}

fn run_fixed(p: Process, cfg: Config, g: &[f32]) -> (Vec<f64>, u64) {
    let ring = Ring::new();
    let mut model = ring.model(p);
    let mut x = prior(p);
    let mut ws = vec![0.0f32; sde::workspace_len(N, D)];
    let st = sde::sample(&p, &cfg, &mut model, g, &mut x, D, 7, 0, &mut ws).unwrap();
    (to64(&x), st.evaluations)
}

fn grid32(p: Process, spacing: Spacing, steps: usize, end: f64) -> Vec<f32> {
    let mut g = vec![0.0f32; steps + 1];
    grid::fill(&p, spacing, p.t_max(), end, &mut g).unwrap();
    g
}

#[test]
fn ring_samplers_match_the_exact_mixture() {
    let p = Process::VP;
    let eps = p.t_eps();
    let (fl_mean, fl_max) = floor(p, eps);
    println!("noise floor at t = eps: mean {fl_mean:.4}, max {fl_max:.4}");
    let target = exact(p, eps, 1);
    let target0 = exact(p, 0.0, 1);
    let mut results = Vec::new();

    let mut pc = Config::new(Method::ReverseDiffusion);
    pc.corrector_steps = 1;
    pc.denoise = true;
    let (x, e) = run_fixed(p, pc, &grid32(p, Spacing::UniformTime, 1000, eps));
    results.push(("PC (reverse diffusion + Langevin), 1000 steps", sliced_w1_2d(&x, &target, DIRS), e));

    let mut em = Config::new(Method::EulerMaruyama);
    em.denoise = true;
    let (x, e) = run_fixed(p, em, &grid32(p, Spacing::UniformTime, 1000, eps));
    results.push(("Euler-Maruyama, 1000 steps", sliced_w1_2d(&x, &target, DIRS), e));

    let (x, e) = run_fixed(p, Config::new(Method::DpmSolverPp2M), &grid32(p, Spacing::UniformLogSnr, 20, eps));
    results.push(("DPM-Solver++(2M), 20 steps", sliced_w1_2d(&x, &target, DIRS), e));

    // EDM: 18 Karras points from T to eps, then σ = 0: 17·2 + 1 = 35 evaluations.
    let mut g = grid32(p, Spacing::Karras { rho: 7.0 }, 17, eps);
    g.push(0.0);
    let (x, e) = run_fixed(p, Config::new(Method::Heun(Churn::NONE)), &g);
    results.push(("Heun (EDM), 18 steps to t = 0", sliced_w1_2d(&x, &target0, DIRS), e));

    for memory in [true, false] {
        let ring = Ring::new();
        let mut model = ring.model(p);
        let mut x = prior(p);
        let mut ws = vec![0.0f32; sde::workspace_len(N, D)];
        let mut cfg = AdaptiveConfig::new(&p);
        cfg.memory = memory;
        let st = sde::adaptive(&p, &cfg, &mut model, &mut x, D, 7, 0, &mut ws).unwrap();
        println!("adaptive memory={memory}: {st:?}");
        results.push((
            if memory { "adaptive, Brownian memory" } else { "adaptive, redraw (GG)" },
            sliced_w1_2d(&to64(&x), &target, DIRS),
            st.evaluations,
        ));
    }
    for (name, dist, evals) in &results {
        println!("{name}: {evals} evaluations, SW1 {dist:.4} ({:.1}× floor)", dist / fl_mean);
    }
}
