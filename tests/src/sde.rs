//! Helpers for the SDE sampler tests: the ring mixture, exact draws from a Gaussian
//! mixture marginal, the sliced Wasserstein distance.

use crate::Rng;

/// The 2-D test mixture: 8 equal Gaussians of std `RING_STD` on a circle of radius
/// `RING_RADIUS`.
pub const RING_K: usize = 8;
/// Radius of the ring.
pub const RING_RADIUS: f64 = 2.0;
/// Standard deviation of each component.
pub const RING_STD: f64 = 0.1;

/// (weights, means K·2, isotropic variances) of the ring.
pub fn ring() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let w = vec![1.0 / RING_K as f64; RING_K];
    let mut mu = Vec::with_capacity(2 * RING_K);
    for k in 0..RING_K {
        let th = 2.0 * std::f64::consts::PI * k as f64 / RING_K as f64;
        mu.push(RING_RADIUS * th.cos());
        mu.push(RING_RADIUS * th.sin());
    }
    (w, mu, vec![RING_STD * RING_STD; RING_K])
}

/// `n` exact draws (row by row) from the marginal `Σ w_k N(a·μ_k, (a²v_k + s²)I)` of an
/// isotropic mixture under a process with coefficients `a`, `s`.
#[allow(clippy::too_many_arguments)]
pub fn mixture_draws(
    rng: &mut Rng,
    n: usize,
    w: &[f64],
    mu: &[f64],
    var: &[f64],
    d: usize,
    a: f64,
    s: f64,
) -> Vec<f64> {
    let total: f64 = w.iter().sum();
    let mut out = Vec::with_capacity(n * d);
    for _ in 0..n {
        let mut u = rng.uniform() * total;
        let mut k = w.len() - 1;
        for (j, wj) in w.iter().enumerate() {
            if u < *wj {
                k = j;
                break;
            }
            u -= wj;
        }
        let sd = (a * a * var[k] + s * s).sqrt();
        for j in 0..d {
            out.push(a * mu[k * d + j] + sd * rng.normal());
        }
    }
    out
}

/// Sliced 1-Wasserstein distance between two equal-size 2-D samples, averaged over
/// `dirs` equally spaced directions on the half circle: for each direction the exact
/// 1-D W1 of the projections, `mean_i |sort(p)_i − sort(q)_i|`.
pub fn sliced_w1_2d(x: &[f64], y: &[f64], dirs: usize) -> f64 {
    assert_eq!(x.len(), y.len());
    let mut total = 0.0;
    for l in 0..dirs {
        let th = std::f64::consts::PI * l as f64 / dirs as f64;
        let (c, s) = (th.cos(), th.sin());
        let mut p: Vec<f64> = x.chunks_exact(2).map(|r| c * r[0] + s * r[1]).collect();
        let mut q: Vec<f64> = y.chunks_exact(2).map(|r| c * r[0] + s * r[1]).collect();
        p.sort_by(f64::total_cmp);
        q.sort_by(f64::total_cmp);
        total += p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum::<f64>() / p.len() as f64;
    }
    total / dirs as f64
}

/// The closed-form flow-matching model of an isotropic Gaussian mixture
/// `Σ w_k N(μ_k, v_k I)` on the linear path `x_t = (1 − t)x₀ + tε`: component k has
/// marginal `N((1 − t)μ_k, V_k I)`, `V_k = (1 − t)²v_k + t²`, and velocity
/// `v_k(x) = (x·(t − (1 − t)v_k) − t·μ_k)/V_k`; the mixture's velocity is the
/// posterior-weighted `Σ γ_k v_k` (no singularity at t = 0). It returns the velocity, or
/// with `denoised` the estimate `x̂₀ = x − t·v` (to exercise the conversions).
pub struct FlowMixture {
    /// Weights (normalised or not).
    pub w: Vec<f64>,
    /// Means, K·d.
    pub mu: Vec<f64>,
    /// Isotropic variances, K.
    pub var: Vec<f64>,
    /// Dimension.
    pub d: usize,
    /// Return `x̂₀` instead of the velocity.
    pub denoised: bool,
}

impl FlowMixture {
    /// The velocity at one point `x` (d values) and time `t`, into `out`.
    pub fn velocity(&self, x: &[f64], t: f64, out: &mut [f64]) {
        let d = self.d;
        let a = 1.0 - t;
        let logits: Vec<f64> = (0..self.w.len())
            .map(|k| {
                let vk = a * a * self.var[k] + t * t;
                let sq: f64 = (0..d)
                    .map(|j| (x[j] - a * self.mu[k * d + j]).powi(2))
                    .sum();
                self.w[k].ln() - 0.5 * d as f64 * vk.ln() - 0.5 * sq / vk
            })
            .collect();
        let mx = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let g: Vec<f64> = logits.iter().map(|l| (l - mx).exp()).collect();
        let total: f64 = g.iter().sum();
        out.iter_mut().for_each(|o| *o = 0.0);
        for (k, gk) in g.iter().enumerate() {
            let vk = a * a * self.var[k] + t * t;
            for j in 0..d {
                out[j] += gk / total * (x[j] * (t - a * self.var[k]) - t * self.mu[k * d + j]) / vk;
            }
        }
    }
}

impl<T: otcore::Real> otcore::sde::Model<T> for FlowMixture {
    fn output(&self) -> otcore::sde::Output {
        if self.denoised {
            otcore::sde::Output::Denoised
        } else {
            otcore::sde::Output::Velocity
        }
    }

    fn eval(&mut self, x: &[T], t: &[T], out: &mut [T]) -> Result<(), otcore::Error> {
        let d = self.d;
        let mut v = vec![0.0; d];
        for ((xr, tv), or) in x.chunks_exact(d).zip(t).zip(out.chunks_exact_mut(d)) {
            let xr: Vec<f64> = xr.iter().map(|v| v.to_f64()).collect();
            let t = tv.to_f64();
            self.velocity(&xr, t, &mut v);
            for j in 0..d {
                let o = if self.denoised {
                    xr[j] - t * v[j]
                } else {
                    v[j]
                };
                or[j] = T::from_f64(o);
            }
        }
        Ok(())
    }
}
