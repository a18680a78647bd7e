//! OT resampling and a full particle-filter step.
//!
//! - `ot_resample_{f32,f64}/d{2,4}/N`: one `ot_resample` of N ∈ {32, 64, 128, 256, 1024}
//!   particles in d ∈ {2, 4} (standard normal cloud, log-weights N(0, 1.5²) as after a
//!   weighting step), ε = 0.5, filterflow's defaults (scaling 0.75, tolerance 1e-3,
//!   ≤ 100 iterations). The iteration count of each case is printed at the end.
//! - `pf_step_f32/{systematic,ot}/256`: one `step` of a 3-D random-walk filter with a
//!   Gaussian likelihood, resampling every step (the worst case of ESS gating).
//!
//! `cargo bench -p otcore --bench resample` (portable x86-64 baseline; one core).

use std::time::Duration;

use criterion::{black_box, BenchmarkId, Criterion};
use otcore::pf::{
    filter_workspace_len, ot_resample, ot_workspace_len, step, uniform_log_weights, FilterConfig,
    OtConfig, RandomSource, Resampler, Scheme, SplitMix64, Totals, Trigger,
};
use otcore::Real;

const SIZES: [usize; 5] = [32, 64, 128, 256, 1024];

fn problem<T: Real>(n: usize, d: usize) -> (Vec<T>, Vec<T>) {
    let mut r = SplitMix64::new(42);
    let x = (0..n * d).map(|_| r.normal::<T>()).collect();
    let l = (0..n).map(|_| T::from_f64(1.5) * r.normal::<T>()).collect();
    (x, l)
}

fn bench_ot<T: Real>(c: &mut Criterion, name: &str, report: &mut Vec<String>) {
    for d in [2, 4] {
        let mut group = c.benchmark_group(format!("ot_resample_{name}/d{d}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_secs(1));
        for n in SIZES {
            let (x, l) = problem::<T>(n, d);
            let cfg = OtConfig::new(T::HALF);
            let mut ws = vec![T::ZERO; ot_workspace_len(n, d)];
            let mut out = vec![T::ZERO; n * d];
            let it = ot_resample(&x, &l, d, &cfg, &mut out, &mut ws).map_or(0, |r| r.iterations);
            report.push(format!("{name} d={d} N={n}: {it} iterations"));
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| black_box(ot_resample(&x, &l, d, &cfg, &mut out, &mut ws).is_ok()))
            });
        }
        group.finish();
    }
}

fn bench_step(c: &mut Criterion) {
    let (n, d) = (256, 3);
    let mut group = c.benchmark_group("pf_step_f32");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(1));
    for (name, resampler) in [
        ("systematic", Resampler::Classical(Scheme::Systematic)),
        ("ot", Resampler::Optimal(OtConfig::new(0.5f32))),
    ] {
        let cfg = FilterConfig {
            resampler,
            trigger: Trigger::Always,
        };
        let (x0, _) = problem::<f32>(n, d);
        let mut ws = vec![0.0f32; filter_workspace_len(n, d, true)];
        group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
            let mut x = x0.clone();
            let mut logw = vec![0.0f32; n];
            uniform_log_weights(&mut logw);
            let mut rng = SplitMix64::new(1);
            let mut totals = Totals::default();
            let (mut mean, mut cov) = ([0.0f32; 3], [0.0f32; 9]);
            b.iter(|| {
                let predict = |p: &[f32], q: &mut [f32], r: &mut SplitMix64| {
                    for (a, o) in p.iter().zip(q.iter_mut()) {
                        *o = 0.9 * a + 0.3 * r.normal::<f32>();
                    }
                    Ok(())
                };
                let lik = |xs: &[f32], l: &mut [f32]| {
                    for (p, li) in xs.chunks_exact(3).zip(l.iter_mut()) {
                        *li = -0.5 * (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
                    }
                    Ok(())
                };
                let r = step(
                    &mut x,
                    &mut logw,
                    d,
                    &cfg,
                    &mut totals,
                    &mut rng,
                    predict,
                    lik,
                    &mut mean,
                    &mut cov,
                    &mut ws,
                );
                black_box(r.is_ok())
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut report = Vec::new();
    bench_ot::<f32>(&mut c, "f32", &mut report);
    bench_ot::<f64>(&mut c, "f64", &mut report);
    bench_step(&mut c);
    c.final_summary();
    println!("\nOT iterations per case (damped iterations + final step):");
    for r in report {
        println!("  {r}");
    }
}
