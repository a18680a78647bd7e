//! Iterations and time to a fixed marginal error from each start (issue 19): zero,
//! Gaussian, subsample (n/8 points), sorted (d = 1), the adaptive acceleration (from
//! a zero start, and from the Gaussian start, sorted for d = 1), on the problem
//! families of Thornton & Cuturi (2023): Gaussian and Gaussian-mixture clouds in
//! d ∈ {1, 2, 3, 8}, n = m ∈ {256, 1024}, uniform weights, cost ‖x − y‖²,
//! ε ∈ {1e-1, 1e-2, 1e-3} × mean cost, f32 and f64, stopping at an L1 marginal error of
//! 1e-3 (OTT-JAX's default threshold) or after 2000 iterations ("2000+"). Side by side:
//! OTT-JAX's counts on the same problems (same generator, same ε, same threshold,
//! error checked every iteration) from `tools/reference/ott_init_counts.txt`, made by
//! `tools/reference/ott_init_counts.py`.
//!
//! Run: `cargo run --release -p otcore-tests --example sinkhorn_init_table` (about
//! 10 minutes on one core; `-- 256` for the n = 256 rows only). Prints a Markdown
//! table; times are wall-clock milliseconds of one `solve` (initializer included) on
//! the x86-64 baseline build, single-threaded.

use std::time::Instant;

use otcore::ot::{self, Acceleration, Config, Epsilon, Init, Problem};
use otcore::Real;
use otcore_tests::Rng;

/// Budget: a hard bound, the same for OTT.
const CAP: u32 = 2000;
/// The fixed marginal error (L1, weights summing to 1).
const TOL: f64 = 1e-3;
/// Subsample size: n/8 points of each cloud.
const SUB_DIV: usize = 8;
/// Acceleration start (iterations at the final ε before ω is chosen).
const ACC_START: u32 = 10;

/// One problem of the table: the family, d, n and the clouds (row-major, f64).
pub struct Case {
    family: &'static str,
    d: usize,
    n: usize,
    x: Vec<f64>,
    y: Vec<f64>,
}

/// The generator shared with `tools/reference/ott_init_counts.py` (SplitMix64 and
/// Box–Muller, as `otcore_tests::Rng`): "gauss" draws x ~ N(0, I) and
/// y_k = 1 + (0.5 + k/d)·z_k + 0.3·z_{k+1 mod d} (d > 1); "mixture" draws both clouds
/// from three components each (centres ~ N(0, 4I), spread 0.5, point i in component
/// i mod 3).
fn case(family: &'static str, d: usize, n: usize) -> Case {
    let mut rng = Rng::new((1000 * d + n + if family == "mixture" { 7 } else { 0 }) as u64);
    let (x, y) = if family == "gauss" {
        let x = rng.normals(n * d, 0.0, 1.0);
        let z = rng.normals(n * d, 0.0, 1.0);
        let mut y = vec![0.0; n * d];
        for i in 0..n {
            for k in 0..d {
                let mut v = 1.0 + (0.5 + k as f64 / d as f64) * z[i * d + k];
                if d > 1 {
                    v += 0.3 * z[i * d + (k + 1) % d];
                }
                y[i * d + k] = v;
            }
        }
        (x, y)
    } else {
        let cloud = |rng: &mut Rng| {
            let centres = rng.normals(3 * d, 0.0, 2.0);
            let noise = rng.normals(n * d, 0.0, 0.5);
            (0..n * d)
                .map(|e| centres[(e / d % 3) * d + e % d] + noise[e])
                .collect::<Vec<f64>>()
        };
        let x = cloud(&mut rng);
        let y = cloud(&mut rng);
        (x, y)
    };
    Case { family, d, n, x, y }
}

/// Iterations (None if the budget ran out) and milliseconds of one solve.
fn run<T: Real>(c: &Case, eps_rel: f64, init: Init, acc: Acceleration) -> (Option<u32>, f64) {
    let x: Vec<T> = c.x.iter().map(|&v| T::from_f64(v)).collect();
    let y: Vec<T> = c.y.iter().map(|&v| T::from_f64(v)).collect();
    let w = vec![T::ONE / T::from_usize(c.n); c.n];
    let problem = Problem::point_clouds(&x, &y, c.d, T::ONE, &w, &w);
    let cfg = Config {
        epsilon: Epsilon::RelativeToMeanCost(T::from_f64(eps_rel)),
        tolerance: T::from_f64(TOL),
        max_iterations: CAP,
        acceleration: acc,
        ..Config::default()
    };
    let mut ws = vec![T::ZERO; ot::solve_workspace_len(c.n, c.n, c.d, init)];
    let (mut f, mut g) = (vec![T::ZERO; c.n], vec![T::ZERO; c.n]);
    let t0 = Instant::now();
    let sol = ot::solve(&problem, &cfg, init, &mut f, &mut g, &mut ws)
        .unwrap_or_else(|e| panic!("{} d={} n={}: {e}", c.family, c.d, c.n));
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let it = (sol.status == ot::Status::Converged).then_some(sol.iterations);
    (it, ms)
}

fn fmt(it: Option<u32>) -> String {
    it.map_or(format!("{CAP}+"), |v| v.to_string())
}

/// OTT's counts by (family, d, n, eps_rel, precision, initializer), if the data file
/// is there.
fn ott_counts() -> Vec<(String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/reference/ott_init_counts.txt"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            (t.len() == 7).then(|| (t[..6].join(" "), t[6].to_string()))
        })
        .collect()
}

fn main() {
    let only: Option<usize> = std::env::args().nth(1).and_then(|a| a.parse().ok());
    let ott = ott_counts();
    let lookup = |key: String| {
        ott.iter()
            .find(|(k, _)| *k == key)
            .map_or("–".to_string(), |(_, v)| v.clone())
    };
    println!(
        "| family | d | n | ε/mean C | prec | zero | gauss | subsample | sorted | accel | \
         init+accel | OTT zero | OTT gauss | OTT subsample | OTT sorting | ms zero | ms best init |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for n in [256, 1024] {
        if only.is_some_and(|o| o != n) {
            continue;
        }
        for family in ["gauss", "mixture"] {
            for d in [1, 2, 3, 8] {
                let c = case(family, d, n);
                for eps_rel in [1e-1, 1e-2, 1e-3] {
                    for prec in ["f32", "f64"] {
                        let row = |init: Init, acc: Acceleration| {
                            if prec == "f32" {
                                run::<f32>(&c, eps_rel, init, acc)
                            } else {
                                run::<f64>(&c, eps_rel, init, acc)
                            }
                        };
                        let off = Acceleration::Off;
                        let zero = row(Init::Zero, off);
                        let gauss = row(Init::Gaussian, off);
                        let sub = row(
                            Init::Subsample {
                                size: (n / SUB_DIV) as u32,
                            },
                            off,
                        );
                        let sorted = (d == 1).then(|| row(Init::Sorted, off));
                        let adaptive = Acceleration::Adaptive { start: ACC_START };
                        let accel = row(Init::Zero, adaptive);
                        let both =
                            row(if d == 1 { Init::Sorted } else { Init::Gaussian }, adaptive);
                        let best = [Some(gauss), Some(sub), sorted]
                            .into_iter()
                            .flatten()
                            .min_by_key(|(it, _)| it.unwrap_or(u32::MAX))
                            .map_or(0.0, |(_, ms)| ms);
                        let key =
                            |init: &str| format!("{family} {d} {n} {eps_rel:e} {prec} {init}");
                        println!(
                            "| {family} | {d} | {n} | {eps_rel:e} | {prec} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} |",
                            fmt(zero.0),
                            fmt(gauss.0),
                            fmt(sub.0),
                            sorted.map_or("–".to_string(), |s| fmt(s.0)),
                            fmt(accel.0),
                            fmt(both.0),
                            lookup(key("zero")),
                            lookup(key("gaussian")),
                            lookup(key("subsample")),
                            if d == 1 { lookup(key("sorting")) } else { "–".to_string() },
                            zero.1,
                            best,
                        );
                    }
                }
            }
        }
    }
}
