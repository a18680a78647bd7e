//! The processes: coefficients against finite differences of the marginal moments,
//! marginal mean/std against Monte Carlo of the forward SDE, the prior, grids.

use otcore::sde::{grid, Process, Spacing};
use otcore::Error;
use otcore_tests::Rng;

const ALL: [Process; 5] = [
    Process::VP,
    Process::VP_COSINE,
    Process::SUB_VP,
    Process::VE,
    Process::EDM,
];

/// For a linear SDE `dx = f x dt + g dW`: `da/dt = f·a` and `d(s²)/dt = 2f·s² + g²`.
/// Central differences with step 1e-5 have truncation error ~1e-10·(third derivative);
/// relative tolerance 1e-6 covers it and the f64 cancellation (~1e-16/1e-5 = 1e-11).
#[test]
fn drift_and_diffusion_match_the_marginal_moments() {
    for p in ALL {
        let tm = p.t_max();
        for frac in [0.05, 0.2, 0.5, 0.8, 0.95] {
            let t = frac * tm;
            let h = 1e-5 * tm;
            let (lo, mid, hi) = (p.coefs(t - h), p.coefs(t), p.coefs(t + h));
            let da = (hi.a - lo.a) / (2.0 * h);
            let dv = (hi.s * hi.s - lo.s * lo.s) / (2.0 * h);
            let want_da = mid.f * mid.a;
            let want_dv = 2.0 * mid.f * mid.s * mid.s + mid.g2;
            assert!(
                (da - want_da).abs() <= 1e-6 * want_da.abs().max(1e-3),
                "{p:?} t={t}: a' {da} vs {want_da}"
            );
            assert!(
                (dv - want_dv).abs() <= 1e-6 * want_dv.abs(),
                "{p:?} t={t}: V' {dv} vs {want_dv}"
            );
        }
    }
}

/// The sub-VP std is `1 − a²` (not the VP `√(1 − a²)`).
#[test]
fn sub_vp_std_is_one_minus_a_squared() {
    let c = Process::SUB_VP.coefs(0.3);
    assert!((c.s - (1.0 - c.a * c.a)).abs() < 1e-15);
    let v = Process::VP.coefs(0.3);
    assert!((c.s - v.s * v.s).abs() < 1e-15);
}

/// Forward SDE by Euler–Maruyama (the test's own loop and RNG) from
/// `x_{t0} ~ N(a_{t0}x₀, s_{t0}²)` to `t1`; the sample mean and std must match
/// `a_{t1}x₀` and `s_{t1}`.
#[test]
fn marginal_mean_and_std_match_monte_carlo() {
    let paths = 10_000;
    let steps = 1_000;
    let x0 = 1.5;
    for p in ALL {
        let (t0, t1) = (0.02 * p.t_max(), 0.4 * p.t_max());
        let c0 = p.coefs(t0);
        let mut rng = Rng::new(5);
        let dt = (t1 - t0) / steps as f64;
        let coefs: Vec<(f64, f64)> = (0..steps)
            .map(|k| {
                let c = p.coefs(t0 + k as f64 * dt);
                (1.0 + c.f * dt, (c.g2 * dt).sqrt())
            })
            .collect();
        let (mut sum, mut sum2) = (0.0, 0.0);
        for _ in 0..paths {
            let mut x = c0.a * x0 + c0.s * rng.normal();
            for (m, g) in &coefs {
                x = m * x + g * rng.normal();
            }
            sum += x;
            sum2 += x * x;
        }
        let mean = sum / paths as f64;
        let std = (sum2 / paths as f64 - mean * mean).sqrt();
        let c1 = p.coefs(t1);
        let (want_m, want_s) = (c1.a * x0, c1.s);
        // Monte Carlo standard errors: s/√M for the mean, s/√(2M) for the std; 5 of
        // them (a false alarm every ~1.7 million runs per check), plus Euler's O(dt)
        // bias: the EM mean and variance recursions are exact to first order, their
        // relative error ≤ |f|·dt·(t1 − t0)·max|f| ≲ 0.5% for the VP family here.
        let tol_m = 5.0 * want_s / (paths as f64).sqrt() + 0.005 * want_m.abs();
        let tol_s = 5.0 * want_s / (2.0 * paths as f64).sqrt() + 0.005 * want_s;
        println!("{p:?}: mean {mean:.4} vs {want_m:.4} (±{tol_m:.4}), std {std:.4} vs {want_s:.4} (±{tol_s:.4})");
        assert!((mean - want_m).abs() < tol_m, "{p:?} mean");
        assert!((std - want_s).abs() < tol_s, "{p:?} std");
    }
}

#[test]
fn prior_sample_and_density() {
    for p in ALL {
        let n = 20_000;
        let mut x = vec![0.0f64; n * 2];
        p.prior_sample(3, 0, 2, &mut x).unwrap();
        let var = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
        let want = p.prior_std() * p.prior_std();
        // Relative std error of a variance from 40 000 normals: √(2/40000) = 0.7%; 5×.
        assert!((var / want - 1.0).abs() < 0.035, "{p:?}: {var} vs {want}");
        let mut lp = vec![0.0; n];
        p.prior_log_density(&x, 2, &mut lp).unwrap();
        let (x0, x1) = (x[0], x[1]);
        let direct = -(2.0 * std::f64::consts::PI * want).ln() - (x0 * x0 + x1 * x1) / (2.0 * want);
        assert!((lp[0] - direct).abs() < 1e-12);
    }
}

/// Sample indices wrap around u64 instead of overflowing: a batch starting at the last
/// index is sample u64::MAX followed by sample 0.
#[test]
fn sample_indices_wrap() {
    let p = Process::VP;
    let (mut a, mut b) = (vec![0.0f64; 4], vec![0.0f64; 2]);
    p.prior_sample(1, u64::MAX, 2, &mut a).unwrap();
    p.prior_sample(1, 0, 2, &mut b).unwrap();
    assert_eq!(&a[2..], &b[..]);
}

#[test]
fn grids_are_monotone_and_hit_their_ends() {
    for p in ALL {
        for spacing in [
            Spacing::UniformTime,
            Spacing::UniformLogSnr,
            Spacing::Karras { rho: 7.0 },
        ] {
            let mut g = vec![0.0f64; 19];
            grid::fill(&p, spacing, p.t_max(), p.t_eps(), &mut g).unwrap();
            assert_eq!(g[0], p.t_max());
            assert_eq!(g[18], p.t_eps());
            assert!(g.windows(2).all(|w| w[1] < w[0]), "{p:?} {spacing:?}");
            grid::validate(&p, &g).unwrap();
        }
        // Uniform log-SNR really is uniform in λ (bisection to adjacent doubles).
        let mut g = vec![0.0f64; 11];
        grid::fill(&p, Spacing::UniformLogSnr, p.t_max(), p.t_eps(), &mut g).unwrap();
        let l: Vec<f64> = g.iter().map(|t| p.lambda(*t)).collect();
        let step = (l[10] - l[0]) / 10.0;
        for (i, li) in l.iter().enumerate() {
            assert!((li - (l[0] + i as f64 * step)).abs() < 1e-9, "{p:?}");
        }
    }
    // Karras with end 0: EDM's grid (`get_sigmas_karras` + `append_zero`),
    // σ_i = (σmax^{1/7} + i/(N−1)(σmin^{1/7} − σmax^{1/7}))^7 for i < N, then σ_N = 0.
    // Spacing towards σ = 0 itself (the old reading) fails this at i = 1..3.
    let mut g = vec![0.0f64; 5];
    grid::fill(
        &Process::EDM,
        Spacing::Karras { rho: 7.0 },
        80.0,
        0.0,
        &mut g,
    )
    .unwrap();
    let (r0, r1) = (80f64.powf(1.0 / 7.0), 0.002f64.powf(1.0 / 7.0));
    for (i, gi) in g.iter().take(4).enumerate() {
        let want = (r0 + i as f64 / 3.0 * (r1 - r0)).powi(7);
        assert!((gi - want).abs() < 1e-12 * 80.0, "{i}: {gi} vs {want}");
    }
    assert_eq!(g[4], 0.0);
    // The same on every process: a grid to 0 is the grid to t_eps plus a last step to 0
    // (up to the bisection of σ̃ ↦ t, to adjacent doubles).
    for p in ALL {
        let mut to_zero = vec![0.0f64; 19];
        grid::fill(
            &p,
            Spacing::Karras { rho: 7.0 },
            p.t_max(),
            0.0,
            &mut to_zero,
        )
        .unwrap();
        let mut to_eps = vec![0.0f64; 18];
        grid::fill(
            &p,
            Spacing::Karras { rho: 7.0 },
            p.t_max(),
            p.t_eps(),
            &mut to_eps,
        )
        .unwrap();
        for (a, b) in to_zero.iter().zip(&to_eps) {
            assert!((a - b).abs() <= 1e-12 * p.t_max(), "{p:?}: {a} vs {b}");
        }
        assert_eq!(to_zero[18], 0.0);
    }
    // Starting at or below t_eps leaves no room for the Karras points before 0.
    let p = Process::VP;
    let mut g = [7.0f64; 4];
    assert_eq!(
        grid::fill(&p, Spacing::Karras { rho: 7.0 }, p.t_eps(), 0.0, &mut g),
        Err(Error::InvalidParameter)
    );
    assert_eq!(g, [7.0; 4]);
}

#[test]
fn bad_process_and_grid_inputs() {
    let bad = [
        Process::VpLinear {
            beta_min: 0.0,
            beta_max: 20.0,
        },
        Process::VpLinear {
            beta_min: 1.0,
            beta_max: 0.5,
        },
        Process::SubVp {
            beta_min: -1.0,
            beta_max: 20.0,
        },
        Process::Ve {
            sigma_min: 1.0,
            sigma_max: 1.0,
        },
        Process::Edm {
            sigma_min: 0.0,
            sigma_max: 80.0,
        },
        Process::Edm {
            sigma_min: 0.1,
            sigma_max: f64::INFINITY,
        },
        Process::VpCosine { offset: f64::NAN },
    ];
    for p in bad {
        assert_eq!(p.validate(), Err(Error::InvalidParameter), "{p:?}");
        let mut g = [7.0f64; 4];
        assert_eq!(
            grid::fill(&p, Spacing::UniformTime, 0.5, 0.1, &mut g),
            Err(Error::InvalidParameter)
        );
        assert_eq!(g, [7.0; 4]);
        let mut x = [7.0f64; 4];
        assert_eq!(
            p.prior_sample(1, 0, 2, &mut x),
            Err(Error::InvalidParameter)
        );
        assert_eq!(x, [7.0; 4]);
    }
    let p = Process::VP;
    let mut g = [7.0f64; 4];
    let cases: [(f64, f64, usize, Error); 6] = [
        (1.5, 0.1, 4, Error::InvalidParameter), // beyond T
        (0.1, 0.5, 4, Error::InvalidParameter), // increasing
        (0.0, 0.0, 4, Error::InvalidParameter), // s = 0 at the start
        (f64::NAN, 0.1, 4, Error::NonFiniteInput),
        (1.0, -0.1, 4, Error::InvalidParameter),
        (1.0, 0.1, 1, Error::EmptyInput), // zero steps
    ];
    for (a, b, len, e) in cases {
        assert_eq!(
            grid::fill(&p, Spacing::UniformTime, a, b, &mut g[..len]),
            Err(e),
            "{a} {b} {len}"
        );
        assert_eq!(g, [7.0; 4]);
    }
    assert_eq!(
        grid::fill(&p, Spacing::UniformLogSnr, 1.0, 0.0, &mut g),
        Err(Error::InvalidParameter)
    );
    assert_eq!(
        grid::validate(&p, &[1.0f64, 0.5, 0.5]),
        Err(Error::InvalidParameter)
    );
    assert_eq!(grid::validate(&p, &[1.0f64]), Err(Error::EmptyInput));
    assert_eq!(
        grid::validate(&p, &[1.0f64, f64::NAN]),
        Err(Error::NonFiniteInput)
    );
    assert_eq!(
        grid::validate(&p, &[0.5f64, 0.0, 0.0]),
        Err(Error::InvalidParameter)
    );
    assert_eq!(grid::validate(&p, &[0.5f64, 0.0]), Ok(())); // last step to s = 0
}
