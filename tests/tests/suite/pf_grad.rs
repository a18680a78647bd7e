//! Both vector–Jacobian products of OT resampling against central finite differences.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use otcore::pf::{
    ot_resample, ot_resample_vjp, ot_workspace_len, vjp_workspace_len, OtConfig, OtSchedule, Vjp,
};
use otcore::Error;
use otcore_tests::{filterflow_dense, Rng};

fn problem(n: usize, d: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut r = Rng::new(seed);
    let x: Vec<f64> = (0..n * d).map(|_| r.normal() + 1.0).collect();
    let logw: Vec<f64> = (0..n).map(|_| r.normal()).collect();
    let ybar: Vec<f64> = (0..n * d).map(|_| r.normal()).collect();
    (x, logw, ybar)
}

fn vjp(
    x: &[f64],
    logw: &[f64],
    d: usize,
    cfg: &OtConfig<f64>,
    v: Vjp<f64>,
    ybar: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let n = logw.len();
    let mut ws = vec![0.0; vjp_workspace_len(n, d)];
    let (mut dx, mut dl) = (vec![0.0; n * d], vec![0.0; n]);
    let rep = ot_resample_vjp(x, logw, d, cfg, &v, ybar, &mut dx, &mut dl, &mut ws).unwrap();
    if let Vjp::Implicit { .. } = v {
        assert!(rep.cg_residual < 1e-10, "CG did not converge: {rep:?}");
    }
    (dx, dl)
}

/// A map (x, log w) ↦ x̃.
type Map<'a> = &'a dyn Fn(&[f64], &[f64]) -> Vec<f64>;

/// Central differences of L(x, logw) = Σ ȳ·map(x, logw) in every coordinate.
fn central(map: Map<'_>, x: &[f64], logw: &[f64], ybar: &[f64], h: f64) -> (Vec<f64>, Vec<f64>) {
    let loss = |x: &[f64], l: &[f64]| map(x, l).iter().zip(ybar).map(|(a, b)| a * b).sum::<f64>();
    let mut dx = vec![0.0; x.len()];
    for k in 0..x.len() {
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[k] += h;
        xm[k] -= h;
        dx[k] = (loss(&xp, logw) - loss(&xm, logw)) / (2.0 * h);
    }
    let mut dl = vec![0.0; logw.len()];
    for k in 0..logw.len() {
        let (mut lp, mut lm) = (logw.to_vec(), logw.to_vec());
        lp[k] += h;
        lm[k] -= h;
        dl[k] = (loss(x, &lp) - loss(x, &lm)) / (2.0 * h);
    }
    (dx, dl)
}

fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * scale,
            "{what}[{i}]: {g} vs {w} (scale {scale})"
        );
    }
}

#[test]
fn implicit_vjp_matches_finite_differences_of_the_converged_map() {
    for (n, d, eps, seed) in [(12, 2, 0.5, 1), (9, 3, 0.25, 2), (20, 1, 0.75, 3)] {
        let (x, logw, ybar) = problem(n, d, seed);
        // A tightly converged forward map with the normalisation scale frozen (the
        // gradient treats it as a constant, as filterflow does).
        let mut cfg = OtConfig::new(eps);
        cfg.tolerance = 1e-14;
        cfg.max_iterations = 20000;
        let mut ws = vec![0.0; ot_workspace_len(n, d)];
        let mut out = vec![0.0; n * d];
        cfg.scale = ot_resample(&x, &logw, d, &cfg, &mut out, &mut ws)
            .unwrap()
            .scale;
        let map = |x: &[f64], l: &[f64]| {
            let mut ws = vec![0.0; ot_workspace_len(n, d)];
            let mut out = vec![0.0; n * d];
            ot_resample(x, l, d, &cfg, &mut out, &mut ws).unwrap();
            out
        };
        let (fx, fl) = central(&map, &x, &logw, &ybar, 1e-5);
        let v = Vjp::Implicit {
            cg_tolerance: 1e-12,
            cg_max_iterations: 1000,
        };
        let (gx, gl) = vjp(&x, &logw, d, &cfg, v, &ybar);
        // Central differences with h = 1e-5: truncation O(h²·f''') ≈ 1e-10 and
        // rounding O(ε_mach·|L|/h) ≈ 1e-11 relative to a map of size ~1; the forward
        // solve is converged to 1e-14 in the potentials. 1e-6 of the largest entry
        // leaves a wide margin (1e-8 passes too) while any missing term (≥ 1e-2 of
        // the scale) fails.
        close("dx", &gx, &fx, 1e-6);
        close("dlogw", &gl, &fl, 1e-6);
    }
}

#[test]
fn filterflow_vjp_matches_finite_differences_of_the_one_step_map() {
    for (n, d, eps, seed) in [(12, 2, 0.5, 4), (9, 3, 0.25, 5), (16, 1, 0.75, 6)] {
        let (x, logw, ybar) = problem(n, d, seed);
        // Filterflow's schedule: the map below freezes filterflow's own loop b.
        let mut cfg = OtConfig {
            schedule: OtSchedule::Filterflow,
            ..OtConfig::new(eps)
        };
        let mut ws = vec![0.0; ot_workspace_len(n, d)];
        let mut out = vec![0.0; n * d];
        let s = ot_resample(&x, &logw, d, &cfg, &mut out, &mut ws)
            .unwrap()
            .scale;
        cfg.scale = s;
        // filterflow's map with its loop potentials b frozen (its stop-gradient),
        // from an independent dense transcription, centred as ours (module docs).
        let b = filterflow_dense(&x, &logw, d, eps, None, Some(s)).b;
        let map = |x: &[f64], l: &[f64]| {
            let ff = filterflow_dense(x, l, d, eps, Some(&b), Some(s));
            let mut y = ff.x;
            for k in 0..d {
                let m = (0..n).map(|j| x[j * d + k]).sum::<f64>() / n as f64;
                for i in 0..n {
                    y[i * d + k] += m * (1.0 - ff.rows[i]);
                }
            }
            y
        };
        let (fx, fl) = central(&map, &x, &logw, &ybar, 1e-5);
        let (gx, gl) = vjp(
            &x,
            &logw,
            d,
            &cfg,
            Vjp::Filterflow {
                clip: f64::INFINITY,
            },
            &ybar,
        );
        // Our b and the transcription's b agree to ~1e-12 (same iterates in f64),
        // so the two one-step maps coincide; tolerance as for the implicit form.
        close("dx", &gx, &fx, 1e-6);
        close("dlogw", &gl, &fl, 1e-6);
    }
}

#[test]
fn clipping_bounds_the_plan_gradient() {
    let (n, d) = (10, 2);
    let (x, logw, ybar) = problem(n, d, 7);
    let cfg = OtConfig::new(0.5);
    let (gx, gl) = vjp(
        &x,
        &logw,
        d,
        &cfg,
        Vjp::Filterflow {
            clip: f64::INFINITY,
        },
        &ybar,
    );
    // A bound above every |ȳ_i·(x_j − m)| changes nothing.
    let (hx, hl) = vjp(&x, &logw, d, &cfg, Vjp::Filterflow { clip: 1e6 }, &ybar);
    close("dx", &hx, &gx, 1e-14);
    close("dlogw", &hl, &gl, 1e-14);
    // A vanishing bound kills the gradient through T: the log-weights get nothing and
    // dx is the direct part N·Tᵀȳ/N (+ the mean term), which does not depend on it.
    let (zx, zl) = vjp(&x, &logw, d, &cfg, Vjp::Filterflow { clip: 1e-300 }, &ybar);
    assert!(zl.iter().all(|v| v.abs() < 1e-280));
    let (ix, _) = vjp(
        &x,
        &logw,
        d,
        &cfg,
        Vjp::Filterflow { clip: 1e-300 },
        &ybar.iter().map(|v| 2.0 * v).collect::<Vec<_>>(),
    );
    // Linear in ȳ when only the direct part remains.
    close(
        "direct",
        &ix,
        &zx.iter().map(|v| 2.0 * v).collect::<Vec<_>>(),
        1e-12,
    );
    assert!(
        zx.iter().zip(&gx).any(|(a, b)| (a - b).abs() > 1e-3),
        "clipping had no effect"
    );
}

#[test]
fn vjp_bad_input_writes_nothing() {
    let (n, d) = (6, 2);
    let (x, logw, ybar) = problem(n, d, 8);
    let cfg = OtConfig::new(0.5);
    let mut ws = vec![0.0; vjp_workspace_len(n, d)];
    let (mut dx, mut dl) = (vec![3.0; n * d], vec![3.0; n]);
    let ff = Vjp::Filterflow { clip: 1.0 };
    let mut bad_y = ybar.clone();
    bad_y[1] = f64::NAN;
    assert_eq!(
        ot_resample_vjp(&x, &logw, d, &cfg, &ff, &bad_y, &mut dx, &mut dl, &mut ws),
        Err(Error::NonFiniteInput)
    );
    assert_eq!(
        ot_resample_vjp(
            &x,
            &logw,
            d,
            &cfg,
            &Vjp::Filterflow { clip: 0.0 },
            &ybar,
            &mut dx,
            &mut dl,
            &mut ws
        ),
        Err(Error::InvalidParameter)
    );
    let bad_cg = Vjp::Implicit {
        cg_tolerance: -1.0,
        cg_max_iterations: 10,
    };
    assert_eq!(
        ot_resample_vjp(&x, &logw, d, &cfg, &bad_cg, &ybar, &mut dx, &mut dl, &mut ws),
        Err(Error::InvalidParameter)
    );
    assert_eq!(
        ot_resample_vjp(
            &x,
            &logw,
            d,
            &cfg,
            &ff,
            &ybar[1..],
            &mut dx,
            &mut dl,
            &mut ws
        ),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        ot_resample_vjp(
            &x,
            &logw,
            d,
            &cfg,
            &ff,
            &ybar,
            &mut dx,
            &mut dl[1..],
            &mut ws
        ),
        Err(Error::LengthMismatch)
    );
    let mut small = vec![0.0; vjp_workspace_len(n, d) - 1];
    assert_eq!(
        ot_resample_vjp(&x, &logw, d, &cfg, &ff, &ybar, &mut dx, &mut dl, &mut small),
        Err(Error::WorkspaceTooSmall)
    );
    assert!(dx.iter().chain(&dl).all(|&v| v == 3.0));
}

#[test]
fn workspace_formula_is_enough_for_both_forms_and_many_shapes() {
    for (n, d) in [(1, 1), (15, 1), (16, 5), (17, 20), (33, 2)] {
        let (x, logw, ybar) = problem(n, d, 9);
        let cfg = OtConfig::new(0.5);
        for v in [
            Vjp::Filterflow { clip: 1.0 },
            Vjp::Implicit {
                cg_tolerance: 1e-8,
                cg_max_iterations: 50,
            },
        ] {
            let mut ws = vec![0.0; vjp_workspace_len(n, d)];
            let (mut dx, mut dl) = (vec![0.0; n * d], vec![0.0; n]);
            ot_resample_vjp(&x, &logw, d, &cfg, &v, &ybar, &mut dx, &mut dl, &mut ws).unwrap();
            assert!(dx.iter().chain(&dl).all(|v| v.is_finite()));
        }
    }
}

#[test]
fn f32_vjps_follow_f64() {
    let (n, d) = (24, 2);
    let (x, logw, ybar) = problem(n, d, 10);
    let cfg = OtConfig::new(0.5);
    let cast = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
    let (x32, l32, y32) = (cast(&x), cast(&logw), cast(&ybar));
    let cfg32 = OtConfig::new(0.5f32);
    let forms: [(Vjp<f64>, Vjp<f32>); 2] = [
        (Vjp::Filterflow { clip: 1.0 }, Vjp::Filterflow { clip: 1.0 }),
        (
            Vjp::Implicit {
                cg_tolerance: 1e-10,
                cg_max_iterations: 500,
            },
            Vjp::Implicit {
                cg_tolerance: 1e-5,
                cg_max_iterations: 500,
            },
        ),
    ];
    for (v64, v32) in forms {
        let (gx, gl) = vjp(&x, &logw, d, &cfg, v64, &ybar);
        let mut ws = vec![0.0f32; vjp_workspace_len(n, d)];
        let (mut dx, mut dl) = (vec![0.0f32; n * d], vec![0.0f32; n]);
        ot_resample_vjp(&x32, &l32, d, &cfg32, &v32, &y32, &mut dx, &mut dl, &mut ws).unwrap();
        let up = |v: &[f32]| v.iter().map(|&a| f64::from(a)).collect::<Vec<f64>>();
        // f32 inputs (relative rounding 6e-8) go through a Sinkhorn solve with
        // tolerance 1e-3 whose iteration count may differ by one from f64's, and
        // the CG stops at 1e-5: 1e-2 of the largest entry bounds all of it, while a
        // wrong f32 path (a missing term, a mask) is off by O(1).
        close("dx f32", &up(&dx), &gx, 1e-2);
        close("dlogw f32", &up(&dl), &gl, 1e-2);
    }
}

#[test]
fn workspace_contents_are_ignored() {
    // N = 25 leaves padding in every workspace vector; a NaN-filled workspace must give
    // the same gradients, bit for bit, as a zeroed one, for both forms.
    let (n, d) = (25, 2);
    let (x, logw, ybar) = problem(n, d, 61);
    let cfg = OtConfig::new(0.5);
    for v in [
        Vjp::Filterflow { clip: 1.0 },
        Vjp::Implicit {
            cg_tolerance: 1e-10,
            cg_max_iterations: 500,
        },
    ] {
        let run = |fill: f64| {
            let mut ws = vec![fill; vjp_workspace_len(n, d)];
            let (mut dx, mut dl) = (vec![0.0; n * d], vec![0.0; n]);
            ot_resample_vjp(&x, &logw, d, &cfg, &v, &ybar, &mut dx, &mut dl, &mut ws)
                .map(|_| (dx, dl))
        };
        let (clean, dirty) = (run(0.0).unwrap(), run(f64::NAN).unwrap());
        let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&clean.0), bits(&dirty.0), "{v:?}: dx");
        assert_eq!(bits(&clean.1), bits(&dirty.1), "{v:?}: dlogw");
    }
}
