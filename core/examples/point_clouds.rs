//! Solves entropic OT between two small 2-D point clouds and prints the result.
//!
//! `cargo run --release -p otcore --example point_clouds`

use otcore::ot::{self, Config, Epsilon, Init, Plan, Problem};

const N: usize = 200;
const M: usize = 150;
const D: usize = 2;

/// Deterministic pseudo-random points (a small LCG, so the example needs no crates).
fn cloud(count: usize, seed: u64, centre: [f32; 2], spread: f32) -> Vec<f32> {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((s >> 40) as f32) / ((1u64 << 24) as f32) - 0.5
    };
    (0..count)
        .flat_map(|_| [centre[0] + spread * next(), centre[1] + spread * next()])
        .collect()
}

fn main() {
    let x = cloud(N, 1, [0.0, 0.0], 2.0);
    let y = cloud(M, 2, [1.0, 0.5], 1.0);
    let a = vec![1.0 / N as f32; N];
    let b = vec![1.0 / M as f32; M];
    let problem = Problem::point_clouds(&x, &y, D, 1.0, &a, &b);
    let config = Config {
        epsilon: Epsilon::RelativeToMeanCost(0.05),
        tolerance: 1e-4,
        ..Config::default()
    };
    let mut ws = vec![0.0f32; ot::workspace_len(N, M, D)];
    let (mut f, mut g) = (vec![0.0f32; N], vec![0.0f32; M]);
    let sol = match ot::solve(&problem, &config, Init::Zero, &mut f, &mut g, &mut ws) {
        Ok(sol) => sol,
        Err(e) => {
            eprintln!("solve failed: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "n = {N}, m = {M}, d = {D}, epsilon = {:.5} (0.05 x mean cost)",
        sol.epsilon
    );
    println!("status          {:?}", sol.status);
    println!("iterations      {}", sol.iterations);
    println!("marginal error  {:.3e}", sol.error);
    println!("transport cost  {:.6}", sol.transport_cost);
    println!("reg. OT cost    {:.6}", sol.reg_ot_cost);
    let plan = Plan::new(problem, sol.epsilon, &f, &g);
    let mut bary = vec![0.0f32; N * D];
    if let Err(e) = plan.barycentric(&mut bary, &mut ws) {
        eprintln!("barycentric projection failed: {e}");
        std::process::exit(1);
    }
    for i in 0..3 {
        println!(
            "T(x_{i}) = ({:+.4}, {:+.4})  for x_{i} = ({:+.4}, {:+.4})",
            bary[2 * i],
            bary[2 * i + 1],
            x[2 * i],
            x[2 * i + 1]
        );
    }
}
