//! Classifier-free guidance: for two Gaussians with equal variance, conditional
//! `N(μ_c, v)` and unconditional `N(μ_u, v)`, every model output (score, velocity) is
//! affine in the mean, so the guided output `u + w(c − u)` is exactly the output of
//! `N(μ_u + w(μ_c − μ_u), v)`: guided sampling must follow that Gaussian's exact flow.

use otcore::sde::flow::{self, FlowMethod, FlowSpacing};
use otcore::sde::guidance::{Conditional, Guided};
use otcore::sde::{
    self, grid, Config, Covariance, Method, Mixture, Model, Output, Process, Spacing,
};
use otcore::Error;
use otcore_tests::sde::FlowMixture;
use otcore_tests::Rng;

const MC: [f64; 2] = [1.0, -0.5];
const MU: [f64; 2] = [-0.2, 0.4];
const V: f64 = 0.25;
const W: f64 = 2.5;

fn guided_mean() -> [f64; 2] {
    [0, 1].map(|j| MU[j] + W * (MC[j] - MU[j]))
}

/// The two Gaussians' scores under VP; fails its `fail_at`-th unconditional call.
struct ScorePair {
    fail_at: u32,
    uncond_calls: u32,
}

impl Conditional<f64> for ScorePair {
    fn output(&self) -> Output {
        Output::Score
    }
    fn eval(
        &mut self,
        x: &[f64],
        t: &[f64],
        conditional: bool,
        out: &mut [f64],
    ) -> Result<(), Error> {
        let mu = if conditional { MC } else { MU };
        if !conditional {
            self.uncond_calls += 1;
            if self.uncond_calls == self.fail_at {
                return Err(Error::CallbackFailed);
            }
        }
        Mixture::new(Process::VP, &[1.0], &mu, Covariance::Isotropic(&[V]), 2)?.eval(x, t, out)
    }
}

/// The two Gaussians' flow-matching velocities.
struct VelocityPair;

impl Conditional<f64> for VelocityPair {
    fn output(&self) -> Output {
        Output::Velocity
    }
    fn eval(
        &mut self,
        x: &[f64],
        t: &[f64],
        conditional: bool,
        out: &mut [f64],
    ) -> Result<(), Error> {
        let mu = if conditional { MC } else { MU };
        let mut m = FlowMixture {
            w: vec![1.0],
            mu: mu.to_vec(),
            var: vec![V],
            d: 2,
            denoised: false,
        };
        m.eval(x, t, out)
    }
}

fn prior(n: usize) -> Vec<f64> {
    Rng::new(4).normals(2 * n, 0.0, 1.0)
}

#[test]
fn guided_diffusion_follows_the_guided_gaussian() {
    let p = Process::VP;
    let n = 32;
    let mut g = vec![0.0; 161];
    grid::fill(&p, Spacing::UniformLogSnr, 1.0, p.t_eps(), &mut g).unwrap();
    let x1 = prior(n);
    let mut x = x1.clone();
    let mut scratch = vec![0.0; 2 * n];
    let mut pair = ScorePair {
        fail_at: 0,
        uncond_calls: 0,
    };
    let mut model = Guided::new(&mut pair, W, 0.0, f64::INFINITY, &mut scratch).unwrap();
    let mut ws = vec![0.0; sde::workspace_len(n, 2)];
    let cfg = Config::new(Method::DpmSolverPp2M);
    let st = sde::sample(&p, &cfg, &mut model, &g, &mut x, 2, 1, 0, &mut ws).unwrap();
    assert_eq!(model.calls(), 2 * st.evaluations);
    // Exact PF-ODE flow of N(m, V) from t = 1 to t_eps (sde_gaussian's reference).
    let (c0, c1) = (p.coefs(1.0), p.coefs(p.t_eps()));
    let (v0, v1) = (c0.a * c0.a * V + c0.s * c0.s, c1.a * c1.a * V + c1.s * c1.s);
    let m = guided_mean();
    let worst = x
        .iter()
        .zip(&x1)
        .enumerate()
        .map(|(i, (xs, xt))| {
            let m = m[i % 2];
            (xs - (c1.a * m + (v1 / v0).sqrt() * (xt - c0.a * m))).abs()
        })
        .fold(0.0, f64::max);
    // DPM-Solver++(2M) at 160 log-SNR steps is within ~1e-4 RMS of the exact flow
    // (1.6e-3 at 40, order 2: docs/sde.md); 1e-3 bounds the worst of 64 coordinates
    // (a few × RMS), while the unguided sampler lands |w − 1|·|μ_c − μ_u| ≥ 1.3 away.
    println!("guided DPM-Solver++(2M): worst error {worst:.2e}");
    assert!(worst < 1e-3, "{worst}");
}

#[test]
fn guided_flow_follows_the_guided_gaussian() {
    let n = 32;
    let mut g = vec![0.0; 81];
    flow::grid(FlowSpacing::Uniform, 1.0, 0.0, &mut g).unwrap();
    let x1 = prior(n);
    let mut x = x1.clone();
    let mut scratch = vec![0.0; 2 * n];
    let mut pair = VelocityPair;
    let mut model = Guided::new(&mut pair, W, 0.0, 1.0, &mut scratch).unwrap();
    let mut ws = vec![0.0; sde::workspace_len(n, 2)];
    flow::sample(FlowMethod::Heun, &mut model, &g, &mut x, 2, 1, 0, &mut ws).unwrap();
    let m = guided_mean();
    let worst = x
        .iter()
        .zip(&x1)
        .enumerate()
        .map(|(i, (xs, x1))| (xs - (m[i % 2] + V.sqrt() * x1)).abs())
        .fold(0.0, f64::max);
    // Heun at 80 steps: ~1e-4 from the exact flow (sde_flow's orders); 1e-3 as in the
    // C test, against ≥ 1.3 without guidance.
    println!("guided flow Heun: worst error {worst:.2e}");
    assert!(worst < 1e-3, "{worst}");
}

#[test]
fn guidance_interval_skips_the_unconditional_call_outside() {
    let p = Process::VP;
    let n = 4;
    let g = [1.0, 0.8, 0.6, 0.4, 0.2, 0.001];
    let x0 = prior(n);
    let mut ws = vec![0.0; sde::workspace_len(n, 2)];
    let cfg = Config::new(Method::Ddim);
    // Guided only on t ∈ [0.3, 0.7]: steps from 0.6 and 0.4 (2 of 5) pay a second call.
    let mut scratch = vec![0.0; 2 * n];
    let mut pair = ScorePair {
        fail_at: 0,
        uncond_calls: 0,
    };
    let mut x = x0.clone();
    let mut model = Guided::new(&mut pair, W, 0.3, 0.7, &mut scratch).unwrap();
    let st = sde::sample(&p, &cfg, &mut model, &g, &mut x, 2, 1, 0, &mut ws).unwrap();
    assert_eq!((st.evaluations, model.calls()), (5, 7));
    // Outside the interval the output is the conditional model's: an empty interval
    // gives the conditional sampler bit for bit.
    let mut scratch = vec![0.0; 2 * n];
    let mut pair = ScorePair {
        fail_at: 0,
        uncond_calls: 0,
    };
    let mut a = x0.clone();
    let mut model = Guided::new(&mut pair, W, 0.9, 0.95, &mut scratch).unwrap();
    sde::sample(&p, &cfg, &mut model, &g, &mut a, 2, 1, 0, &mut ws).unwrap();
    let mut b = x0.clone();
    let mut cond = Mixture::new(p, &[1.0], &MC, Covariance::Isotropic(&[V]), 2).unwrap();
    sde::sample(&p, &cfg, &mut cond, &g, &mut b, 2, 1, 0, &mut ws).unwrap();
    assert_eq!(a, b);
}

#[test]
fn guidance_bad_input() {
    let mut scratch = vec![0.0; 8];
    let mut pair = ScorePair {
        fail_at: 0,
        uncond_calls: 0,
    };
    for (w, lo, hi) in [
        (f64::NAN, 0.0, 1.0),
        (f64::INFINITY, 0.0, 1.0),
        (2.0, 0.5, 0.2),
        (2.0, -0.1, 1.0),
        (2.0, f64::NAN, 1.0),
        (2.0, 0.0, f64::NAN),
    ] {
        assert_eq!(
            Guided::new(&mut pair, w, lo, hi, &mut scratch).err(),
            Some(Error::InvalidParameter),
            "{w} {lo} {hi}"
        );
    }
    // A failing unconditional call, and a scratch shorter than the batch: the sampler
    // returns the error and leaves the state as it was.
    let p = Process::VP;
    let g = [1.0, 0.5, 0.001];
    let x0 = prior(4);
    let mut ws = vec![0.0; sde::workspace_len(4, 2)];
    let cfg = Config::new(Method::Ddim);
    let mut pair = ScorePair {
        fail_at: 2,
        uncond_calls: 0,
    };
    let mut x = x0.clone();
    let mut model = Guided::new(&mut pair, W, 0.0, 1.0, &mut scratch).unwrap();
    let r = sde::sample(&p, &cfg, &mut model, &g, &mut x, 2, 1, 0, &mut ws);
    assert_eq!(r.err(), Some(Error::CallbackFailed));
    assert_eq!(x, x0);
    let mut short = vec![0.0; 7];
    let mut pair = ScorePair {
        fail_at: 0,
        uncond_calls: 0,
    };
    let mut model = Guided::new(&mut pair, W, 0.0, 1.0, &mut short).unwrap();
    let r = sde::sample(&p, &cfg, &mut model, &g, &mut x, 2, 1, 0, &mut ws);
    assert_eq!(r.err(), Some(Error::LengthMismatch));
    assert_eq!(x, x0);
}
