//! The robotics side of the particle filter: periodic coordinates (circular moments,
//! OT resampling through the chordal embedding), resampling to another count,
//! KLD-sampling, augmented-MCL recovery, the largest cluster, and bad input.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use std::f64::consts::PI;

use otcore::pf::{
    cluster_table_len, cluster_workspace_len, embedded_dim, kld_bound, kld_count, kld_table_len,
    largest_cluster, mcl_resample, mcl_workspace_len, ot_resample_state, ot_state_workspace_len,
    resample_to, state_moments, Coord, Kind, KldConfig, MclConfig, OtConfig, RandomSource,
    Recovery, Resampler, Scheme, SplitMix64,
};
use otcore::{Error, Real};
use otcore_tests::Rng;

/// I_n(κ) by its power series (terms decay like (κ/2)^{2k}/k!²; 60 terms are exact in
/// f64 for κ ≤ 10).
fn bessel_i(n: u32, kappa: f64) -> f64 {
    let h = kappa / 2.0;
    let mut term = h.powi(n as i32) / (1..=n).map(f64::from).product::<f64>();
    let mut sum = 0.0;
    for k in 0..60u32 {
        sum += term;
        term *= h * h / (f64::from(k + 1) * f64::from(k + 1 + n));
    }
    sum
}

/// A von Mises(μ, κ) draw in (−π, π] (Best & Fisher 1979).
fn von_mises(r: &mut Rng, mu: f64, kappa: f64) -> f64 {
    let tau = 1.0 + (1.0 + 4.0 * kappa * kappa).sqrt();
    let rho = (tau - (2.0 * tau).sqrt()) / (2.0 * kappa);
    let s = (1.0 + rho * rho) / (2.0 * rho);
    loop {
        let z = (PI * r.uniform()).cos();
        let f = (1.0 + s * z) / (s + z);
        let c = kappa * (s - f);
        let u2 = r.uniform();
        if c * (2.0 - c) - u2 > 0.0 || (c / u2).ln() + 1.0 - c >= 0.0 {
            let th = if r.uniform() > 0.5 {
                f.acos()
            } else {
                -f.acos()
            };
            let v = mu + th;
            return v - 2.0 * PI * ((v + PI) / (2.0 * PI)).floor();
        }
    }
}

fn wrap(v: f64) -> f64 {
    v - 2.0 * PI * ((v + PI) / (2.0 * PI)).floor()
}

fn circular_stats_match_von_mises<T: Real + otcore::pf::Angles>() {
    let (mu, kappa, n) = (PI - 0.1, 4.0, 20_000);
    let mut r = Rng::new(7);
    let th: Vec<f64> = (0..n).map(|_| von_mises(&mut r, mu, kappa)).collect();
    // The draws straddle ±π: about a third lie beyond +π and are stored near −π.
    assert!(th.iter().filter(|&&t| t < 0.0).count() > n / 5);
    let x: Vec<T> = th.iter().map(|&t| T::from_f64(t)).collect();
    let logw = vec![T::ZERO; n];
    let coords = [Coord::periodic(T::from_f64(2.0 * PI), T::ONE)];
    let (mut mean, mut cov) = ([T::ZERO], [T::ZERO]);
    state_moments(&x, &logw, &coords, &mut mean, &mut cov).unwrap();
    // Closed forms: mean direction μ; tangent variance E[(θ − μ)²] =
    // π²/3 + 4 Σ (−1)^k I_k(κ)/(k² I_0(κ)).
    let i0 = bessel_i(0, kappa);
    let var: f64 = PI * PI / 3.0
        + 4.0
            * (1..40)
                .map(|k| (-1f64).powi(k) * bessel_i(k as u32, kappa) / (f64::from(k * k) * i0))
                .sum::<f64>();
    let a1 = bessel_i(1, kappa) / i0;
    let a2 = bessel_i(2, kappa) / i0;
    // Standard errors of the estimators (delta method): the mean direction has
    // sd √((1 − A₂)/2)/(A₁√n); the variance sd √(E r⁴ − (E r²)²)/√n, E r⁴ estimated
    // from the sample. Four standard errors, plus f32's own resolution (1e-6 rad
    // per term, far below) — a failure means a wrong formula, not bad luck (p < 1e-4).
    let se_mean = ((1.0 - a2) / 2.0).sqrt() / (a1 * (n as f64).sqrt());
    let r4: f64 = th.iter().map(|&t| wrap(t - mu).powi(4)).sum::<f64>() / n as f64;
    let se_var = ((r4 - var * var) / n as f64).sqrt();
    let got_mean = mean[0].to_f64();
    let got_var = cov[0].to_f64();
    eprintln!(
        "von Mises κ = {kappa}, μ = {mu:.4}: mean {got_mean:.4} (±{se_mean:.4}), \
         variance {got_var:.5} vs {var:.5} (±{se_var:.5})"
    );
    assert!(
        wrap(got_mean - mu).abs() < 4.0 * se_mean,
        "mean {got_mean} vs {mu}"
    );
    assert!(
        (got_var - var).abs() < 4.0 * se_var,
        "var {got_var} vs {var}"
    );
    // The linear mean of the same draws is far off (what a plain coordinate gives).
    let linear = th.iter().sum::<f64>() / n as f64;
    assert!(wrap(linear - mu).abs() > 1.0);
}

#[test]
fn circular_mean_and_tangent_variance_of_von_mises_draws_match_closed_forms() {
    circular_stats_match_von_mises::<f64>();
    circular_stats_match_von_mises::<f32>();
}

/// A weighted (x, y, θ) cloud whose headings straddle ±π.
fn straddling_cloud(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut r = Rng::new(seed);
    let mut x = Vec::with_capacity(3 * n);
    let mut logw = Vec::with_capacity(n);
    for _ in 0..n {
        let (px, py) = (1.0 + 0.2 * r.normal(), -2.0 + 0.2 * r.normal());
        let th = wrap(PI - 0.03 + 0.15 * r.normal());
        x.extend([px, py, th]);
        // A heading measurement at π + 0.02 (σ 0.1) and a range-like term on x.
        let e = wrap(th - (PI + 0.02));
        logw.push(-0.5 * e * e / 0.01 - 0.5 * (px - 1.1) * (px - 1.1) / 0.04);
    }
    (x, logw)
}

/// (x, y, heading): bins `xy` m and `th` rad, cost scales 1.
fn pose(xy: f64, th: f64) -> [Coord<f64>; 3] {
    [
        Coord::linear(xy),
        Coord::linear(xy),
        Coord::periodic(2.0 * PI, th),
    ]
}

fn moments3(x: &[f64], logw: &[f64], coords: &[Coord<f64>]) -> ([f64; 3], [f64; 9]) {
    let (mut m, mut c) = ([0.0; 3], [0.0; 9]);
    state_moments(x, logw, coords, &mut m, &mut c).unwrap();
    (m, c)
}

#[test]
fn ot_resampling_of_a_cloud_straddling_pi_keeps_its_mean_and_spread() {
    let n = 200;
    let (x, logw) = straddling_cloud(n, 3);
    let coords = pose(0.1, 0.1);
    let (m0, c0) = moments3(&x, &logw, &coords);
    let eps = 0.01;
    let cfg = OtConfig::new(eps);
    let mut ws = vec![0.0; ot_state_workspace_len(n, embedded_dim(&coords))];
    let mut out = vec![0.0; 3 * n];
    let mut rng = SplitMix64::new(1);
    ot_resample_state(&x, &logw, &coords, &cfg, &mut rng, &mut out, &mut ws).unwrap();
    let (m1, c1) = moments3(&out, &vec![0.0; n], &coords);
    // Today's behaviour: OT on the heading as a plain coordinate.
    let mut plain = vec![0.0; 3 * n];
    let mut pws = vec![0.0; otcore::pf::ot_workspace_len(n, 3)];
    otcore::pf::ot_resample(&x, &logw, 3, &cfg, &mut plain, &mut pws).unwrap();
    let (m2, c2) = moments3(&plain, &vec![0.0; n], &coords);
    eprintln!(
        "straddling ±π, N = {n}, ε = {eps}: heading mean {:.4} / sd {:.4} before; \
         {:.4} / {:.4} after OT with the state description; {:.4} / {:.4} after plain OT",
        m0[2],
        c0[8].sqrt(),
        m1[2],
        c1[8].sqrt(),
        m2[2],
        c2[8].sqrt()
    );
    eprintln!(
        "  x mean {:.4} / sd {:.4} before; {:.4} / {:.4} after; {:.4} / {:.4} plain",
        m0[0],
        c0[0].sqrt(),
        m1[0],
        c1[0].sqrt(),
        m2[0],
        c2[0].sqrt()
    );
    // The embedded weighted mean is preserved exactly; the circular mean of the
    // transported headings moves only by the curvature of the circle over the cloud's
    // spread (second order: less than the tangent variance, 0.006 rad², here).
    assert!(wrap(m1[2] - m0[2]).abs() < c0[8], "{} vs {}", m1[2], m0[2]);
    assert!((m1[0] - m0[0]).abs() < 1e-9 && (m1[1] - m0[1]).abs() < 1e-9);
    // The map is an average over the plan's rows (a conditional expectation), so the
    // spread cannot grow beyond the solver's row error; at ε = 0.01 the averaging
    // blur is small against this posterior and costs it under 15 % of its sd (0.90
    // for the heading, 0.94 for x in this run).
    for k in [0, 4, 8] {
        let ratio = (c1[k] / c0[k]).sqrt();
        assert!(
            ratio > 0.85 && ratio < 1.0 + 1e-6,
            "coordinate {k}: sd ratio {ratio}"
        );
    }
    // Today's map (the heading as a plain coordinate) moves the heading mean by a
    // large fraction of a radian, and the heading's 2π extent dominates its
    // normalisation, which collapses the position spread.
    assert!(wrap(m2[2] - m0[2]).abs() > 0.3);
    assert!(c2[0].sqrt() < 0.5 * c0[0].sqrt());
}

#[test]
fn a_periodic_coordinate_with_cost_scale_zero_is_carried_unchanged() {
    let n = 40;
    let (x, logw) = straddling_cloud(n, 5);
    let mut coords = pose(0.1, 0.1);
    coords[2].cost_scale = 0.0;
    let mut ws = vec![0.0; ot_state_workspace_len(n, embedded_dim(&coords))];
    let mut out = vec![0.0; 3 * n];
    let mut rng = SplitMix64::new(1);
    ot_resample_state(
        &x,
        &logw,
        &coords,
        &OtConfig::new(0.3),
        &mut rng,
        &mut out,
        &mut ws,
    )
    .unwrap();
    for i in 0..n {
        assert_eq!(out[3 * i + 2], x[3 * i + 2]);
    }
}

#[test]
fn every_resampler_writes_another_count() {
    let n = 50;
    let mut r = Rng::new(2);
    let logw: Vec<f64> = (0..n).map(|_| 1.5 * r.normal()).collect();
    let tot: f64 = logw.iter().map(|l| l.exp()).sum();
    let w: Vec<f64> = logw.iter().map(|l| l.exp() / tot).collect();
    let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
    for m in [17usize, 50, 123] {
        for scheme in [
            Scheme::Multinomial,
            Scheme::Stratified,
            Scheme::Systematic,
            Scheme::Residual,
        ] {
            let mut rng = SplitMix64::new(4);
            let mut counts = vec![0.0; n];
            let mut out = vec![0.0; m];
            let reps = 3000;
            for _ in 0..reps {
                resample_to(scheme, &logw, &mut rng, &x, 1, &mut out).unwrap();
                for &v in &out {
                    counts[v as usize] += 1.0;
                }
                if scheme == Scheme::Systematic || scheme == Scheme::Residual {
                    // Each particle gets ⌊M·W⌋ copies at least.
                    for i in 0..n {
                        let c = out.iter().filter(|&&v| v as usize == i).count();
                        assert!(c as f64 >= (m as f64 * w[i]).floor() - 1e-9);
                    }
                }
            }
            // Unbiased: mean copies M·W_i; each count's sd is at most √(M·W_i) per
            // draw, so 5 standard errors of the mean over `reps` draws.
            for i in 0..n {
                let want = m as f64 * w[i];
                let got = counts[i] / reps as f64;
                let se = (want.max(1.0 / m as f64) / reps as f64).sqrt();
                assert!(
                    (got - want).abs() < 5.0 * se + 1e-9,
                    "{scheme:?} M={m} i={i}: {got} vs {want}"
                );
            }
        }
    }
    // OT to another count: M rows, every row a state inside the cloud's hull.
    let (xs, lw) = straddling_cloud(n, 8);
    let coords = pose(0.1, 0.1);
    let mut ws = vec![0.0; ot_state_workspace_len(n, embedded_dim(&coords))];
    for m in [20usize, 90] {
        let mut out = vec![f64::NAN; 3 * m];
        let mut rng = SplitMix64::new(1);
        ot_resample_state(
            &xs,
            &lw,
            &coords,
            &OtConfig::new(0.2),
            &mut rng,
            &mut out,
            &mut ws,
        )
        .unwrap();
        let lo = xs.iter().step_by(3).cloned().fold(f64::INFINITY, f64::min);
        let hi = xs
            .iter()
            .step_by(3)
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(out
            .iter()
            .step_by(3)
            .all(|&v| v >= lo - 1e-9 && v <= hi + 1e-9));
        assert!(out
            .iter()
            .skip(2)
            .step_by(3)
            .all(|&v| wrap(v - PI).abs() < 1.0));
    }
}

#[test]
fn kld_bound_follows_the_chi_square_quantile() {
    // Fox (2003): M = χ²_{k−1}(q)/(2ε). χ² 0.99 quantiles for 10, 50, 100 degrees of
    // freedom (standard tables): 23.2093, 76.1539, 135.8067. Wilson–Hilferty is within
    // 0.2 % of them from 10 degrees of freedom up; the count is rounded up (+1).
    let cfg = KldConfig {
        kl_bound: 0.05,
        confidence: 0.99,
        min_particles: 1,
    };
    for (k, q) in [(11usize, 23.2093), (51, 76.1539), (101, 135.8067)] {
        let m = kld_bound::<f64>(k, &cfg, 100_000) as f64;
        let want = q / (2.0 * 0.05);
        assert!(
            (m - want).abs() < 0.002 * want + 1.0,
            "k = {k}: {m} vs {want}"
        );
        let m32 = kld_bound::<f32>(
            k,
            &KldConfig {
                kl_bound: 0.05,
                confidence: 0.99,
                min_particles: 1,
            },
            100_000,
        ) as f64;
        assert!((m32 - m).abs() <= 1.0);
    }
    // One bin: the minimum (not the capacity, navigation #1159); clamped above.
    let c = KldConfig {
        min_particles: 100,
        ..cfg
    };
    assert_eq!(kld_bound::<f64>(1, &c, 5000), 100);
    assert_eq!(kld_bound::<f64>(0, &c, 5000), 100);
    assert_eq!(kld_bound::<f64>(100_000, &c, 5000), 5000);
}

#[test]
fn kld_counts_occupied_bins_across_the_period() {
    let coords = [Coord::linear(1.0), Coord::periodic(2.0 * PI, 0.5)];
    // Bins: (0, 0) three times — the heading 0.1 written as 0.1, 0.1 + 2π, 0.1 − 2π —
    // (0, 12) (heading −0.1 ≡ 2π − 0.1, in the narrower last bin), (3, 0), and a
    // dead particle in its own bin (not counted).
    let x = [
        0.2,
        0.1,
        0.7,
        0.1 + 2.0 * PI,
        0.5,
        0.1 - 2.0 * PI,
        0.3,
        -0.1,
        3.5,
        0.2,
        -7.0,
        1.0,
    ];
    let logw = [0.0, 0.0, 0.0, 0.0, 0.0, f64::NEG_INFINITY];
    let cfg = KldConfig {
        kl_bound: 0.05,
        confidence: 0.99,
        min_particles: 2,
    };
    let mut table = vec![0u64; kld_table_len(6)];
    let (k, m) = kld_count(&x, &logw, &coords, &cfg, 1000, &mut table).unwrap();
    assert_eq!(k, 3);
    assert_eq!(m, kld_bound::<f64>(3, &cfg, 1000));
}

#[test]
fn recovery_averages_follow_the_linear_recurrences() {
    let (s, f) = (0.01, 0.2);
    let mut rec = Recovery::<f64>::new(s, f);
    let (mut ws, mut wf) = (0.0f64, 0.0f64);
    // Likelihoods around e^{−150} (f32 would underflow them) that drop at step 30.
    for t in 0..60 {
        let dl = if t < 30 { -150.0 } else { -153.0 };
        let p = rec.update(dl).unwrap();
        let w = f64::exp(dl + 150.0);
        ws += s * (w - ws);
        wf += f * (w - wf);
        let want = (1.0 - wf / ws).max(0.0);
        assert!((rec.log_slow - (ws.ln() - 150.0)).abs() < 1e-12);
        assert!((rec.log_fast - (wf.ln() - 150.0)).abs() < 1e-12);
        assert!((p - want).abs() < 1e-12);
        if t < 30 {
            assert_eq!(p, 0.0);
        }
    }
    assert!(rec.inject_probability() > 0.5);
    let mut r32 = Recovery::<f32>::new(0.01, 0.2);
    for t in 0..60 {
        let p = r32.update(if t < 30 { -150.0 } else { -153.0 }).unwrap();
        assert!(p.is_finite());
    }
    // f32 keeps e^{−150} (below its smallest normal) as a logarithm: the same answer
    // to f32 rounding of the log averages (ulp of 150 ≈ 1.5e-5, times e^{Δ} ≈ 1).
    assert!((f64::from(r32.inject_probability()) - rec.inject_probability()).abs() < 1e-3);
    let mut off = Recovery::<f64>::off();
    assert_eq!(off.update(-1e3).unwrap(), 0.0);
    assert_eq!(off, Recovery::off());
}

#[test]
fn mcl_resample_adapts_the_count_and_injects_from_the_sampler() {
    let coords = pose(0.5, 0.2);
    let cap = 3000;
    let kld = KldConfig {
        kl_bound: 0.05,
        confidence: 0.99,
        min_particles: 50,
    };
    let run = |spread: f64, p: f64, optimal: bool| {
        let n = 500;
        let mut r = Rng::new(11);
        let x: Vec<f64> = (0..n)
            .flat_map(|_| {
                [
                    spread * r.normal(),
                    spread * r.normal(),
                    wrap(spread * r.normal()),
                ]
            })
            .collect();
        let logw = vec![-(n as f64).ln(); n];
        let resampler = if optimal {
            Resampler::Optimal(OtConfig::new(0.3))
        } else {
            Resampler::Classical(Scheme::Systematic)
        };
        let cfg = MclConfig {
            resampler,
            kld: Some(kld),
            count: 0,
        };
        let de = embedded_dim(&coords);
        let mut ws = vec![0.0; mcl_workspace_len(n, 3, de, cap, optimal)];
        let mut table = vec![0u64; kld_table_len(n)];
        let mut out = vec![0.0; 3 * cap];
        let mut rng = SplitMix64::new(5);
        let rep = mcl_resample(
            &x,
            &logw,
            &coords,
            &cfg,
            p,
            &mut rng,
            |o: &mut [f64], r: usize, g: &mut SplitMix64| {
                assert_eq!(o.len(), 3 * r);
                o.iter_mut().for_each(|v| *v = 100.0 + g.uniform::<f64>());
                Ok(())
            },
            &mut out,
            &mut ws,
            &mut table,
        )
        .unwrap();
        let fresh = out[..3 * rep.count]
            .chunks(3)
            .filter(|p| p[0] >= 100.0)
            .count();
        assert_eq!(fresh, rep.injected);
        assert!(out[3 * (rep.count - rep.injected)..3 * rep.count]
            .iter()
            .all(|&v| v >= 100.0));
        rep
    };
    let tight = run(0.05, 0.0, false);
    let wide = run(2.0, 0.0, false);
    eprintln!("tight {tight:?}\nwide {wide:?}");
    // Tight (sd 0.05 around 0, within ±0.2 for 500 draws): at most 2 bins of 0.5 m per
    // position coordinate (0 is a bin edge) and 3 of 0.2 rad for the heading, 12 bins,
    // whose KLD bound is 248. Wide (sd 2): hundreds of bins among 500 particles, a
    // bound far above the capacity.
    assert!(tight.bins <= 12 && tight.count < 400, "{tight:?}");
    assert!(wide.bins > 100 && wide.count > 5 * tight.count, "{wide:?}");
    assert_eq!(tight.injected, 0);
    // Injection: Binomial(M, 0.3); M = count ≥ 50, so 0.3·M ± 5 sd.
    for optimal in [false, true] {
        let inj = run(0.3, 0.3, optimal);
        let (m, k) = (inj.count as f64, inj.injected as f64);
        assert!((k - 0.3 * m).abs() < 5.0 * (0.21 * m).sqrt(), "{inj:?}");
        assert_eq!(inj.ot.is_some(), optimal);
    }
}

#[test]
fn the_largest_cluster_is_found_across_the_period() {
    // Two blobs: A at (0, 0, ±π) straddling the period (mass 0.7) and B at (5, 5, 0)
    // (mass 0.3). A's bins on both sides of ±π touch across the period.
    let coords = pose(0.5, 0.25);
    let mut r = Rng::new(21);
    let (na, nb) = (140, 60);
    let mut x = Vec::new();
    for i in 0..na + nb {
        let (cx, cy, ct) = if i < na {
            (0.0, 0.0, PI)
        } else {
            (5.0, 5.0, 0.0)
        };
        x.extend([
            cx + 0.2 * r.normal(),
            cy + 0.2 * r.normal(),
            wrap(ct + 0.1 * r.normal()),
        ]);
    }
    let logw = vec![0.0; na + nb];
    let n = na + nb;
    let mut table = vec![0u64; cluster_table_len(n)];
    let mut ws = vec![0.0; cluster_workspace_len(n)];
    let (mut m, mut c) = ([0.0; 3], [0.0; 9]);
    let (mass, clusters) =
        largest_cluster(&x, &logw, &coords, &mut table, &mut ws, &mut m, &mut c).unwrap();
    assert_eq!(clusters, 2);
    assert!((mass - 0.7).abs() < 1e-12);
    let (ma, _) = moments3(&x[..3 * na], &logw[..na], &coords);
    for k in 0..3 {
        assert!((m[k] - ma[k]).abs() < 1e-12, "{m:?} vs {ma:?}");
    }
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let n = 8;
    let (x, logw) = straddling_cloud(n, 1);
    let good = pose(0.5, 0.2);
    let mut bad_periods = Vec::new();
    for p in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut c = good;
        c[2].kind = Kind::Periodic(p);
        bad_periods.push(c);
    }
    let mut bad_bins = Vec::new();
    for b in [0.0, -0.1, f64::NAN] {
        let mut c = good;
        c[0].bin = b;
        bad_bins.push(c);
    }
    let (mut m, mut c) = ([7.0; 3], [7.0; 9]);
    for cs in &bad_periods {
        assert_eq!(
            state_moments(&x, &logw, cs, &mut m, &mut c),
            Err(Error::InvalidParameter)
        );
    }
    assert_eq!(
        state_moments(&x, &logw, &good[..2], &mut m, &mut c),
        Err(Error::LengthMismatch)
    );
    assert_eq!((m, c), ([7.0; 3], [7.0; 9]));
    // OT per the state description.
    let mut ws = vec![0.0; ot_state_workspace_len(n, 4)];
    let mut out = vec![7.0; 3 * n];
    let mut rng = SplitMix64::new(3);
    for cs in &bad_periods {
        let r = ot_resample_state(
            &x,
            &logw,
            cs,
            &OtConfig::new(0.3),
            &mut rng,
            &mut out,
            &mut ws,
        );
        assert_eq!(r, Err(Error::InvalidParameter));
    }
    let r = ot_resample_state(
        &x,
        &logw,
        &good,
        &OtConfig::new(0.3),
        &mut rng,
        &mut out,
        &mut ws[..10],
    );
    assert_eq!(r, Err(Error::WorkspaceTooSmall));
    let r = ot_resample_state(
        &x,
        &logw,
        &good,
        &OtConfig::new(0.3),
        &mut rng,
        &mut out[..5],
        &mut ws,
    );
    assert_eq!(r, Err(Error::LengthMismatch));
    // KLD.
    let kcfg = KldConfig {
        kl_bound: 0.05,
        confidence: 0.99,
        min_particles: 4,
    };
    let mut table = vec![9u64; kld_table_len(n)];
    for cs in &bad_bins {
        assert_eq!(
            kld_count(&x, &logw, cs, &kcfg, 100, &mut table),
            Err(Error::InvalidParameter)
        );
    }
    for k in [
        KldConfig {
            min_particles: 101,
            ..kcfg
        },
        KldConfig {
            min_particles: 0,
            ..kcfg
        },
        KldConfig {
            kl_bound: 0.0,
            ..kcfg
        },
        KldConfig {
            confidence: 1.0,
            ..kcfg
        },
    ] {
        assert_eq!(
            kld_count(&x, &logw, &good, &k, 100, &mut table),
            Err(Error::InvalidParameter)
        );
    }
    assert_eq!(
        kld_count(&x, &logw, &good, &kcfg, 100, &mut table[..n]),
        Err(Error::WorkspaceTooSmall)
    );
    assert!(table.iter().all(|&v| v == 9));
    // mcl_resample: bad bins, minimum > capacity, a failing sampler (after the RNG
    // has been used to draw the injections), a sampler writing NaN.
    let cfg = MclConfig {
        resampler: Resampler::Classical(Scheme::Systematic),
        kld: Some(kcfg),
        count: 0,
    };
    let cap = 20;
    let mut mws = vec![0.0; mcl_workspace_len(n, 3, 4, cap, false)];
    let mut out = vec![7.0; 3 * cap];
    let mut table = vec![0u64; kld_table_len(n)];
    let before = rng;
    let mut call = |cs: &[Coord<f64>], cfg: &MclConfig<f64>, fail: u8, out: &mut [f64]| {
        mcl_resample(
            &x,
            &logw,
            cs,
            cfg,
            0.5,
            &mut rng,
            |o: &mut [f64], _, g: &mut SplitMix64| {
                g.next_u64();
                match fail {
                    0 => Err(Error::CallbackFailed),
                    _ => {
                        o.fill(f64::NAN);
                        Ok(())
                    }
                }
            },
            out,
            &mut mws,
            &mut table,
        )
    };
    assert_eq!(
        call(&bad_bins[0], &cfg, 0, &mut out),
        Err(Error::InvalidParameter)
    );
    assert_eq!(
        call(&bad_periods[0], &cfg, 0, &mut out),
        Err(Error::InvalidParameter)
    );
    let small = MclConfig {
        kld: Some(KldConfig {
            min_particles: 21,
            ..kcfg
        }),
        ..cfg
    };
    assert_eq!(
        call(&good, &small, 0, &mut out),
        Err(Error::InvalidParameter)
    );
    let fixed = MclConfig {
        kld: None,
        count: 21,
        ..cfg
    };
    assert_eq!(
        call(&good, &fixed, 0, &mut out),
        Err(Error::InvalidParameter)
    );
    assert_eq!(call(&good, &cfg, 0, &mut out), Err(Error::CallbackFailed));
    assert_eq!(call(&good, &cfg, 1, &mut out), Err(Error::NonFinite));
    assert!(out.iter().all(|&v| v == 7.0));
    assert_eq!(rng, before);
    // Recovery: rates out of order, NaN increment; the state is unchanged.
    for (s, f) in [
        (0.2, 0.1),
        (0.1, 0.1),
        (-0.1, 0.5),
        (0.1, 1.5),
        (f64::NAN, 0.5),
    ] {
        let mut rec = Recovery::new(s, f);
        assert_eq!(rec.update(-1.0), Err(Error::InvalidParameter));
        // Debug text: a NaN rate is not equal to itself.
        assert_eq!(format!("{rec:?}"), format!("{:?}", Recovery::new(s, f)));
    }
    let mut rec = Recovery::new(0.001, 0.1);
    assert_eq!(rec.update(f64::NAN), Err(Error::NonFiniteInput));
    assert_eq!(rec, Recovery::new(0.001, 0.1));
    // Cluster: bad bins, too many coordinates.
    let (mut tb, mut cws) = (
        vec![0u64; cluster_table_len(n)],
        vec![0.0; cluster_workspace_len(n)],
    );
    assert_eq!(
        largest_cluster(&x, &logw, &bad_bins[1], &mut tb, &mut cws, &mut m, &mut c),
        Err(Error::InvalidParameter)
    );
    assert_eq!((m, c), ([7.0; 3], [7.0; 9]));
    // Resampling to a count: x_out not a whole number of particles.
    let mut o = vec![7.0; 7];
    assert_eq!(
        resample_to(Scheme::Systematic, &logw, &mut rng, &x, 3, &mut o),
        Err(Error::LengthMismatch)
    );
    assert!(o.iter().all(|&v| v == 7.0));
    assert_eq!(rng, before);
}
