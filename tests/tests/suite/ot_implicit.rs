//! Implicit-differentiation VJPs of the plan (`Plan::barycentric_vjp`,
//! `Plan::potentials_vjp`) against central finite differences of the solver itself,
//! and their refusals of bad input.
//!
//! Tolerances: the solves run to an L1 marginal error of 1e-14, so the solution map is
//! differentiated to about 1e-14/h = 1e-9 relative with the step h = 1e-5, and the
//! central difference's own error is O(h²) = 1e-10 times the third derivative: 1e-6
//! relative (the bar) leaves room for both.

use otcore::ot::{self, Cg, Config, Epsilon, Gradient, Init, Plan, Problem};
use otcore::Error;
use otcore_tests::Rng;

const N: usize = 7;
const M: usize = 9;
const D: usize = 2;
const EPS: f64 = 0.3;
const H: f64 = 1e-5;
/// Cost scale: C = s‖x − y‖², not ½ nor 1, so that s is exercised.
const S: f64 = 0.7;

struct Case {
    x: Vec<f64>,
    y: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
}

fn case(seed: u64, dead_row: bool) -> Case {
    let mut r = Rng::new(seed);
    let x = r.normals(N * D, 0.0, 1.0);
    let y = r.normals(M * D, 0.5, 0.8);
    let mut a = r.weights(N);
    if dead_row {
        // Row 2 has no mass: its map is that of the soft c-transform.
        let moved = a[2];
        a[2] = 0.0;
        a[0] += moved;
    }
    let b = r.weights(M);
    Case { x, y, a, b }
}

fn config(eps: f64) -> Config<f64> {
    Config {
        epsilon: Epsilon::Absolute(eps),
        tolerance: 1e-14,
        max_iterations: 100_000,
        ..Config::default()
    }
}

/// Solves and returns (f, g) with the gauge Σ_live f = Σ_live g.
fn solve(c: &Case, eps: f64) -> (Vec<f64>, Vec<f64>) {
    let p = Problem::point_clouds(&c.x, &c.y, D, S, &c.a, &c.b);
    let mut ws = vec![0.0; ot::workspace_len(N, M, D)];
    let (mut f, mut g) = (vec![0.0; N], vec![0.0; M]);
    let sol = ot::solve(&p, &config(eps), Init::Zero, &mut f, &mut g, &mut ws).unwrap();
    assert!(sol.error <= 1e-13, "solve error {}", sol.error);
    let live_f: Vec<usize> = (0..N).filter(|&i| c.a[i] > 0.0).collect();
    let k = (live_f.iter().map(|&i| f[i]).sum::<f64>() - g.iter().sum::<f64>())
        / (live_f.len() + M) as f64;
    for &i in &live_f {
        f[i] -= k;
    }
    g.iter_mut().for_each(|v| *v += k);
    (f, g)
}

fn map(c: &Case, eps: f64) -> Vec<f64> {
    let p = Problem::point_clouds(&c.x, &c.y, D, S, &c.a, &c.b);
    let (f, g) = solve(c, eps);
    let mut ws = vec![0.0; ot::workspace_len(N, M, D)];
    let mut t = vec![0.0; N * D];
    Plan::new(p, eps, &f, &g)
        .barycentric(&mut t, &mut ws)
        .unwrap();
    t
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

struct Grads {
    x: Vec<f64>,
    y: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
}

const CG: Cg<f64> = Cg {
    tolerance: 1e-13,
    max_iterations: 500,
};

fn vjp(c: &Case, eps: f64, bar: (&[f64], Option<&[f64]>)) -> Grads {
    let p = Problem::point_clouds(&c.x, &c.y, D, S, &c.a, &c.b);
    let (f, g) = solve(c, eps);
    let mut ws = vec![f64::NAN; ot::implicit_workspace_len(N, M, D)];
    let mut gr = Grads {
        x: vec![0.0; N * D],
        y: vec![0.0; M * D],
        a: vec![0.0; N],
        b: vec![0.0; M],
    };
    let out = Gradient {
        x: &mut gr.x,
        y: &mut gr.y,
        a: &mut gr.a,
        b: &mut gr.b,
    };
    let plan = Plan::new(p, eps, &f, &g);
    let rep = match bar {
        (tbar, None) => plan.barycentric_vjp(tbar, &CG, out, &mut ws),
        (fbar, Some(gbar)) => plan.potentials_vjp(fbar, gbar, &CG, out, &mut ws),
    }
    .unwrap();
    println!("{rep:?}");
    assert!(rep.cg.residual <= 1e-13, "{rep:?}");
    assert!(rep.marginal_error <= 1e-13, "{rep:?}");
    gr
}

/// Central difference of `loss` along a change of one input.
fn fd(c: &Case, loss: &dyn Fn(&Case) -> f64, bump: &dyn Fn(&mut Case, f64)) -> f64 {
    let (mut p, mut m) = (clone(c), clone(c));
    bump(&mut p, H);
    bump(&mut m, -H);
    (loss(&p) - loss(&m)) / (2.0 * H)
}

fn clone(c: &Case) -> Case {
    Case {
        x: c.x.clone(),
        y: c.y.clone(),
        a: c.a.clone(),
        b: c.b.clone(),
    }
}

/// Compares every coordinate gradient and the weight gradients along zero-sum
/// directions (e_i − e_0: a balanced problem stays balanced) with finite differences.
fn check(c: &Case, gr: &Grads, loss: &dyn Fn(&Case) -> f64) {
    let scale =
        gr.x.iter()
            .chain(&gr.y)
            .chain(&gr.a)
            .chain(&gr.b)
            .fold(0.0f64, |s, v| s.max(v.abs()));
    let close = |what: &str, got: f64, want: f64| {
        assert!(
            (got - want).abs() <= 1e-6 * scale,
            "{what}: vjp {got:e}, finite differences {want:e} (scale {scale:e})"
        );
    };
    for i in 0..N * D {
        close(
            &format!("x[{i}]"),
            gr.x[i],
            fd(c, loss, &|c, h| c.x[i] += h),
        );
    }
    for j in 0..M * D {
        close(
            &format!("y[{j}]"),
            gr.y[j],
            fd(c, loss, &|c, h| c.y[j] += h),
        );
    }
    for i in 1..N {
        if c.a[i] == 0.0 {
            continue;
        }
        let want = fd(c, loss, &|c, h| {
            c.a[i] += h;
            c.a[0] -= h;
        });
        close(&format!("a[{i}] - a[0]"), gr.a[i] - gr.a[0], want);
    }
    for j in 1..M {
        let want = fd(c, loss, &|c, h| {
            c.b[j] += h;
            c.b[0] -= h;
        });
        close(&format!("b[{j}] - b[0]"), gr.b[j] - gr.b[0], want);
    }
}

#[test]
fn barycentric_map_vjp_matches_finite_differences() {
    for (seed, dead) in [(1, false), (2, true)] {
        let c = case(seed, dead);
        let tbar = Rng::new(seed + 10).normals(N * D, 0.0, 1.0);
        let gr = vjp(&c, EPS, (&tbar, None));
        check(&c, &gr, &|c| dot(&tbar, &map(c, EPS)));
        if dead {
            // The dead row's map moves with its own point (∂T/∂x = 2s·Cov/ε ≠ 0).
            assert!(gr.x[2 * D].abs() + gr.x[2 * D + 1].abs() > 1e-3);
            assert_eq!(gr.a[2], 0.0);
        }
    }
}

#[test]
fn potentials_vjp_matches_finite_differences_in_the_fixed_gauge() {
    for (seed, dead) in [(3, false), (4, true)] {
        let c = case(seed, dead);
        let mut r = Rng::new(seed + 20);
        let mut fbar = r.normals(N, 0.0, 1.0);
        let gbar = r.normals(M, 0.0, 1.0);
        if dead {
            // A cotangent on a dead point's f (−∞) is ignored.
            fbar[2] = 0.0;
        }
        let gr = vjp(&c, EPS, (&fbar, Some(&gbar)));
        check(&c, &gr, &|c| {
            let (f, g) = solve(c, EPS);
            let live = f.iter().zip(&fbar).zip(&c.a).filter(|(_, &a)| a > 0.0);
            live.map(|((f, fb), _)| f * fb).sum::<f64>() + dot(&g, &gbar)
        });
    }
}

#[test]
fn the_map_vjp_in_f32_follows_f64() {
    // f32 solves to 1e-6 (its marginal error floor at this size): the VJPs agree to
    // about 1e-4 of their largest entry, the conditioning of the adjoint system at ε
    // = 0.3 times single-precision rounding.
    let c = case(5, false);
    let tbar = Rng::new(15).normals(N * D, 0.0, 1.0);
    let want = vjp(&c, EPS, (&tbar, None));
    let f32v = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let (x, y, a, b) = (f32v(&c.x), f32v(&c.y), f32v(&c.a), f32v(&c.b));
    let p = Problem::point_clouds(&x, &y, D, S as f32, &a, &b);
    let cfg = Config {
        epsilon: Epsilon::Absolute(EPS as f32),
        tolerance: 1e-6,
        max_iterations: 10_000,
        ..Config::default()
    };
    let mut ws = vec![0.0f32; ot::implicit_workspace_len(N, M, D)];
    let (mut f, mut g) = (vec![0.0f32; N], vec![0.0f32; M]);
    ot::solve(&p, &cfg, Init::Zero, &mut f, &mut g, &mut ws).unwrap();
    let mut gx = vec![0.0f32; N * D];
    let mut gy = vec![0.0f32; M * D];
    let (mut ga, mut gb) = (vec![0.0f32; N], vec![0.0f32; M]);
    let out = Gradient {
        x: &mut gx,
        y: &mut gy,
        a: &mut ga,
        b: &mut gb,
    };
    let cg = Cg {
        tolerance: 1e-5f32,
        max_iterations: 200,
    };
    Plan::new(p, EPS as f32, &f, &g)
        .barycentric_vjp(&f32v(&tbar), &cg, out, &mut ws)
        .unwrap();
    let scale = want.x.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    for (got, w) in gx.iter().zip(&want.x).chain(gy.iter().zip(&want.y)) {
        assert!((f64::from(*got) - w).abs() <= 1e-4 * scale, "{got} vs {w}");
    }
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let c = case(6, false);
    let p = Problem::point_clouds(&c.x, &c.y, D, S, &c.a, &c.b);
    let (f, g) = solve(&c, EPS);
    let plan = Plan::new(p, EPS, &f, &g);
    let len = ot::implicit_workspace_len(N, M, D);
    let tbar = vec![1.0; N * D];
    let run = |tbar: &[f64], cg: Cg<f64>, ws_len: usize, out_n: usize| {
        let mut ws = vec![0.0; ws_len];
        let mut o = [
            vec![7.0; out_n * D],
            vec![7.0; M * D],
            vec![7.0; out_n],
            vec![7.0; M],
        ];
        let [ox, oy, oa, ob] = &mut o;
        let out = Gradient {
            x: ox,
            y: oy,
            a: oa,
            b: ob,
        };
        let r = plan.barycentric_vjp(tbar, &cg, out, &mut ws).map(|_| ());
        assert!(o.iter().flatten().all(|&v| v == 7.0), "written on {r:?}");
        r
    };
    let mut nan = tbar.clone();
    nan[3] = f64::NAN;
    assert_eq!(run(&nan, CG, len, N), Err(Error::NonFiniteInput));
    assert_eq!(run(&tbar[1..], CG, len, N), Err(Error::LengthMismatch));
    assert_eq!(run(&tbar, CG, len, N - 1), Err(Error::LengthMismatch));
    assert_eq!(run(&tbar, CG, len - 1, N), Err(Error::WorkspaceTooSmall));
    for tol in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let cg = Cg {
            tolerance: tol,
            ..CG
        };
        assert_eq!(run(&tbar, cg, len, N), Err(Error::InvalidParameter));
    }
    // A dense cost has no points to differentiate.
    let cost = vec![1.0; N * M];
    let dense = Problem::matrix(&cost, &c.a, &c.b);
    let mut ws = vec![0.0; len];
    let (mut gx, mut gy, mut ga, mut gb) = (vec![0.0; 0], vec![0.0; 0], vec![0.0; N], vec![0.0; M]);
    let out = Gradient {
        x: &mut gx,
        y: &mut gy,
        a: &mut ga,
        b: &mut gb,
    };
    let fbar = vec![0.0; N];
    let r = Plan::new(dense, EPS, &f, &g).potentials_vjp(&fbar, &g, &CG, out, &mut ws);
    assert_eq!(r.map(|_| ()), Err(Error::NeedsPointClouds));
}
