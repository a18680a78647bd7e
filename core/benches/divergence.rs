//! Cost of the Sinkhorn divergence and its gradient relative to one Sinkhorn solve:
//! n = m = 1024, d = 2, squared Euclidean cost, ε = 0.05 × mean cost, default
//! tolerance, one core, f32 and f64.
//!
//! - `solve`: one Sinkhorn solve of OT_ε(α, β) from zero;
//! - `divergence`: S_ε from zero (that solve plus the two symmetric ones);
//! - `divergence_warm`: S_ε warm-started from its own converged potentials (a gradient
//!   flow's step once the points move little);
//! - `gradient`: ∇S_ε with respect to x, y, a, b (four streamed passes).
//!
//! `cargo bench -p otcore --bench divergence` (portable x86-64 baseline).

mod common;
use common::cloud;
use criterion::{black_box, Criterion};
use otcore::ot::{self, Config, DivergencePotentials, Epsilon, Gradient, Init, Problem};
use otcore::Real;

const N: usize = 1024;

fn bench_type<T: Real>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(format!("divergence_{name}"));
    group.sample_size(10);
    let x: Vec<T> = cloud(N, 1, 0.0).into_iter().map(T::from_f64).collect();
    let y: Vec<T> = cloud(N, 2, 0.5).into_iter().map(T::from_f64).collect();
    let w = vec![T::ONE / T::from_usize(N); N];
    let problem = Problem::point_clouds(&x, &y, 2, T::ONE, &w, &w);
    let config = Config {
        epsilon: Epsilon::RelativeToMeanCost(T::from_f64(0.05)),
        max_iterations: 100_000,
        ..Config::default()
    };
    let mut ws = vec![T::ZERO; ot::divergence_gradient_workspace_len(N, N, 2)];
    let mut pots = [
        vec![T::ZERO; N],
        vec![T::ZERO; N],
        vec![T::ZERO; N],
        vec![T::ZERO; N],
    ];
    let run = |init: Init, pots: &mut [Vec<T>; 4], ws: &mut [T]| {
        let [f, g, ff, gg] = pots;
        let p = DivergencePotentials {
            f_xy: f,
            g_xy: g,
            f_xx: ff,
            g_yy: gg,
        };
        ot::divergence(&problem, &config, init, p, ws).unwrap()
    };
    let div = run(Init::Zero, &mut pots, &mut ws);
    eprintln!(
        "{name}: iterations (xy, xx, yy) from zero {:?}",
        div.iterations
    );
    group.bench_function("solve", |b| {
        let (mut f, mut g) = (vec![T::ZERO; N], vec![T::ZERO; N]);
        b.iter(|| {
            black_box(ot::solve(
                &problem,
                &config,
                Init::Zero,
                &mut f,
                &mut g,
                &mut ws,
            ))
        })
    });
    group.bench_function("divergence", |b| {
        let mut p = pots.clone();
        b.iter(|| black_box(run(Init::Zero, &mut p, &mut ws).value))
    });
    group.bench_function("divergence_warm", |b| {
        let mut p = pots.clone();
        b.iter(|| black_box(run(Init::Potentials, &mut p, &mut ws).value))
    });
    let mut grads = [
        vec![T::ZERO; 2 * N],
        vec![T::ZERO; 2 * N],
        vec![T::ZERO; N],
        vec![T::ZERO; N],
    ];
    group.bench_function("gradient", |b| {
        b.iter(|| {
            let [gx, gy, ga, gb] = &mut grads;
            let out = Gradient {
                x: gx,
                y: gy,
                a: ga,
                b: gb,
            };
            let p = [&pots[0][..], &pots[1], &pots[2], &pots[3]];
            black_box(ot::divergence_gradient(
                &problem,
                &config,
                div.epsilon,
                p,
                out,
                &mut ws,
            ))
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_type::<f32>(&mut c, "f32");
    bench_type::<f64>(&mut c, "f64");
    c.final_summary();
}
