//! Issue 24: valid or extreme inputs on which a success status came with non-finite or
//! wrong outputs, or a valid problem was refused. Each case was found by fuzzing the
//! C ABI (the same core calls are made here); the inputs are those of the report or
//! found by a search on the same commit.

use otcore::ot::{self, Config, Epsilon, Init, Problem, Status};
use otcore::pf::{
    cluster_table_len, cluster_workspace_len, filter_workspace_len, largest_cluster, ot_resample,
    ot_resample_state, ot_resample_vjp, ot_state_workspace_len, ot_workspace_len, state_moments,
    step, vjp_workspace_len, Coord, FilterConfig, OtConfig, Resampler, Scheme, SplitMix64, Totals,
    Trigger, Vjp,
};
use otcore::sde::flow::FlowSpacing;
use otcore::sde::{self, Method, Model, Multistep, Output, Process};
use otcore::{Error, Real};
use otcore_tests::{cast, Rng};

/// Weights w_j = exp(logw_j)/Σ exp(logw) in f64.
fn weights(logw: &[f64]) -> Vec<f64> {
    let m = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = logw.iter().map(|l| (l - m).exp()).sum();
    logw.iter().map(|l| (l - m).exp() / s).collect()
}

/// Per coordinate: (min, max, weighted mean, max |x_j − unweighted mean|), in f64.
fn coordinate_stats<T: Real>(x: &[T], w: &[f64], d: usize, k: usize) -> (f64, f64, f64, f64) {
    let col: Vec<f64> = x.iter().skip(k).step_by(d).map(|v| v.to_f64()).collect();
    let lo = col.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = col.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let wmean = col.iter().zip(w).map(|(v, w)| v * w).sum();
    let m = col.iter().map(|v| v / col.len() as f64).sum::<f64>();
    let r = col.iter().map(|v| (v - m).abs()).fold(0.0, f64::max);
    (lo, hi, wmean, r)
}

/// f32 clouds whose moments overflow f32 (the report's two inputs, as N = 4, d = 1
/// and N = 2, d = 2): the map is scale-equivariant, so the answer is finite, and it
/// must be the one of the same cloud scaled down by a power of two.
#[test]
fn ot_resample_f32_cloud_at_the_top_of_the_range() {
    let clouds: [[f32; 4]; 2] = [[f32::MAX, -0.0, 1e-20, 1e-20], [1e20, 0.0, -1e20, 2e20]];
    for x in clouds {
        for d in [1, 2] {
            let n = 4 / d;
            let logw = vec![0.0f32; n];
            let cfg = OtConfig::new(0.5f32);
            let mut ws = vec![0.0f32; ot_workspace_len(n, d)];
            let mut out = vec![0.0f32; 4];
            let r = ot_resample(&x, &logw, d, &cfg, &mut out, &mut ws);
            assert!(r.is_ok(), "{x:?} d = {d}: {r:?}");
            // The same cloud scaled by 2^−100 (exact in f32; 1e-20 underflows in both
            // computations alike).
            let s = f32::from_bits((127 - 100) << 23); // 2^-100, exactly
            let xs: Vec<f32> = x.iter().map(|v| v * s).collect();
            let mut outs = vec![0.0f32; 4];
            ot_resample(&xs, &logw, d, &cfg, &mut outs, &mut ws).unwrap();
            let w = vec![1.0 / n as f64; n];
            let widest = (0..d)
                .map(|k| {
                    let (lo, hi, _, _) = coordinate_stats(&x, &w, d, k);
                    hi - lo
                })
                .fold(0.0, f64::max);
            for k in 0..d {
                let (lo, hi, wmean, _) = coordinate_stats(&x, &w, d, k);
                let width = hi - lo;
                let mut mean = 0.0;
                for i in 0..n {
                    let (v, vs) = (out[i * d + k] as f64, outs[i * d + k] as f64);
                    assert!(v.is_finite(), "{x:?} d = {d}: {out:?}");
                    // Identical arithmetic up to the power-of-two scaling (and the
                    // 1e-20 that underflow once scaled): equal to a few f32 roundings
                    // of the widest coordinate (4 × 2^-24 ≈ 2.4e-7).
                    let back = vs / s as f64;
                    assert!((v - back).abs() <= 2.4e-7 * widest, "{v} vs {back}");
                    // Inside the inputs' range (rows of T sum to 1 within the error).
                    let tol = 1e-6 * width;
                    assert!(v >= lo - tol && v <= hi + tol, "{v} outside [{lo}, {hi}]");
                    mean += v / n as f64;
                }
                // Weighted mean preserved to f32 rounding of N terms of the width.
                assert!((mean - wmean).abs() <= 1e-6 * width, "{mean} vs {wmean}");
            }
        }
    }
}

/// Runs f64 OT resampling into a canary-filled buffer; on error the buffer must be
/// untouched, on success finite with the weighted mean preserved to `tol` of the
/// width.
fn resample_f64_checked(
    x: &[f64],
    logw: &[f64],
    d: usize,
    cfg: &OtConfig<f64>,
    tol: f64,
) -> Option<Vec<f64>> {
    let n = logw.len();
    let mut ws = vec![0.0; ot_workspace_len(n, d)];
    let canary = -1234.5;
    let mut out = vec![canary; x.len()];
    match ot_resample(x, logw, d, cfg, &mut out, &mut ws) {
        Err(_) => {
            assert!(
                out.iter().all(|&v| v.to_bits() == canary.to_bits()),
                "{out:?}"
            );
            None
        }
        Ok(_) => {
            let w = weights(logw);
            for k in 0..d {
                let (lo, hi, wmean, _) = coordinate_stats(x, &w, d, k);
                let mean: f64 = out.iter().skip(k).step_by(d).sum::<f64>() / n as f64;
                assert!(out.iter().all(|v| v.is_finite()), "{out:?}");
                assert!((mean - wmean).abs() <= tol * (hi - lo), "{mean} vs {wmean}");
            }
            Some(out)
        }
    }
}

/// ε = 1e-45 and 1e-20 (N = 2): the potentials' exponents (|a|/ε up to 1e46) are far
/// beyond the precision, which returned ±∞ particles or a weighted mean off by 7 with
/// success. Either refused with the outputs untouched or correct.
#[test]
fn ot_resample_f64_epsilon_below_the_precision() {
    let cases: [([f64; 4], [f64; 2], f64); 2] = [
        ([9.0, 2.5, 9.25, -8.75], [-1.0, -0.75], 1e-45),
        ([8.25, -12.5, 18.5, -8.0], [1.75, 2.5], 1e-20),
    ];
    for (x, logw, eps) in cases {
        // Were it accepted, the mean must hold to f64 sums of N terms (1e-12).
        let r = resample_f64_checked(&x, &logw, 2, &OtConfig::new(eps), 1e-12);
        assert!(r.is_none(), "ε = {eps}: accepted as {r:?}");
        // Refused with the documented status.
        let mut ws = vec![0.0; ot_workspace_len(2, 2)];
        let mut out = [0.0; 4];
        let e = ot_resample(&x, &logw, 2, &OtConfig::new(eps), &mut out, &mut ws);
        assert_eq!(e, Err(Error::InvalidEpsilon), "ε = {eps}");
    }
}

/// N = 32 at ε = 1e-3 (a cloud found by the search): particles 85 % of the box width
/// outside the inputs with success. The report's `error` bounds the row error, so every
/// particle is within error·max|x_j − m| of the inputs' range; the mean stays exact.
#[test]
fn ot_resample_small_epsilon_reports_its_row_error() {
    let mut rng = Rng::new(77);
    for _ in 0..6 {
        rng.normal();
    }
    let (n, d) = (32, 2);
    let x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
    let logw: Vec<f64> = (0..n).map(|_| rng.normal() * 2.0).collect();
    let w = weights(&logw);
    let mut worst_outside = 0.0f64;
    for eps in [1e-3, 1e-5, 1e-7, 1e-10] {
        let cfg = OtConfig::new(eps);
        let mut ws = vec![0.0; ot_workspace_len(n, d)];
        let mut out = vec![0.0; n * d];
        let rep = ot_resample(&x, &logw, d, &cfg, &mut out, &mut ws).unwrap();
        // Column sums carry the rounding of exponents of size max C/ε ≈ 10/ε (normalised
        // costs of this cloud are below 10): relative 4·(10/ε)·2^-53 ≤ 5e-5 at ε = 1e-10.
        let tol = 4.0 * (10.0 / eps) * f64::EPSILON / 2.0 + 1e-12;
        resample_f64_checked(&x, &logw, d, &cfg, tol).unwrap();
        for k in 0..d {
            let (lo, hi, _, r) = coordinate_stats(&x, &w, d, k);
            for v in out.iter().skip(k).step_by(d) {
                let outside = (lo - v).max(v - hi).max(0.0);
                worst_outside = worst_outside.max(outside / (hi - lo));
                // f64 rounding of the transport: 1e-12 of the spread.
                assert!(
                    outside <= rep.error * r + 1e-12 * r,
                    "ε = {eps}: {v} is {outside} outside [{lo}, {hi}], error {}",
                    rep.error
                );
            }
        }
    }
    // The case is the one of the report: far outside, not a rounding.
    assert!(worst_outside > 0.5, "{worst_outside}");
}

/// OT resampling that runs out of iterations says so (it reported success).
#[test]
fn ot_resample_out_of_iterations_is_reported() {
    let mut rng = Rng::new(5);
    let (n, d) = (16, 2);
    let x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
    let logw: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let mut ws = vec![0.0; ot_workspace_len(n, d)];
    let mut out = vec![0.0; n * d];
    let mut cfg = OtConfig::new(0.01);
    cfg.max_iterations = 3;
    let rep = ot_resample(&x, &logw, d, &cfg, &mut out, &mut ws).unwrap();
    assert_eq!(rep.status, Status::MaxIterations);
    assert_eq!(rep.iterations, 3);
    cfg.max_iterations = 1000;
    let rep = ot_resample(&x, &logw, d, &cfg, &mut out, &mut ws).unwrap();
    assert_eq!(rep.status, Status::Converged);
}

/// The f64 VJP with scale = DBL_MIN returned success and dx = NaN: the normalised
/// cloud (x − m)/DBL_MIN overflows, which is a scale out of range.
#[test]
fn vjp_with_a_scale_that_overflows_the_cloud() {
    let x = [0.5f64, -1.0, 2.0, 0.25, -0.75, 1.5];
    let logw = [0.0f64, -0.5, 0.3];
    let ybar = [1.0f64; 6];
    let mut cfg = OtConfig::new(0.5);
    cfg.scale = f64::MIN_POSITIVE;
    let mut ws = vec![0.0; vjp_workspace_len(3, 2)];
    let (mut dx, mut dl) = ([7.0f64; 6], [7.0f64; 3]);
    for vjp in [
        Vjp::Filterflow { clip: 1.0 },
        Vjp::Implicit {
            cg_tolerance: 1e-10,
            cg_max_iterations: 200,
        },
    ] {
        let r = ot_resample_vjp(&x, &logw, 2, &cfg, &vjp, &ybar, &mut dx, &mut dl, &mut ws);
        assert_eq!(r.map(|_| ()), Err(Error::InvalidParameter), "{vjp:?}");
        assert!(dx.iter().chain(&dl).all(|&v| v == 7.0));
    }
}

/// A filter step whose predict writes `to` (N×d) and whose log-likelihoods are `lam`.
#[allow(clippy::too_many_arguments)]
fn filter_step<T: Real>(
    resampler: Resampler<T>,
    to: &[T],
    lam: &[T],
    x: &mut [T],
    logw: &mut [T],
    totals: &mut Totals<T>,
    mean: &mut [T],
    cov: &mut [T],
) -> Result<(), Error> {
    let (n, d) = (logw.len(), mean.len());
    let cfg = FilterConfig {
        resampler,
        trigger: Trigger::Always,
    };
    let optimal = matches!(resampler, Resampler::Optimal(_));
    let mut ws = vec![T::ZERO; filter_workspace_len(n, d, optimal)];
    let mut rng = SplitMix64::new(1);
    step(
        x,
        logw,
        d,
        &cfg,
        totals,
        &mut rng,
        |_, next: &mut [T], _| {
            next.copy_from_slice(to);
            Ok(())
        },
        |_, out: &mut [T]| {
            out.copy_from_slice(lam);
            Ok(())
        },
        mean,
        cov,
        &mut ws,
    )
    .map(|_| ())
}

/// State of a filter (particles, weights, totals, moments) as bits, to compare.
fn bits<T: Real>(parts: [&[T]; 4], totals: &Totals<T>) -> Vec<u64> {
    let mut v: Vec<u64> = parts
        .iter()
        .flat_map(|p| p.iter().map(|x| x.to_f64().to_bits()))
        .collect();
    v.extend([
        totals.log_likelihood.to_f64().to_bits(),
        totals.steps,
        totals.resamples,
    ]);
    v
}

/// Filter steps with OT resampling on particles at the top of the f64 range (NaN
/// particles with success), and an f32 particle at 3e38 (covariance +∞ with success):
/// a cloud whose covariance is representable is resampled exactly; one whose
/// covariance is not (in the arithmetic the moments use) is refused with nothing
/// changed.
#[test]
fn filter_step_near_the_top_of_the_range() {
    let ot = Resampler::Optimal(OtConfig::new(0.5));
    // A cloud at 1e150 spread over 3e140: mean and covariance (≈ 1e280) representable,
    // the OT map (whose moments overflow without the rescaling) exact.
    let to = [1e150f64, 1e150 + 1e140, 1e150 - 2e140, 1e150 + 3e140];
    let (mut x, mut logw, mut totals) = ([0.0f64; 4], [-(4f64.ln()); 4], Totals::default());
    let (mut mean, mut cov) = ([0.0f64; 1], [0.0f64; 1]);
    filter_step(
        ot,
        &to,
        &[0.0; 4],
        &mut x,
        &mut logw,
        &mut totals,
        &mut mean,
        &mut cov,
    )
    .unwrap();
    let want_mean = to.iter().sum::<f64>() / 4.0;
    // f64 sums of 4 terms: 1e-15 of the magnitude.
    assert!((mean[0] - want_mean).abs() <= 1e-15 * 1e150, "{mean:?}");
    assert!(cov[0].is_finite() && cov[0] > 0.0, "{cov:?}");
    for v in x {
        assert!(
            v.is_finite() && v >= to[2] - 1e135 && v <= to[3] + 1e135,
            "{x:?}"
        );
    }
    // Particles at 1.7e308: the rounding of the mean alone (1 ulp ≈ 2e292) squares
    // beyond the range, so the covariance is not representable even when they
    // coincide; spread over the whole range, not at all (≈ 1e616).
    let cases: [(Resampler<f64>, Vec<f64>); 3] = [
        (ot, vec![1.7e308; 4]),
        (ot, vec![1.7e308, -1.7e308, 1e308, 0.0]),
        (
            Resampler::Classical(Scheme::Systematic),
            vec![1.7e308, -1.7e308, 1e308, 0.0],
        ),
    ];
    for (res, to) in cases {
        let (mut x, mut logw, mut totals) = ([1.0f64; 4], [-(4f64.ln()); 4], Totals::default());
        let (mut mean, mut cov) = ([2.0f64; 1], [3.0f64; 1]);
        let before = bits([&x, &logw, &mean, &cov], &totals);
        let r = filter_step(
            res,
            &to,
            &[0.0; 4],
            &mut x,
            &mut logw,
            &mut totals,
            &mut mean,
            &mut cov,
        );
        assert_eq!(r, Err(Error::NonFinite));
        assert_eq!(bits([&x, &logw, &mean, &cov], &totals), before);
    }
    // f32: one particle at 3e38 among particles near 0 (d = 2).
    for res in [
        Resampler::Optimal(OtConfig::new(0.5f32)),
        Resampler::Classical(Scheme::Systematic),
    ] {
        let to = [3e38f32, 0.0, 0.5, 1.0, -0.5, 0.25];
        let (mut x, mut logw, mut totals) = ([1.0f32; 6], [-(3f32.ln()); 3], Totals::default());
        let (mut mean, mut cov) = ([2.0f32; 2], [3.0f32; 4]);
        let before = bits([&x, &logw, &mean, &cov], &totals);
        let r = filter_step(
            res,
            &to,
            &[0.0; 3],
            &mut x,
            &mut logw,
            &mut totals,
            &mut mean,
            &mut cov,
        );
        assert_eq!(r, Err(Error::NonFinite), "{res:?}");
        assert_eq!(bits([&x, &logw, &mean, &cov], &totals), before);
    }
}

/// f32 log-likelihood increments of −3e38 drove the running log-likelihood to −∞
/// with success: the second step must be refused with nothing changed.
#[test]
fn filter_running_log_likelihood_beyond_the_range() {
    let res = Resampler::Classical(Scheme::Systematic);
    let to = [0.5f32, 1.5];
    let lam = [-3e38f32; 2];
    let (mut x, mut logw, mut totals) = ([0.0f32; 2], [-(2f32.ln()); 2], Totals::default());
    let (mut mean, mut cov) = ([0.0f32; 1], [0.0f32; 1]);
    filter_step(
        res,
        &to,
        &lam,
        &mut x,
        &mut logw,
        &mut totals,
        &mut mean,
        &mut cov,
    )
    .unwrap();
    assert_eq!(totals.log_likelihood, -3e38);
    let before = bits([&x, &logw, &mean, &cov], &totals);
    let r = filter_step(
        res,
        &to,
        &lam,
        &mut x,
        &mut logw,
        &mut totals,
        &mut mean,
        &mut cov,
    );
    assert_eq!(r, Err(Error::NonFinite));
    assert_eq!(bits([&x, &logw, &mean, &cov], &totals), before);
}

/// A denoiser that always answers x̂₀ = 0.
struct ZeroDenoiser;

impl Model<f32> for ZeroDenoiser {
    fn output(&self) -> Output {
        Output::Denoised
    }
    fn eval(&mut self, _x: &[f32], _t: &[f32], out: &mut [f32]) -> Result<(), Error> {
        out.fill(0.0);
        Ok(())
    }
}

/// DPM-Solver++(2M) stepping to t_next = 1e-38 under the cosine schedule (where
/// s(t_next) rounds to 0, Δλ = ∞) stored h_prev = +∞ with success, which the next
/// step refuses; and on a step with Δλ = 0 (VE near t = 0) h_prev = 0. Neither is a
/// usable history: it must be cleared.
#[test]
fn dpm_solver_history_after_a_step_to_zero_noise() {
    let cases = [
        (Process::VpCosine { offset: 0.008 }, 0.5f32),
        (
            Process::Ve {
                sigma_min: 0.01,
                sigma_max: 50.0,
            },
            1e-30,
        ),
    ];
    for (p, t) in cases {
        let mut x = [0.3f32, -0.2];
        let mut prev = [0.1f32, 0.1];
        let mut hist = Multistep {
            denoised: &mut prev,
            h_prev: Some(1.0),
        };
        let mut ws = vec![0.0f32; sde::workspace_len(1, 2)];
        let cfg = sde::Config::new(Method::DpmSolverPp2M);
        sde::step(
            &p,
            &cfg,
            &mut ZeroDenoiser,
            &mut x,
            2,
            t,
            1e-38,
            0,
            1,
            0,
            Some(&mut hist),
            &mut ws,
        )
        .unwrap();
        assert!(x.iter().all(|v| v.is_finite()));
        assert_eq!(hist.h_prev, None, "{p:?}");
    }
}

/// Unbalanced Sinkhorn, ε = 0.1 absolute, ρ = 1e-3 (and 1e-4), masses 1 and 10 or 1
/// and 1000 (20 and 30 points): f32 refused every case with NonFinite, f64 the
/// 1 vs 1000, ρ = 1e-4 one. The potentials are ordinary; only OTT's `reg_ot_cost`,
/// whose relaxed term contains w^{ε/ρ} (≈ 33^100 here), leaves the range.
#[test]
fn unbalanced_sinkhorn_with_unequal_masses() {
    for (mb, rho) in [(10.0, 1e-3), (1000.0, 1e-3), (1000.0, 1e-4)] {
        let r64 = unbalanced::<f64>(1.0, mb, rho);
        let r32 = unbalanced::<f32>(1.0, mb, rho);
        let (s64, f64_, g64) = r64;
        let (s32, f32_, g32) = r32;
        for (s, name) in [(&s64, "f64"), (&s32, "f32")] {
            assert!(s.error.is_finite() && s.transport_cost.is_finite() && s.plan_mass.is_finite());
            // Converged to the default tolerance (1e-7 f64, 1e-4 f32 of the mass).
            assert!(
                s.error <= if name == "f64" { 1e-7 } else { 1e-4 } * (1.0 + mb),
                "{name}: {s:?}"
            );
            match s.status {
                Status::Converged => assert!(s.reg_ot_cost.is_finite()),
                Status::RegCostOverflow => assert_eq!(s.reg_ot_cost, f64::NEG_INFINITY),
                Status::MaxIterations => panic!("{name}: {s:?}"),
            }
        }
        // The f32 potentials are those of f64 to f32 accuracy: potentials are O(ρ·10)
        // cost units, their f32 rounding after a few iterations ≈ 1e-6 of the largest.
        let scale = f64_.iter().chain(&g64).fold(0.0f64, |a, v| a.max(v.abs()));
        for (a, b) in f64_.iter().chain(&g64).zip(f32_.iter().chain(&g32)) {
            assert!((a - b).abs() <= 1e-4 * scale.max(1e-3), "{a} vs {b}");
        }
        // In f64 only the ρ = 1e-4, 1:1000 case is beyond the range of reg_ot_cost.
        assert_eq!(s64.status == Status::RegCostOverflow, rho < 1e-3, "{s64:?}");
    }
}

/// Solves the unbalanced problem in `T`; returns the solution (values in f64) and the
/// potentials.
fn unbalanced<T: Real>(ma: f64, mb: f64, rho: f64) -> (ot::Solution<f64>, Vec<f64>, Vec<f64>) {
    let (n, m) = (20, 30);
    let mut rng = Rng::new(3);
    let x = cast::<T>(&rng.normals(n * 2, 0.0, 1.0));
    let y = cast::<T>(&rng.normals(m * 2, 0.5, 1.0));
    let a = vec![T::from_f64(ma / n as f64); n];
    let b = vec![T::from_f64(mb / m as f64); m];
    let p = Problem::point_clouds(&x, &y, 2, T::ONE, &a, &b);
    let cfg = Config {
        epsilon: Epsilon::Absolute(T::from_f64(0.1)),
        rho_a: T::from_f64(rho),
        rho_b: T::from_f64(rho),
        ..Config::default()
    };
    let mut ws = vec![T::ZERO; ot::workspace_len(n, m, 2)];
    let (mut f, mut g) = (vec![T::ZERO; n], vec![T::ZERO; m]);
    let s = ot::solve(&p, &cfg, Init::Zero, &mut f, &mut g, &mut ws)
        .unwrap_or_else(|e| panic!("{}: {e:?}", core::any::type_name::<T>()));
    let to = |v: &[T]| v.iter().map(|x| x.to_f64()).collect::<Vec<_>>();
    let sol = ot::Solution {
        status: s.status,
        iterations: s.iterations,
        error: s.error.to_f64(),
        epsilon: s.epsilon.to_f64(),
        reg_ot_cost: s.reg_ot_cost.to_f64(),
        transport_cost: s.transport_cost.to_f64(),
        plan_mass: s.plan_mass.to_f64(),
    };
    (sol, to(&f), to(&g))
}

/// A weight of f64::MAX (finite, so a valid input) with a relaxed column side: the plan's
/// mass leaves the range, and the solve returned a NaN `plan_mass` with a success
/// status (found by `scripts/fuzz.sh short` in CI). A total that is not finite must be
/// an error, with f and g untouched.
#[test]
fn sinkhorn_plan_mass_beyond_the_range() {
    let (x, y) = ([0.0f64], [0.0f64, 0.0]);
    let (a, b) = ([f64::MAX], [2.6875, 6.125]);
    let p = Problem::point_clouds(&x, &y, 1, 1.0, &a, &b);
    let cfg = Config {
        epsilon: Epsilon::RelativeToMeanCost(7.375),
        rho_a: f64::INFINITY,
        rho_b: 6.125,
        max_iterations: 54,
        ..Config::default()
    };
    let mut ws = vec![0.0; ot::workspace_len(1, 2, 1)];
    let (mut f, mut g) = ([7.375], [2.6875, 6.125]);
    let r = ot::solve(&p, &cfg, Init::Resume, &mut f, &mut g, &mut ws);
    match r {
        Ok(s) => assert!(
            s.plan_mass.is_finite() && s.error.is_finite() && s.transport_cost.is_finite(),
            "{s:?}"
        ),
        Err(e) => {
            assert_eq!(e, Error::NonFinite);
            assert_eq!((f, g), ([7.375], [2.6875, 6.125]), "f, g changed on error");
        }
    }
}

/// Found by the `mcl` fuzz target: six equally weighted particles in one cluster have
/// a weight that rounds to 1 + 2^−52, where the header promises (0, 1].
#[test]
fn largest_cluster_weight_at_most_one() {
    let (x, logw) = ([0.0f64; 6], [0.0f64; 6]);
    let coords = [Coord::periodic(core::f64::consts::TAU, 0.5)];
    let mut table = vec![0u64; cluster_table_len(6)];
    let mut ws = vec![0.0; cluster_workspace_len(6)];
    let (mut m, mut c) = ([0.0; 1], [0.0; 1]);
    let (w, clusters) =
        largest_cluster(&x, &logw, &coords, &mut table, &mut ws, &mut m, &mut c).unwrap();
    assert_eq!(clusters, 1);
    assert!(w > 0.0 && w <= 1.0, "weight {w}");
}

/// Found by the `mcl` fuzz target: an angle of 1.7e308 (whose wrapped residual is
/// not representable) makes the moments refuse with `NonFinite`, and the mean was
/// written before that check; nothing may change on an error.
#[test]
fn state_moments_write_nothing_on_error() {
    let mut x = [0.0f64; 9];
    x[0] = 1.7e308;
    x[1] = f64::from_bits(0xff_ffff);
    let logw = [0.0f64; 9];
    let coords = [Coord::periodic(core::f64::consts::TAU, 0.5)];
    let (mut m, mut c) = ([7.0; 1], [7.0; 1]);
    assert_eq!(
        state_moments(&x, &logw, &coords, &mut m, &mut c),
        Err(Error::NonFinite)
    );
    assert_eq!((m, c), ([7.0], [7.0]));
}

/// Found by the `mcl` fuzz target: two periodic coordinates of period f64::MAX with
/// particles near it. The residual x − μ overflowed to ∞, its wrap was NaN, and the
/// moments returned OK with a NaN covariance. Now either finite moments or
/// `NonFinite` with nothing written.
#[test]
fn state_moments_periodic_near_the_top_of_the_range() {
    let big = f64::MAX;
    let x = [1.7e308, big, big, big, big, big, big, 0.0];
    let logw = [0.0f64; 4];
    let mut coords = [Coord::periodic(big, 0.5), Coord::periodic(big, 0.5)];
    coords[1].cost_scale = 4.375;
    let (mut m, mut c) = ([7.0; 2], [7.0; 4]);
    match state_moments(&x, &logw, &coords, &mut m, &mut c) {
        Ok(()) => assert!(
            m.iter().chain(&c).all(|v| v.is_finite()),
            "OK with mean {m:?}, covariance {c:?}"
        ),
        Err(e) => {
            assert_eq!(e, Error::NonFinite);
            assert_eq!((m, c), ([7.0; 2], [7.0; 4]));
        }
    }
}

/// Found by the `mcl` fuzz target (CI's short run): OT resampling of a state whose
/// linear coordinate has a cost scale below 1 embeds it as √s·x; near the top of the
/// range a transported point within the embedded range could leave the range once
/// divided by √s again, and was written as ±∞ with OK. Now refused (`NonFinite`) with
/// nothing written, or finite.
#[test]
fn ot_resample_state_small_cost_scale_near_the_top_of_the_range() {
    let big = f64::MAX;
    for scale in [0.25, 1e-3, 1e-300, 3e-308] {
        for x in [
            [big, -big, 0.5 * big, 0.0],
            [big, big, -big, 0.9 * big],
            [1.0, big, 2.0, 3.0],
        ] {
            let logw = [0.0, -1.0, 0.5, -3.0];
            let mut coords = [Coord::linear(1.0)];
            coords[0].cost_scale = scale;
            let mut cfg = OtConfig::new(0.5);
            cfg.max_iterations = 200;
            let mut ws = vec![0.0; ot_state_workspace_len(4, 1)];
            let mut out = [7.0; 4];
            let mut rng = SplitMix64::new(1);
            match ot_resample_state(&x, &logw, &coords, &cfg, &mut rng, &mut out, &mut ws) {
                Ok(_) => assert!(
                    out.iter().all(|v| v.is_finite()),
                    "scale {scale}, x {x:?}: OK with {out:?}"
                ),
                Err(e) => {
                    assert_eq!(out, [7.0; 4], "scale {scale}, x {x:?}: {e:?}, written");
                }
            }
        }
    }
}

/// Found by the `ot_resample` fuzz target (CI's short run): a caller's scale 10⁵² times
/// the cloud's spread made the normalised cloud underflow to 0 in float, and every
/// particle came out at the unweighted mean (0.5·x₀ instead of 0.335·x₀) with OK. Now
/// refused with nothing written; a scale within range keeps the weighted mean.
#[test]
fn ot_resample_with_a_scale_that_underflows_the_cloud() {
    let x = [1.333e-36f32, 0.0, 0.0, 0.0];
    let logw = [2.0f32, 2.6875];
    let mut ws = vec![0.0; ot_workspace_len(2, 2)];
    let mut out = [7.0f32; 4];
    let mut cfg = OtConfig::new(5.8125f32);
    cfg.scale = 1.09e16;
    let r = ot_resample(&x, &logw, 2, &cfg, &mut out, &mut ws);
    assert_eq!(r.map(|_| ()), Err(Error::InvalidParameter));
    assert_eq!(out, [7.0; 4]);
    // Near-zero costs at this ε: every particle is at the weighted mean, within the
    // float rounding of the weights and of the way back to the caller's units.
    cfg.scale = 1e-34;
    ot_resample(&x, &logw, 2, &cfg, &mut out, &mut ws).unwrap();
    let w0 = 1.0 / (1.0 + (0.6875f64).exp());
    for o in [out[0], out[2]] {
        let rel = (f64::from(o) / (1.333e-36 * w0) - 1.0).abs();
        assert!(rel < 1e-3, "{out:?} vs weighted mean {}", 1.333e-36 * w0);
    }
}

/// Found by the `sde_flow` fuzz target: with a shift k ≪ 1, 1 + (k − 1) rounds away k
/// and the grid did not start at t_start (0.9999982 in float at k = 1.6e−11, 0.9 in
/// double at k = 1e−15).
#[test]
fn flow_grid_starts_at_t_start_for_any_shift() {
    for shift in [1.6313476e-11, 1e-15, 1e-3, 3.0] {
        let mut g = [0.0f32; 4];
        sde::flow::grid(FlowSpacing::Shifted { shift }, 1.0, 0.0, &mut g).unwrap();
        assert_eq!((g[0], g[3]), (1.0, 0.0), "shift {shift}: {g:?}");
        let mut g = [0.0f64; 4];
        if sde::flow::grid(FlowSpacing::Shifted { shift }, 1.0, 0.0, &mut g).is_ok() {
            assert_eq!((g[0], g[3]), (1.0, 0.0), "shift {shift}: {g:?}");
        }
    }
}

/// A velocity model that records the smallest time it was called at.
struct LowestTime(f32);

impl Model<f32> for LowestTime {
    fn output(&self) -> Output {
        Output::Velocity
    }
    fn eval(&mut self, _x: &[f32], t: &[f32], out: &mut [f32]) -> Result<(), Error> {
        self.0 = t.iter().fold(self.0, |a, &v| a.min(v));
        out.fill(0.0);
        Ok(())
    }
}

/// Found by the `sde_flow` fuzz target: the explicit midpoint on the float grid
/// [1, 1e−45, 0] called the model at t = 0 (the midpoint 0.7e−45 rounds to 0), where
/// the header promises it is never called; such a grid is refused, x unchanged.
#[test]
fn flow_midpoint_never_calls_the_model_at_zero() {
    let grid = [1.0f32, 1e-45, 0.0];
    let mut model = LowestTime(f32::INFINITY);
    let mut x = [0.5f32];
    let mut ws = vec![0.0f32; sde::workspace_len(1, 1)];
    let r = sde::flow::sample(
        sde::flow::FlowMethod::Midpoint,
        &mut model,
        &grid,
        &mut x,
        1,
        0,
        0,
        &mut ws,
    );
    assert!(model.0 > 0.0, "model called at t = {}", model.0);
    assert_eq!(r.map(|_| ()), Err(Error::InvalidParameter));
    assert_eq!(x, [0.5]);
}

/// Plan potentials of millions of ε (f + c, g − c: the same plan) take the kernel's
/// unsplit form (an offset beyond ±2^22 kernel units, `Real::exp2_bias`): `P·v` stays
/// finite and agrees with the unshifted potentials' to a factor 4. In f32 such
/// potentials hold about one kernel unit (a factor 2 per term, either way); the split
/// form gave 0 or NaN here (found by the `plan` fuzz target).
#[test]
fn plan_with_potentials_of_millions_of_epsilon() {
    let (n, d) = (5, 2);
    let mut rng = Rng::new(11);
    let x: Vec<f32> = (0..n * d).map(|_| rng.uniform() as f32).collect();
    let y: Vec<f32> = (0..n * d).map(|_| rng.uniform() as f32).collect();
    let w = vec![0.2f32; n];
    // Multiples of 2^-7, so that f + c and g − c are exact (c = 3·2^15).
    let f: Vec<f32> = (0..n).map(|i| i as f32 / 128.0).collect();
    let g: Vec<f32> = (0..n).map(|j| -(j as f32) / 128.0).collect();
    let c = 98_304.0f32;
    let (fc, gc): (Vec<f32>, Vec<f32>) = (
        f.iter().map(|v| v + c).collect(),
        g.iter().map(|v| v - c).collect(),
    );
    let problem = Problem::point_clouds(&x, &y, d, 1.0, &w, &w);
    let v: Vec<f32> = (0..n).map(|j| 1.0 + j as f32).collect();
    let mut ws = vec![0.0f32; 4096];
    let mut out = vec![0.0f32; n];
    ot::Plan::new(problem, 0.01, &f, &g)
        .apply(&v, &mut out, &mut ws)
        .unwrap();
    let mut far = vec![0.0f32; n];
    ot::Plan::new(problem, 0.01, &fc, &gc)
        .apply(&v, &mut far, &mut ws)
        .unwrap();
    for (a, b) in out.iter().zip(&far) {
        assert!(b.is_finite() && *a > 0.0, "{a} vs {b}");
        assert!(b / a <= 4.0 && a / b <= 4.0, "{a} vs {b}");
    }
}
