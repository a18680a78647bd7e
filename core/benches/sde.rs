//! Per-step overhead of the SDE steppers outside the model call: everything a single
//! step costs (schedule scalars, noise, conversions, the update) with a model that
//! costs next to nothing — the score of N(0, I) written as `out = −x`. The score call
//! itself is what a user's network adds on top.
//!
//! Batches n ∈ {1, 64, 1024} of dimension d = 2 (robot actions) and n = 64, d = 32, f32
//! (what firmware computes in); criterion's time is per step of the whole batch and its
//! element throughput counts samples. Each iteration also copies the state in (n·d
//! values), which is part of any caller's step.
//!
//! `cargo bench -p otcore --bench sde` (portable x86-64 baseline).

use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use otcore::sde::{self, Churn, Config, Corrector, Method, Model, Output, Process};
use otcore::Error;

/// The score of N(0, I) under VP is −x (a_t² + s_t² = 1): a model with no cost.
struct StdNormal;
impl Model<f32> for StdNormal {
    fn output(&self) -> Output {
        Output::Score
    }
    fn eval(&mut self, x: &[f32], _t: &[f32], out: &mut [f32]) -> Result<(), Error> {
        for (o, v) in out.iter_mut().zip(x) {
            *o = -*v;
        }
        Ok(())
    }
}

fn methods() -> Vec<(&'static str, Config)> {
    let mut pc = Config::new(Method::ReverseDiffusion);
    pc.corrector_steps = 1;
    pc.corrector = Corrector::Annealed;
    vec![
        ("euler_maruyama", Config::new(Method::EulerMaruyama)),
        ("reverse_diffusion+annealed_langevin", pc),
        ("ancestral", Config::new(Method::Ancestral)),
        ("pf_euler", Config::new(Method::ProbabilityFlowEuler)),
        ("heun", Config::new(Method::Heun(Churn::NONE))),
        ("ddim", Config::new(Method::Ddim)),
        ("dpmpp_2m", Config::new(Method::DpmSolverPp2M)),
    ]
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let p = Process::VP;
    for (n, d) in [(1usize, 2usize), (64, 2), (1024, 2), (64, 32)] {
        let mut group = c.benchmark_group(format!("sde_step_n{n}_d{d}"));
        group.sample_size(20);
        group.throughput(Throughput::Elements(n as u64));
        let mut x0 = vec![0.0f32; n * d];
        p.prior_sample(1, 0, d, &mut x0).unwrap();
        let mut ws = vec![0.0f32; sde::workspace_len(n, d)];
        for (name, cfg) in methods() {
            let mut x = x0.clone();
            let mut prev = vec![0.0f32; n * d];
            let mut h_prev = None;
            let id = BenchmarkId::new(name, format!("n{n}_d{d}"));
            group.bench_function(id, |b| {
                b.iter(|| {
                    // One mid-trajectory step (t = 0.5 → 0.49); the state is reset so
                    // every iteration does the same work.
                    x.copy_from_slice(&x0);
                    let mut hist = sde::Multistep {
                        denoised: &mut prev,
                        h_prev,
                    };
                    let e = sde::step(
                        &p,
                        &cfg,
                        &mut StdNormal,
                        &mut x,
                        d,
                        0.5,
                        0.49,
                        3,
                        7,
                        0,
                        Some(&mut hist),
                        &mut ws,
                    )
                    .unwrap();
                    h_prev = hist.h_prev;
                    black_box(e)
                });
            });
        }
        group.finish();
    }
    c.final_summary();
}
