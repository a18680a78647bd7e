//! Kernel throughput per dimension, for side-by-side runs of several builds: ns per
//! matrix entry per half-iteration of a Sinkhorn solve and of OT resampling.
//!
//! Plain timer, no criterion, so that one process prints one line per problem and
//! a script can alternate builds round by round on one pinned core (the machine's
//! noise then hits every build alike; compare ratios, not absolute times):
//!
//! ```text
//! cargo bench -p otcore --bench passes               # this build, best path
//! OTCORE_SIMD_PATH=portable cargo bench -p otcore --bench passes
//! RUSTFLAGS="-C target-cpu=native" cargo bench -p otcore --bench passes
//! ```
//!
//! (`bash scripts/bench-paths.sh` runs them, and the previous commit's, alternately.)
//! Problems: n = m ∈ {256, 1024}, d ∈ {1, 2, 3, 4}, uniform clouds, ε = 0.05 × mean
//! cost, 20 fixed iterations (41 passes over the n² pairs); OT resampling of N
//! particles at ε = 0.5 (its report's k + 4 passes). Each line is the minimum of
//! `REPS` timings: `kind type n d ns_per_entry`.

use std::hint::black_box;
use std::time::Instant;

use otcore::ot::{self, Config, Epsilon, Init, Problem};
use otcore::pf::{ot_resample, ot_workspace_len, OtConfig};
use otcore::Real;

const ITERATIONS: u32 = 20;
const REPS: usize = 3;

/// `count` points of dimension `d`, uniform in [−1, 1)^d + `shift` (an LCG).
fn cloud(count: usize, d: usize, seed: u64, shift: f64) -> Vec<f64> {
    let mut s = seed;
    (0..count * d)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0 + shift
        })
        .collect()
}

/// Minimum over `REPS` runs of `f`, in ns.
fn best(mut f: impl FnMut()) -> f64 {
    (0..REPS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn sinkhorn<T: Real>(name: &str, n: usize, d: usize) {
    let x: Vec<T> = cloud(n, d, 1, 0.0).into_iter().map(T::from_f64).collect();
    let y: Vec<T> = cloud(n, d, 2, 0.5).into_iter().map(T::from_f64).collect();
    let a = vec![T::ONE / T::from_usize(n); n];
    let problem = Problem::point_clouds(&x, &y, d, T::ONE, &a, &a);
    let config = Config {
        epsilon: Epsilon::RelativeToMeanCost(T::from_f64(0.05)),
        tolerance: T::ZERO,
        max_iterations: ITERATIONS,
        ..Config::default()
    };
    let mut ws = vec![T::ZERO; ot::workspace_len(n, n, d)];
    let (mut f, mut g) = (vec![T::ZERO; n], vec![T::ZERO; n]);
    let ns = best(|| {
        let sol = ot::solve(&problem, &config, Init::Zero, &mut f, &mut g, &mut ws);
        black_box(sol.map(|s| s.iterations).ok());
    });
    let entries = (2 * ITERATIONS as usize + 1) * n * n;
    println!("sinkhorn {name} {n} {d} {:.4}", ns / entries as f64);
}

fn resample<T: Real>(name: &str, n: usize, d: usize) {
    let x: Vec<T> = cloud(n, d, 3, 0.0).into_iter().map(T::from_f64).collect();
    let l: Vec<T> = cloud(n, 1, 4, 0.0).into_iter().map(T::from_f64).collect();
    let mut out = vec![T::ZERO; n * d];
    let mut ws = vec![T::ZERO; ot_workspace_len(n, d)];
    let cfg = OtConfig::new(T::HALF);
    let k = ot_resample(&x, &l, d, &cfg, &mut out, &mut ws).map_or(1, |r| r.iterations);
    let ns = best(|| {
        black_box(ot_resample(&x, &l, d, &cfg, &mut out, &mut ws).is_ok());
    });
    // k − 1 damped iterations + 4 passes (see `ot_resample`'s docs).
    let entries = (k as usize + 3) * n * n;
    println!("resample {name} {n} {d} {:.4}", ns / entries as f64);
}

fn main() {
    // Sizes from the command line (after `--`), 256 and 1024 by default.
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![256, 1024];
    }
    for n in sizes {
        for d in 1..=4 {
            sinkhorn::<f32>("f32", n, d);
            sinkhorn::<f64>("f64", n, d);
            resample::<f32>("f32", n, d);
            resample::<f64>("f64", n, d);
        }
    }
}
