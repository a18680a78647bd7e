//! Frame to frame through the soft c-transform (issue 19): a robot matches each new
//! scan against a fixed map. The map y is 400 points of a three-component Gaussian
//! mixture in 2-D; the scene is 350 points of the same mixture, seen every frame from
//! a pose that turns by 1° and moves by 0.02 more, with sensor noise 0.005, in a new
//! order, and with a varying number of points missing (frame k keeps 341–350 of them):
//! the points move and keep no index. Each frame solves the balanced problem
//! (uniform weights, cost ‖x − y‖², ε = 0.01 × the first frame's mean cost, absolute)
//! to the default tolerance, starting either from zero or from the potentials carried
//! over: f at the new scan points is the c-transform of last frame's g on the map
//! (`DualPotential::c_transform`), g is last frame's g (the map's points keep their
//! identity). No warm start by index is possible: the scan points change.
//!
//! Run: `cargo run --release -p otcore-tests --example ctransform_frames` (seconds).
//! Prints the iterations per frame of both starts, f32 and f64.

use otcore::ot::{self, Config, DualPotential, Epsilon, Init, Problem};
use otcore::{Points, Real};
use otcore_tests::Rng;

const FRAMES: usize = 30;
const M: usize = 400;
const SCENE: usize = 350;

/// `count` points of the mixture (centres (±1.5, 0), (0, 1.5), spread 0.4).
fn mixture(rng: &mut Rng, count: usize) -> Vec<f64> {
    let centres = [[-1.5, 0.0], [1.5, 0.0], [0.0, 1.5]];
    let mut v = Vec::with_capacity(2 * count);
    for _ in 0..count {
        let c = centres[(rng.next_u64() % 3) as usize];
        v.push(c[0] + 0.4 * rng.normal());
        v.push(c[1] + 0.4 * rng.normal());
    }
    v
}

/// Iterations per frame from zero (`carry` false) or through the c-transform.
fn frames<T: Real>(carry: bool) -> Vec<u32> {
    let mut rng = Rng::new(19);
    let map64 = mixture(&mut rng, M);
    let map: Vec<T> = map64.iter().map(|&v| T::from_f64(v)).collect();
    let b = vec![T::ONE / T::from_usize(M); M];
    let scene = mixture(&mut rng, SCENE);
    let mut g = vec![T::ZERO; M];
    let mut eps = None;
    let mut out = Vec::new();
    for k in 0..FRAMES {
        let n = SCENE - (k * 7) % 10;
        let (th, t) = ((k as f64).to_radians(), 0.02 * k as f64);
        let (c, s) = (th.cos(), th.sin());
        // A new order: scene point (3i + offset) mod 350 as point i (3 is prime to
        // 350, so this is a permutation), then the first n of them.
        let offset = (k * 97) % SCENE;
        let scan: Vec<T> = (0..n)
            .flat_map(|i| {
                let p = &scene[2 * ((3 * i + offset) % SCENE)..][..2];
                let (nx, ny) = (0.005 * rng.normal(), 0.005 * rng.normal());
                [c * p[0] - s * p[1] + t + nx, s * p[0] + c * p[1] + ny]
            })
            .map(T::from_f64)
            .collect();
        let a = vec![T::ONE / T::from_usize(n); n];
        let problem = Problem::point_clouds(&scan, &map, 2, T::ONE, &a, &b);
        let eps_abs = *eps.get_or_insert_with(|| {
            // ε = 0.01 × mean cost of the first frame, as an absolute value from then on.
            let (mut f, mut g0) = (vec![T::ZERO; n], vec![T::ZERO; M]);
            let mut ws = vec![T::ZERO; ot::workspace_len(n, M, 2)];
            let cfg = Config {
                epsilon: Epsilon::RelativeToMeanCost(T::from_f64(0.01)),
                max_iterations: 1,
                ..Config::default()
            };
            ot::solve(&problem, &cfg, Init::Zero, &mut f, &mut g0, &mut ws)
                .expect("first frame")
                .epsilon
        });
        let cfg = Config {
            epsilon: Epsilon::Absolute(eps_abs),
            max_iterations: 100_000,
            ..Config::default()
        };
        let mut f = vec![T::ZERO; n];
        let init = if carry && k > 0 {
            let pot = DualPotential {
                points: Points::row_major(&map, 2),
                values: &g,
                dim: 2,
                scale: T::ONE,
                epsilon: eps_abs,
            };
            let mut ws = vec![T::ZERO; ot::c_transform_workspace_len(n, M, 2)];
            pot.c_transform(
                Points::row_major(&scan, 2),
                &a,
                T::INFINITY,
                &mut f,
                &mut ws,
            )
            .expect("c-transform");
            Init::Potentials
        } else {
            Init::Zero
        };
        let mut ws = vec![T::ZERO; ot::workspace_len(n, M, 2)];
        let sol = ot::solve(&problem, &cfg, init, &mut f, &mut g, &mut ws).expect("solve");
        assert_eq!(sol.status, ot::Status::Converged);
        out.push(sol.iterations);
    }
    out
}

fn report<T: Real>(name: &str) {
    let (zero, carried) = (frames::<T>(false), frames::<T>(true));
    let mean = |v: &[u32]| v[1..].iter().sum::<u32>() as f64 / (v.len() - 1) as f64;
    let worst = |v: &[u32]| v[1..].iter().copied().max().unwrap_or(0);
    println!(
        "{name}: iterations per frame (frames 1..{FRAMES}): zero start mean {:.1}, worst {}; \
         carried through the c-transform mean {:.1}, worst {}",
        mean(&zero),
        worst(&zero),
        mean(&carried),
        worst(&carried)
    );
    println!("{name}:   zero    {zero:?}");
    println!("{name}:   carried {carried:?}");
}

fn main() {
    report::<f32>("f32");
    report::<f64>("f64");
}
