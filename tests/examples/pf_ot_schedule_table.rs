//! Iterations, kernel passes and filter accuracy of OT resampling under filterflow's
//! schedule, the marginal-error stop (cold) and the marginal-error stop warm-started
//! from the previous resampling (`ot_resample_warm`).
//!
//! Model (filterflow's linear-Gaussian protocol, `dpf-anchors.md` §6.1, in d = 2 and
//! d = 4): x_{t+1} = 0.5·x_t + N(0, I), y_t = x_t + N(0, 0.1·I), x_0 ~ N(0, I),
//! T = 100 steps, a bootstrap filter that resamples every step (OT resampling is what
//! is measured), 20 runs per row on one simulated data set. Accuracy against the
//! exact Kalman filter: the RMS error of the filter mean (over steps, coordinates and
//! runs) and the mean |ℓ̂ − ℓ|/T of the log-likelihood. The systematic row is the
//! classical baseline at the same N. Passes are kernel passes of N² entries per
//! resampling, the transport's included (the cost measure: the iteration count of the
//! two schedules counts one and two passes per iteration).
//!
//! Run: `cargo run --release -p otcore-tests --example pf_ot_schedule_table`
//! (a few minutes on one core of this machine; 7 minutes of wall time while it was shared). Prints a Markdown table.

use otcore::pf::{
    ot_resample_warm, ot_warm_len, ot_workspace_len, resample_particles, OtConfig, OtSchedule,
    RandomSource, Scheme, SplitMix64,
};

const STEPS: usize = 100;
const THETA: f64 = 0.5;
const OBS_VAR: f64 = 0.1;
const RUNS: u64 = 20;

fn simulate(d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut r = SplitMix64::new(seed);
    let mut x: Vec<f64> = (0..d).map(|_| r.normal::<f64>()).collect();
    (0..STEPS)
        .map(|_| {
            for v in &mut x {
                *v = THETA * *v + r.normal::<f64>();
            }
            x.iter()
                .map(|v| v + OBS_VAR.sqrt() * r.normal::<f64>())
                .collect()
        })
        .collect()
}

/// Exact filtering means and log-likelihood (independent scalar Kalman filters; the
/// filter predicts before weighting y_0, as the particle filter below).
fn kalman(ys: &[Vec<f64>], d: usize) -> (Vec<Vec<f64>>, f64) {
    let mut ll = 0.0;
    let mut means = vec![vec![0.0; d]; ys.len()];
    for c in 0..d {
        let (mut m, mut p) = (0.0, 1.0);
        for (t, y) in ys.iter().enumerate() {
            let (mp, pp) = (THETA * m, THETA * THETA * p + 1.0);
            let s = pp + OBS_VAR;
            let e = y[c] - mp;
            ll += -0.5 * (e * e / s + (2.0 * std::f64::consts::PI * s).ln());
            m = mp + pp / s * e;
            p = pp - pp * pp / s;
            means[t][c] = m;
        }
    }
    (means, ll)
}

#[derive(Clone, Copy)]
enum Mode {
    Ot(OtSchedule, bool),
    Systematic,
}

#[derive(Default)]
struct Stats {
    iterations: f64,
    passes: f64,
    resamples: f64,
    sq_err: f64,
    sq_count: f64,
    ll_err: f64,
}

fn run(ys: &[Vec<f64>], d: usize, n: usize, eps: f64, mode: Mode, seed: u64, st: &mut Stats) {
    let (km, kll) = kalman(ys, d);
    let mut rng = SplitMix64::new(seed);
    let mut x: Vec<f64> = (0..n * d).map(|_| rng.normal::<f64>()).collect();
    let mut xp = vec![0.0; n * d];
    let mut logw = vec![0.0; n];
    let mut ws = vec![0.0; ot_workspace_len(n, d)];
    let mut warm = vec![0.0; ot_warm_len(n, d)];
    let mut ll = 0.0;
    for (t, y) in ys.iter().enumerate() {
        for (p, q) in xp.iter_mut().zip(&x) {
            *p = THETA * q + rng.normal::<f64>();
        }
        for (l, p) in logw.iter_mut().zip(xp.chunks(d)) {
            let e2: f64 = p.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
            *l = -0.5 * e2 / OBS_VAR - 0.5 * d as f64 * (2.0 * std::f64::consts::PI * OBS_VAR).ln();
        }
        let top = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = logw.iter().map(|l| (l - top).exp()).sum();
        ll += top + (sum / n as f64).ln();
        for (c, m) in km[t].iter().enumerate() {
            let est: f64 = xp
                .chunks(d)
                .zip(&logw)
                .map(|(p, l)| p[c] * (l - top).exp() / sum)
                .sum();
            st.sq_err += (est - m) * (est - m);
            st.sq_count += 1.0;
        }
        match mode {
            Mode::Ot(schedule, keep) => {
                let cfg = OtConfig {
                    schedule,
                    ..OtConfig::new(eps)
                };
                if !keep {
                    warm.fill(0.0);
                }
                let rep = ot_resample_warm(&xp, &logw, d, &cfg, &mut x, &mut ws, &mut warm)
                    .expect("OT resampling");
                st.iterations += f64::from(rep.iterations);
                st.passes += f64::from(rep.passes + 1);
                st.resamples += 1.0;
            }
            Mode::Systematic => {
                resample_particles(Scheme::Systematic, &logw, &mut rng, &xp, d, &mut x)
                    .expect("systematic resampling");
            }
        }
    }
    st.ll_err += (ll - kll).abs() / STEPS as f64;
}

fn main() {
    println!(
        "| d | N | ε | resampler | iterations | passes | mean RMSE vs Kalman | mean abs(ℓ̂ − ℓ)/T |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &d in &[2usize, 4] {
        let ys = simulate(d, 11);
        for &n in &[64usize, 256] {
            for &eps in &[0.5, 0.1] {
                let modes = [
                    ("filterflow", Mode::Ot(OtSchedule::Filterflow, false)),
                    ("marginal stop, cold", Mode::Ot(OtSchedule::Marginal, false)),
                    ("marginal stop, warm", Mode::Ot(OtSchedule::Marginal, true)),
                    ("systematic", Mode::Systematic),
                ];
                for (name, mode) in modes {
                    if matches!(mode, Mode::Systematic) && eps != 0.5 {
                        continue;
                    }
                    let mut st = Stats::default();
                    for seed in 0..RUNS {
                        run(&ys, d, n, eps, mode, 100 + seed, &mut st);
                    }
                    let per = |v: f64| {
                        if st.resamples > 0.0 {
                            format!("{:.1}", v / st.resamples)
                        } else {
                            "–".into()
                        }
                    };
                    println!(
                        "| {d} | {n} | {} | {name} | {} | {} | {:.4} | {:.4} |",
                        if matches!(mode, Mode::Systematic) {
                            "–".to_string()
                        } else {
                            format!("{eps}")
                        },
                        per(st.iterations),
                        per(st.passes),
                        (st.sq_err / st.sq_count).sqrt(),
                        st.ll_err / RUNS as f64
                    );
                }
            }
        }
    }
}
