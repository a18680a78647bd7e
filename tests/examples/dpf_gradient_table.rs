//! Bias and spread of the forward-mode gradient estimators of the particle filter
//! against the exact Kalman gradient (the table in `docs/differentiable_filter.md`).
//!
//! Model (`otcore_tests::dpf`): x_t = a·x_{t−1} + s·ξ_t, y_t = x_t + c + 0.6·η_t,
//! x_0 ~ N(0, 1), θ = (a, s, c) = (0.8, 0.7, 0.3), T = 20 observations simulated once.
//! For each N and trigger, 1000 filter seeds with systematic resampling; per
//! estimator and parameter, the mean of (estimate − Kalman ∇ℓ) and its standard error:
//! - detach: ∇ℓ̂ with the log-weight tangents reset at each resampling;
//! - stop-gradient: ∇ℓ̂ with Ścibior & Wood's correction (a ratio estimator: biased
//!   O(1/N) for ∇ℓ);
//! - p̂-weighted stop-gradient: (p̂/p)·∇ℓ̂, unbiased for ∇ℓ because p̂·∇ℓ̂ is unbiased
//!   for ∇p (p the exact likelihood);
//! - Fisher score (states stopped, ∇_θ log f + ∇_θ log g along ancestral paths), plain
//!   and p̂-weighted.
//!
//! Run: `cargo run --release -p otcore-tests --example dpf_gradient_table` (a few
//! seconds). Prints a Markdown table.

use otcore::pf::{DiffConfig, Gradient, Scheme, Trigger};
use otcore_tests::dpf::{kalman, mean_se, run, simulate};

const THETA: [f64; 3] = [0.8, 0.7, 0.3];
const T: usize = 20;
const SEEDS: u64 = 1000;

fn main() {
    let ys = simulate(&THETA, T, 1);
    let (ll, g) = kalman(&THETA, &ys);
    println!(
        "Kalman ℓ = {ll:.4}, ∇ℓ = ({:.4}, {:.4}, {:.4}) for θ = (a, s, c)\n",
        g[0], g[1], g[2]
    );
    println!("| trigger | N | estimator | bias a | bias s | bias c |");
    println!("|---|---|---|---|---|---|");
    for (tname, trigger) in [
        ("always", Trigger::Always),
        ("ESS < N/2", Trigger::Ess(0.5)),
    ] {
        for n in [25, 50, 100, 200] {
            let mut est = vec![vec![vec![]; 3]; 5];
            for seed in 0..SEEDS {
                let cfg = |gradient| DiffConfig {
                    scheme: Scheme::Systematic,
                    trigger,
                    gradient,
                    ot: None,
                };
                let d = run(&THETA, &ys, n, &cfg(Gradient::Detach), seed);
                let s = run(&THETA, &ys, n, &cfg(Gradient::StopGradient), seed);
                let f = run(&THETA, &ys, n, &cfg(Gradient::Score), seed);
                let w = (s.loglik[T - 1] - ll).exp();
                for j in 0..3 {
                    est[0][j].push(d.dloglik[T - 1][j] - g[j]);
                    est[1][j].push(s.dloglik[T - 1][j] - g[j]);
                    est[2][j].push(w * s.dloglik[T - 1][j] - g[j]);
                    est[3][j].push(f.dloglik[T - 1][j] - g[j]);
                    est[4][j].push(w * f.dloglik[T - 1][j] - g[j]);
                }
            }
            let names = [
                "detach",
                "stop-gradient",
                "p̂-weighted stop-gradient",
                "Fisher score",
                "p̂-weighted Fisher score",
            ];
            for (name, e) in names.iter().zip(&est) {
                let cells: Vec<String> = e
                    .iter()
                    .map(|v| {
                        let (m, se) = mean_se(v);
                        format!("{m:+.3} ± {se:.3}")
                    })
                    .collect();
                println!("| {tname} | {n} | {name} | {} |", cells.join(" | "));
            }
        }
    }
    // OT resampling (forward mode through the map's JVP), resampling every step: the
    // bias of the differentiable map's gradient as a function of ε and N.
    println!("\n| OT ε | N | bias a | bias s | bias c |");
    println!("|---|---|---|---|---|");
    for eps in [0.1, 0.5, 1.0] {
        for n in [25, 50, 100] {
            let mut ot = otcore::pf::OtConfig::new(eps);
            ot.tolerance = 1e-6;
            ot.max_iterations = 2000;
            let cg = otcore::ot::Cg {
                tolerance: 1e-8,
                max_iterations: 500,
            };
            let cfg = DiffConfig {
                scheme: Scheme::Systematic,
                trigger: Trigger::Always,
                gradient: Gradient::Detach,
                ot: Some((ot, cg)),
            };
            let mut e = vec![vec![]; 3];
            for seed in 0..SEEDS {
                let r = run(&THETA, &ys, n, &cfg, seed);
                for (j, v) in e.iter_mut().enumerate() {
                    v.push(r.dloglik[T - 1][j] - g[j]);
                }
            }
            let cells: Vec<String> = e
                .iter()
                .map(|v| {
                    let (m, se) = mean_se(v);
                    format!("{m:+.3} ± {se:.3}")
                })
                .collect();
            println!("| {eps} | {n} | {} |", cells.join(" | "));
        }
    }
}
