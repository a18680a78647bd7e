//! Reverse mode over a window (`otcore::pf::{tape_step, tape_gradient}`): the recorded
//! filter is the forward-mode filter bit for bit, its one backward pass gives the
//! forward mode's gradients of ℓ̂ and of the filtered means (two ways of computing one
//! derivative), central finite differences of the same computation, and bad input
//! changes nothing.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use otcore::ot::Cg;
use otcore::pf::{
    diff_ot_workspace_len, diff_step, diff_workspace_len, tangent_len, tape_gradient,
    tape_gradient_workspace_len, tape_len, tape_step, tape_step_workspace_len, uniform_log_weights,
    DiffConfig, DiffModel, Gradient, OtConfig, RandomSource, Scheme, SplitMix64, Tape, Totals,
    Trigger,
};
use otcore::Error;
use otcore_tests::dpf::{simulate, Beacon, Lgssm};

const THETA: [f64; 3] = [0.8, 0.7, 0.3];
const BEACON_THETA: [f64; 2] = [0.4, 0.2];

/// A model whose observation the test sets per tick.
trait Observed: DiffModel<f64> + Clone {
    fn observe(&mut self, y: f64);
    fn window(&mut self, ys: &[f64]);
}

impl Observed for Lgssm {
    fn observe(&mut self, y: f64) {
        self.y = y;
    }
    fn window(&mut self, ys: &[f64]) {
        self.ys = ys.to_vec();
    }
}

impl Observed for Beacon {
    fn observe(&mut self, y: f64) {
        self.y = y;
    }
    fn window(&mut self, ys: &[f64]) {
        self.ys = ys.to_vec();
    }
}

fn classical(trigger: Trigger<f64>, gradient: Gradient) -> DiffConfig<f64> {
    DiffConfig {
        scheme: Scheme::Systematic,
        trigger,
        gradient,
        ot: None,
    }
}

/// A tightly converged OT map with its scale frozen (as `pf_diff.rs`).
fn ot(trigger: Trigger<f64>, eps: f64) -> DiffConfig<f64> {
    let mut o = OtConfig::new(eps);
    o.tolerance = 1e-14;
    o.max_iterations = 20000;
    o.scale = 1.0;
    let cg = Cg {
        tolerance: 1e-12,
        max_iterations: 1000,
    };
    DiffConfig {
        ot: Some((o, cg)),
        ..classical(trigger, Gradient::Detach)
    }
}

/// N particles of dimension d from N(0, I) by stream `seed`, which then drives the run.
fn start(n: usize, d: usize, seed: u64) -> (SplitMix64, Vec<f64>, Vec<f64>) {
    let mut rng = SplitMix64::new(seed);
    let x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
    let mut logw = vec![0.0; n];
    uniform_log_weights(&mut logw);
    (rng, x, logw)
}

/// What a forward-mode run gives after the last tick.
struct Forward {
    x: Vec<f64>,
    logw: Vec<f64>,
    loglik: f64,
    dloglik: Vec<f64>,
    means: Vec<f64>,
    /// ∂μ_t/∂θ, d×P per tick.
    dmeans: Vec<f64>,
}

fn forward<M: Observed>(
    model: &mut M,
    theta: &[f64],
    d: usize,
    cfg: &DiffConfig<f64>,
    ys: &[f64],
    n: usize,
    seed: u64,
) -> Forward {
    let p = theta.len();
    let k = model.noise_dim();
    let (mut rng, mut x, mut logw) = start(n, d, seed);
    let mut tangent = vec![0.0; tangent_len(n, d, p)];
    let len = if cfg.ot.is_some() {
        diff_ot_workspace_len(n, d, p, k)
    } else {
        diff_workspace_len(n, d, p, k)
    };
    let mut ws = vec![0.0; len];
    let mut totals = Totals::default();
    let mut dll = vec![0.0; p];
    let (mut mean, mut dmean) = (vec![0.0; d], vec![0.0; d * p]);
    let (mut means, mut dmeans) = (vec![], vec![]);
    for &y in ys {
        model.observe(y);
        diff_step(
            model,
            theta,
            d,
            cfg,
            &mut rng,
            &mut x,
            &mut logw,
            &mut tangent,
            &mut totals,
            &mut dll,
            &mut mean,
            &mut dmean,
            &mut ws,
        )
        .expect("diff_step");
        means.extend_from_slice(&mean);
        dmeans.extend_from_slice(&dmean);
    }
    Forward {
        x,
        logw,
        loglik: totals.log_likelihood,
        dloglik: dll,
        means,
        dmeans,
    }
}

/// A recorded window: the filter's state after it, and the tape.
struct Recorded {
    x: Vec<f64>,
    logw: Vec<f64>,
    loglik: f64,
    means: Vec<f64>,
    tape: Vec<f64>,
    ticks: usize,
}

#[allow(clippy::too_many_arguments)]
fn record<M: Observed>(
    model: &mut M,
    theta: &[f64],
    d: usize,
    cfg: &DiffConfig<f64>,
    ys: &[f64],
    n: usize,
    seed: u64,
    x0: Option<&[f64]>,
) -> Recorded {
    let k = model.noise_dim();
    let (mut rng, mut x, mut logw) = start(n, d, seed);
    if let Some(x0) = x0 {
        x.copy_from_slice(x0);
    }
    let mut values = vec![0.0; tape_len(n, d, k, ys.len())];
    let mut tape = Tape::new(&mut values, n, d, k, ys.len(), 0).unwrap();
    let mut ws = vec![0.0; tape_step_workspace_len(n, d, k, cfg.ot.is_some())];
    let mut totals = Totals::default();
    let mut mean = vec![0.0; d];
    let mut means = vec![];
    for &y in ys {
        model.observe(y);
        tape_step(
            model,
            theta,
            d,
            cfg,
            &mut rng,
            &mut x,
            &mut logw,
            &mut totals,
            &mut mean,
            &mut tape,
            &mut ws,
        )
        .expect("tape_step");
        means.extend_from_slice(&mean);
    }
    let ticks = tape.ticks();
    Recorded {
        x,
        logw,
        loglik: totals.log_likelihood,
        means,
        tape: values,
        ticks,
    }
}

/// ∂J/∂θ, ∂J/∂x_0, ∂J/∂ℓ_0 of a recorded window.
#[allow(clippy::too_many_arguments)]
fn reverse<M: Observed>(
    model: &mut M,
    theta: &[f64],
    d: usize,
    cfg: &DiffConfig<f64>,
    rec: &mut Recorded,
    n: usize,
    loglik_bar: f64,
    mean_bar: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (p, k) = (theta.len(), model.noise_dim());
    let tape = Tape::new(&mut rec.tape, n, d, k, rec.ticks, rec.ticks).unwrap();
    let mut ws = vec![0.0; tape_gradient_workspace_len(n, d, p, cfg.ot.is_some())];
    let (mut g, mut xb, mut lb) = (vec![0.0; p], vec![0.0; n * d], vec![0.0; n]);
    tape_gradient(
        model, theta, d, cfg, &tape, loglik_bar, mean_bar, &mut g, &mut xb, &mut lb, &mut ws,
    )
    .expect("tape_gradient");
    (g, xb, lb)
}

fn close(a: f64, b: f64, rel: f64, floor: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(floor)
}

/// Forward and reverse mode compute one derivative by transposed products, in
/// different orders: with the same random numbers they agree to rounding, and the
/// recorded filter is the forward-mode filter bit for bit.
fn agree<M: Observed>(
    model: M,
    theta: &[f64],
    d: usize,
    cfg: &DiffConfig<f64>,
    ys: &[f64],
    n: usize,
    rel: f64,
) {
    let p = theta.len();
    let fw = forward(&mut model.clone(), theta, d, cfg, ys, n, 5);
    let mut m = model.clone();
    let mut rec = record(&mut m, theta, d, cfg, ys, n, 5, None);
    assert_eq!(fw.x, rec.x, "{cfg:?}: particles");
    assert_eq!(fw.logw, rec.logw, "{cfg:?}: log-weights");
    assert_eq!(fw.loglik.to_bits(), rec.loglik.to_bits(), "{cfg:?}: ℓ̂");
    assert_eq!(fw.means, rec.means, "{cfg:?}: means");
    m.window(ys);
    let (g, ..) = reverse(&mut m, theta, d, cfg, &mut rec, n, 1.0, &[]);
    for j in 0..p {
        assert!(
            close(g[j], fw.dloglik[j], rel, 1e-3),
            "{cfg:?} θ_{j}: reverse {} vs forward {}",
            g[j],
            fw.dloglik[j]
        );
    }
    // The means: J = μ_t[c] for a few (t, c), against forward mode's ∂μ_t/∂θ.
    let t_len = ys.len();
    for (t, c) in [(0, 0), (t_len / 2, d - 1), (t_len - 1, 0)] {
        let mut mb = vec![0.0; t_len * d];
        mb[t * d + c] = 1.0;
        let (g, ..) = reverse(&mut m, theta, d, cfg, &mut rec, n, 0.0, &mb);
        for j in 0..p {
            let f = fw.dmeans[t * d * p + c * p + j];
            assert!(
                close(g[j], f, rel, 1e-3),
                "{cfg:?} μ_{t}[{c}] θ_{j}: reverse {} vs forward {f}",
                g[j]
            );
        }
    }
}

#[test]
fn reverse_equals_forward_with_classical_resampling() {
    let ys = simulate(&THETA, 30, 11);
    let beacon_ys: Vec<f64> = (0..25)
        .map(|k| 3.0 + (k as f64 * 0.3).sin() + 0.05 * k as f64)
        .collect();
    for gradient in [Gradient::Detach, Gradient::StopGradient] {
        for trigger in [Trigger::Always, Trigger::Ess(0.5), Trigger::Never] {
            let c = classical(trigger, gradient);
            // Sums of ~30 ticks × 32 particles of terms ≤ ~10 in another order:
            // ~1e-13 relative; 1e-10 leaves margin and still fails a wrong term.
            agree(Lgssm { y: 0.0, ys: vec![] }, &THETA, 1, &c, &ys, 32, 1e-10);
            agree(
                Beacon::default(),
                &BEACON_THETA,
                2,
                &c,
                &beacon_ys,
                24,
                1e-10,
            );
        }
    }
}

#[test]
fn reverse_equals_forward_with_ot_resampling() {
    let ys = simulate(&THETA, 10, 3);
    for (trigger, eps) in [(Trigger::Always, 0.5), (Trigger::Ess(0.8), 0.2)] {
        let c = ot(trigger, eps);
        // Forward mode solves one CG system per resampling and direction, reverse
        // mode the adjoint one, each to a relative residual of 1e-12 on a system of
        // condition ~1/ε²·N: the two gradients differ by ≲ 1e-9 relative, far below
        // a wrong term.
        agree(Lgssm { y: 0.0, ys: vec![] }, &THETA, 1, &c, &ys, 16, 1e-8);
    }
}

/// The reverse-mode gradient of ℓ̂ against central differences of the recorded
/// filter (same seed), with OT resampling (smooth in θ and in x_0) and without
/// resampling; also ∂ℓ̂/∂x_0 of a few particles.
#[test]
fn reverse_equals_finite_differences() {
    let ys = simulate(&THETA, 12, 3);
    let n = 16;
    let h = 1e-6;
    for c in [
        ot(Trigger::Always, 0.5),
        classical(Trigger::Never, Gradient::Detach),
    ] {
        let mut m = Lgssm { y: 0.0, ys: vec![] };
        let mut rec = record(&mut m, &THETA, 1, &c, &ys, n, 9, None);
        let x0 = start(n, 1, 9).1;
        m.window(&ys);
        let (g, xb, _) = reverse(&mut m, &THETA, 1, &c, &mut rec, n, 1.0, &[]);
        let at =
            |th: &[f64], x0: &[f64]| record(&mut m.clone(), th, 1, &c, &ys, n, 9, Some(x0)).loglik;
        for j in 0..3 {
            let (mut up, mut dn) = (THETA, THETA);
            up[j] += h;
            dn[j] -= h;
            let fd = (at(&up, &x0) - at(&dn, &x0)) / (2.0 * h);
            // As pf_diff.rs: a converged map and rounding of ℓ̂ (|ℓ̂| ≤ 20) over 2h
            // give ≲ 1e-8 absolute; 1e-6 relative with a floor of 0.05.
            assert!(
                close(g[j], fd, 1e-6, 0.05),
                "{c:?} θ_{j}: reverse {} vs FD {fd}",
                g[j]
            );
        }
        for i in [0, 7, 15] {
            let (mut up, mut dn) = (x0.clone(), x0.clone());
            up[i] += h;
            dn[i] -= h;
            let fd = (at(&THETA, &up) - at(&THETA, &dn)) / (2.0 * h);
            assert!(
                close(xb[i], fd, 1e-6, 0.05),
                "{c:?} x_0[{i}]: reverse {} vs FD {fd}",
                xb[i]
            );
        }
    }
}

/// A model without the reverse-mode callbacks (their defaults refuse).
#[derive(Clone)]
struct NoVjp(Lgssm);

impl DiffModel<f64> for NoVjp {
    fn noise_dim(&self) -> usize {
        1
    }
    fn transition(
        &mut self,
        th: &[f64],
        x: &[f64],
        xi: &[f64],
        o: &mut [f64],
    ) -> Result<(), Error> {
        self.0.transition(th, x, xi, o)
    }
    fn transition_jvp(
        &mut self,
        th: &[f64],
        x: &[f64],
        xi: &[f64],
        xn: &[f64],
        dx: &[f64],
        o: &mut [f64],
    ) -> Result<(), Error> {
        self.0.transition_jvp(th, x, xi, xn, dx, o)
    }
    fn loglik(&mut self, th: &[f64], x: &[f64], o: &mut [f64]) -> Result<(), Error> {
        self.0.loglik(th, x, o)
    }
    fn loglik_grad(
        &mut self,
        th: &[f64],
        x: &[f64],
        gx: &mut [f64],
        gt: &mut [f64],
    ) -> Result<(), Error> {
        self.0.loglik_grad(th, x, gx, gt)
    }
}

#[test]
fn bad_input_changes_nothing() {
    let ys = simulate(&THETA, 6, 2);
    let (n, d, k, p) = (8, 1, 1, 3);
    let c = classical(Trigger::Ess(0.5), Gradient::StopGradient);
    let mut model = Lgssm {
        y: ys[0],
        ys: ys.clone(),
    };

    // Tape creation.
    let mut small = vec![0.0; tape_len(n, d, k, 4) - 1];
    assert_eq!(
        Tape::new(&mut small, n, d, k, 4, 0).err(),
        Some(Error::WorkspaceTooSmall)
    );
    let mut values = vec![0.0; tape_len(n, d, k, 4)];
    assert_eq!(
        Tape::new(&mut values, 0, d, k, 4, 0).err(),
        Some(Error::EmptyInput)
    );
    assert_eq!(
        Tape::new(&mut values, n, d, k, 0, 0).err(),
        Some(Error::EmptyInput)
    );
    assert_eq!(
        Tape::new(&mut values, n, d, k, 4, 5).err(),
        Some(Error::InvalidParameter)
    );
    let mut v32 = vec![0.0f32; tape_len((1 << 24) + 2, 1, 0, 1)];
    assert_eq!(
        Tape::new(&mut v32, (1 << 24) + 2, 1, 0, 1, 0).err(),
        Some(Error::InvalidParameter),
        "f32 cannot hold the ancestor N − 1 = 2²⁴ + 1 exactly"
    );

    // Recording: each refusal leaves the particles, weights, totals, mean, RNG and
    // tape as they were.
    let (rng0, x0, logw0) = start(n, d, 4);
    let mut values = vec![7.0; tape_len(n, d, k, 2)];
    let before = values.clone();
    let ws_len = tape_step_workspace_len(n, d, k, false);
    type Case = (&'static str, Error);
    let cases: [Case; 6] = [
        ("score", Error::InvalidParameter),
        ("p0", Error::EmptyInput),
        ("mean length", Error::LengthMismatch),
        ("tape d", Error::LengthMismatch),
        ("workspace", Error::WorkspaceTooSmall),
        ("nan theta", Error::NonFiniteInput),
    ];
    for (what, want) in cases {
        let (mut rng, mut x, mut logw) = (rng0, x0.clone(), logw0.clone());
        let mut totals = Totals::default();
        let mut mean = vec![0.0; if what == "mean length" { 2 } else { d }];
        let mut ws = vec![
            0.0;
            if what == "workspace" {
                ws_len - 1
            } else {
                ws_len
            }
        ];
        let tape_d = if what == "tape d" { 2 } else { d };
        let mut tv = values.clone();
        let mut tape = Tape::new(&mut tv, n, tape_d, k, 1, 0).unwrap();
        let mut cfg = c;
        if what == "score" {
            cfg.gradient = Gradient::Score;
        }
        let mut theta = THETA.to_vec();
        if what == "p0" {
            theta.clear();
        }
        if what == "nan theta" {
            theta[1] = f64::NAN;
        }
        let r = tape_step(
            &mut model,
            &theta,
            d,
            &cfg,
            &mut rng,
            &mut x,
            &mut logw,
            &mut totals,
            &mut mean,
            &mut tape,
            &mut ws,
        );
        assert_eq!(r.err(), Some(want), "{what}");
        assert_eq!(tape.ticks(), 0, "{what}");
        let _ = tape;
        assert_eq!(tv, before, "{what}: tape");
        assert_eq!((x, logw), (x0.clone(), logw0.clone()), "{what}: state");
        assert_eq!(rng.next_u64(), { rng0 }.next_u64(), "{what}: RNG");
        assert_eq!(totals, Totals::default(), "{what}: totals");
    }
    // A full tape: the window is recorded, the next tick refused with nothing changed.
    let (mut rng, mut x, mut logw) = (rng0, x0.clone(), logw0.clone());
    let mut totals = Totals::default();
    let mut mean = vec![0.0; d];
    let mut ws = vec![0.0; ws_len];
    {
        let mut tape = Tape::new(&mut values, n, d, k, 2, 0).unwrap();
        for &y in &ys[..2] {
            model.y = y;
            tape_step(
                &mut model,
                &THETA,
                d,
                &c,
                &mut rng,
                &mut x,
                &mut logw,
                &mut totals,
                &mut mean,
                &mut tape,
                &mut ws,
            )
            .unwrap();
        }
        let snap = (x.clone(), logw.clone(), totals, { rng }.next_u64());
        let r = tape_step(
            &mut model,
            &THETA,
            d,
            &c,
            &mut rng,
            &mut x,
            &mut logw,
            &mut totals,
            &mut mean,
            &mut tape,
            &mut ws,
        );
        assert_eq!(r.err(), Some(Error::WorkspaceTooSmall), "full tape");
        assert_eq!((x.clone(), logw.clone(), totals, { rng }.next_u64()), snap);
        assert_eq!(tape.ticks(), 2);
    }

    // The gradient: every refusal writes nothing.
    let tape = Tape::new(&mut values, n, d, k, 2, 2).unwrap();
    let gws = tape_gradient_workspace_len(n, d, p, false);
    let sentinel = -3.0;
    let grad = |model: &mut dyn DiffModel<f64>,
                theta: &[f64],
                cfg: &DiffConfig<f64>,
                tape: &Tape<'_, f64>,
                mb: &[f64],
                ws_len: usize,
                g_len: usize| {
        let mut g = vec![sentinel; g_len];
        let (mut xb, mut lb) = (vec![sentinel; n * d], vec![sentinel; n]);
        let mut ws = vec![0.0; ws_len];
        let r = tape_gradient(
            model, theta, d, cfg, tape, 1.0, mb, &mut g, &mut xb, &mut lb, &mut ws,
        );
        let untouched = g.iter().chain(&xb).chain(&lb).all(|&v| v == sentinel);
        (r, untouched)
    };
    let mut score = c;
    score.gradient = Gradient::Score;
    let mut nan_model = model.clone();
    nan_model.ys = vec![ys[0], f64::NAN];
    type Check = (&'static str, (Result<(), Error>, bool), Error);
    let checks: [Check; 7] = [
        (
            "workspace",
            grad(&mut model, &THETA, &c, &tape, &[], gws - 1, p),
            Error::WorkspaceTooSmall,
        ),
        (
            "dtheta length",
            grad(&mut model, &THETA, &c, &tape, &[], gws, p + 1),
            Error::LengthMismatch,
        ),
        (
            "mean_bar length",
            grad(&mut model, &THETA, &c, &tape, &[1.0], gws, p),
            Error::LengthMismatch,
        ),
        (
            "score",
            grad(&mut model, &THETA, &score, &tape, &[], gws, p),
            Error::InvalidParameter,
        ),
        (
            "no VJP",
            grad(&mut NoVjp(model.clone()), &THETA, &c, &tape, &[], gws, p),
            Error::InvalidParameter,
        ),
        (
            "NaN gradient",
            grad(&mut nan_model, &THETA, &c, &tape, &[], gws, p),
            Error::NonFinite,
        ),
        (
            "nan mean_bar",
            grad(&mut model, &THETA, &c, &tape, &[f64::NAN, 0.0], gws, p),
            Error::NonFiniteInput,
        ),
    ];
    for (what, (r, untouched), want) in checks {
        assert_eq!(r.err(), Some(want), "{what}");
        assert!(untouched, "{what}: outputs written");
    }
    let mut empty_values = vec![0.0; tape_len(n, d, k, 1)];
    let empty = Tape::new(&mut empty_values, n, d, k, 1, 0).unwrap();
    let (r, untouched) = grad(&mut model, &THETA, &c, &empty, &[], gws, p);
    assert_eq!(r.err(), Some(Error::EmptyInput), "no tick recorded");
    assert!(untouched);
}
