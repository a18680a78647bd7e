//! Classical resamplers and the filter step: distributional properties and bad input.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use otcore::pf::{
    ancestors, filter_workspace_len, resample_particles, step, FilterConfig, OtConfig,
    RandomSource, Resampler, Scheme, SplitMix64, Totals, Trigger,
};
use otcore::Error;
use otcore_tests::Rng;

const SCHEMES: [Scheme; 4] = [
    Scheme::Multinomial,
    Scheme::Stratified,
    Scheme::Systematic,
    Scheme::Residual,
];

fn random_logw(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|i| {
            if i % 7 == 3 {
                f64::NEG_INFINITY
            } else {
                2.0 * r.normal()
            }
        })
        .collect()
}

fn weights(logw: &[f64]) -> Vec<f64> {
    let s: f64 = logw.iter().map(|l| l.exp()).sum();
    logw.iter().map(|l| l.exp() / s).collect()
}

#[test]
fn offspring_counts_have_the_right_mean_and_dead_particles_never_survive() {
    let n = 50;
    let logw = random_logw(n, 1);
    let w = weights(&logw);
    let reps = 4000;
    for scheme in SCHEMES {
        let mut rng = SplitMix64::new(9);
        let mut counts = vec![0.0f64; n];
        let mut a = vec![0usize; n];
        for _ in 0..reps {
            ancestors(scheme, &logw, &mut rng, &mut a).unwrap();
            assert!(
                a.windows(2).all(|p| p[0] <= p[1]) || scheme == Scheme::Residual,
                "{scheme:?} not sorted"
            );
            for &i in &a {
                assert!(w[i] > 0.0, "{scheme:?} picked a dead particle");
                counts[i] += 1.0;
            }
        }
        for i in 0..n {
            let want = n as f64 * w[i];
            let got = counts[i] / reps as f64;
            // Each count has variance ≤ N·W_i (multinomial, the largest of the four);
            // the mean of 4000 reps has SE ≤ sqrt(N·W_i/4000); 5 SE over 50 particles
            // × 4 schemes keeps false alarms below 1e-4.
            let se = (want / reps as f64).sqrt();
            assert!(
                (got - want).abs() <= 5.0 * se + 1e-12,
                "{scheme:?} particle {i}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn systematic_and_residual_counts_are_within_one_of_n_w() {
    let n = 64;
    let logw = random_logw(n, 2);
    let w = weights(&logw);
    let mut rng = SplitMix64::new(3);
    let mut a = vec![0usize; n];
    for _ in 0..200 {
        for scheme in [Scheme::Systematic, Scheme::Residual] {
            ancestors(scheme, &logw, &mut rng, &mut a).unwrap();
            for i in 0..n {
                let c = a.iter().filter(|&&k| k == i).count() as f64;
                let nw = n as f64 * w[i];
                // Systematic: ⌊N·W⌋ or ⌈N·W⌉ (a property of the single-uniform grid);
                // residual: at least ⌊N·W⌋ deterministic copies.
                match scheme {
                    Scheme::Systematic => {
                        assert!(c >= nw.floor() && c <= nw.ceil(), "sys {i}: {c} vs {nw}")
                    }
                    _ => assert!(c >= nw.floor(), "res {i}: {c} vs {nw}"),
                }
            }
        }
    }
}

#[test]
fn rounding_at_the_end_of_the_cdf_is_safe() {
    // Weights whose cumulative sum is < 1 in floating point, last particle dead,
    // and an unnormalised total: the walk must stay in range and alive.
    let mut logw: Vec<f32> = vec![(0.1f32).ln(); 10];
    logw[9] = f32::NEG_INFINITY;
    let mut rng = SplitMix64::new(4);
    let mut a = vec![0usize; 10];
    for scheme in SCHEMES {
        for _ in 0..1000 {
            ancestors(scheme, &logw, &mut rng, &mut a).unwrap();
            assert!(a.iter().all(|&i| i < 9), "{scheme:?}: {a:?}");
        }
    }
}

#[test]
fn resample_particles_copies_ancestors() {
    let (n, d) = (5, 3);
    let logw = [
        0.0,
        f64::NEG_INFINITY,
        0.0,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    let x: Vec<f64> = (0..n * d).map(|k| k as f64).collect();
    let mut out = vec![0.0; n * d];
    let mut rng = SplitMix64::new(5);
    resample_particles(Scheme::Systematic, &logw, &mut rng, &x, d, &mut out).unwrap();
    // Two live particles of equal weight: systematic gives them 2 and 3 (or 3 and 2)
    // copies.
    for p in out.chunks_exact(d) {
        assert!(p == &x[0..3] || p == &x[6..9], "{p:?}");
    }
    let zeros = out.chunks_exact(d).filter(|p| p[0] == 0.0).count();
    assert!(zeros == 2 || zeros == 3);
}

#[test]
fn resampler_bad_input() {
    let mut rng = SplitMix64::new(6);
    let canary = 7usize;
    let mut a = vec![canary; 3];
    let bad = [
        (vec![0.0, f64::NAN, 0.0], Error::NonFiniteInput),
        (vec![0.0, f64::INFINITY, 0.0], Error::NonFiniteInput),
        (vec![f64::NEG_INFINITY; 3], Error::ZeroMass),
        (vec![0.0, 0.0], Error::LengthMismatch),
    ];
    for (logw, e) in bad {
        for s in SCHEMES {
            assert_eq!(ancestors(s, &logw, &mut rng, &mut a), Err(e));
        }
    }
    assert_eq!(
        ancestors::<f64, _>(Scheme::Systematic, &[], &mut rng, &mut []),
        Err(Error::EmptyInput)
    );
    assert!(a.iter().all(|&v| v == canary));
    let mut out = vec![1.5; 6];
    let x = [0.0, 1.0, f64::NAN, 3.0, 4.0, 5.0];
    assert_eq!(
        resample_particles(Scheme::Residual, &[0.0; 3], &mut rng, &x, 2, &mut out),
        Err(Error::NonFiniteInput)
    );
    assert_eq!(
        resample_particles(Scheme::Residual, &[0.0; 3], &mut rng, &x, 0, &mut out),
        Err(Error::EmptyInput)
    );
    assert_eq!(
        resample_particles(Scheme::Residual, &[0.0; 3], &mut rng, &x[..4], 2, &mut out),
        Err(Error::LengthMismatch)
    );
    assert!(out.iter().all(|&v| v == 1.5));
}

/// Runs one step with the given settings/callbacks on a fresh canary state and checks
/// that it fails with `want` and changes nothing.
#[allow(clippy::type_complexity)]
fn refused(
    cfg: FilterConfig<f64>,
    x: Vec<f64>,
    logw: Vec<f64>,
    ws_len: usize,
    predict: &dyn Fn(&[f64], &mut [f64]) -> Result<(), Error>,
    lik: &dyn Fn(&[f64], &mut [f64]) -> Result<(), Error>,
    want: Error,
) {
    let d = 2;
    let (x0, l0) = (x.clone(), logw.clone());
    let (mut x, mut logw) = (x, logw);
    let mut rng = SplitMix64::new(77);
    let mut totals = Totals {
        log_likelihood: 1.25,
        steps: 3,
        resamples: 1,
    };
    let (mut mean, mut cov) = (vec![9.0; d], vec![9.0; d * d]);
    let mut ws = vec![0.0; ws_len];
    let got = step(
        &mut x,
        &mut logw,
        d,
        &cfg,
        &mut totals,
        &mut rng,
        |p, n, r: &mut SplitMix64| {
            let _ = r.next_u64();
            predict(p, n)
        },
        |p, l| lik(p, l),
        &mut mean,
        &mut cov,
        &mut ws,
    );
    assert_eq!(got, Err(want));
    assert_eq!(x.len(), x0.len());
    assert!(x.iter().zip(&x0).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(logw
        .iter()
        .zip(&l0)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(
        totals,
        Totals {
            log_likelihood: 1.25,
            steps: 3,
            resamples: 1
        }
    );
    assert!(mean.iter().chain(&cov).all(|&v| v == 9.0));
    assert_eq!(rng, SplitMix64::new(77), "RNG advanced on error");
}

#[test]
fn filter_step_bad_input_changes_nothing() {
    let n = 6;
    let x: Vec<f64> = (0..2 * n).map(|k| k as f64 * 0.3).collect();
    let logw = vec![-(n as f64).ln(); n];
    let sys = FilterConfig {
        resampler: Resampler::Classical(Scheme::Systematic),
        trigger: Trigger::Always,
    };
    let ot = FilterConfig {
        resampler: Resampler::Optimal(OtConfig::new(0.5)),
        trigger: Trigger::Always,
    };
    let ws = filter_workspace_len(n, 2, false);
    let wso = filter_workspace_len(n, 2, true);
    let copy = |p: &[f64], q: &mut [f64]| {
        q.copy_from_slice(p);
        Ok(())
    };
    let flat = |_: &[f64], l: &mut [f64]| {
        l.fill(-1.0);
        Ok(())
    };
    let mut nan_x = x.clone();
    nan_x[4] = f64::NAN;
    refused(
        sys,
        nan_x,
        logw.clone(),
        ws,
        &copy,
        &flat,
        Error::NonFiniteInput,
    );
    let mut bad_l = logw.clone();
    bad_l[0] = f64::NAN;
    refused(
        sys,
        x.clone(),
        bad_l,
        ws,
        &copy,
        &flat,
        Error::NonFiniteInput,
    );
    refused(
        sys,
        x.clone(),
        vec![f64::NEG_INFINITY; n],
        ws,
        &copy,
        &flat,
        Error::ZeroMass,
    );
    refused(
        sys,
        x[..11].to_vec(),
        logw.clone(),
        ws,
        &copy,
        &flat,
        Error::LengthMismatch,
    );
    refused(sys, vec![], vec![], ws, &copy, &flat, Error::EmptyInput);
    for t in [-0.1, 1.5, f64::NAN] {
        let c = FilterConfig {
            trigger: Trigger::Ess(t),
            ..sys
        };
        refused(
            c,
            x.clone(),
            logw.clone(),
            ws,
            &copy,
            &flat,
            Error::InvalidParameter,
        );
    }
    let mut bad_eps = OtConfig::new(0.5);
    bad_eps.epsilon = -1.0;
    let c = FilterConfig {
        resampler: Resampler::Optimal(bad_eps),
        ..ot
    };
    refused(
        c,
        x.clone(),
        logw.clone(),
        wso,
        &copy,
        &flat,
        Error::InvalidEpsilon,
    );
    refused(
        sys,
        x.clone(),
        logw.clone(),
        ws - 1,
        &copy,
        &flat,
        Error::WorkspaceTooSmall,
    );
    refused(
        ot,
        x.clone(),
        logw.clone(),
        ws,
        &copy,
        &flat,
        Error::WorkspaceTooSmall,
    );
    // Callbacks that fail or return garbage.
    let fails = |_: &[f64], _: &mut [f64]| Err(Error::InvalidParameter);
    refused(
        sys,
        x.clone(),
        logw.clone(),
        ws,
        &fails,
        &flat,
        Error::InvalidParameter,
    );
    refused(
        sys,
        x.clone(),
        logw.clone(),
        ws,
        &copy,
        &fails,
        Error::InvalidParameter,
    );
    let nan_pred = |p: &[f64], q: &mut [f64]| {
        q.copy_from_slice(p);
        q[3] = f64::NAN;
        Ok(())
    };
    refused(
        ot,
        x.clone(),
        logw.clone(),
        wso,
        &nan_pred,
        &flat,
        Error::NonFinite,
    );
    let nan_lik = |_: &[f64], l: &mut [f64]| {
        l.fill(0.0);
        l[2] = f64::NAN;
        Ok(())
    };
    refused(
        sys,
        x.clone(),
        logw.clone(),
        ws,
        &copy,
        &nan_lik,
        Error::NonFinite,
    );
    let dead = |_: &[f64], l: &mut [f64]| {
        l.fill(f64::NEG_INFINITY);
        Ok(())
    };
    refused(
        ot,
        x.clone(),
        logw.clone(),
        wso,
        &copy,
        &dead,
        Error::ZeroMass,
    );
}

#[test]
fn step_bookkeeping_with_and_without_resampling() {
    // Two particles, known likelihoods: check Δℓ, ESS, weights and totals by hand.
    let d = 1;
    let mut x = vec![0.0, 1.0];
    let mut logw = vec![(0.25f64).ln(), (0.75f64).ln()];
    let mut rng = SplitMix64::new(1);
    let mut totals = Totals::default();
    let (mut mean, mut cov) = (vec![0.0], vec![0.0]);
    let mut ws = vec![0.0; filter_workspace_len(2, 1, false)];
    let never = FilterConfig {
        resampler: Resampler::Classical(Scheme::Systematic),
        trigger: Trigger::Never,
    };
    let lik = |_: &[f64], l: &mut [f64]| {
        l[0] = (0.6f64).ln();
        l[1] = (0.2f64).ln();
        Ok(())
    };
    let same = |p: &[f64], q: &mut [f64], _: &mut SplitMix64| {
        q.copy_from_slice(p);
        Ok(())
    };
    let r = step(
        &mut x,
        &mut logw,
        d,
        &never,
        &mut totals,
        &mut rng,
        same,
        lik,
        &mut mean,
        &mut cov,
        &mut ws,
    )
    .unwrap();
    // Δℓ = log(0.25·0.6 + 0.75·0.2) = log 0.3; new W = (0.5, 0.5), ESS 2.
    assert!((r.log_likelihood_increment - (0.3f64).ln()).abs() < 1e-15);
    assert!((r.ess - 2.0).abs() < 1e-13);
    assert!(!r.resampled);
    assert!((logw[0] - (0.5f64).ln()).abs() < 1e-15);
    assert!((mean[0] - 0.5).abs() < 1e-15 && (cov[0] - 0.25).abs() < 1e-15);
    let always = FilterConfig {
        trigger: Trigger::Always,
        ..never
    };
    let r = step(
        &mut x,
        &mut logw,
        d,
        &always,
        &mut totals,
        &mut rng,
        same,
        lik,
        &mut mean,
        &mut cov,
        &mut ws,
    )
    .unwrap();
    // Δℓ = log(0.5·0.6 + 0.5·0.2) = log 0.4; then uniform weights.
    assert!((r.log_likelihood_increment - (0.4f64).ln()).abs() < 1e-15);
    assert!((totals.log_likelihood - (0.12f64).ln()).abs() < 1e-14);
    assert!(r.resampled && totals.resamples == 1 && totals.steps == 2);
    assert!(logw.iter().all(|&l| (l + (2.0f64).ln()).abs() < 1e-15));
}
