//! Sinkhorn throughput: nanoseconds per matrix entry per half-iteration.
//!
//! n = m ∈ {64, 256, 1024, 4096}, d = 2, squared Euclidean cost, ε = 0.05 × mean cost,
//! a fixed budget of 20 iterations (tolerance 0), one core, f32 and f64. A solve of k
//! iterations makes 2k + 1 passes over the n·m pairs (k column passes, k row passes,
//! one final measuring pass), so ns/entry/half-iteration = time / ((2k + 1)·n·m);
//! criterion's element throughput counts exactly those entries, and the summary
//! printed at the end converts it.
//!
//! The group `sinkhorn_layout_f32` solves the n = 1024 problem with both clouds given
//! column-major (`Points::strided`) next to the row-major one: the layout is read once
//! per call and once per target and pass, so both should take the same time.
//!
//! `cargo bench -p otcore --bench sinkhorn` (portable x86-64 baseline), or with
//! `RUSTFLAGS="-C target-cpu=native"` for the machine's full vector width.

mod common;
use common::cloud;
use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use otcore::ot::{self, Config, Epsilon, Init, Problem};
use otcore::{Points, Real};

const ITERATIONS: u32 = 20;
const SIZES: [usize; 4] = [64, 256, 1024, 4096];

fn entries(n: usize) -> u64 {
    (2 * u64::from(ITERATIONS) + 1) * (n * n) as u64
}

fn bench_type<T: Real>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(format!("sinkhorn_{name}"));
    group.sample_size(10);
    for n in SIZES {
        let x: Vec<T> = cloud(n, 1, 0.0).into_iter().map(T::from_f64).collect();
        let y: Vec<T> = cloud(n, 2, 0.5).into_iter().map(T::from_f64).collect();
        let a = vec![T::ONE / T::from_usize(n); n];
        let problem = Problem::point_clouds(&x, &y, 2, T::ONE, &a, &a);
        let config = Config {
            epsilon: Epsilon::RelativeToMeanCost(T::from_f64(0.05)),
            tolerance: T::ZERO,
            max_iterations: ITERATIONS,
            ..Config::default()
        };
        let mut ws = vec![T::ZERO; ot::workspace_len(n, n, 2)];
        let (mut f, mut g) = (vec![T::ZERO; n], vec![T::ZERO; n]);
        group.throughput(Throughput::Elements(entries(n)));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bch, _| {
            bch.iter(|| {
                let sol = ot::solve(&problem, &config, Init::Zero, &mut f, &mut g, &mut ws);
                black_box(sol.map(|s| s.iterations))
            })
        });
    }
    group.finish();
}

/// Row-major against column-major clouds, n = 1024, f32.
fn bench_layout(c: &mut Criterion) {
    let n = 1024;
    let mut group = c.benchmark_group("sinkhorn_layout_f32");
    group.sample_size(10);
    let x: Vec<f32> = cloud(n, 1, 0.0).into_iter().map(f32::from_f64).collect();
    let y: Vec<f32> = cloud(n, 2, 0.5).into_iter().map(f32::from_f64).collect();
    let cm = |p: &[f32]| -> Vec<f32> { (0..2 * n).map(|e| p[(e % n) * 2 + e / n]).collect() };
    let (xc, yc) = (cm(&x), cm(&y));
    let a = vec![1.0 / n as f32; n];
    let config = Config {
        epsilon: Epsilon::RelativeToMeanCost(0.05),
        tolerance: 0.0,
        max_iterations: ITERATIONS,
        ..Config::default()
    };
    let mut ws = vec![0.0f32; ot::workspace_len(n, n, 2)];
    let (mut f, mut g) = (vec![0.0f32; n], vec![0.0f32; n]);
    let problems = [
        ("row_major", Problem::point_clouds(&x, &y, 2, 1.0, &a, &a)),
        (
            "column_major",
            Problem::strided_clouds(
                Points::strided(&xc, 1, n),
                Points::strided(&yc, 1, n),
                2,
                1.0,
                &a,
                &a,
            ),
        ),
    ];
    group.throughput(Throughput::Elements(entries(n)));
    for (name, problem) in problems {
        group.bench_function(name, |bch| {
            bch.iter(|| {
                let sol = ot::solve(&problem, &config, Init::Zero, &mut f, &mut g, &mut ws);
                black_box(sol.map(|s| s.iterations))
            })
        });
    }
    group.finish();
}

/// Reads criterion's mean estimate (ns per solve) from its saved JSON.
fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").to_string());
    let path = format!("{dir}/criterion/{group}/{id}/new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let mean = &text[text.find("\"mean\"")?..];
    let pe = &mean[mean.find("\"point_estimate\":")? + 17..];
    pe[..pe.find(',')?].trim().parse().ok()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_type::<f32>(&mut c, "f32");
    bench_type::<f64>(&mut c, "f64");
    bench_layout(&mut c);
    c.final_summary();
    println!(
        "\nns per matrix entry per half-iteration (d = 2, {ITERATIONS} iterations, one core):"
    );
    println!("{:>6} {:>10} {:>10}", "n", "f32", "f64");
    for n in SIZES {
        let per = |g: &str| {
            mean_ns(g, &n.to_string())
                .map_or("-".to_string(), |t| format!("{:.3}", t / entries(n) as f64))
        };
        println!(
            "{n:>6} {:>10} {:>10}",
            per("sinkhorn_f32"),
            per("sinkhorn_f64")
        );
    }
    let layout = |id| mean_ns("sinkhorn_layout_f32", id).map(|t| t / entries(1024) as f64);
    if let (Some(r), Some(c)) = (layout("row_major"), layout("column_major")) {
        println!(
            "n = 1024 f32: row-major {r:.3}, column-major {c:.3} ns (ratio {:.3})",
            c / r
        );
    }
}
