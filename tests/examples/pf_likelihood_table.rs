//! The bias and spread of the log-likelihood estimate ℓ̂/T with OT resampling, on
//! filterflow's linear-Gaussian protocol (`scripts/simple_linear_comparison.py`, see
//! `dpf-anchors.md` §6.1):
//!
//! x_{t+1} = θ·I₂·x_t + N(0, I₂), y_t = x_t + N(0, 0.1·I₂), x_0 ~ N(0, I₂), T = 150;
//! data simulated once with θ = 0.5; the filter is run at θ ∈ {0.25, 0.5, 0.75}, 100
//! runs each, N ∈ {25, 50, 100}, ε ∈ {0.25, 0.5, 0.75} (OT scaling 0.9, tolerance
//! 1e-3 as filterflow's table script), resampling when ESS < N/2; systematic
//! resampling as the unbiased baseline; the exact ℓ/T from a Kalman filter. The
//! filter predicts before weighting y_0, as filterflow does; the Kalman filter uses
//! the same convention.
//!
//! Run: `cargo run --release -p otcore-tests --example pf_likelihood_table`
//! (about 15 minutes on one core of this machine: 3600 filter runs of 150 steps in
//! f64 at the x86-64 baseline, most steps resampling because observation noise 0.1
//! against transition noise 1 keeps the ESS small). Prints a Markdown table.

use otcore::pf::{
    filter_workspace_len, step, uniform_log_weights, FilterConfig, OtConfig, RandomSource,
    Resampler, Scheme, SplitMix64, Totals, Trigger,
};

const T: usize = 150;
const OBS_VAR: f64 = 0.1;
const RUNS: u64 = 100;

fn simulate(theta: f64, seed: u64) -> Vec<[f64; 2]> {
    let mut r = SplitMix64::new(seed);
    let mut x = [r.normal::<f64>(), r.normal::<f64>()];
    (0..T)
        .map(|_| {
            x = [
                theta * x[0] + r.normal::<f64>(),
                theta * x[1] + r.normal::<f64>(),
            ];
            let s = OBS_VAR.sqrt();
            [x[0] + s * r.normal::<f64>(), x[1] + s * r.normal::<f64>()]
        })
        .collect()
}

/// Exact log-likelihood: the two coordinates are independent scalar Kalman filters.
fn kalman(theta: f64, ys: &[[f64; 2]]) -> f64 {
    let mut ll = 0.0;
    for c in 0..2 {
        let (mut m, mut p) = (0.0, 1.0);
        for y in ys {
            let (mp, pp) = (theta * m, theta * theta * p + 1.0);
            let s = pp + OBS_VAR;
            let e = y[c] - mp;
            ll += -0.5 * (e * e / s + (2.0 * std::f64::consts::PI * s).ln());
            m = mp + pp / s * e;
            p = pp - pp * pp / s;
        }
    }
    ll
}

fn filter(theta: f64, ys: &[[f64; 2]], n: usize, resampler: Resampler<f64>, seed: u64) -> f64 {
    let d = 2;
    let cfg = FilterConfig {
        resampler,
        trigger: Trigger::Ess(0.5),
    };
    let mut rng = SplitMix64::new(seed);
    let mut x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
    let mut logw = vec![0.0; n];
    uniform_log_weights(&mut logw);
    let optimal = matches!(resampler, Resampler::Optimal(_));
    let mut ws = vec![0.0; filter_workspace_len(n, d, optimal)];
    let mut totals = Totals::default();
    let (mut mean, mut cov) = ([0.0; 2], [0.0; 4]);
    for y in ys {
        let predict = |p: &[f64], q: &mut [f64], r: &mut SplitMix64| {
            for (a, b) in p.iter().zip(q.iter_mut()) {
                *b = theta * a + r.normal::<f64>();
            }
            Ok(())
        };
        let lik = |xs: &[f64], l: &mut [f64]| {
            for (p, li) in xs.chunks_exact(2).zip(l.iter_mut()) {
                let e2 = (y[0] - p[0]).powi(2) + (y[1] - p[1]).powi(2);
                *li = -0.5 * e2 / OBS_VAR - (2.0 * std::f64::consts::PI * OBS_VAR).ln();
            }
            Ok(())
        };
        step(
            &mut x,
            &mut logw,
            d,
            &cfg,
            &mut totals,
            &mut rng,
            predict,
            lik,
            &mut mean,
            &mut cov,
            &mut ws,
        )
        .expect("filter step");
    }
    totals.log_likelihood
}

fn stats(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    (m, var.sqrt())
}

fn main() {
    let ys = simulate(0.5, 111);
    let thetas = [0.25, 0.5, 0.75];
    println!("| N | resampling | θ = 0.25: mean ± std of ℓ̂/T | θ = 0.5 | θ = 0.75 |");
    println!("|---|---|---|---|---|");
    let kf: Vec<f64> = thetas.iter().map(|&t| kalman(t, &ys) / T as f64).collect();
    println!(
        "| – | Kalman (exact ℓ/T) | {:.4} | {:.4} | {:.4} |",
        kf[0], kf[1], kf[2]
    );
    for n in [25, 50, 100] {
        let mut rows: Vec<(String, Resampler<f64>)> = vec![(
            "systematic".into(),
            Resampler::Classical(Scheme::Systematic),
        )];
        for eps in [0.25, 0.5, 0.75] {
            let mut c = OtConfig::new(eps);
            c.scaling = 0.9;
            rows.push((format!("OT ε = {eps}"), Resampler::Optimal(c)));
        }
        for (name, res) in rows {
            let cells: Vec<String> = thetas
                .iter()
                .zip(&kf)
                .map(|(&theta, &k)| {
                    let v: Vec<f64> = (0..RUNS)
                        .map(|s| filter(theta, &ys, n, res, 555 + s) / T as f64)
                        .collect();
                    let (m, sd) = stats(&v);
                    format!("{m:.4} ± {sd:.4} (bias {:+.4})", m - k)
                })
                .collect();
            println!(
                "| {n} | {name} | {} | {} | {} |",
                cells[0], cells[1], cells[2]
            );
        }
    }
}
