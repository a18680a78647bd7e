//! The filter's weight update against an f64 reference computed from the same inputs,
//! when the log-likelihoods share a large common offset (a long scan, a tight sensor
//! model): the weights must stay normalised, the ESS in [1, N] and Δℓ exact, in f32
//! and f64. Regression test of issue 16, bug 1 (f32, N = 64, every λ = −1e6 gave
//! Σw = 0.972 and ESS 67.8; −1e8 gave Σw = 0.021).

use otcore::pf::weights::normalise;
use otcore::pf::{
    filter_workspace_len, step, FilterConfig, Resampler, Scheme, SplitMix64, Totals, Trigger,
};
use otcore::Real;
use otcore_tests::Rng;

const N: usize = 64;
const OFFSETS: [f64; 9] = [0.0, -10.0, -1e3, -1e6, -1e8, -1e12, -1e20, -1e30, 1e6];

/// The exact update from the inputs as the filter holds them (converted to f64, which
/// is exact): normalised weights W_i ∝ W_prev_i·exp(λ_i) and Δℓ = log Σ W_prev_i e^{λ_i},
/// with W_prev normalised from `logw`.
fn reference(logw: &[f64], lam: &[f64]) -> (Vec<f64>, f64) {
    let lse = |v: &[f64]| {
        let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    };
    let lw_max = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let prev: Vec<f64> = logw.iter().map(|l| l - lw_max).collect();
    let prev_lse = lse(&prev);
    let lam_max = lam.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // Both shifts are exact or negligible in f64 for these inputs (differences of
    // nearby values, Sterbenz), so this is the update to f64 rounding.
    let s: Vec<f64> = lam
        .iter()
        .zip(&prev)
        .map(|(l, p)| (l - lam_max) + (p - prev_lse))
        .collect();
    let s_lse = lse(&s);
    let w = s.iter().map(|v| (v - s_lse).exp()).collect();
    (w, lam_max + s_lse)
}

/// One filter step with the given carried log-weights and log-likelihoods (identity
/// transition, never resample); returns normalised weights, ESS and Δℓ.
fn filter_step<T: Real>(logw0: &[T], lam: &[T]) -> (Vec<T>, T, T) {
    let mut x: Vec<T> = (0..N).map(T::from_usize).collect();
    let mut logw = logw0.to_vec();
    let cfg = FilterConfig {
        resampler: Resampler::Classical(Scheme::Systematic),
        trigger: Trigger::Never,
    };
    let mut totals = Totals::default();
    let mut rng = SplitMix64::new(1);
    let (mut mean, mut cov) = ([T::ZERO], [T::ZERO]);
    let mut ws = vec![T::ZERO; filter_workspace_len(N, 1, false)];
    let report = step(
        &mut x,
        &mut logw,
        1,
        &cfg,
        &mut totals,
        &mut rng,
        |xp: &[T], xn: &mut [T], _: &mut SplitMix64| {
            xn.copy_from_slice(xp);
            Ok(())
        },
        |_: &[T], out: &mut [T]| {
            out.copy_from_slice(lam);
            Ok(())
        },
        &mut mean,
        &mut cov,
        &mut ws,
    )
    .expect("step");
    assert_eq!(totals.log_likelihood, report.log_likelihood_increment);
    (logw, report.ess, report.log_likelihood_increment)
}

/// Checks one case in precision T: Σw = 1 within `tol_sum`, ESS within `tol_rel` of
/// the reference, Δℓ within half an ulp of the reference (in T) plus `tol_abs`.
fn check<T: Real + Into<f64>>(logw0: &[f64], spread: &[f64], offset: f64, tols: [f64; 3]) {
    let [tol_sum, tol_rel, tol_abs] = tols;
    let lam_t: Vec<T> = spread.iter().map(|&s| T::from_f64(offset + s)).collect();
    let logw_t: Vec<T> = logw0.iter().map(|&l| T::from_f64(l)).collect();
    let lam64: Vec<f64> = lam_t.iter().map(|&v| v.into()).collect();
    let logw64: Vec<f64> = logw_t.iter().map(|&v| v.into()).collect();
    let (w_ref, delta_ref) = reference(&logw64, &lam64);
    let ess_ref = 1.0 / w_ref.iter().map(|w| w * w).sum::<f64>();

    let (logw, ess, delta) = filter_step(&logw_t, &lam_t);
    let w: Vec<f64> = logw.iter().map(|&l| l.into().exp()).collect();
    let sum: f64 = w.iter().sum();
    let (ess, delta): (f64, f64) = (ess.into(), delta.into());
    let case = format!("{} offset {offset:e}", core::any::type_name::<T>());
    assert!((sum - 1.0).abs() <= tol_sum, "{case}: Σw = {sum}");
    assert!(
        (1.0..=N as f64 * (1.0 + tol_rel)).contains(&ess),
        "{case}: ESS {ess} outside [1, N]"
    );
    assert!(
        (ess - ess_ref).abs() <= tol_rel * ess_ref,
        "{case}: ESS {ess} vs {ess_ref}"
    );
    for (i, (a, b)) in w.iter().zip(&w_ref).enumerate() {
        assert!(
            (a - b).abs() <= tol_rel * b.max(1.0 / N as f64),
            "{case}: w[{i}] = {a} vs {b}"
        );
    }
    // Δℓ is a sum of the large λ_max and a small term: exact means within half an ulp
    // of the reference in T (plus the small term's own rounding).
    let half_ulp = delta_ref.abs() * T::EPSILON.into() / 2.0;
    assert!(
        (delta - delta_ref).abs() <= half_ulp + tol_abs,
        "{case}: Δℓ {delta} vs {delta_ref}"
    );

    // The normalisation entry point, on the same log-likelihoods.
    let mut l = lam_t.clone();
    normalise(&mut l).expect("normalise");
    let s: f64 = l.iter().map(|&v| v.into().exp()).sum();
    assert!(
        (s - 1.0).abs() <= tol_sum,
        "{case}: normalise gives Σw = {s}"
    );
}

// Tolerances: each weight is exp of a centred log-weight of size ≤ ~10 computed with a
// few roundings (≤ ~4 ulp of 10 absolute, i.e. relative ~1e-5 in f32 / 2e-14 in f64 on
// the weight) and the ESS and Σw are sums of N = 64 such terms: 2e-5 / 5e-13 leave a
// margin of ~2 over that bound. Δℓ's small part (the log-sum of shifted terms, ≤ ln N)
// carries a few ulp of ln N: 2e-6 / 1e-14.
const F32_TOLS: [f64; 3] = [2e-5, 2e-5, 2e-6];
const F64_TOLS: [f64; 3] = [5e-13, 5e-13, 1e-14];

#[test]
fn common_offset_keeps_weights_normalised() {
    let uniform = vec![-(N as f64).ln(); N];
    let zero = vec![0.0; N];
    for offset in OFFSETS {
        check::<f32>(&uniform, &zero, offset, F32_TOLS);
        check::<f64>(&uniform, &zero, offset, F64_TOLS);
    }
}

#[test]
fn spread_on_top_of_offset() {
    let mut rng = Rng::new(16);
    let spread: Vec<f64> = (0..N).map(|_| 5.0 * rng.uniform()).collect();
    let carried: Vec<f64> = (0..N).map(|_| -3.0 * rng.uniform()).collect();
    // Carried weights that are themselves unnormalised by a large offset.
    let carried_offset: Vec<f64> = carried.iter().map(|l| l - 1e6).collect();
    for offset in OFFSETS {
        for logw in [&carried, &carried_offset] {
            check::<f32>(logw, &spread, offset, F32_TOLS);
            check::<f64>(logw, &spread, offset, F64_TOLS);
        }
    }
}
