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
