//! The Jacobian–vector product of OT resampling (forward mode) against central finite
//! differences of the converged map, against the implicit VJP (⟨ȳ, J·v⟩ = ⟨Jᵀ·ȳ, v⟩),
//! its forward output against `ot_resample`, and its refusals of bad input.

use otcore::ot::Cg;
use otcore::pf::{
    jvp_workspace_len, ot_resample, ot_resample_jvp, ot_resample_vjp, ot_workspace_len,
    vjp_workspace_len, OtConfig, Vjp,
};
use otcore::Error;
use otcore_tests::Rng;

const CG: Cg<f64> = Cg {
    tolerance: 1e-12,
    max_iterations: 1000,
};

struct Problem {
    n: usize,
    d: usize,
    x: Vec<f64>,
    logw: Vec<f64>,
    cfg: OtConfig<f64>,
}

/// A cloud, its log-weights, and a tightly converged forward map with the
/// normalisation scale frozen (the derivatives treat it as a constant).
fn problem(n: usize, d: usize, eps: f64, seed: u64) -> Problem {
    let mut r = Rng::new(seed);
    let x: Vec<f64> = (0..n * d).map(|_| r.normal() + 1.0).collect();
    let logw: Vec<f64> = (0..n).map(|_| r.normal()).collect();
    let mut cfg = OtConfig::new(eps);
    cfg.tolerance = 1e-14;
    cfg.max_iterations = 20000;
    let mut out = vec![0.0; n * d];
    cfg.scale = map(&x, &logw, d, &cfg, &mut out).scale;
    Problem { n, d, x, logw, cfg }
}

fn map(
    x: &[f64],
    logw: &[f64],
    d: usize,
    cfg: &OtConfig<f64>,
    out: &mut [f64],
) -> otcore::pf::OtReport<f64> {
    let mut ws = vec![0.0; ot_workspace_len(logw.len(), d)];
    ot_resample(x, logw, d, cfg, out, &mut ws).unwrap()
}

/// x̃ and the tangents along the stacked directions.
fn jvp(p: &Problem, xd: &[f64], ld: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let dirs = ld.len() / p.n;
    let mut ws = vec![f64::NAN; jvp_workspace_len(p.n, p.d, dirs)];
    let (mut xo, mut xod) = (vec![0.0; p.n * p.d], vec![0.0; xd.len()]);
    let rep = ot_resample_jvp(
        &p.x,
        &p.logw,
        p.d,
        &p.cfg,
        &CG,
        (xd, ld),
        (&mut xo, &mut xod),
        &mut ws,
    )
    .unwrap();
    assert!(rep.cg_residual <= 1e-12, "{rep:?}");
    (xo, xod)
}

fn directions(p: &Problem, dirs: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut r = Rng::new(seed);
    let xd = (0..dirs * p.n * p.d).map(|_| r.normal()).collect();
    let ld = (0..dirs * p.n).map(|_| r.normal()).collect();
    (xd, ld)
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |a, x| a.max(x.abs()))
}

#[test]
fn jvp_matches_finite_differences_of_the_converged_map() {
    for (n, d, eps, seed) in [(12, 2, 0.5, 1), (9, 3, 0.25, 2), (20, 1, 0.75, 3)] {
        let p = problem(n, d, eps, seed);
        let (xd, ld) = directions(&p, 2, seed + 100);
        let (_, got) = jvp(&p, &xd, &ld);
        let h = 1e-5;
        for dir in 0..2 {
            let shifted = |sign: f64| {
                let x: Vec<f64> = (0..n * d)
                    .map(|i| p.x[i] + sign * h * xd[dir * n * d + i])
                    .collect();
                let l: Vec<f64> = (0..n)
                    .map(|j| p.logw[j] + sign * h * ld[dir * n + j])
                    .collect();
                let mut out = vec![0.0; n * d];
                map(&x, &l, d, &p.cfg, &mut out);
                out
            };
            let (plus, minus) = (shifted(1.0), shifted(-1.0));
            let want: Vec<f64> = plus
                .iter()
                .zip(&minus)
                .map(|(a, b)| (a - b) / (2.0 * h))
                .collect();
            let tangent = &got[dir * n * d..(dir + 1) * n * d];
            // As the VJP's test: truncation O(h²) ≈ 1e-10, rounding ≈ 1e-11, the
            // forward solve converged to 1e-14; 1e-6 of the largest entry.
            let scale = max_abs(&want);
            for (i, (g, w)) in tangent.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-6 * scale,
                    "n {n} d {d} dir {dir} [{i}]: {g} vs {w}"
                );
            }
        }
    }
}

#[test]
fn jvp_and_vjp_are_transposes() {
    for (n, d, eps, seed) in [(16, 2, 0.5, 4), (11, 4, 0.3, 5)] {
        let p = problem(n, d, eps, seed);
        let (xd, ld) = directions(&p, 1, seed + 200);
        let (_, jv) = jvp(&p, &xd, &ld);
        let ybar: Vec<f64> = directions(&p, 1, seed + 300).0;
        let mut ws = vec![0.0; vjp_workspace_len(n, d)];
        let (mut dx, mut dl) = (vec![0.0; n * d], vec![0.0; n]);
        let v = Vjp::Implicit {
            cg_tolerance: 1e-12,
            cg_max_iterations: 1000,
        };
        ot_resample_vjp(
            &p.x, &p.logw, d, &p.cfg, &v, &ybar, &mut dx, &mut dl, &mut ws,
        )
        .unwrap();
        let lhs: f64 = ybar.iter().zip(&jv).map(|(a, b)| a * b).sum();
        let rhs: f64 = dx.iter().zip(&xd).map(|(a, b)| a * b).sum::<f64>()
            + dl.iter().zip(&ld).map(|(a, b)| a * b).sum::<f64>();
        // Both solve the same adjoint system to a 1e-12 residual: the two products
        // agree to about that times the size of their terms.
        let size = max_abs(&ybar) * max_abs(&jv) * (n * d) as f64;
        assert!(
            (lhs - rhs).abs() <= 1e-9 * size,
            "⟨ȳ, Jv⟩ {lhs} vs ⟨Jᵀȳ, v⟩ {rhs}"
        );
    }
}

#[test]
fn the_forward_output_is_ot_resample_bit_for_bit() {
    let p = problem(13, 2, 0.5, 6);
    let (xd, ld) = directions(&p, 3, 7);
    let (xo, _) = jvp(&p, &xd, &ld);
    let mut want = vec![0.0; 13 * 2];
    map(&p.x, &p.logw, 2, &p.cfg, &mut want);
    assert_eq!(xo, want);
    // A common shift of the log-weight tangent is no change of the weights.
    let (_, a) = jvp(&p, &xd, &ld);
    let shifted: Vec<f64> = ld.iter().map(|v| v + 3.0).collect();
    let (_, b) = jvp(&p, &xd, &shifted);
    for (u, v) in a.iter().zip(&b) {
        assert!((u - v).abs() <= 1e-9 * max_abs(&a), "{u} vs {v}");
    }
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let p = problem(8, 2, 0.5, 8);
    let (xd, ld) = directions(&p, 1, 9);
    let run = |xd: &[f64], ld: &[f64], cg: Cg<f64>, ws_len: usize| {
        let mut ws = vec![0.0; ws_len];
        let (mut xo, mut xod) = (vec![7.0; 16], vec![7.0; xd.len()]);
        let r = ot_resample_jvp(
            &p.x,
            &p.logw,
            2,
            &p.cfg,
            &cg,
            (xd, ld),
            (&mut xo, &mut xod),
            &mut ws,
        );
        assert!(xo.iter().chain(&xod).all(|&v| v == 7.0), "written on {r:?}");
        r.map(|_| ())
    };
    let len = jvp_workspace_len(8, 2, 1);
    let mut nan = xd.clone();
    nan[3] = f64::NAN;
    assert_eq!(run(&nan, &ld, CG, len), Err(Error::NonFiniteInput));
    assert_eq!(run(&xd, &ld[..7], CG, len), Err(Error::EmptyInput));
    assert_eq!(run(&xd[1..], &ld, CG, len), Err(Error::LengthMismatch));
    assert_eq!(run(&xd, &ld, CG, len - 1), Err(Error::WorkspaceTooSmall));
    for tol in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let cg = Cg {
            tolerance: tol,
            ..CG
        };
        assert_eq!(run(&xd, &ld, cg, len), Err(Error::InvalidParameter));
    }
}
