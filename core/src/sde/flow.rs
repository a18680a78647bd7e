//! Flow matching / rectified flow / stochastic interpolants on the linear path
//! `x_t = (1 − t)·x₀ + t·ε`, `t ∈ [0, 1]` (t = 1 is the prior `N(0, I)`, t = 0 the data).
//!
//! The model's natural output is the velocity `v = E[ε − x₀ | x_t]` ([`Output::Velocity`],
//! `dx_t/dt = v`). Other outputs are converted on this path (`a = 1 − t`, `s = t`):
//!
//! | from | velocity `v` |
//! |---|---|
//! | denoised `x̂₀` | `(x − x̂₀)/t` |
//! | noise `ε̂` | `(ε̂ − x)/(1 − t)` |
//! | score `σ` | `(−t·σ − x)/(1 − t)` |
//!
//! and back: `x̂₀ = x − t·v`, `ε̂ = x + (1 − t)·v`, score `= −ε̂/t`. Score and noise
//! models cannot give a velocity at t = 1 (where `x_1 = ε` carries no information on
//! `x₀`); denoised and velocity models can. No model is evaluated at t = 0.
//!
//! Steps from `t` to `t' < t` (`h = t' − t < 0`):
//! - [`FlowMethod::Euler`]: `x' = x + h·v(x, t)` (1 evaluation, order 1).
//! - [`FlowMethod::Midpoint`]: `x' = x + h·v(x + ½h·v(x, t), t + ½h)` (2, order 2).
//! - [`FlowMethod::Heun`]: `x₁ = x + h·v(x, t)`, `x' = x + ½h·(v(x, t) + v(x₁, t'))`
//!   (2, order 2; Euler on a step to t' = 0, as EDM's last step).
//! - [`FlowMethod::Sde`]: the interpolant SDE with diffusion `w(t)² = 2η·t` run
//!   backwards, `dx = [v − ½w²·score] dt + w dW̄`, which has the ODE's marginals for
//!   every `η ≥ 0` (Albergo, Boffi & Vanden-Eijnden's stochastic interpolants; `w ∝ t`
//!   is SiT's "sigma" diffusion; `−½w²·score = η·ε̂`). Writing `x = (1 − t)x̂₀ + t·e`
//!   with `x̂₀ = x − t·v` held fixed over the step (first order, as DDIM), the noise
//!   part obeys `de = (η/t)e dt + √(2η/t) dW`, solved exactly:
//!   `e' = ρ·e + √(1 − ρ²)·z`, `ρ = (t'/t)^η`, `x' = (1 − t')x̂₀ + t'·e'` (1 evaluation,
//!   weak order 1). Unlike Euler–Maruyama this is stable for every η and step (the
//!   `η/t` term is stiff near t = 0), η = 0 is [`FlowMethod::Euler`] (up to rounding),
//!   η → ∞ redraws the noise part (ancestral), and the step to t' = 0 lands on the
//!   posterior mean `x̂₀` (k-diffusion's SDE samplers end with `x = D` too).
//!
//! Noise: step `j` of a trajectory draws from key `16·j` of each sample's stream, as the
//! fixed-step samplers ([`super::noise`]).

use super::model::{Model, Output};
use super::steppers::{workspace_len, Bufs, Stats};
use super::{check_finite, check_param, check_shape, noise};
use crate::buf::{copy, rows, rows_mut};
use crate::{Error, Real};

/// A step of the flow samplers.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FlowMethod {
    /// Euler on `dx/dt = v` (1 evaluation per step).
    Euler,
    /// Explicit midpoint (2 evaluations per step).
    Midpoint,
    /// Heun / trapezoidal (2 evaluations per step, 1 on a step to t = 0).
    Heun,
    /// The interpolant SDE with diffusion `w(t)² = 2η·t`, exact for a frozen `x̂₀`.
    Sde {
        /// Noise level η ≥ 0 (finite); 0 gives the ODE.
        eta: f64,
    },
}

impl FlowMethod {
    fn validate(self) -> Result<(), Error> {
        match self {
            Self::Sde { eta } => check_param(eta, 0.0, false),
            _ => Ok(()),
        }
    }
}

/// How the points of a flow grid are spaced on `[t_end, t_start] ⊂ [0, 1]`.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FlowSpacing {
    /// Uniform in t (rectified flow's and diffusers' `FlowMatchEulerDiscreteScheduler`
    /// default).
    Uniform,
    /// Uniform points `u` mapped by the timestep shift `t = k·u/(1 + (k − 1)·u)`
    /// (Stable Diffusion 3; k > 1 puts more steps near t = 1).
    Shifted {
        /// The shift k (finite, > 0; 1 = uniform).
        shift: f64,
    },
}

/// Fills `out` (N + 1 ≥ 2 points) with decreasing times from `t_start` to `t_end`.
///
/// # Errors
/// `EmptyInput` (fewer than 2 points), `NonFiniteInput`, `InvalidParameter` (not
/// `1 ≥ t_start > t_end ≥ 0`, shift not finite and positive, or points that are not
/// strictly decreasing in `T`); `out` is untouched on error.
pub fn grid<T: Real>(
    spacing: FlowSpacing,
    t_start: f64,
    t_end: f64,
    out: &mut [T],
) -> Result<(), Error> {
    if out.len() < 2 {
        return Err(Error::EmptyInput);
    }
    if !(t_start.is_finite() && t_end.is_finite()) {
        return Err(Error::NonFiniteInput);
    }
    if !(t_start <= 1.0 && t_start > t_end && t_end >= 0.0) {
        return Err(Error::InvalidParameter);
    }
    let warp = |u: f64| match spacing {
        // u = 1 is the start, exactly (for a shift k ≪ 1, 1 + (k − 1) rounds away k).
        FlowSpacing::Shifted { shift } if u < 1.0 => shift * u / (1.0 + (shift - 1.0) * u),
        _ => u,
    };
    if let FlowSpacing::Shifted { shift } = spacing {
        check_param(shift, 0.0, true)?;
    }
    let n = (out.len() - 1) as f64;
    let point = |i: usize| {
        let u = 1.0 - i as f64 / n;
        // Shift in u ∈ [0, 1], then map onto [t_end, t_start].
        T::from_f64(t_end + warp(u) * (t_start - t_end))
    };
    let mut prev = f64::INFINITY;
    for i in 0..out.len() {
        let t = point(i).to_f64();
        if t >= prev {
            return Err(Error::InvalidParameter);
        }
        prev = t;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = point(i);
    }
    Ok(())
}

/// Checks a flow grid: at least 2 points, finite, strictly decreasing, in `[0, 1]`, and
/// (for score and noise models, which give no velocity at t = 1) starting below 1.
fn validate_grid<T: Real>(output: Output, grid: &[T]) -> Result<(), Error> {
    if grid.len() < 2 {
        return Err(Error::EmptyInput);
    }
    check_finite(grid)?;
    let mut prev = f64::INFINITY;
    for t in grid {
        let t = t.to_f64();
        if !(0.0..=1.0).contains(&t) || t >= prev {
            return Err(Error::InvalidParameter);
        }
        prev = t;
    }
    let start = grid.first().map_or(1.0, |t| t.to_f64());
    if start >= 1.0 && matches!(output, Output::Score | Output::Noise) {
        return Err(Error::InvalidParameter);
    }
    Ok(())
}

/// The model with an evaluation counter, returning velocities.
struct Velocity<'m, M> {
    model: &'m mut M,
    d: usize,
    count: u64,
}

impl<M> Velocity<'_, M> {
    /// `out` = v(x, t) for the whole batch at one time `t ∈ (0, 1]`, using `tbuf`.
    ///
    /// # Errors
    /// The model's error; `NonFinite` if it returned (or the conversion gave) NaN/∞.
    fn eval<T: Real>(&mut self, x: &[T], t: f64, tbuf: &mut [T], out: &mut [T]) -> Result<(), Error>
    where
        M: Model<T>,
    {
        // A midpoint of a step at the bottom of the range can round to t = 0 in `T`,
        // where the model is never called: such a grid is too fine for the precision.
        let tt = T::from_f64(t);
        if tt <= T::ZERO {
            return Err(Error::InvalidParameter);
        }
        tbuf.fill(tt);
        self.model.eval(x, tbuf, out)?;
        self.count += 1;
        // v = p·x + q·m on the linear path (a = 1 − t, s = t).
        let (p, q) = match self.model.output() {
            Output::Velocity => (0.0, 1.0),
            Output::Denoised => (1.0 / t, -1.0 / t),
            Output::Noise => (-1.0 / (1.0 - t), 1.0 / (1.0 - t)),
            Output::Score => (-1.0 / (1.0 - t), -t / (1.0 - t)),
        };
        let (p, q) = (T::from_f64(p), T::from_f64(q));
        for (xr, mr) in rows(x, self.d).zip(rows_mut(out, self.d)) {
            for (mv, xv) in mr.iter_mut().zip(xr) {
                *mv = p * *xv + q * *mv;
            }
        }
        check_finite(out).map_err(|_| Error::NonFinite)
    }
}

/// One step from `t` to `t_next` on the workspace copy `bufs.cur`.
#[allow(clippy::too_many_arguments)]
fn advance<T: Real, M: Model<T>>(
    ev: &mut Velocity<'_, M>,
    method: FlowMethod,
    bufs: &mut Bufs<'_, T>,
    t: f64,
    t_next: f64,
    step: u64,
    seed: u64,
    first_sample: u64,
) -> Result<(), Error> {
    let h = t_next - t;
    let ht = T::from_f64(h);
    ev.eval(bufs.cur, t, bufs.t, bufs.out)?;
    match method {
        FlowMethod::Euler => axpy(bufs.cur, ht, bufs.out),
        FlowMethod::Midpoint => {
            copy(bufs.a, bufs.cur);
            axpy(bufs.a, T::from_f64(0.5 * h), bufs.out);
            ev.eval(bufs.a, t + 0.5 * h, bufs.t, bufs.b)?;
            axpy(bufs.cur, ht, bufs.b);
        }
        FlowMethod::Heun => {
            copy(bufs.a, bufs.cur);
            axpy(bufs.a, ht, bufs.out);
            if t_next > 0.0 {
                ev.eval(bufs.a, t_next, bufs.t, bufs.b)?;
                let half = T::from_f64(0.5 * h);
                for ((xv, v0), v1) in bufs.cur.iter_mut().zip(bufs.out.iter()).zip(bufs.b.iter()) {
                    *xv += half * (*v0 + *v1);
                }
            } else {
                copy(bufs.cur, bufs.a);
            }
        }
        FlowMethod::Sde { eta } => {
            // Exact step of the SDE with x̂₀ = x − t·v frozen (module docs):
            // x' = P·x + Q·v + R·z with ρ = (t'/t)^η.
            let rho = libm::pow(t_next / t, eta);
            let p = T::from_f64((1.0 - t_next) + t_next * rho);
            let q = T::from_f64(t_next * rho * (1.0 - t) - t * (1.0 - t_next));
            let r = t_next * libm::sqrt((1.0 - rho * rho).max(0.0));
            let d = ev.d;
            let z = bufs.row.get_mut(..d).ok_or(Error::WorkspaceTooSmall)?;
            let rt = T::from_f64(r);
            for (i, (xr, vr)) in (0_u64..).zip(rows_mut(bufs.cur, d).zip(rows(bufs.out, d))) {
                if r > 0.0 {
                    noise::normals(seed, first_sample.wrapping_add(i), step.wrapping_mul(16), z);
                } else {
                    z.fill(T::ZERO);
                }
                for ((xv, vv), zv) in xr.iter_mut().zip(vr).zip(z.iter()) {
                    *xv = p * *xv + q * *vv + rt * *zv;
                }
            }
        }
    }
    check_finite(bufs.cur).map_err(|_| Error::NonFinite)
}

/// `y += a·x`.
fn axpy<T: Real>(y: &mut [T], a: T, x: &[T]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv += a * *xv;
    }
}

/// Shape, method and finiteness checks shared by [`step`] and [`sample`]; returns n.
fn check<T: Real>(method: FlowMethod, x: &[T], d: usize, ws: &[T]) -> Result<usize, Error> {
    let n = check_shape(x.len(), d)?;
    method.validate()?;
    check_finite(x)?;
    if ws.len() < workspace_len(n, d) {
        return Err(Error::WorkspaceTooSmall);
    }
    Ok(n)
}

/// One flow step from `t` to `t_next` (`1 ≥ t > t_next ≥ 0`), in place on `x` (n·d),
/// with the workspace of [`workspace_len`]. `step_index` keys the noise of
/// [`FlowMethod::Sde`]. Returns the number of model evaluations.
///
/// # Errors
/// `EmptyInput`/`LengthMismatch` (shapes), `NonFiniteInput` (x, times),
/// `InvalidParameter` (times out of order or outside `[0, 1]`, `t = 1` with a score or
/// noise model, η not finite and ≥ 0), `WorkspaceTooSmall`, the model's error,
/// `NonFinite` (the model returned or the step produced NaN/∞). On error `x` is
/// unchanged.
#[allow(clippy::too_many_arguments)]
pub fn step<T: Real, M: Model<T>>(
    method: FlowMethod,
    model: &mut M,
    x: &mut [T],
    d: usize,
    t: T,
    t_next: T,
    step_index: u64,
    seed: u64,
    first_sample: u64,
    ws: &mut [T],
) -> Result<u64, Error> {
    let n = check(method, x, d, ws)?;
    validate_grid(model.output(), &[t, t_next])?;
    let mut bufs = Bufs::split(ws, n, d)?;
    let mut ev = Velocity { model, d, count: 0 };
    copy(bufs.cur, x);
    let (t, t_next) = (t.to_f64(), t_next.to_f64());
    advance(
        &mut ev,
        method,
        &mut bufs,
        t,
        t_next,
        step_index,
        seed,
        first_sample,
    )?;
    copy(x, bufs.cur);
    Ok(ev.count)
}

/// Runs a flow sampler along `grid` (decreasing times in `[0, 1]` ending at 0, usually
/// from [`grid`] with `t_start = 1`), in place on `x` (n·d samples, usually prior draws
/// `N(0, I)`). Step `j` keys its noise with `j`.
///
/// # Errors
/// As [`step`]; `InvalidParameter` also if the grid does not end at t = 0 (the sampler
/// returns data samples). On error `x` is unchanged.
#[allow(clippy::too_many_arguments)]
pub fn sample<T: Real, M: Model<T>>(
    method: FlowMethod,
    model: &mut M,
    grid: &[T],
    x: &mut [T],
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: &mut [T],
) -> Result<Stats, Error> {
    let n = check(method, x, d, ws)?;
    validate_grid(model.output(), grid)?;
    if grid.last().map(|t| t.to_f64()) != Some(0.0) {
        return Err(Error::InvalidParameter);
    }
    let mut bufs = Bufs::split(ws, n, d)?;
    let mut ev = Velocity { model, d, count: 0 };
    copy(bufs.cur, x);
    for (j, pair) in (0_u64..).zip(grid.windows(2)) {
        if let [t, t_next] = pair {
            advance(
                &mut ev,
                method,
                &mut bufs,
                t.to_f64(),
                t_next.to_f64(),
                j,
                seed,
                first_sample,
            )?;
        }
    }
    copy(x, bufs.cur);
    Ok(Stats {
        evaluations: ev.count,
        steps: (grid.len() - 1) as u64,
    })
}
