//! Fixed-step and adaptive samplers: batch-size independence, single steps = driver,
//! the step to s = 0, exact moments on Gaussian data, bad inputs.

use otcore::sde::{
    self, grid, AdaptiveConfig, Churn, Config, Corrector, Covariance, Method, Mixture, Model,
    Multistep, Output, Process, Spacing,
};
use otcore::Error;

const D: usize = 2;
const W: [f32; 3] = [0.3, 0.5, 0.2];
const MU: [f32; 6] = [1.0, 0.0, -1.0, 0.5, 0.0, -1.5];
const VAR: [f32; 3] = [0.04, 0.1, 0.02];

fn methods() -> Vec<(&'static str, Config)> {
    let churn = Churn {
        gamma: 0.2,
        s_min: 0.05,
        s_max: 50.0,
        s_noise: 1.003,
    };
    let mut pc = Config::new(Method::ReverseDiffusion);
    pc.corrector_steps = 2;
    let mut ald = Config::new(Method::Ancestral);
    ald.corrector_steps = 1;
    ald.corrector = Corrector::Annealed;
    ald.denoise = true;
    vec![
        ("em", Config::new(Method::EulerMaruyama)),
        ("rd+langevin", pc),
        ("ancestral+ald", ald),
        ("pf-euler", Config::new(Method::ProbabilityFlowEuler)),
        ("heun+churn", Config::new(Method::Heun(churn))),
        ("ddim", Config::new(Method::Ddim)),
        ("2m", Config::new(Method::DpmSolverPp2M)),
    ]
}

fn model(p: Process) -> Mixture<'static, f32> {
    Mixture::new(p, &W, &MU, Covariance::Isotropic(&VAR), D).unwrap()
}

fn prior(p: Process, n: usize) -> Vec<f32> {
    let mut x = vec![0.0f32; n * D];
    p.prior_sample(9, 0, D, &mut x).unwrap();
    x
}

/// Calls `f(batch, first_sample, workspace)` on consecutive batches of `x` of the given
/// sizes, sample indices continuing across them (the workspace starts as NaN).
fn in_batches(x: &mut [f32], sizes: &[usize], mut f: impl FnMut(&mut [f32], u64, &mut [f32])) {
    let mut start = 0;
    for &b in sizes {
        let mut ws = vec![f32::NAN; sde::workspace_len(b, D)];
        f(&mut x[start * D..(start + b) * D], start as u64, &mut ws);
        start += b;
    }
}

/// Runs a fixed-step sampler on `x` in batches of the given sizes.
fn run_batched(p: Process, cfg: &Config, g: &[f32], x: &mut [f32], sizes: &[usize]) {
    in_batches(x, sizes, |xb, first, ws| {
        sde::sample(&p, cfg, &mut model(p), g, xb, D, 42, first, ws).unwrap();
    });
}

#[test]
fn samples_do_not_depend_on_the_batch() {
    let n = 12;
    for p in [Process::VP, Process::EDM] {
        let mut g = vec![0.0f32; 9];
        grid::fill(
            &p,
            Spacing::Karras { rho: 7.0 },
            p.t_max(),
            p.t_eps(),
            &mut g,
        )
        .unwrap();
        for (name, cfg) in methods() {
            let mut one = prior(p, n);
            run_batched(p, &cfg, &g, &mut one, &[n]);
            for sizes in [&[5, 7][..], &[1; 12][..], &[11, 1][..]] {
                let mut split = prior(p, n);
                run_batched(p, &cfg, &g, &mut split, sizes);
                // Bit-for-bit: every operation on a sample depends only on that sample.
                assert_eq!(one, split, "{p:?} {name} {sizes:?}");
            }
            assert!(one.iter().all(|v| v.is_finite()));
        }
        for memory in [true, false] {
            let mut cfg = AdaptiveConfig::new(&p);
            cfg.memory = memory;
            cfg.eps_rel = 0.02;
            let run = |sizes: &[usize]| {
                let mut x = prior(p, n);
                in_batches(&mut x, sizes, |xb, first, ws| {
                    sde::adaptive(&p, &cfg, &mut model(p), xb, D, 42, first, ws).unwrap();
                });
                x
            };
            assert_eq!(run(&[n]), run(&[4, 8]), "{p:?} adaptive memory={memory}");
        }
    }
}

#[test]
fn single_steps_reproduce_the_driver() {
    let p = Process::VP;
    let n = 6;
    let mut g = vec![0.0f32; 11];
    grid::fill(&p, Spacing::UniformLogSnr, p.t_max(), p.t_eps(), &mut g).unwrap();
    for (name, cfg) in methods() {
        let mut driven = prior(p, n);
        run_batched(p, &cfg, &g, &mut driven, &[n]);
        let mut x = prior(p, n);
        let mut ws = vec![0.0f32; sde::workspace_len(n, D)];
        let mut prev = vec![0.0f32; n * D];
        let mut hist = Multistep {
            denoised: &mut prev,
            h_prev: None,
        };
        let mut evals = 0;
        for j in 0..10 {
            let mut c = cfg;
            c.denoise = cfg.denoise && j == 9;
            let mut m = model(p);
            evals += sde::step(
                &p,
                &c,
                &mut m,
                &mut x,
                D,
                g[j],
                g[j + 1],
                j as u64,
                42,
                0,
                Some(&mut hist),
                &mut ws,
            )
            .unwrap();
        }
        assert_eq!(x, driven, "{name}");
        assert!(evals >= 10);
    }
}

/// A step to t = 0 (s = 0) is first order onto the denoised estimate; DDIM lands on
/// exactly `x̂₀(x, t)` (a = 1 at t = 0 for VP).
#[test]
fn last_step_to_zero_noise() {
    for p in [
        Process::VP,
        Process::EDM,
        Process::SUB_VP,
        Process::VP_COSINE,
    ] {
        let n = 4;
        let t = 0.3 * p.t_max();
        for (name, cfg) in methods() {
            let mut x = prior(p, n);
            x.iter_mut()
                .for_each(|v| *v *= (0.3 * p.t_max() / p.t_max()) as f32);
            let mut ws = vec![0.0f32; sde::workspace_len(n, D)];
            let mut m = model(p);
            sde::sample(&p, &cfg, &mut m, &[t as f32, 0.0], &mut x, D, 1, 0, &mut ws).unwrap();
            assert!(x.iter().all(|v| v.is_finite()), "{p:?} {name}");
        }
        let mut x = prior(p, n);
        let x0 = x.clone();
        let mut ws = vec![0.0f32; sde::workspace_len(n, D)];
        let mut m = model(p);
        sde::sample(
            &p,
            &Config::new(Method::Ddim),
            &mut m,
            &[t as f32, 0.0],
            &mut x,
            D,
            1,
            0,
            &mut ws,
        )
        .unwrap();
        let mut sc = vec![0.0f32; n * D];
        model(p).score(&x0, &vec![t as f32; n], &mut sc).unwrap();
        let c = p.coefs(t as f32 as f64);
        for i in 0..n * D {
            let want = (f64::from(x0[i]) + c.s * c.s * f64::from(sc[i])) / c.a;
            // f32 arithmetic on values of size ≤ ~10 (prior × 1/a): 1e-4 relative.
            assert!(
                (f64::from(x[i]) - want).abs() < 1e-4 * (1.0 + want.abs()),
                "{p:?}"
            );
        }
    }
}

/// Gaussian data N(m, v): the stochastic samplers (500 steps) reproduce the exact
/// marginal at eps, `N(a·m, a²v + s²)`, in mean and variance (f64, 40 000 samples).
#[test]
fn stochastic_samplers_have_the_exact_gaussian_moments() {
    let p = Process::VP;
    let (m, v) = (0.8f64, 0.09f64);
    let n = 40_000;
    // Uniform in log-SNR: near eps a uniform-t grid has steps larger than s_t², where
    // the ancestral step (which uses x̂₀, a posterior mean) loses variance.
    let mut g = vec![0.0f64; 501];
    grid::fill(&p, Spacing::UniformLogSnr, 1.0, p.t_eps(), &mut g).unwrap();
    let c = p.coefs(p.t_eps());
    let (want_m, want_v) = (c.a * m, c.a * c.a * v + c.s * c.s);
    let mut pc = Config::new(Method::ReverseDiffusion);
    pc.corrector_steps = 1;
    pc.corrector = Corrector::Annealed;
    // EDM's churn (S_churn/N = 0.1 on σ̃ ∈ [0.05, 50]) adds noise then follows the ODE:
    // the marginals are preserved up to discretisation.
    let churn = Churn {
        gamma: 0.1,
        s_min: 0.05,
        s_max: 50.0,
        s_noise: 1.0,
    };
    for (name, cfg) in [
        ("heun + churn", Config::new(Method::Heun(churn))),
        ("em", Config::new(Method::EulerMaruyama)),
        ("reverse diffusion", Config::new(Method::ReverseDiffusion)),
        ("ancestral", Config::new(Method::Ancestral)),
        ("er-sde-1", Config::new(Method::ErSde1)),
        ("pc annealed", pc),
    ] {
        let (ma, va) = ([m], [v]);
        let mut mix = Mixture::new(p, &[1.0], &ma, Covariance::Isotropic(&va), 1).unwrap();
        let mut x = vec![0.0f64; n];
        p.prior_sample(5, 0, 1, &mut x).unwrap();
        let mut ws = vec![0.0; sde::workspace_len(n, 1)];
        sde::sample(&p, &cfg, &mut mix, &g, &mut x, 1, 3, 0, &mut ws).unwrap();
        let mean = x.iter().sum::<f64>() / n as f64;
        let var = x.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / n as f64;
        println!("{name}: mean {mean:.4} vs {want_m:.4}, var {var:.4} vs {want_v:.4}");
        // Monte Carlo: 5 standard errors (σ/√n = 0.0015 for the mean, √(2/n)·var for
        // the variance = 0.7%); discretisation bias of 500 steps ≲ 2% of the variance.
        assert!(
            (mean - want_m).abs() < 5.0 * (want_v / n as f64).sqrt() + 0.01 * want_m,
            "{name} mean"
        );
        assert!(
            (var / want_v - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt() + 0.02,
            "{name} var"
        );
    }
}

struct Failing(Output, u32);
impl Model<f64> for Failing {
    fn output(&self) -> Output {
        self.0
    }
    fn eval(&mut self, _x: &[f64], _t: &[f64], out: &mut [f64]) -> Result<(), Error> {
        self.1 += 1;
        match self.1 {
            1 => {
                out.fill(0.1);
                Ok(())
            }
            2 => Err(Error::InvalidParameter),
            _ => {
                out.fill(f64::NAN);
                Ok(())
            }
        }
    }
}

#[test]
fn bad_inputs_change_nothing() {
    let p = Process::VP;
    let n = 3;
    let cfg = Config::new(Method::EulerMaruyama);
    let g = [1.0, 0.5, 0.1];
    let good_x = [0.1f64; 6];
    let ws_len = sde::workspace_len(n, D);
    let mix = || Mixture::new(p, &[1.0], &[0.0, 0.0], Covariance::Isotropic(&[1.0]), D).unwrap();
    let mut bad_cfgs = vec![];
    for (corrector_steps, snr) in [(16, 0.16), (1, 0.0), (1, f64::NAN)] {
        let mut c = cfg;
        c.corrector_steps = corrector_steps;
        c.snr = snr;
        bad_cfgs.push(c);
    }
    for gamma in [-0.1, 0.5, f64::NAN] {
        bad_cfgs.push(Config::new(Method::Heun(Churn {
            gamma,
            ..Churn::NONE
        })));
    }
    bad_cfgs.push(Config::new(Method::Heun(Churn {
        s_min: 2.0,
        s_max: 1.0,
        ..Churn::NONE
    })));
    type Case<'a> = (&'a str, Process, Config, Vec<f64>, Vec<f64>, usize, Error);
    let mut cases: Vec<Case> = vec![
        (
            "nan state",
            p,
            cfg,
            g.to_vec(),
            vec![0.1, f64::NAN, 0.1, 0.1, 0.1, 0.1],
            ws_len,
            Error::NonFiniteInput,
        ),
        (
            "inf state",
            p,
            cfg,
            g.to_vec(),
            vec![f64::INFINITY; 6],
            ws_len,
            Error::NonFiniteInput,
        ),
        (
            "t beyond T",
            p,
            cfg,
            vec![1.5, 0.5],
            good_x.to_vec(),
            ws_len,
            Error::InvalidParameter,
        ),
        (
            "negative t",
            p,
            cfg,
            vec![0.5, -0.1],
            good_x.to_vec(),
            ws_len,
            Error::InvalidParameter,
        ),
        (
            "non-monotone grid",
            p,
            cfg,
            vec![1.0, 0.2, 0.5],
            good_x.to_vec(),
            ws_len,
            Error::InvalidParameter,
        ),
        (
            "repeated time",
            p,
            cfg,
            vec![1.0, 0.5, 0.5],
            good_x.to_vec(),
            ws_len,
            Error::InvalidParameter,
        ),
        (
            "zero steps",
            p,
            cfg,
            vec![1.0],
            good_x.to_vec(),
            ws_len,
            Error::EmptyInput,
        ),
        (
            "nan in grid",
            p,
            cfg,
            vec![1.0, f64::NAN],
            good_x.to_vec(),
            ws_len,
            Error::NonFiniteInput,
        ),
        (
            "eval at s = 0",
            p,
            cfg,
            vec![0.5, 0.0, 0.0],
            good_x.to_vec(),
            ws_len,
            Error::InvalidParameter,
        ),
        (
            "short workspace",
            p,
            cfg,
            g.to_vec(),
            good_x.to_vec(),
            ws_len - 1,
            Error::WorkspaceTooSmall,
        ),
        (
            "ragged state",
            p,
            cfg,
            g.to_vec(),
            vec![0.1; 5],
            ws_len,
            Error::LengthMismatch,
        ),
        (
            "empty state",
            p,
            cfg,
            g.to_vec(),
            vec![],
            ws_len,
            Error::EmptyInput,
        ),
        (
            "zero beta",
            Process::VpLinear {
                beta_min: 0.0,
                beta_max: 20.0,
            },
            cfg,
            g.to_vec(),
            good_x.to_vec(),
            ws_len,
            Error::InvalidParameter,
        ),
        (
            "negative sigma",
            Process::Ve {
                sigma_min: -0.01,
                sigma_max: 50.0,
            },
            cfg,
            g.to_vec(),
            good_x.to_vec(),
            ws_len,
            Error::InvalidParameter,
        ),
    ];
    for c in bad_cfgs {
        cases.push((
            "bad config",
            p,
            c,
            g.to_vec(),
            good_x.to_vec(),
            ws_len,
            Error::InvalidParameter,
        ));
    }
    for (name, proc_, c, grid_, x0, wl, err) in cases {
        let mut x = x0.clone();
        let mut ws = vec![0.0; wl];
        let mut m = mix();
        assert_eq!(
            sde::sample(&proc_, &c, &mut m, &grid_, &mut x, D, 1, 0, &mut ws).err(),
            Some(err),
            "{name}"
        );
        assert!(
            x.iter().zip(&x0).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name}: x changed"
        );
        // The single step sees only the first pair of times, which is valid here.
        let first_pair_ok = ["non-monotone grid", "repeated time", "eval at s = 0"].contains(&name);
        if grid_.len() >= 2 && !first_pair_ok {
            let mut x = x0.clone();
            let r = sde::step(
                &proc_, &c, &mut m, &mut x, D, grid_[0], grid_[1], 0, 1, 0, None, &mut ws,
            );
            assert!(r.is_err(), "{name} (step)");
            assert!(
                x.iter().zip(&x0).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name}: x changed (step)"
            );
        }
    }
    // History of the wrong length.
    let mut x = good_x;
    let mut prev = [0.0; 5];
    let mut hist = Multistep {
        denoised: &mut prev,
        h_prev: None,
    };
    let mut ws = vec![0.0; ws_len];
    let r = sde::step(
        &p,
        &Config::new(Method::DpmSolverPp2M),
        &mut mix(),
        &mut x,
        D,
        1.0,
        0.5,
        0,
        1,
        0,
        Some(&mut hist),
        &mut ws,
    );
    assert_eq!(r, Err(Error::LengthMismatch));
    // A model error mid-run and a NaN from the model: passed on, x unchanged.
    for (out, err) in [
        (Output::Score, Error::InvalidParameter),
        (Output::Denoised, Error::InvalidParameter),
    ] {
        let mut x = good_x;
        let r = sde::sample(
            &p,
            &Config::new(Method::Heun(Churn::NONE)),
            &mut Failing(out, 0),
            &g,
            &mut x,
            D,
            1,
            0,
            &mut ws,
        );
        assert_eq!(r.err(), Some(err));
        assert_eq!(x, good_x);
        let mut x = good_x;
        let r = sde::sample(
            &p,
            &Config::new(Method::Ddim),
            &mut Failing(out, 2),
            &g,
            &mut x,
            D,
            1,
            0,
            &mut ws,
        );
        assert_eq!(r.err(), Some(Error::NonFinite));
        assert_eq!(x, good_x);
    }
    // Adaptive: bad tolerances, depth, times.
    let base = AdaptiveConfig::new(&p);
    let bad = [
        AdaptiveConfig {
            eps_abs: 0.0,
            eps_rel: 0.0,
            ..base
        },
        AdaptiveConfig {
            eps_rel: -1.0,
            ..base
        },
        AdaptiveConfig {
            h_init: 0.0,
            ..base
        },
        AdaptiveConfig {
            safety: 1.5,
            ..base
        },
        AdaptiveConfig {
            exponent: f64::NAN,
            ..base
        },
        AdaptiveConfig { depth: 0, ..base },
        AdaptiveConfig { depth: 25, ..base },
        AdaptiveConfig { t_end: 0.0, ..base },
        AdaptiveConfig {
            t_start: 2.0,
            ..base
        },
        AdaptiveConfig {
            t_end: 0.9,
            t_start: 0.5,
            ..base
        },
    ];
    for c in bad {
        let mut x = good_x;
        assert!(
            sde::adaptive(&p, &c, &mut mix(), &mut x, D, 1, 0, &mut ws).is_err(),
            "{c:?}"
        );
        assert_eq!(x, good_x);
    }
    let mut x = good_x;
    assert_eq!(
        sde::adaptive(
            &p,
            &base,
            &mut mix(),
            &mut x,
            D,
            1,
            0,
            &mut ws[..ws_len - 1]
        ),
        Err(Error::WorkspaceTooSmall)
    );
    assert_eq!(x, good_x);
    // An evaluation budget: stops with unfinished samples, all finite.
    let mut c = base;
    c.max_evaluations = 10;
    let st = sde::adaptive(&p, &c, &mut mix(), &mut x, D, 1, 0, &mut ws).unwrap();
    assert!(st.evaluations <= 10 && st.unfinished > 0);
}

/// The adaptive solver in pieces of one iteration (2 evaluations) per call, its state in
/// the caller's buffer, reproduces one whole call bit for bit (with and without memory,
/// with the final denoise); a corrupted state is refused and nothing changes.
#[test]
fn adaptive_in_pieces_equals_one_call() {
    for memory in [true, false] {
        let p = Process::VP;
        let n = 10;
        let mut cfg = AdaptiveConfig::new(&p);
        cfg.memory = memory;
        cfg.denoise = true;
        let mut whole = prior(p, n);
        let mut ws = vec![0.0f32; sde::workspace_len(n, D)];
        let st = sde::adaptive(&p, &cfg, &mut model(p), &mut whole, D, 5, 3, &mut ws).unwrap();
        let mut x = prior(p, n);
        let mut state = vec![0.0f32; sde::adaptive_state_len(n, D)];
        let mut piece = cfg;
        piece.max_evaluations = 2;
        let (mut calls, mut evals) = (0, 0);
        let mut fresh = true;
        loop {
            let s = sde::adaptive_resume(
                &p,
                &piece,
                &mut model(p),
                &mut x,
                D,
                5,
                3,
                &mut state,
                fresh,
                &mut ws,
            )
            .unwrap();
            fresh = false;
            calls += 1;
            evals += s.evaluations;
            if s.unfinished == 0 {
                break;
            }
            assert!(calls < 10_000);
        }
        assert_eq!(x, whole, "memory={memory}");
        assert_eq!(evals, st.evaluations);
        // A corrupted state: refused, x and state unchanged.
        let (x0, s0) = (x.clone(), state.clone());
        let k_at = 2 * n * D;
        state[k_at] = 0.5;
        let s1 = state.clone();
        assert_eq!(
            sde::adaptive_resume(
                &p,
                &piece,
                &mut model(p),
                &mut x,
                D,
                5,
                3,
                &mut state,
                false,
                &mut ws
            ),
            Err(Error::InvalidParameter)
        );
        assert_eq!((&x, &state), (&x0, &s1));
        assert_eq!(
            sde::adaptive_resume(
                &p,
                &piece,
                &mut model(p),
                &mut x,
                D,
                5,
                3,
                &mut state[1..],
                false,
                &mut ws
            ),
            Err(Error::LengthMismatch)
        );
        assert_ne!(s0, s1);
    }
}
