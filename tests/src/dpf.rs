//! Helpers for the differentiable-filter tests and the bias table: a 1-D
//! linear-Gaussian model with three parameters as a [`DiffModel`], its exact Kalman
//! log-likelihood and gradient (sensitivity recursion), and a forward-mode filter run;
//! a 2-D nonlinear model with cross terms ([`Beacon`]).
//!
//! Model, θ = (a, s, c): x_0 ~ N(0, 1) (independent of θ); for t = 1..T,
//! x_t = a·x_{t−1} + s·ξ_t, y_t = x_t + c + r·η_t with ξ, η ~ N(0, 1) and r fixed.

use otcore::pf::{
    diff_ot_workspace_len, diff_step, diff_workspace_len, tangent_len, uniform_log_weights,
    DiffConfig, DiffModel, RandomSource, SplitMix64, StepReport, Totals,
};
use otcore::Error;

use crate::Rng;

/// Observation noise standard deviation r (fixed, not a parameter).
pub const OBS_STD: f64 = 0.6;

/// The model at the current observation `y`.
#[derive(Clone, Debug)]
pub struct Lgssm {
    /// Observation of the step about to run.
    pub y: f64,
    /// A reverse-mode window's observations: [`DiffModel::seek`] sets `y` from them.
    pub ys: Vec<f64>,
}

impl DiffModel<f64> for Lgssm {
    fn noise_dim(&self) -> usize {
        1
    }
    fn transition(
        &mut self,
        th: &[f64],
        x: &[f64],
        xi: &[f64],
        out: &mut [f64],
    ) -> Result<(), Error> {
        for ((o, &x), &e) in out.iter_mut().zip(x).zip(xi) {
            *o = th[0] * x + th[1] * e;
        }
        Ok(())
    }
    fn transition_jvp(
        &mut self,
        th: &[f64],
        x: &[f64],
        xi: &[f64],
        _x_next: &[f64],
        dx: &[f64],
        dout: &mut [f64],
    ) -> Result<(), Error> {
        for (((o, d), &x), &e) in dout
            .chunks_exact_mut(3)
            .zip(dx.chunks_exact(3))
            .zip(x)
            .zip(xi)
        {
            o[0] = th[0] * d[0] + x;
            o[1] = th[0] * d[1] + e;
            o[2] = th[0] * d[2];
        }
        Ok(())
    }
    fn transition_score(
        &mut self,
        th: &[f64],
        x: &[f64],
        next: &[f64],
        score: &mut [f64],
    ) -> Result<(), Error> {
        // log f = −½((x' − a x)/s)² − ln s − ½ ln 2π.
        let (a, s) = (th[0], th[1]);
        for ((o, &x), &xn) in score.chunks_exact_mut(3).zip(x).zip(next) {
            let e = xn - a * x;
            o.copy_from_slice(&[e * x / (s * s), e * e / (s * s * s) - 1.0 / s, 0.0]);
        }
        Ok(())
    }
    fn transition_vjp(
        &mut self,
        th: &[f64],
        x: &[f64],
        xi: &[f64],
        _next: &[f64],
        next_bar: &[f64],
        x_bar: &mut [f64],
        th_bar: &mut [f64],
    ) -> Result<(), Error> {
        for ((((xb, tb), &x), &e), &nb) in x_bar
            .iter_mut()
            .zip(th_bar.chunks_exact_mut(3))
            .zip(x)
            .zip(xi)
            .zip(next_bar)
        {
            *xb = th[0] * nb;
            tb.copy_from_slice(&[x * nb, e * nb, 0.0]);
        }
        Ok(())
    }
    fn seek(&mut self, tick: usize) -> Result<(), Error> {
        self.y = *self.ys.get(tick).ok_or(Error::InvalidParameter)?;
        Ok(())
    }
    fn loglik(&mut self, th: &[f64], x: &[f64], out: &mut [f64]) -> Result<(), Error> {
        let r = OBS_STD;
        for (o, &x) in out.iter_mut().zip(x) {
            let e = (self.y - x - th[2]) / r;
            *o = -0.5 * e * e - (r * (2.0 * std::f64::consts::PI).sqrt()).ln();
        }
        Ok(())
    }
    fn loglik_grad(
        &mut self,
        th: &[f64],
        x: &[f64],
        gx: &mut [f64],
        gth: &mut [f64],
    ) -> Result<(), Error> {
        let r2 = OBS_STD * OBS_STD;
        for ((g, gt), &x) in gx.iter_mut().zip(gth.chunks_exact_mut(3)).zip(x) {
            let e = (self.y - x - th[2]) / r2;
            *g = e;
            gt.copy_from_slice(&[0.0, 0.0, e]);
        }
        Ok(())
    }
}

/// A 2-D nonlinear model with cross terms (a robot whose heading turns with its
/// position, a range sensor to a beacon with an unknown bias): θ = (speed, bias),
/// k = 2 normals per particle.
#[derive(Clone, Debug, Default)]
pub struct Beacon {
    /// Observation of the step about to run (a range).
    pub y: f64,
    /// If set, the gradient callback writes NaN (to test the error path).
    pub poison: bool,
    /// If set, the transition fails.
    pub fail: bool,
    /// A reverse-mode window's observations: [`DiffModel::seek`] sets `y` from them.
    pub ys: Vec<f64>,
}

/// Where the beacon is.
pub const BEACON: [f64; 2] = [2.0, -1.0];
/// Range noise standard deviation.
pub const RANGE_STD: f64 = 0.3;

impl DiffModel<f64> for Beacon {
    fn noise_dim(&self) -> usize {
        2
    }
    fn transition(
        &mut self,
        th: &[f64],
        x: &[f64],
        xi: &[f64],
        out: &mut [f64],
    ) -> Result<(), Error> {
        if self.fail {
            return Err(Error::CallbackFailed);
        }
        for ((o, x), e) in out
            .chunks_exact_mut(2)
            .zip(x.chunks_exact(2))
            .zip(xi.chunks_exact(2))
        {
            o[0] = x[0] + th[0] * x[1].cos() + 0.3 * e[0];
            o[1] = x[1] + 0.1 * th[0] * x[0] + 0.2 * e[1];
        }
        Ok(())
    }
    fn transition_jvp(
        &mut self,
        th: &[f64],
        x: &[f64],
        _xi: &[f64],
        _next: &[f64],
        dx: &[f64],
        dout: &mut [f64],
    ) -> Result<(), Error> {
        // dx, dout: per particle a 2×2 block [∂x_k/∂θ_p], row k.
        for ((o, d), x) in dout
            .chunks_exact_mut(4)
            .zip(dx.chunks_exact(4))
            .zip(x.chunks_exact(2))
        {
            let s = -th[0] * x[1].sin();
            for p in 0..2 {
                let (d0, d1) = (d[p], d[2 + p]);
                o[p] = d0 + s * d1 + if p == 0 { x[1].cos() } else { 0.0 };
                o[2 + p] = 0.1 * th[0] * d0 + d1 + if p == 0 { 0.1 * x[0] } else { 0.0 };
            }
        }
        Ok(())
    }
    fn transition_vjp(
        &mut self,
        th: &[f64],
        x: &[f64],
        _xi: &[f64],
        _next: &[f64],
        next_bar: &[f64],
        x_bar: &mut [f64],
        th_bar: &mut [f64],
    ) -> Result<(), Error> {
        for (((xb, tb), x), nb) in x_bar
            .chunks_exact_mut(2)
            .zip(th_bar.chunks_exact_mut(2))
            .zip(x.chunks_exact(2))
            .zip(next_bar.chunks_exact(2))
        {
            xb[0] = nb[0] + 0.1 * th[0] * nb[1];
            xb[1] = -th[0] * x[1].sin() * nb[0] + nb[1];
            tb[0] = x[1].cos() * nb[0] + 0.1 * x[0] * nb[1];
            tb[1] = 0.0;
        }
        Ok(())
    }
    fn seek(&mut self, tick: usize) -> Result<(), Error> {
        self.y = *self.ys.get(tick).ok_or(Error::InvalidParameter)?;
        Ok(())
    }
    fn loglik(&mut self, th: &[f64], x: &[f64], out: &mut [f64]) -> Result<(), Error> {
        for (o, x) in out.iter_mut().zip(x.chunks_exact(2)) {
            let r = ((x[0] - BEACON[0]).powi(2) + (x[1] - BEACON[1]).powi(2)).sqrt();
            let e = (self.y - r - th[1]) / RANGE_STD;
            *o = -0.5 * e * e;
        }
        Ok(())
    }
    fn loglik_grad(
        &mut self,
        th: &[f64],
        x: &[f64],
        gx: &mut [f64],
        gth: &mut [f64],
    ) -> Result<(), Error> {
        for ((g, gt), x) in gx
            .chunks_exact_mut(2)
            .zip(gth.chunks_exact_mut(2))
            .zip(x.chunks_exact(2))
        {
            let (u, v) = (x[0] - BEACON[0], x[1] - BEACON[1]);
            let r = (u * u + v * v).sqrt();
            let e = (self.y - r - th[1]) / (RANGE_STD * RANGE_STD);
            g[0] = e * u / r;
            g[1] = e * v / r;
            gt[0] = 0.0;
            gt[1] = if self.poison { f64::NAN } else { e };
        }
        Ok(())
    }
}

/// Simulates T observations at θ (its own stream `seed`).
pub fn simulate(theta: &[f64; 3], t: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let mut x = rng.normal();
    (0..t)
        .map(|_| {
            x = theta[0] * x + theta[1] * rng.normal();
            x + theta[2] + OBS_STD * rng.normal()
        })
        .collect()
}

/// Exact log-likelihood and its gradient in θ by the Kalman filter with its
/// sensitivity recursion (Gupta & Mehra 1974; `next-anchors.md` §1d), 1-D.
pub fn kalman(theta: &[f64; 3], ys: &[f64]) -> (f64, [f64; 3]) {
    let [a, s, c] = *theta;
    let r2 = OBS_STD * OBS_STD;
    let (mut m, mut p) = (0.0f64, 1.0f64);
    let (mut dm, mut dp) = ([0.0f64; 3], [0.0f64; 3]);
    let (mut ll, mut dll) = (0.0, [0.0; 3]);
    // ∂a, ∂s, ∂c of the parameters themselves.
    let unit = |k: usize, j: usize| if k == j { 1.0 } else { 0.0 };
    for &y in ys {
        let mp = a * m;
        let pp = a * a * p + s * s;
        let e = y - c - mp;
        let sv = pp + r2;
        let kg = pp / sv;
        ll += -0.5 * ((2.0 * std::f64::consts::PI * sv).ln() + e * e / sv);
        let mut ndm = [0.0; 3];
        let mut ndp = [0.0; 3];
        for j in 0..3 {
            let dmp = unit(0, j) * m + a * dm[j];
            let dpp = 2.0 * a * unit(0, j) * p + a * a * dp[j] + 2.0 * s * unit(1, j);
            let de = -unit(2, j) - dmp;
            let ds = dpp;
            dll[j] += -0.5 * ds / sv - e * de / sv + 0.5 * e * e * ds / (sv * sv);
            let dk = (dpp - kg * ds) / sv;
            ndm[j] = dmp + dk * e + kg * de;
            ndp[j] = dpp - (2.0 * kg * dk * sv + kg * kg * ds);
        }
        m = mp + kg * e;
        p = pp - kg * kg * sv;
        dm = ndm;
        dp = ndp;
    }
    (ll, dll)
}

/// What a forward-mode run returns.
#[derive(Clone, Debug)]
pub struct DiffRun {
    /// ℓ̂ after each step.
    pub loglik: Vec<f64>,
    /// ∂ℓ̂/∂θ after each step.
    pub dloglik: Vec<[f64; 3]>,
    /// Filtered mean after each step.
    pub mean: Vec<f64>,
    /// Its gradient.
    pub dmean: Vec<[f64; 3]>,
    /// Steps that resampled.
    pub resamples: u64,
}

/// Runs the forward-mode filter over `ys` with N particles drawn from N(0, 1) by
/// stream `seed` (which then drives the whole run).
pub fn run(theta: &[f64; 3], ys: &[f64], n: usize, cfg: &DiffConfig<f64>, seed: u64) -> DiffRun {
    let (d, p) = (1, 3);
    let mut rng = SplitMix64::new(seed);
    let mut x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let mut logw = vec![0.0; n];
    uniform_log_weights(&mut logw);
    let mut tangent = vec![0.0; tangent_len(n, d, p)];
    let len = if cfg.ot.is_some() {
        diff_ot_workspace_len(n, d, p, 1)
    } else {
        diff_workspace_len(n, d, p, 1)
    };
    let mut ws = vec![0.0; len];
    let mut totals = Totals::default();
    let mut dll = [0.0; 3];
    let (mut mean, mut dmean) = ([0.0], [0.0; 3]);
    let mut model = Lgssm { y: 0.0, ys: vec![] };
    let mut out = DiffRun {
        loglik: vec![],
        dloglik: vec![],
        mean: vec![],
        dmean: vec![],
        resamples: 0,
    };
    for &y in ys {
        model.y = y;
        let _: StepReport<f64> = diff_step(
            &mut model,
            theta,
            d,
            cfg,
            &mut rng,
            &mut x,
            &mut logw,
            &mut tangent,
            &mut totals,
            &mut dll,
            &mut mean,
            &mut dmean,
            &mut ws,
        )
        .expect("diff_step");
        out.loglik.push(totals.log_likelihood);
        out.dloglik.push(dll);
        out.mean.push(mean[0]);
        out.dmean.push(dmean);
    }
    out.resamples = totals.resamples;
    out
}

/// Mean and standard error of a sample.
pub fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}
