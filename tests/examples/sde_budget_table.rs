//! The few-evaluation table of docs/sde.md: the ring of 8 Gaussians (radius 2, std 0.1)
//! sampled in f32 by every sampler at 5, 10, 20, 35 and 50 model evaluations (the best
//! score-based ones also on EDM's and an Align-Your-Steps-shaped grid) — the
//! score-based samplers through the exact VP score, the flow samplers through the exact
//! flow-matching velocity of the same data — as sliced W1 (32 directions) between
//! 10 000 samples and 10 000 exact draws of the target (p_eps for samplers that stop
//! at t_eps, the data for those that run to t = 0), divided by the Monte Carlo floor
//! (the mean distance between independent exact draw sets). One such distance scatters
//! by ±20 % (the component counts are multinomial), so each cell averages 4 runs
//! (4 prior seeds, noise seeds alike) against 4 target sets, and the floor averages
//! 8 independent pairs.
//!
//! `cargo run --release -p otcore-tests --example sde_budget_table`

use otcore::sde::flow::{self, FlowMethod, FlowSpacing};
use otcore::sde::{
    self, grid, Churn, Config, Covariance, Method, Mixture, Process, Restart, Spacing,
};
use otcore_tests::sde::{mixture_draws, ring, sliced_w1_2d, FlowMixture};
use otcore_tests::{cast, Rng};

const N: usize = 10_000;
const D: usize = 2;
const BUDGETS: [u64; 5] = [5, 10, 20, 35, 50];

/// One sampler run on a prior copy with a noise seed: (distance in floors, evaluations).
type Run<'a> = dyn FnMut(&mut [f32], u64) -> (f64, u64) + 'a;

fn exact(a: f64, s: f64, seed: u64) -> Vec<f64> {
    let (w, mu, var) = ring();
    mixture_draws(&mut Rng::new(seed), N, &w, &mu, &var, D, a, s)
}

fn main() {
    let p = Process::VP;
    let eps = p.t_eps();
    let (w, mu, var) = ring();
    let (wf, muf, varf): (Vec<f32>, Vec<f32>, Vec<f32>) = (cast(&w), cast(&mu), cast(&var));
    let c = p.coefs(eps);
    let targets = |a: f64, s: f64| (1..=4).map(|k| exact(a, s, k)).collect::<Vec<_>>();
    let (target_eps, target_0) = (targets(c.a, c.s), targets(1.0, 0.0));
    let pairs: Vec<f64> = (0..8)
        .map(|i| {
            sliced_w1_2d(
                &exact(c.a, c.s, 10 + 2 * i),
                &exact(c.a, c.s, 11 + 2 * i),
                32,
            )
        })
        .collect();
    let floor = pairs.iter().sum::<f64>() / 8.0;
    let sd = (pairs.iter().map(|v| (v - floor).powi(2)).sum::<f64>() / 7.0).sqrt();
    let priors: Vec<Vec<f32>> = (0..4)
        .map(|k| {
            let mut x0 = vec![0.0f32; N * D];
            p.prior_sample(2024 + k, 0, D, &mut x0).unwrap();
            x0
        })
        .collect();
    let mut ws = vec![0.0f32; sde::workspace_len(N, D)];
    println!(
        "Monte Carlo floor (N = {N}): {floor:.4} (8 pairs, sd {sd:.4}, standard error {:.4})\n",
        sd / 8f64.sqrt()
    );
    print!("| sampler | kind | grid |");
    BUDGETS.iter().for_each(|b| print!(" {b} |"));
    println!("\n|---|---|---|{}", "---|".repeat(BUDGETS.len()));
    // Mean distance of one run to the 4 target sets, in floors.
    let ratio = |x: &[f32], to_zero: bool| {
        let x: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
        let ts = if to_zero { &target_0 } else { &target_eps };
        ts.iter().map(|t| sliced_w1_2d(&x, t, 32)).sum::<f64>() / 4.0 / floor
    };
    // Mean over the 4 priors (noise seed k too) of `run(x0, seed)` → (ratio, evals).
    let mean4 = |run: &mut Run<'_>| {
        let mut total = (0.0, 0);
        for (k, x0) in (0_u64..).zip(&priors) {
            let mut x = x0.clone();
            let (r, e) = run(&mut x, 7 + k);
            total = (total.0 + r / 4.0, e);
        }
        total
    };
    let cell = |r: f64, evals: u64, budget: u64| {
        if evals == budget {
            format!(" {r:.2} |")
        } else {
            format!(" {r:.2} ({evals}) |")
        }
    };
    // Score-based samplers: (name, kind, grid name, config, spacing, evals per step).
    // Euler–Maruyama keeps the noise of its last step: score_sde's noise removal
    // collapses the narrow components at these budgets (docs/sde.md).
    let em = Config::new(Method::EulerMaruyama);
    let mut anc = Config::new(Method::Ancestral);
    anc.denoise = true;
    let score_rows = [
        (
            "Euler–Maruyama",
            "SDE",
            "uniform t",
            em,
            Spacing::UniformTime,
        ),
        ("ancestral", "SDE", "log-SNR", anc, Spacing::UniformLogSnr),
        (
            "ER-SDE-1",
            "SDE",
            "log-SNR",
            Config::new(Method::ErSde1),
            Spacing::UniformLogSnr,
        ),
        (
            "PF-ODE Euler",
            "ODE",
            "log-SNR",
            Config::new(Method::ProbabilityFlowEuler),
            Spacing::UniformLogSnr,
        ),
        (
            "DDIM",
            "ODE",
            "log-SNR",
            Config::new(Method::Ddim),
            Spacing::UniformLogSnr,
        ),
        (
            "DPM-Solver++(2M)",
            "ODE",
            "log-SNR",
            Config::new(Method::DpmSolverPp2M),
            Spacing::UniformLogSnr,
        ),
        (
            "DPM-Solver++(3M)",
            "ODE",
            "log-SNR",
            Config::new(Method::DpmSolverPp3M),
            Spacing::UniformLogSnr,
        ),
        (
            "UniPC (bh2)",
            "ODE",
            "log-SNR",
            Config::new(Method::UniPc),
            Spacing::UniformLogSnr,
        ),
    ];
    for (name, kind, gname, cfg, spacing) in score_rows {
        print!("| {name} | {kind} | {gname} |");
        for b in BUDGETS {
            let mut g = vec![0.0f32; b as usize + 1];
            grid::fill(&p, spacing, 1.0, eps, &mut g).unwrap();
            let (r, e) = mean4(&mut |x, seed| {
                let mut m = Mixture::new(p, &wf, &muf, Covariance::Isotropic(&varf), D).unwrap();
                let st = sde::sample(&p, &cfg, &mut m, &g, x, D, seed, 0, &mut ws).unwrap();
                (ratio(x, false), st.evaluations)
            });
            print!("{}", cell(r, e, b));
        }
        println!();
    }
    // The few-step spacings of image models on this data: EDM's (Karras ρ = 7, to t_eps)
    // and the shape of Align Your Steps' published 10-step SD 1.5 schedule (Sabour et
    // al. 2024: σ from 14.6 to 0.029), mapped affinely in log σ̃ onto this process's
    // range and log-linearly interpolated to other step counts (the paper's rule).
    let (sig_hi, sig_lo) = (p.coefs(1.0).sigma(), c.sigma());
    let ays = |steps: usize| -> Vec<f32> {
        const SD15: [f64; 11] = [
            14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029,
        ];
        let (l0, l1) = (SD15[0].ln(), SD15[10].ln());
        (0..=steps)
            .map(|i| {
                let u = 10.0 * i as f64 / steps as f64;
                let (k, f) = ((u as usize).min(9), u - (u as usize).min(9) as f64);
                let l = SD15[k].ln() * (1.0 - f) + SD15[k + 1].ln() * f;
                let frac = (l - l0) / (l1 - l0); // 0 at the start, 1 at the end
                let sigma = (sig_hi.ln() * (1.0 - frac) + sig_lo.ln() * frac).exp();
                let t = match i {
                    0 => 1.0,
                    _ if i == steps => eps,
                    _ => p.time_of_sigma(sigma),
                };
                t as f32
            })
            .collect()
    };
    let spacing_rows: [(&str, &str, Config); 2] = [
        ("ancestral", "SDE", anc),
        (
            "DPM-Solver++(2M)",
            "ODE",
            Config::new(Method::DpmSolverPp2M),
        ),
    ];
    for (name, kind, cfg) in spacing_rows {
        for gname in ["Karras ρ = 7", "AYS SD 1.5 shape"] {
            print!("| {name} | {kind} | {gname} |");
            for b in BUDGETS {
                let g = if gname == "AYS SD 1.5 shape" {
                    ays(b as usize)
                } else {
                    let mut g = vec![0.0f32; b as usize + 1];
                    grid::fill(&p, Spacing::Karras { rho: 7.0 }, 1.0, eps, &mut g).unwrap();
                    g
                };
                let (r, e) = mean4(&mut |x, seed| {
                    let mut m =
                        Mixture::new(p, &wf, &muf, Covariance::Isotropic(&varf), D).unwrap();
                    let st = sde::sample(&p, &cfg, &mut m, &g, x, D, seed, 0, &mut ws).unwrap();
                    (ratio(x, false), st.evaluations)
                });
                print!("{}", cell(r, e, b));
            }
            println!();
        }
    }
    // EDM Heun on the Karras grid to t = 0: 2 evaluations per step, 1 on the last.
    print!("| Heun (EDM) | ODE | Karras ρ = 7 to 0 |");
    for b in BUDGETS {
        let steps = (b as usize).div_ceil(2);
        let mut g = vec![0.0f32; steps + 1];
        grid::fill(&p, Spacing::Karras { rho: 7.0 }, 1.0, 0.0, &mut g).unwrap();
        let cfg = Config::new(Method::Heun(Churn::NONE));
        let (r, e) = mean4(&mut |x, seed| {
            let mut m = Mixture::new(p, &wf, &muf, Covariance::Isotropic(&varf), D).unwrap();
            let st = sde::sample(&p, &cfg, &mut m, &g, x, D, seed, 0, &mut ws).unwrap();
            (ratio(x, true), st.evaluations)
        });
        print!("{}", cell(r, e, b));
    }
    println!();
    // Restart sampling: Heun on a Karras grid to 0 plus one round trip σ̃ 0.3 → 2 → 0.3
    // of 2 Heun steps (4 evaluations): 2P − 1 + 4 evaluations with P grid steps.
    print!("| Heun + restart (1 × 2 steps, σ̃ 0.3–2) | SDE | Karras ρ = 7 to 0 |");
    for b in BUDGETS {
        let steps = (b as usize).saturating_sub(3) / 2;
        if steps < 3 {
            print!(" – |");
            continue;
        }
        let mut g = vec![0.0f32; steps + 1];
        grid::fill(&p, Spacing::Karras { rho: 7.0 }, 1.0, 0.0, &mut g).unwrap();
        let r = Restart {
            t_min: p.time_of_sigma(0.3),
            t_max: p.time_of_sigma(2.0),
            repeats: 1,
            steps: 2,
        };
        let (ratio_r, e) = mean4(&mut |x, seed| {
            let mut m = Mixture::new(p, &wf, &muf, Covariance::Isotropic(&varf), D).unwrap();
            let st = sde::restart(&p, &r, &mut m, &g, x, D, seed, 0, &mut ws).unwrap();
            (ratio(x, true), st.evaluations)
        });
        print!("{}", cell(ratio_r, e, b));
    }
    println!();
    // Flow samplers on the linear interpolant, from N(0, I) at t = 1 to the data.
    let flow_rows = [
        ("flow Euler", "ODE", FlowMethod::Euler, 1),
        ("flow midpoint", "ODE", FlowMethod::Midpoint, 2),
        ("flow Heun", "ODE", FlowMethod::Heun, 2),
        ("flow SDE η = 0.5", "SDE", FlowMethod::Sde { eta: 0.5 }, 1),
        ("flow SDE η = 1", "SDE", FlowMethod::Sde { eta: 1.0 }, 1),
        ("flow SDE η = 3", "SDE", FlowMethod::Sde { eta: 3.0 }, 1),
    ];
    for (spacing, gname) in [
        (FlowSpacing::Uniform, "uniform"),
        (FlowSpacing::Shifted { shift: 3.0 }, "shift 3"),
        (FlowSpacing::Shifted { shift: 0.3 }, "shift 0.3"),
    ] {
        for (name, kind, method, per_step) in flow_rows {
            print!("| {name} | {kind} | {gname} |");
            for b in BUDGETS {
                // Heun's last step costs 1: steps = (b + 1)/2.
                let steps = if method == FlowMethod::Heun {
                    (b as usize).div_ceil(2)
                } else {
                    b as usize / per_step
                };
                let mut g = vec![0.0f32; steps + 1];
                flow::grid(spacing, 1.0, 0.0, &mut g).unwrap();
                let (r, e) = mean4(&mut |x, seed| {
                    let mut m = FlowMixture {
                        w: w.clone(),
                        mu: mu.clone(),
                        var: var.clone(),
                        d: D,
                        denoised: false,
                    };
                    let st = flow::sample(method, &mut m, &g, x, D, seed, 0, &mut ws).unwrap();
                    (ratio(x, true), st.evaluations)
                });
                print!("{}", cell(r, e, b));
            }
            println!();
        }
    }
}
