//! Generic Itô steps for a user SDE with diagonal noise,
//! `dX_j = μ_j(X, t) dt + σ_j(X, t) dW_j`, forward in time — usable, for instance, as a
//! particle filter's transition. The noise of sample `i` is keyed by
//! `(seed, first_sample + i, key)` ([`super::noise`]), `ΔW = √h·z`.
//!
//! | method | evaluations | update |
//! |---|---|---|
//! | [`ItoMethod::EulerMaruyama`] | 1 | `X' = X + μh + σΔW` (strong order ½, 1 for additive noise) |
//! | [`ItoMethod::Milstein`] | 2 | derivative-free Milstein (Kloeden & Platen §11.1): `X̂ = X + μh + σ√h`, `X' = X + μh + σΔW + (σ(X̂) − σ(X))(ΔW² − h)/(2√h)` (strong order 1 for diagonal noise) |
//! | [`ItoMethod::StochasticHeun`] | 2 | `X̃ = X + μh + σΔW`, `X' = X + ½(μ + μ̃)h + ½(σ + σ̃)ΔW` with `μ̃, σ̃` at `(X̃, t + h)` |
//!
//! Stochastic Heun converges to the **Stratonovich** solution (as in diffrax and
//! torchsde); for additive noise (σ independent of X, e.g. every diffusion process of
//! this module's parent) Itô and Stratonovich coincide and it is strong order 1.

use super::{check_finite, check_param, check_shape, noise};
use crate::buf::take;
use crate::buf::{copy, rows_mut};
use crate::{Error, Real};

/// A user SDE with diagonal noise.
pub trait Sde<T: Real> {
    /// Evaluates drift `μ` and diffusion `σ` (each n·d, row by row) for the batch `x`
    /// at time `t`.
    ///
    /// # Errors
    /// Any error is passed through by the steps.
    fn eval(&mut self, x: &[T], t: T, drift: &mut [T], diffusion: &mut [T]) -> Result<(), Error>;
}

/// The Itô schemes.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItoMethod {
    /// Euler–Maruyama.
    EulerMaruyama,
    /// Derivative-free Milstein.
    Milstein,
    /// Stochastic Heun (Stratonovich).
    StochasticHeun,
}

/// Workspace length (in `T` values) of [`ito_step`]: `6·n·d`.
#[must_use]
pub const fn ito_workspace_len(n: usize, d: usize) -> usize {
    match n.checked_mul(d) {
        Some(nd) => nd.saturating_mul(6),
        None => usize::MAX,
    }
}

fn eval_checked<T: Real, S: Sde<T>>(
    sde: &mut S,
    x: &[T],
    t: T,
    mu: &mut [T],
    sigma: &mut [T],
) -> Result<(), Error> {
    sde.eval(x, t, mu, sigma)?;
    check_finite(mu).map_err(|_| Error::NonFinite)?;
    check_finite(sigma).map_err(|_| Error::NonFinite)
}

/// One step of size `h > 0` from time `t`, in place on `x` (n·d). Returns the number of
/// SDE evaluations (1 or 2).
///
/// # Errors
/// `EmptyInput`, `LengthMismatch`, `NonFiniteInput` (x, t, h), `InvalidParameter`
/// (h ≤ 0), `WorkspaceTooSmall`, the SDE's error, `NonFinite` (NaN/∞ from the SDE or
/// the step). On error `x` is unchanged.
///
/// # Panics
/// Never.
#[allow(clippy::too_many_arguments)]
pub fn ito_step<T: Real, S: Sde<T>>(
    method: ItoMethod,
    sde: &mut S,
    x: &mut [T],
    d: usize,
    t: T,
    h: T,
    seed: u64,
    first_sample: u64,
    key: u64,
    ws: &mut [T],
) -> Result<u32, Error> {
    let n = check_shape(x.len(), d)?;
    check_finite(x)?;
    check_finite(&[t, h])?;
    check_param(h.to_f64(), 0.0, true)?;
    if ws.len() < ito_workspace_len(n, d) {
        return Err(Error::WorkspaceTooSmall);
    }
    let nd = n * d;
    let mut r = ws;
    let (mu, sigma, dw) = (take(&mut r, nd)?, take(&mut r, nd)?, take(&mut r, nd)?);
    let (xs, mu2, sigma2) = (take(&mut r, nd)?, take(&mut r, nd)?, take(&mut r, nd)?);
    for (i, row) in (0_u64..).zip(rows_mut(dw, d)) {
        noise::normals(seed, first_sample.wrapping_add(i), key, row);
    }
    let sqrt_h = h.sqrt();
    dw.iter_mut().for_each(|v| *v *= sqrt_h);
    eval_checked(sde, x, t, mu, sigma)?;
    let evals = match method {
        ItoMethod::EulerMaruyama => {
            for (((o, xv), (m, s)), w) in xs
                .iter_mut()
                .zip(x.iter())
                .zip(mu.iter().zip(sigma.iter()))
                .zip(dw.iter())
            {
                *o = *xv + *m * h + *s * *w;
            }
            1
        }
        ItoMethod::Milstein => {
            for ((o, xv), (m, s)) in xs.iter_mut().zip(x.iter()).zip(mu.iter().zip(sigma.iter())) {
                *o = *xv + *m * h + *s * sqrt_h;
            }
            eval_checked(sde, xs, t, mu2, sigma2)?;
            let half_inv = T::HALF / sqrt_h;
            for ((((o, xv), (m, s)), w), s2) in xs
                .iter_mut()
                .zip(x.iter())
                .zip(mu.iter().zip(sigma.iter()))
                .zip(dw.iter())
                .zip(sigma2.iter())
            {
                *o = *xv + *m * h + *s * *w + (*s2 - *s) * (*w * *w - h) * half_inv;
            }
            2
        }
        ItoMethod::StochasticHeun => {
            for (((o, xv), (m, s)), w) in xs
                .iter_mut()
                .zip(x.iter())
                .zip(mu.iter().zip(sigma.iter()))
                .zip(dw.iter())
            {
                *o = *xv + *m * h + *s * *w;
            }
            eval_checked(sde, xs, t + h, mu2, sigma2)?;
            for ((((o, xv), (m, s)), w), (m2, s2)) in xs
                .iter_mut()
                .zip(x.iter())
                .zip(mu.iter().zip(sigma.iter()))
                .zip(dw.iter())
                .zip(mu2.iter().zip(sigma2.iter()))
            {
                *o = *xv + T::HALF * ((*m + *m2) * h + (*s + *s2) * *w);
            }
            2
        }
    };
    check_finite(xs).map_err(|_| Error::NonFinite)?;
    copy(x, xs);
    Ok(evals)
}
