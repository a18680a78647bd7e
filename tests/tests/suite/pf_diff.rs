//! The forward-mode differentiable filter (`otcore::pf::diff_step`): its gradient
//! against central finite differences of the same computation (common random numbers),
//! against the exact Kalman gradient on a linear-Gaussian model, replay, and bad input.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use otcore::ot::Cg;
use otcore::pf::{
    diff_step, diff_step_classical, diff_workspace_len, tangent_len, uniform_log_weights,
    DiffConfig, Gradient, OtConfig, RandomSource, Scheme, SplitMix64, Totals, Trigger,
};
use otcore::Error;
use otcore_tests::dpf::{kalman, mean_se, run, simulate, Beacon};

const THETA: [f64; 3] = [0.8, 0.7, 0.3];

fn cfg(scheme: Scheme, trigger: Trigger<f64>, gradient: Gradient) -> DiffConfig<f64> {
    DiffConfig {
        scheme,
        trigger,
        gradient,
        ot: None,
    }
}

/// Central difference of `f` in coordinate `j` of θ.
fn central<const P: usize, V>(
    theta: &[f64; P],
    j: usize,
    h: f64,
    f: impl Fn(&[f64; P]) -> V,
) -> (V, V) {
    let (mut up, mut dn) = (*theta, *theta);
    up[j] += h;
    dn[j] -= h;
    (f(&up), f(&dn))
}

#[test]
fn kalman_sensitivity_matches_finite_differences() {
    let ys = simulate(&THETA, 40, 7);
    let (_, g) = kalman(&THETA, &ys);
    let h = 1e-5;
    for j in 0..3 {
        let (up, dn) = central(&THETA, j, h, |t| kalman(t, &ys).0);
        let fd = (up - dn) / (2.0 * h);
        // Central differences at h = 1e-5: truncation ~h²·ℓ''' and rounding
        // ~1e-16·|ℓ|/h, both below 1e-8 relative for |ℓ| ~ 50.
        assert!(
            (fd - g[j]).abs() <= 1e-7 * fd.abs().max(1.0),
            "θ_{j}: {fd} vs {}",
            g[j]
        );
    }
}

/// With the ancestors held fixed (same seed: the same normals ξ and resampling
/// uniforms), the forward-mode gradient of the detach filter is the derivative of the
/// computed ℓ̂ and filtered mean, checked at every step where that derivative exists.
/// A perturbation of 1e-6 moves the cumulative weights by ~1e-6, which can flip an
/// ancestor (probability ~N·1e-6 per resampling): ℓ̂(θ) then jumps and every later
/// step of that series is piecewise, not differentiable across [θ − h, θ + h]. A jump
/// shows in the second difference ℓ̂(θ+h) − 2ℓ̂(θ) + ℓ̂(θ−h), which is ~h²·ℓ̂'' ≤ 1e-10
/// on a smooth piece and the jump itself otherwise; the series stops there. At most
/// one series of the twelve may be cut, and at most after its first half.
#[test]
fn detach_gradient_equals_finite_differences() {
    let ys = simulate(&THETA, 30, 11);
    let h = 1e-6;
    let cases = [
        (Scheme::Systematic, Trigger::Always),
        (Scheme::Systematic, Trigger::Ess(0.5)),
        (Scheme::Multinomial, Trigger::Ess(0.7)),
        (Scheme::Stratified, Trigger::Never),
    ];
    let mut worst = 0.0f64;
    let mut cut = Vec::new();
    for (scheme, trigger) in cases {
        let c = cfg(scheme, trigger, Gradient::Detach);
        let base = run(&THETA, &ys, 32, &c, 5);
        if !matches!(trigger, Trigger::Never) {
            assert!(base.resamples > 0, "{scheme:?} {trigger:?} never resampled");
        }
        for j in 0..3 {
            let (up, dn) = central(&THETA, j, h, |t| run(t, &ys, 32, &c, 5));
            for t in 0..ys.len() {
                let second = up.loglik[t] - 2.0 * base.loglik[t] + dn.loglik[t];
                let second_mean = up.mean[t] - 2.0 * base.mean[t] + dn.mean[t];
                if second.abs().max(second_mean.abs()) > 1e-9 {
                    cut.push((scheme, trigger, j, t));
                    break;
                }
                let fd = (up.loglik[t] - dn.loglik[t]) / (2.0 * h);
                let g = base.dloglik[t][j];
                worst = worst.max((fd - g).abs() / fd.abs().max(0.05));
                // Rounding of ℓ̂ (~1e-15·|ℓ̂|, |ℓ̂| ≤ 40) over 2h = 2e-6 gives ~2e-8
                // absolute; truncation ~h² is far below: 1e-6 relative holds with
                // margin for gradients of size ≥ 0.05, an absolute floor below.
                assert!(
                    (fd - g).abs() <= 1e-6 * fd.abs().max(0.05),
                    "{scheme:?} {trigger:?} step {t} θ_{j}: ℓ̂' {g} vs FD {fd}"
                );
                let fdm = (up.mean[t] - dn.mean[t]) / (2.0 * h);
                let gm = base.dmean[t][j];
                assert!(
                    (fdm - gm).abs() <= 1e-6 * fdm.abs().max(0.05),
                    "{scheme:?} {trigger:?} step {t} θ_{j}: mean' {gm} vs FD {fdm}"
                );
            }
        }
    }
    eprintln!("1-D: largest relative difference of ∂ℓ̂ from central differences {worst:.1e}; series cut at an ancestor flip: {cut:?}");
    assert!(
        cut.len() <= 1 && cut.iter().all(|&(.., t)| t >= ys.len() / 2),
        "ancestor flips in {cut:?}"
    );
}

/// OT resampling in the loop: the settings of the exactness test (a tightly converged
/// map, its normalisation scale frozen at 1 so that it is the same map for every θ).
fn ot_cfg(trigger: Trigger<f64>, eps: f64) -> DiffConfig<f64> {
    let mut ot = OtConfig::new(eps);
    ot.tolerance = 1e-14;
    ot.max_iterations = 20000;
    ot.scale = 1.0;
    let cg = Cg {
        tolerance: 1e-12,
        max_iterations: 1000,
    };
    DiffConfig {
        ot: Some((ot, cg)),
        ..cfg(Scheme::Systematic, trigger, Gradient::Detach)
    }
}

/// With OT resampling the whole step is a deterministic, smooth function of θ given
/// the normals (same seed), so the forward-mode gradient of ℓ̂ and of the filtered
/// mean is the derivative of the computed values, resamplings included.
#[test]
fn ot_gradient_equals_finite_differences() {
    let ys = simulate(&THETA, 12, 3);
    let h = 1e-6;
    let mut worst = 0.0f64;
    for (trigger, eps) in [(Trigger::Always, 0.5), (Trigger::Ess(0.8), 0.2)] {
        let c = ot_cfg(trigger, eps);
        let base = run(&THETA, &ys, 24, &c, 9);
        assert!(base.resamples > 0, "{trigger:?} never resampled");
        for j in 0..3 {
            let (up, dn) = central(&THETA, j, h, |t| run(t, &ys, 24, &c, 9));
            for t in 0..ys.len() {
                let fd = (up.loglik[t] - dn.loglik[t]) / (2.0 * h);
                let g = base.dloglik[t][j];
                worst = worst.max((fd - g).abs() / fd.abs().max(0.05));
                // The map is converged to potential changes ≤ 1e-14 and the CG to a
                // relative residual ≤ 1e-12, so the computed map and its JVP are
                // within ~1e-13 of the exact ones; over 2h = 2e-6 the solver error
                // and the rounding of ℓ̂ (~1e-15·|ℓ̂|, |ℓ̂| ≤ 20) give ≲ 1e-8, the
                // truncation ~h²: 1e-6 relative (absolute floor 0.05) has margin.
                assert!(
                    (fd - g).abs() <= 1e-6 * fd.abs().max(0.05),
                    "OT {trigger:?} step {t} θ_{j}: ℓ̂' {g} vs FD {fd}"
                );
                let fdm = (up.mean[t] - dn.mean[t]) / (2.0 * h);
                let gm = base.dmean[t][j];
                assert!(
                    (fdm - gm).abs() <= 1e-6 * fdm.abs().max(0.05),
                    "OT {trigger:?} step {t} θ_{j}: mean' {gm} vs FD {fdm}"
                );
            }
        }
    }
    eprintln!("OT: largest relative difference of ∂ℓ̂ from central differences {worst:.1e}");
}

/// After an OT resampling the weights are uniform and the log-weight tangents zero;
/// `Score` with OT and a bad CG tolerance are refused with nothing changed.
/// The C ABI's step (`diff_step_classical`, without the OT branch in its code) is
/// `diff_step` bit for bit in every classical configuration, and refuses OT settings
/// with nothing changed.
#[test]
fn classical_step_is_diff_step_and_refuses_ot() {
    let ys = simulate(&THETA, 30, 7);
    let (n, d, p) = (16, 1, 3);
    for scheme in [Scheme::Systematic, Scheme::Multinomial, Scheme::Stratified] {
        for trigger in [Trigger::Ess(0.5), Trigger::Always, Trigger::Never] {
            for gradient in [Gradient::Detach, Gradient::StopGradient, Gradient::Score] {
                let c = cfg(scheme, trigger, gradient);
                let mut rng = SplitMix64::new(5);
                let x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
                let mut logw = vec![0.0; n];
                uniform_log_weights(&mut logw);
                let start = (
                    rng,
                    x,
                    logw,
                    vec![0.0; tangent_len(n, d, p)],
                    Totals::default(),
                    [0.0; 3],
                    [0.0],
                    [0.0; 3],
                );
                let (mut a, mut b) = (start.clone(), start);
                let mut ws = vec![0.0; diff_workspace_len(n, d, p, 1)];
                for &y in &ys {
                    let mut model = otcore_tests::dpf::Lgssm { y, ys: vec![] };
                    let ra = diff_step(
                        &mut model, &THETA, d, &c, &mut a.0, &mut a.1, &mut a.2, &mut a.3,
                        &mut a.4, &mut a.5, &mut a.6, &mut a.7, &mut ws,
                    );
                    let rb = diff_step_classical(
                        &mut model, &THETA, d, &c, &mut b.0, &mut b.1, &mut b.2, &mut b.3,
                        &mut b.4, &mut b.5, &mut b.6, &mut b.7, &mut ws,
                    );
                    assert_eq!(ra, rb, "{c:?}");
                    assert_eq!(a, b, "{c:?}");
                }
                assert!(a.4.resamples > 0 || matches!(trigger, Trigger::Never));
                // OT settings: refused, nothing changed (the RNG included).
                let ot = DiffConfig {
                    gradient: Gradient::Detach,
                    ..ot_cfg(Trigger::Always, 0.5)
                };
                let before = b.clone();
                let mut model = otcore_tests::dpf::Lgssm {
                    y: ys[0],
                    ys: vec![],
                };
                let r = diff_step_classical(
                    &mut model, &THETA, d, &ot, &mut b.0, &mut b.1, &mut b.2, &mut b.3, &mut b.4,
                    &mut b.5, &mut b.6, &mut b.7, &mut ws,
                );
                assert_eq!(r.err(), Some(Error::InvalidParameter));
                assert_eq!(b, before);
            }
        }
    }
}

#[test]
fn ot_resampling_state_and_refusals() {
    let ys = simulate(&THETA, 3, 4);
    let (n, d, p) = (16, 1, 3);
    let mut rng = SplitMix64::new(2);
    let mut x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let mut logw = vec![0.0; n];
    uniform_log_weights(&mut logw);
    let mut tangent = vec![0.0; tangent_len(n, d, p)];
    let mut ws = vec![0.0; otcore::pf::diff_ot_workspace_len(n, d, p, 1)];
    let mut totals = Totals::default();
    let (mut dll, mut mean, mut dmean) = ([0.0; 3], [0.0], [0.0; 3]);
    let mut model = otcore_tests::dpf::Lgssm {
        y: ys[0],
        ys: vec![],
    };
    let good = ot_cfg(Trigger::Always, 0.5);
    let mut bad_cg = good;
    if let Some((_, cg)) = bad_cg.ot.as_mut() {
        cg.tolerance = 0.0;
    }
    let score = DiffConfig {
        gradient: Gradient::Score,
        ..good
    };
    for (c, want) in [
        (bad_cg, Error::InvalidParameter),
        (score, Error::InvalidParameter),
    ] {
        let before = (x.clone(), logw.clone(), rng);
        let r = diff_step(
            &mut model,
            &THETA,
            d,
            &c,
            &mut rng,
            &mut x,
            &mut logw,
            &mut tangent,
            &mut totals,
            &mut dll,
            &mut mean,
            &mut dmean,
            &mut ws,
        );
        assert_eq!(r.err(), Some(want));
        assert_eq!((x.clone(), logw.clone(), rng), before);
    }
    let short = diff_workspace_len(n, d, p, 1);
    let r = diff_step(
        &mut model,
        &THETA,
        d,
        &good,
        &mut rng,
        &mut x,
        &mut logw,
        &mut tangent,
        &mut totals,
        &mut dll,
        &mut mean,
        &mut dmean,
        &mut ws[..short],
    );
    assert_eq!(r.err(), Some(Error::WorkspaceTooSmall));
    let r = diff_step(
        &mut model,
        &THETA,
        d,
        &good,
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
    .expect("OT step");
    assert!(r.resampled && r.ot.is_some());
    let uniform = -(n as f64).ln();
    assert!(logw.iter().all(|&l| l == uniform));
    assert!(tangent[n * d * p..].iter().all(|&v| v == 0.0));
    assert!(tangent[..n * d * p].iter().any(|&v| v != 0.0));
}

struct BeaconRun {
    loglik: Vec<f64>,
    dloglik: Vec<[f64; 2]>,
    mean: Vec<[f64; 2]>,
    dmean: Vec<[f64; 4]>,
}

fn beacon_observations(t: usize) -> Vec<f64> {
    // Ranges along a deterministic path (the data need not come from the model).
    (0..t)
        .map(|k| 3.0 + (k as f64 * 0.3).sin() + 0.05 * k as f64)
        .collect()
}

fn beacon_run(theta: &[f64; 2], c: &DiffConfig<f64>, seed: u64) -> BeaconRun {
    let (n, d, p) = (24, 2, 2);
    let mut rng = SplitMix64::new(seed);
    let mut x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
    let mut logw = vec![0.0; n];
    uniform_log_weights(&mut logw);
    let mut tangent = vec![0.0; tangent_len(n, d, p)];
    let mut ws = vec![0.0; diff_workspace_len(n, d, p, 2)];
    let (mut totals, mut dll) = (Totals::default(), [0.0; 2]);
    let (mut mean, mut dmean) = ([0.0; 2], [0.0; 4]);
    let mut out = BeaconRun {
        loglik: vec![],
        dloglik: vec![],
        mean: vec![],
        dmean: vec![],
    };
    let mut model = Beacon {
        y: 0.0,
        ..Beacon::default()
    };
    for y in beacon_observations(25) {
        model.y = y;
        diff_step(
            &mut model,
            theta,
            d,
            c,
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
        .unwrap();
        out.loglik.push(totals.log_likelihood);
        out.dloglik.push(dll);
        out.mean.push(mean);
        out.dmean.push(dmean);
    }
    out
}

#[test]
fn nonlinear_2d_gradient_equals_finite_differences() {
    let theta = [0.4, 0.2];
    let h = 1e-6;
    let mut worst = 0.0f64;
    for trigger in [Trigger::Ess(0.5), Trigger::Always] {
        let c = cfg(Scheme::Systematic, trigger, Gradient::Detach);
        let base = beacon_run(&theta, &c, 3);
        for j in 0..2 {
            let (up, dn) = central(&theta, j, h, |t| beacon_run(t, &c, 3));
            for t in 0..base.loglik.len() {
                let fd = (up.loglik[t] - dn.loglik[t]) / (2.0 * h);
                let g = base.dloglik[t][j];
                worst = worst.max((fd - g).abs() / fd.abs().max(0.1));
                // As in the 1-D test: rounding ~1e-15·|ℓ̂|/h with |ℓ̂| ≤ 100.
                assert!(
                    (fd - g).abs() <= 1e-6 * fd.abs().max(0.1),
                    "{trigger:?} step {t} θ_{j}: {g} vs FD {fd}"
                );
                for k in 0..2 {
                    let fdm = (up.mean[t][k] - dn.mean[t][k]) / (2.0 * h);
                    let gm = base.dmean[t][k * 2 + j];
                    assert!(
                        (fdm - gm).abs() <= 1e-6 * fdm.abs().max(0.1),
                        "{trigger:?} step {t} mean_{k} θ_{j}: {gm} vs FD {fdm}"
                    );
                }
            }
        }
    }
    eprintln!("2-D: largest relative difference of ∂ℓ̂ from central differences {worst:.1e}");
}

#[test]
fn stop_gradient_is_detach_until_the_first_resampling_and_replays() {
    let ys = simulate(&THETA, 15, 2);
    let never_d = run(
        &THETA,
        &ys,
        20,
        &cfg(Scheme::Systematic, Trigger::Never, Gradient::Detach),
        9,
    );
    let never_s = run(
        &THETA,
        &ys,
        20,
        &cfg(Scheme::Systematic, Trigger::Never, Gradient::StopGradient),
        9,
    );
    assert_eq!(never_d.dloglik, never_s.dloglik);
    let c = cfg(Scheme::Systematic, Trigger::Always, Gradient::StopGradient);
    let a = run(&THETA, &ys, 20, &c, 9);
    let b = run(&THETA, &ys, 20, &c, 9);
    assert_eq!(a.dloglik, b.dloglik, "same seed, same run");
    let det = run(
        &THETA,
        &ys,
        20,
        &cfg(Scheme::Systematic, Trigger::Always, Gradient::Detach),
        9,
    );
    // Same values (the correction changes gradients only), same first step (nothing
    // resampled before it), different gradients afterwards.
    assert_eq!(a.loglik, det.loglik);
    assert_eq!(a.dloglik[0], det.dloglik[0]);
    assert_ne!(a.dloglik[5], det.dloglik[5]);
}

/// Fisher's identity without resampling: each particle's α is the sum of
/// ∇_θ log f + ∇_θ log g along its own path, and the score mode's ∇ℓ̂ is Σ_i W_i α_i,
/// recomputed here from the same normals (the library draws N initial normals one at a
/// time, then N per step as one `fill_normal` block, from the stream).
#[test]
fn score_without_resampling_is_the_weighted_path_score() {
    let (n, t) = (16, 12);
    let ys = simulate(&THETA, t, 4);
    let got = run(
        &THETA,
        &ys,
        n,
        &cfg(Scheme::Systematic, Trigger::Never, Gradient::Score),
        8,
    );
    let [a, s, c] = THETA;
    let r2 = otcore_tests::dpf::OBS_STD.powi(2);
    let mut rng = SplitMix64::new(8);
    let mut x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let mut alpha = vec![[0.0f64; 3]; n];
    let mut logw = vec![0.0f64; n];
    let mut xis = vec![0.0f64; n];
    for &y in &ys {
        rng.fill_normal(&mut xis);
        for i in 0..n {
            let xi = xis[i];
            let xn = a * x[i] + s * xi;
            let e = xn - a * x[i];
            let eo = (y - xn - c) / r2;
            alpha[i][0] += e * x[i] / (s * s);
            alpha[i][1] += e * e / (s * s * s) - 1.0 / s;
            alpha[i][2] += eo;
            logw[i] += -0.5 * (y - xn - c) * (y - xn - c) / r2;
            x[i] = xn;
        }
    }
    let m = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = logw.iter().map(|l| (l - m).exp()).sum();
    for j in 0..3 {
        let want: f64 = (0..n).map(|i| (logw[i] - m).exp() / z * alpha[i][j]).sum();
        let g = got.dloglik[t - 1][j];
        // The same sums in another order: rounding only.
        assert!(
            (g - want).abs() <= 1e-10 * want.abs().max(1.0),
            "θ_{j}: {g} vs {want}"
        );
    }
}

/// Against the truth: the exact gradient of the Kalman log-likelihood, T = 20, 200
/// seeds per N, systematic resampling at every step.
///
/// - Ścibior–Wood: p̂·∇ℓ̂ is unbiased for ∇p, so the seed mean of (p̂/p)·∇ℓ̂ (p the
///   exact likelihood) estimates ∇ℓ without bias: asserted within 3 standard errors.
/// - The plain means of ∇ℓ̂ (both forms) are ratio estimators, biased O(1/N); the
///   detach form also drops the resampling's score term. Both are printed
///   (`cargo test -p otcore-tests --test suite pf_diff:: -- --nocapture`); the table with more
///   seeds is `cargo run --release -p otcore-tests --example dpf_gradient_table`.
#[test]
fn stop_gradient_is_unbiased_against_kalman() {
    let t = 20;
    let ys = simulate(&THETA, t, 1);
    let (ll, g) = kalman(&THETA, &ys);
    eprintln!("Kalman ∇ℓ = {g:?}");
    for n in [25, 50, 100] {
        let (mut det, mut sw, mut weighted, mut ratio) =
            (vec![vec![]; 3], vec![vec![]; 3], vec![vec![]; 3], vec![]);
        let mut fisher = vec![vec![]; 3];
        for seed in 0..200 {
            let d = run(
                &THETA,
                &ys,
                n,
                &cfg(Scheme::Systematic, Trigger::Always, Gradient::Detach),
                seed,
            );
            let s = run(
                &THETA,
                &ys,
                n,
                &cfg(Scheme::Systematic, Trigger::Always, Gradient::StopGradient),
                seed,
            );
            let f = run(
                &THETA,
                &ys,
                n,
                &cfg(Scheme::Systematic, Trigger::Always, Gradient::Score),
                seed,
            );
            let w = (s.loglik[t - 1] - ll).exp();
            ratio.push(w);
            for j in 0..3 {
                fisher[j].push(w * f.dloglik[t - 1][j]);
            }
            for j in 0..3 {
                det[j].push(d.dloglik[t - 1][j]);
                sw[j].push(s.dloglik[t - 1][j]);
                weighted[j].push(w * s.dloglik[t - 1][j]);
            }
        }
        let (rm, rse) = mean_se(&ratio);
        // p̂/p is unbiased for 1 (a sanity check of the likelihood estimate itself).
        assert!(
            (rm - 1.0).abs() <= 3.0 * rse,
            "N = {n}: E[p̂/p] = {rm} ± {rse}"
        );
        for j in 0..3 {
            let (dm, dse) = mean_se(&det[j]);
            let (sm, sse) = mean_se(&sw[j]);
            let (wm, wse) = mean_se(&weighted[j]);
            eprintln!(
                "N = {n:3} θ_{j}: detach {:+.4} ± {dse:.4}, stop-gradient {:+.4} ± {sse:.4}, \
                 p̂-weighted stop-gradient {:+.4} ± {wse:.4} (bias ± s.e.)",
                dm - g[j],
                sm - g[j],
                wm - g[j],
            );
            let (fm, fse) = mean_se(&fisher[j]);
            eprintln!(
                "N = {n:3} θ_{j}: p̂-weighted Fisher score {:+.4} ± {fse:.4}",
                fm - g[j]
            );
            assert!(
                (fm - g[j]).abs() <= 3.0 * fse,
                "N = {n} θ_{j}: E[(p̂/p)·Fisher] = {fm} ± {fse}, Kalman {}",
                g[j]
            );
            assert!(
                (wm - g[j]).abs() <= 3.0 * wse,
                "N = {n} θ_{j}: E[(p̂/p)∇ℓ̂] = {wm} ± {wse}, Kalman {}",
                g[j]
            );
        }
    }
}

#[test]
fn bad_input_changes_nothing() {
    let (n, d, p) = (8, 2, 2);
    let theta = [0.4, 0.2];
    let c = cfg(Scheme::Systematic, Trigger::Always, Gradient::StopGradient);
    let mut rng = SplitMix64::new(4);
    let mut x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
    let mut logw = vec![0.0; n];
    uniform_log_weights(&mut logw);
    let mut tangent: Vec<f64> = (0..tangent_len(n, d, p)).map(|i| 0.01 * i as f64).collect();
    let ws_len = diff_workspace_len(n, d, p, 2);
    let (totals0, dll0) = (Totals::default(), [0.5, -0.5]);
    let mut model = Beacon {
        y: 3.0,
        ..Beacon::default()
    };
    // Each case: (what to break, expected error).
    type Case = (&'static str, Error);
    let cases: [Case; 8] = [
        ("p0", Error::EmptyInput),
        ("tangent", Error::LengthMismatch),
        ("dmean", Error::LengthMismatch),
        ("ws", Error::WorkspaceTooSmall),
        ("fail", Error::CallbackFailed),
        ("poison", Error::NonFinite),
        ("theta", Error::NonFiniteInput),
        ("threshold", Error::InvalidParameter),
    ];
    let (x0, l0, t0, r0) = (x.clone(), logw.clone(), tangent.clone(), rng);
    for (what, want) in cases {
        model.fail = what == "fail";
        model.poison = what == "poison";
        let th: &[f64] = match what {
            "p0" => &[],
            "theta" => &[f64::NAN, 0.2],
            _ => &theta,
        };
        let mut c2 = c;
        if what == "threshold" {
            c2.trigger = Trigger::Ess(1.5);
        }
        let tl = if what == "tangent" {
            tangent.len() - 1
        } else {
            tangent.len()
        };
        let dml = if what == "dmean" { 3 } else { d * p };
        let wl = if what == "ws" { ws_len - 1 } else { ws_len };
        let mut ws = vec![0.0; wl];
        let (mut totals, mut dll) = (totals0, dll0);
        let (mut mean, mut dmean) = ([7.0; 2], vec![7.0; dml]);
        let got = diff_step(
            &mut model,
            th,
            d,
            &c2,
            &mut rng,
            &mut x,
            &mut logw,
            &mut tangent[..tl],
            &mut totals,
            &mut dll,
            &mut mean,
            &mut dmean,
            &mut ws,
        );
        assert_eq!(got.err(), Some(want), "{what}");
        assert_eq!(
            (&x, &logw, &tangent, rng),
            (&x0, &l0, &t0, r0),
            "{what}: state changed"
        );
        assert_eq!(
            (totals, dll, mean),
            (totals0, dll0, [7.0; 2]),
            "{what}: outputs written"
        );
        assert!(dmean.iter().all(|&v| v == 7.0), "{what}: dmean written");
    }
    // And a good call goes through and moves the RNG.
    model.fail = false;
    model.poison = false;
    let mut ws = vec![0.0; ws_len];
    let (mut totals, mut dll, mut mean, mut dmean) = (totals0, dll0, [0.0; 2], [0.0; 4]);
    diff_step(
        &mut model,
        &theta,
        d,
        &c,
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
    .unwrap();
    assert_ne!(rng, r0);
    assert_eq!(totals.steps, 1);
}
