//! The evaluations-versus-error table of docs/sde.md: the ring of 8 Gaussians (radius 2,
//! std 0.1) under VP, sampled through its exact score in f32 with every sampler at
//! several budgets; sliced W1 (32 directions) between 10 000 samples and 10 000 exact
//! draws of the target (p_eps, or p_0 for samplers that end at t = 0), next to the
//! Monte Carlo floor (independent exact draws).
//!
//! `cargo run --release -p otcore-tests --example sde_error_table`

use otcore::sde::{
    self, grid, AdaptiveConfig, Churn, Config, Corrector, Covariance, Method, Mixture, Process,
    Spacing,
};
use otcore_tests::sde::{mixture_draws, ring, sliced_w1_2d};
use otcore_tests::{cast, Rng};

const N: usize = 10_000;
const D: usize = 2;

fn exact(p: Process, t: f64, seed: u64) -> Vec<f64> {
    let (w, mu, var) = ring();
    let c = p.coefs(t);
    mixture_draws(&mut Rng::new(seed), N, &w, &mu, &var, D, c.a, c.s)
}

fn main() {
    let p = Process::VP;
    let eps = p.t_eps();
    let (w, mu, var) = ring();
    let (w, mu, var): (Vec<f32>, Vec<f32>, Vec<f32>) = (cast(&w), cast(&mu), cast(&var));
    let model = || Mixture::new(p, &w, &mu, Covariance::Isotropic(&var), D).unwrap();
    let mut x0 = vec![0.0f32; N * D];
    p.prior_sample(2024, 0, D, &mut x0).unwrap();
    let (target_eps, target_0) = (exact(p, eps, 1), exact(p, 0.0, 1));
    let floor = sliced_w1_2d(&exact(p, eps, 2), &exact(p, eps, 3), 32);
    println!("Monte Carlo floor (N = {N}): {floor:.4}\n");
    println!("| sampler | grid | evaluations | sliced W1 | × floor |");
    println!("|---|---|---|---|---|");
    let mut ws = vec![0.0f32; sde::workspace_len(N, D)];
    let run = |cfg: Config, g: &[f32], ws: &mut [f32]| {
        let mut x = x0.clone();
        let st = sde::sample(&p, &cfg, &mut model(), g, &mut x, D, 7, 0, ws).unwrap();
        (
            x.iter().map(|v| f64::from(*v)).collect::<Vec<f64>>(),
            st.evaluations,
        )
    };
    let fill = |spacing: Spacing, steps: usize| {
        let mut g = vec![0.0f32; steps + 1];
        grid::fill(&p, spacing, 1.0, eps, &mut g).unwrap();
        g
    };
    let row = |name: &str, gname: &str, x: &[f64], evals: u64, to_zero: bool| {
        let d = sliced_w1_2d(x, if to_zero { &target_0 } else { &target_eps }, 32);
        println!("| {name} | {gname} | {evals} | {d:.4} | {:.1} |", d / floor);
    };
    let mut em = Config::new(Method::EulerMaruyama);
    em.denoise = true;
    for steps in [50, 100, 200, 500, 1000] {
        let (x, e) = run(em, &fill(Spacing::UniformTime, steps), &mut ws);
        row("Euler–Maruyama", "uniform t", &x, e, false);
    }
    let mut pc = Config::new(Method::ReverseDiffusion);
    pc.corrector_steps = 1;
    pc.corrector = Corrector::Annealed;
    pc.denoise = true;
    for steps in [50, 100, 250, 500] {
        let (x, e) = run(pc, &fill(Spacing::UniformTime, steps), &mut ws);
        row(
            "PC: reverse diffusion + annealed Langevin (snr 0.16)",
            "uniform t",
            &x,
            e,
            false,
        );
    }
    let mut pcl = pc;
    pcl.corrector = Corrector::Langevin;
    let (x, e) = run(pcl, &fill(Spacing::UniformTime, 500), &mut ws);
    row(
        "PC: reverse diffusion + per-sample Langevin (snr 0.16)",
        "uniform t",
        &x,
        e,
        false,
    );
    let mut anc = Config::new(Method::Ancestral);
    anc.denoise = true;
    for steps in [20, 50, 100, 250] {
        let (x, e) = run(anc, &fill(Spacing::UniformLogSnr, steps), &mut ws);
        row("ancestral", "log-SNR", &x, e, false);
    }
    for steps in [10, 20, 50, 100] {
        let (x, e) = run(
            Config::new(Method::ProbabilityFlowEuler),
            &fill(Spacing::UniformLogSnr, steps),
            &mut ws,
        );
        row("PF-ODE Euler", "log-SNR", &x, e, false);
    }
    for steps in [5, 10, 20, 50] {
        let (x, e) = run(
            Config::new(Method::Ddim),
            &fill(Spacing::UniformLogSnr, steps),
            &mut ws,
        );
        row("DDIM (DPM-Solver-1)", "log-SNR", &x, e, false);
    }
    for steps in [5, 10, 20, 50] {
        let (x, e) = run(
            Config::new(Method::DpmSolverPp2M),
            &fill(Spacing::UniformLogSnr, steps),
            &mut ws,
        );
        row("DPM-Solver++(2M)", "log-SNR", &x, e, false);
    }
    for points in [6, 10, 18, 38] {
        let mut g = fill(Spacing::Karras { rho: 7.0 }, points - 1);
        g.push(0.0);
        let (x, e) = run(Config::new(Method::Heun(Churn::NONE)), &g, &mut ws);
        row("Heun (EDM), last step to t = 0", "Karras ρ=7", &x, e, true);
    }
    for eps_rel in [0.2, 0.1, 0.05, 0.02] {
        for memory in [true, false] {
            let mut cfg = AdaptiveConfig::new(&p);
            cfg.eps_rel = eps_rel;
            cfg.memory = memory;
            let mut x = x0.clone();
            let st = sde::adaptive(&p, &cfg, &mut model(), &mut x, D, 7, 0, &mut ws).unwrap();
            let x: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
            let name = format!(
                "adaptive ε_rel {eps_rel}, {} (rejected {:.0}%)",
                if memory {
                    "Brownian memory"
                } else {
                    "redraw (GG)"
                },
                100.0 * st.rejected as f64 / (st.accepted + st.rejected) as f64
            );
            row(&name, "adaptive", &x, st.evaluations, false);
        }
    }
}
