//! What a gradient costs in the differentiable filter (issue 18's cost targets),
//! measured side by side in one process: every case of a row runs in alternating
//! rounds and the median round is reported, so drift on a shared machine hits all
//! cases alike; the ratios are the result.
//!
//! Model: d = 2, k = 2, P ∈ {1, 4}: x' = θ_0·x + 0.3·ξ + Σ_{p≥1} θ_p·w_p (w_p fixed
//! directions), y = x' + N(0, 0.5²·I) against a fixed observation; systematic
//! resampling when ESS < N/2, or OT resampling (ε = 0.5) every tick. Cases:
//! - plain tick (`pf::step`) against a forward-mode tick (`diff_step`, classical);
//!   target ≤ (1 + P) × 1.2 plain ticks with the model's own JVP and gradient
//!   calls excluded (they are timed alone and subtracted);
//! - OT resampling (`ot_resample`) against its exact JVP (`ot_resample_jvp`, P
//!   directions) and VJP (`ot_resample_vjp`, implicit); target ≤ 3×;
//! - a window of L = 50 ticks: forward mode (`diff_step`) against reverse mode
//!   (`tape_step` × L, then `tape_gradient`); target ≤ 3×.
//!
//! Run: `taskset -c 1 cargo run --release -p otcore-tests --example dpf_cost [SECTION]`
//! (about four minutes; SECTION `forward`, `ot` or `window` runs one table). Prints
//! Markdown tables.

use std::hint::black_box;
use std::time::Instant;

use otcore::ot::Cg;
use otcore::pf::{
    diff_ot_workspace_len, diff_step, diff_workspace_len, filter_workspace_len, jvp_workspace_len,
    ot_resample, ot_resample_jvp, ot_resample_vjp, ot_workspace_len, step, tangent_len,
    tape_gradient, tape_gradient_workspace_len, tape_len, tape_step, tape_step_workspace_len,
    uniform_log_weights, vjp_workspace_len, DiffConfig, DiffModel, FilterConfig, Gradient,
    OtConfig, RandomSource, Resampler, Scheme, SplitMix64, Tape, Totals, Trigger, Vjp,
};
use otcore::{Error, Real};

const D: usize = 2;
const K: usize = 2;
const OBS_STD: f64 = 0.5;
const Y: [f64; 2] = [0.4, -0.2];
const ROUNDS: usize = 15;
const WINDOW: usize = 50;

/// The benchmark model for P parameters.
#[derive(Clone)]
struct Model {
    p: usize,
}

fn w(p: usize, c: usize) -> f64 {
    0.1 * (p as f64) * if c == 0 { 1.0 } else { -0.5 }
}

impl<T: Real> DiffModel<T> for Model {
    fn noise_dim(&self) -> usize {
        K
    }
    fn transition(&mut self, th: &[T], x: &[T], xi: &[T], out: &mut [T]) -> Result<(), Error> {
        for ((o, x), e) in out
            .chunks_exact_mut(D)
            .zip(x.chunks_exact(D))
            .zip(xi.chunks_exact(K))
        {
            for c in 0..D {
                let mut v = th[0] * x[c] + T::from_f64(0.3) * e[c];
                for (p, &t) in th.iter().enumerate().skip(1) {
                    v += t * T::from_f64(w(p, c));
                }
                o[c] = v;
            }
        }
        Ok(())
    }
    fn transition_jvp(
        &mut self,
        th: &[T],
        x: &[T],
        _xi: &[T],
        _next: &[T],
        dx: &[T],
        dout: &mut [T],
    ) -> Result<(), Error> {
        let p = self.p;
        for ((o, d), x) in dout
            .chunks_exact_mut(D * p)
            .zip(dx.chunks_exact(D * p))
            .zip(x.chunks_exact(D))
        {
            for c in 0..D {
                for q in 0..p {
                    let own = if q == 0 { x[c] } else { T::from_f64(w(q, c)) };
                    o[c * p + q] = th[0] * d[c * p + q] + own;
                }
            }
        }
        Ok(())
    }
    fn transition_vjp(
        &mut self,
        th: &[T],
        x: &[T],
        _xi: &[T],
        _next: &[T],
        nb: &[T],
        xb: &mut [T],
        tb: &mut [T],
    ) -> Result<(), Error> {
        let p = self.p;
        for (((xb, tb), x), nb) in xb
            .chunks_exact_mut(D)
            .zip(tb.chunks_exact_mut(p))
            .zip(x.chunks_exact(D))
            .zip(nb.chunks_exact(D))
        {
            tb.fill(T::ZERO);
            for c in 0..D {
                xb[c] = th[0] * nb[c];
                tb[0] += x[c] * nb[c];
                for (q, t) in tb.iter_mut().enumerate().skip(1) {
                    *t += T::from_f64(w(q, c)) * nb[c];
                }
            }
        }
        Ok(())
    }
    fn seek(&mut self, _tick: usize) -> Result<(), Error> {
        Ok(())
    }
    fn loglik(&mut self, _th: &[T], x: &[T], out: &mut [T]) -> Result<(), Error> {
        loglik(x, out);
        Ok(())
    }
    fn loglik_grad(&mut self, _th: &[T], x: &[T], gx: &mut [T], gt: &mut [T]) -> Result<(), Error> {
        let s2 = T::from_f64(OBS_STD * OBS_STD);
        for (g, x) in gx.chunks_exact_mut(D).zip(x.chunks_exact(D)) {
            for c in 0..D {
                g[c] = (T::from_f64(Y[c]) - x[c]) / s2;
            }
        }
        gt.fill(T::ZERO);
        Ok(())
    }
}

fn loglik<T: Real>(x: &[T], out: &mut [T]) {
    let s2 = T::from_f64(OBS_STD * OBS_STD);
    for (o, x) in out.iter_mut().zip(x.chunks_exact(D)) {
        let mut e = T::ZERO;
        for c in 0..D {
            let r = T::from_f64(Y[c]) - x[c];
            e += r * r;
        }
        *o = -T::HALF * e / s2;
    }
}

/// The particle set every case starts from (a spread around the observation).
fn start<T: Real>(n: usize) -> (Vec<T>, Vec<T>) {
    let mut r = SplitMix64::new(7);
    let x = (0..n * D).map(|_| r.normal::<T>()).collect();
    let mut logw = vec![T::ZERO; n];
    uniform_log_weights(&mut logw);
    (x, logw)
}

/// Median over rounds of each case's time per call, cases interleaved in every round.
fn race(cases: &mut [&mut dyn FnMut()], reps: usize) -> Vec<f64> {
    let mut times = vec![Vec::with_capacity(ROUNDS); cases.len()];
    for case in cases.iter_mut() {
        case(); // warm-up
    }
    for _ in 0..ROUNDS {
        for (c, case) in cases.iter_mut().enumerate() {
            let t0 = Instant::now();
            for _ in 0..reps {
                case();
            }
            times[c].push(t0.elapsed().as_secs_f64() * 1e9 / reps as f64);
        }
    }
    times
        .into_iter()
        .map(|mut v| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        })
        .collect()
}

fn ot_settings<T: Real>() -> (OtConfig<T>, Cg<T>) {
    let cg = Cg {
        tolerance: T::from_f64(if T::EPSILON > T::from_f64(1e-10) {
            1e-4
        } else {
            1e-8
        }),
        max_iterations: 200,
    };
    (OtConfig::new(T::from_f64(0.5)), cg)
}

fn theta<T: Real>(p: usize) -> Vec<T> {
    (0..p)
        .map(|q| T::from_f64(if q == 0 { 0.8 } else { 0.1 }))
        .collect()
}

/// One row per (precision, N, P): plain tick, model calls alone, forward tick.
fn forward_row<T: Real>(name: &str, n: usize, p: usize) {
    let th = theta::<T>(p);
    let mut model = Model { p };
    let cfg = DiffConfig {
        scheme: Scheme::Systematic,
        trigger: Trigger::Ess(T::HALF),
        gradient: Gradient::Detach,
        ot: None,
    };
    let (x0, l0) = start::<T>(n);
    // Plain tick.
    let (mut xa, mut la, mut ra) = (x0.clone(), l0.clone(), SplitMix64::new(1));
    let fcfg = FilterConfig {
        resampler: Resampler::Classical(Scheme::Systematic),
        trigger: Trigger::Ess(T::HALF),
    };
    let mut wsa = vec![T::ZERO; filter_workspace_len(n, D, false)];
    let (mut mean, mut cov) = (vec![T::ZERO; D], vec![T::ZERO; D * D]);
    let mut ma = model.clone();
    let mut plain = || {
        let mut tot = Totals::default();
        let th0 = th.clone();
        let mm = &mut ma;
        step(
            &mut xa,
            &mut la,
            D,
            &fcfg,
            &mut tot,
            &mut ra,
            |x: &[T], out: &mut [T], r: &mut SplitMix64| {
                let mut xi = [T::ZERO; 512];
                let xi = &mut xi[..x.len()];
                r.fill_normal(xi);
                mm.transition(&th0, x, xi, out)
            },
            |x: &[T], out: &mut [T]| {
                loglik(x, out);
                Ok(())
            },
            &mut mean,
            &mut cov,
            &mut wsa,
        )
        .unwrap();
    };
    // The model's JVP and gradient calls alone, at the sizes a forward tick makes them.
    let (xm, xim) = (x0.clone(), vec![T::from_f64(0.1); n * K]);
    let (mut xp, dx) = (vec![T::ZERO; n * D], vec![T::from_f64(0.01); n * D * p]);
    let (mut dxp, mut gx, mut gt) = (
        vec![T::ZERO; n * D * p],
        vec![T::ZERO; n * D],
        vec![T::ZERO; n * p],
    );
    let mut mm = model.clone();
    let mut calls = || {
        <Model as DiffModel<T>>::transition(&mut mm, &th, &xm, &xim, &mut xp).unwrap();
        mm.transition_jvp(&th, &xm, &xim, &xp, &dx, &mut dxp)
            .unwrap();
        mm.loglik_grad(&th, &xp, &mut gx, &mut gt).unwrap();
        black_box(&dxp);
    };
    // Forward-mode tick.
    let (mut xb, mut lb, mut rb) = (x0.clone(), l0.clone(), SplitMix64::new(1));
    let mut tan = vec![T::ZERO; tangent_len(n, D, p)];
    let mut wsb = vec![T::ZERO; diff_workspace_len(n, D, p, K)];
    let (mut dll, mut mb, mut dmb) = (vec![T::ZERO; p], vec![T::ZERO; D], vec![T::ZERO; D * p]);
    let mut forward = || {
        let mut tot = Totals::default();
        diff_step(
            &mut model, &th, D, &cfg, &mut rb, &mut xb, &mut lb, &mut tan, &mut tot, &mut dll,
            &mut mb, &mut dmb, &mut wsb,
        )
        .unwrap();
        // Keep the tangents bounded over many reps (a forgetting factor, as online use).
        for v in tan.iter_mut() {
            *v *= T::HALF;
        }
    };
    let t = race(&mut [&mut plain, &mut calls, &mut forward], 2000);
    // The model's transition is part of the plain tick too: only the JVP and the
    // gradient are the forward tick's extra model work; time them without it.
    let mut only_t = || {
        <Model as DiffModel<T>>::transition(&mut model.clone(), &th, &xm, &xim, &mut xp).unwrap();
    };
    let tt = race(&mut [&mut only_t], 2000)[0];
    let extra = (t[1] - tt).max(0.0);
    let ratio = (t[2] - extra) / t[0];
    println!(
        "| {name} | {n} | {p} | {:.2} | {:.2} | {:.2} | {ratio:.2} | {:.1} |",
        t[0] / 1e3,
        t[2] / 1e3,
        extra / 1e3,
        (1 + p) as f64 * 1.2
    );
}

/// OT resampling against its JVP (P directions) and VJP, one row per (precision, N).
fn ot_row<T: Real>(name: &str, n: usize, p: usize) {
    let (otc, cg) = ot_settings::<T>();
    let (x, _) = start::<T>(n);
    let logw: Vec<T> = (0..n)
        .map(|i| T::from_f64(-(((i * 37) % 11) as f64) * 0.1))
        .collect();
    let mut out = vec![T::ZERO; n * D];
    let mut ws = vec![
        T::ZERO;
        ot_workspace_len(n, D)
            .max(vjp_workspace_len(n, D))
            .max(jvp_workspace_len(n, D, p))
    ];
    let (mut ws2, mut ws3) = (ws.clone(), ws.clone());
    let mut fwd = || {
        ot_resample(&x, &logw, D, &otc, &mut out, &mut ws).unwrap();
    };
    let (xd, ld) = (
        vec![T::from_f64(0.01); n * D * p],
        vec![T::from_f64(0.01); n * p],
    );
    let (mut xo, mut xod) = (vec![T::ZERO; n * D], vec![T::ZERO; n * D * p]);
    let (mut jvp_its, mut vjp_its) = (0, 0);
    let mut jvp = || {
        jvp_its = ot_resample_jvp(
            &x,
            &logw,
            D,
            &otc,
            &cg,
            (&xd, &ld),
            (&mut xo, &mut xod),
            &mut ws2,
        )
        .unwrap()
        .cg_iterations;
    };
    let ybar = vec![T::from_f64(0.3); n * D];
    let (mut dx, mut dl) = (vec![T::ZERO; n * D], vec![T::ZERO; n]);
    let vjp_cfg = Vjp::Implicit {
        cg_tolerance: cg.tolerance,
        cg_max_iterations: cg.max_iterations,
    };
    let mut vjp = || {
        vjp_its = ot_resample_vjp(
            &x, &logw, D, &otc, &vjp_cfg, &ybar, &mut dx, &mut dl, &mut ws3,
        )
        .unwrap()
        .cg_iterations;
    };
    let t = race(&mut [&mut fwd, &mut jvp, &mut vjp], 50);
    println!(
        "| {name} | {n} | {p} | {:.1} | {:.1} ({:.2}×) | {:.1} ({:.2}×) | {jvp_its} / {vjp_its} |",
        t[0] / 1e3,
        t[1] / 1e3,
        t[1] / t[0],
        t[2] / 1e3,
        t[2] / t[0]
    );
}

/// A window of L ticks: forward mode against recording plus one backward pass.
fn window_row<T: Real>(name: &str, n: usize, p: usize, ot: bool) {
    let th = theta::<T>(p);
    let mut model = Model { p };
    let cfg = DiffConfig {
        scheme: Scheme::Systematic,
        trigger: if ot {
            Trigger::Always
        } else {
            Trigger::Ess(T::HALF)
        },
        gradient: Gradient::StopGradient,
        ot: ot.then(ot_settings::<T>),
    };
    let (x0, l0) = start::<T>(n);
    let mut tan = vec![T::ZERO; tangent_len(n, D, p)];
    let fws = if ot {
        diff_ot_workspace_len(n, D, p, K)
    } else {
        diff_workspace_len(n, D, p, K)
    };
    let mut wsf = vec![T::ZERO; fws];
    let (mut dll, mut mean, mut dmean) = (vec![T::ZERO; p], vec![T::ZERO; D], vec![T::ZERO; D * p]);
    let mut m1 = model.clone();
    let mut forward = || {
        let (mut x, mut l, mut r) = (x0.clone(), l0.clone(), SplitMix64::new(3));
        tan.fill(T::ZERO);
        dll.fill(T::ZERO);
        let mut tot = Totals::default();
        for _ in 0..WINDOW {
            diff_step(
                &mut m1, &th, D, &cfg, &mut r, &mut x, &mut l, &mut tan, &mut tot, &mut dll,
                &mut mean, &mut dmean, &mut wsf,
            )
            .unwrap();
        }
        black_box(&dll);
    };
    let mut values = vec![T::ZERO; tape_len(n, D, K, WINDOW)];
    let rws = tape_step_workspace_len(n, D, K, ot).max(tape_gradient_workspace_len(n, D, p, ot));
    let mut wsr = vec![T::ZERO; rws];
    let mut g = vec![T::ZERO; p];
    let mut mean2 = vec![T::ZERO; D];
    let mut reverse = || {
        let (mut x, mut l, mut r) = (x0.clone(), l0.clone(), SplitMix64::new(3));
        let mut tape = Tape::new(&mut values, n, D, K, WINDOW, 0).unwrap();
        let mut tot = Totals::default();
        for _ in 0..WINDOW {
            tape_step(
                &mut model, &th, D, &cfg, &mut r, &mut x, &mut l, &mut tot, &mut mean2, &mut tape,
                &mut wsr,
            )
            .unwrap();
        }
        tape_gradient(
            &mut model,
            &th,
            D,
            &cfg,
            &tape,
            T::ONE,
            &[],
            &mut g,
            &mut [],
            &mut [],
            &mut wsr,
        )
        .unwrap();
        black_box(&g);
    };
    let reps = if ot { 2 } else { 40 };
    let t = race(&mut [&mut forward, &mut reverse], reps);
    println!(
        "| {name} | {} | {n} | {p} | {:.1} | {:.1} | {:.2} |",
        if ot {
            "OT, every tick"
        } else {
            "systematic, ESS < N/2"
        },
        t[0] / 1e3,
        t[1] / 1e3,
        t[1] / t[0]
    );
}

fn main() {
    // One section (`forward`, `ot`, `window`) or all of them.
    let only = std::env::args().nth(1);
    let run = |section: &str| only.as_deref().is_none_or(|o| o == section);
    if run("forward") {
        forward_table();
    }
    if run("ot") {
        ot_table();
    }
    if run("window") {
        window_table();
    }
}

fn forward_table() {
    println!(
        "Forward mode, classical resampling: µs per tick (median of {ROUNDS} alternating rounds)\n"
    );
    println!("| precision | N | P | plain tick | forward tick | model JVP + gradient | forward − model / plain | target |");
    println!("|---|---|---|---|---|---|---|---|");
    for n in [64, 256] {
        for p in [1, 4] {
            forward_row::<f32>("f32", n, p);
            forward_row::<f64>("f64", n, p);
        }
    }
}

fn ot_table() {
    println!("\nOT resampling (ε = 0.5) and its exact derivatives: µs per call, ratio to the resampling\n");
    println!("| precision | N | P | OT resampling | JVP (P directions) | VJP | CG iterations (JVP / VJP) |");
    println!("|---|---|---|---|---|---|---|");
    for n in [64, 256] {
        for p in [1, 4] {
            ot_row::<f32>("f32", n, p);
            ot_row::<f64>("f64", n, p);
        }
    }
}

fn window_table() {
    println!("\nA window of {WINDOW} ticks: forward mode against reverse mode (record + one backward pass), µs\n");
    println!("| precision | resampling | N | P | forward window | reverse window | ratio |");
    println!("|---|---|---|---|---|---|---|");
    for ot in [false, true] {
        for n in [64, 256] {
            for p in [1, 4] {
                window_row::<f32>("f32", n, p, ot);
                window_row::<f64>("f64", n, p, ot);
            }
        }
    }
}
