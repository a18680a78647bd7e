//! The closed-form score of a Gaussian mixture under any [`Process`].
//!
//! For `p_0 = Σ_k w_k N(μ_k, Σ_k)` with diagonal `Σ_k = diag(v_k)` (isotropic:
//! `v_kj = v_k`), the marginal at `t` is `p_t = Σ_k w_k N(a_t μ_k, C_k)` with
//! `C_k = a_t²Σ_k + s_t²I`, and
//!
//! ```text
//! ∇log p_t(x) = Σ_k γ_k(x) · C_k⁻¹(a_t μ_k − x),
//! γ = softmax_k[ ln w_k − ½ Σ_j ln C_kj − ½ Σ_j (x_j − a_t μ_kj)²/C_kj ].
//! ```
//!
//! The softmax is computed in one pass over the components with a running maximum
//! (online log-sum-exp, the accumulator rescaled when the maximum grows), so no
//! per-component buffer is needed. This small per-sample reduction over K components
//! with per-component scales is not the point-cloud kernel of [`crate::kernel`] (whose
//! cost has one global scale), so it does not go through it.

use super::model::{Model, Output};
use super::process::Process;
use super::{check_finite, check_shape};
use crate::buf::{rows, rows_mut};
use crate::{Error, Real};

/// Component covariances.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug)]
pub enum Covariance<'a, T> {
    /// One variance per component (K values).
    Isotropic(&'a [T]),
    /// One variance per component and coordinate (K·d values).
    Diagonal(&'a [T]),
}

/// A Gaussian mixture `Σ_k w_k N(μ_k, Σ_k)` under a process, usable as a [`Model`]
/// (it returns the exact score).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug)]
pub struct Mixture<'a, T> {
    process: Process,
    weights: &'a [T],
    means: &'a [T],
    cov: Covariance<'a, T>,
    d: usize,
}

impl<'a, T: Real> Mixture<'a, T> {
    /// A mixture with K = `weights.len()` components in dimension d: `means` K·d,
    /// covariances K (isotropic) or K·d (diagonal). Weights need not be normalised.
    ///
    /// # Errors
    /// `EmptyInput` (K = 0 or d = 0), `LengthMismatch`, `NonFiniteInput`,
    /// `NegativeWeight`, `ZeroMass`, `InvalidParameter` (a negative variance, bad
    /// process parameters).
    pub fn new(
        process: Process,
        weights: &'a [T],
        means: &'a [T],
        cov: Covariance<'a, T>,
        d: usize,
    ) -> Result<Self, Error> {
        process.validate()?;
        let k = weights.len();
        if k == 0 || d == 0 {
            return Err(Error::EmptyInput);
        }
        if check_shape(means.len(), d)? != k {
            return Err(Error::LengthMismatch);
        }
        let vars = match cov {
            Covariance::Isotropic(v) if v.len() == k => v,
            Covariance::Diagonal(v) if v.len() == k * d => v,
            _ => return Err(Error::LengthMismatch),
        };
        check_finite(weights)?;
        check_finite(means)?;
        check_finite(vars)?;
        if weights.iter().any(|w| *w < T::ZERO) {
            return Err(Error::NegativeWeight);
        }
        if !weights.iter().any(|w| *w > T::ZERO) {
            return Err(Error::ZeroMass);
        }
        if vars.iter().any(|v| *v < T::ZERO) {
            return Err(Error::InvalidParameter);
        }
        Ok(Self {
            process,
            weights,
            means,
            cov,
            d,
        })
    }

    fn var(&self, k: usize, j: usize) -> T {
        match self.cov {
            Covariance::Isotropic(v) => v.get(k).copied().unwrap_or(T::ONE),
            Covariance::Diagonal(v) => v.get(k * self.d + j).copied().unwrap_or(T::ONE),
        }
    }

    /// The score of one sample `x` (d values) at time `t` into `out` (d values);
    /// returns `ln p_t(x)` up to the constant `−d/2·ln 2π − ln Σw`.
    fn score_row(&self, x: &[T], t: f64, out: &mut [T]) -> T {
        let c = self.process.coefs(t);
        let (a, s2) = (T::from_f64(c.a), T::from_f64(c.s * c.s));
        let a2 = a * a;
        out.fill(T::ZERO);
        let (mut max, mut total) = (T::NEG_INFINITY, T::ZERO);
        for (k, (w, mu)) in self
            .weights
            .iter()
            .zip(rows(self.means, self.d))
            .enumerate()
        {
            if *w <= T::ZERO {
                continue;
            }
            // C_kj = a²v_kj + s²; isotropic components compute it (and its log) once.
            let iso = match self.cov {
                Covariance::Isotropic(v) => {
                    let ck = a2 * v.get(k).copied().unwrap_or(T::ONE) + s2;
                    Some((T::from_usize(self.d) * ck.ln(), T::ONE / ck))
                }
                Covariance::Diagonal(_) => None,
            };
            let mut logit = w.ln();
            match iso {
                Some((logdet, inv)) => {
                    let mut sq = T::ZERO;
                    for (xv, mv) in x.iter().zip(mu) {
                        let r = *xv - a * *mv;
                        sq += r * r;
                    }
                    logit -= T::HALF * (logdet + sq * inv);
                }
                None => {
                    for (j, (xv, mv)) in x.iter().zip(mu).enumerate() {
                        let ck = a2 * self.var(k, j) + s2;
                        let r = *xv - a * *mv;
                        logit -= T::HALF * (ck.ln() + r * r / ck);
                    }
                }
            }
            if logit > max {
                let rescale = (max - logit).exp();
                total *= rescale;
                out.iter_mut().for_each(|o| *o *= rescale);
                max = logit;
            }
            let g = (logit - max).exp();
            total += g;
            for (j, ((o, xv), mv)) in out.iter_mut().zip(x).zip(mu).enumerate() {
                let inv = match iso {
                    Some((_, inv)) => inv,
                    None => T::ONE / (a2 * self.var(k, j) + s2),
                };
                *o += g * (a * *mv - *xv) * inv;
            }
        }
        let inv = T::ONE / total;
        out.iter_mut().for_each(|o| *o *= inv);
        max + total.ln()
    }

    /// Exact scores of the batch `x` (n·d) at per-sample times `t` (n values).
    ///
    /// # Errors
    /// `EmptyInput`, `LengthMismatch`, `NonFiniteInput` (x, t), `InvalidParameter`
    /// (a time outside the process's range, or where `s_t = 0` and a component has
    /// zero variance), `NonFinite` (the score overflowed).
    pub fn score(&self, x: &[T], t: &[T], out: &mut [T]) -> Result<(), Error> {
        let n = check_shape(x.len(), self.d)?;
        if t.len() != n || out.len() != x.len() {
            return Err(Error::LengthMismatch);
        }
        check_finite(x)?;
        check_finite(t)?;
        for tv in t {
            self.process.check_eval_time(tv.to_f64())?;
        }
        for (xr, (o, tv)) in rows(x, self.d).zip(rows_mut(out, self.d).zip(t)) {
            self.score_row(xr, tv.to_f64(), o);
        }
        check_finite(out).map_err(|_| Error::NonFinite)
    }

    /// The marginal log-density `ln p_t(x)` of each sample (n values), using `scratch`
    /// (d values) for the score it computes along the way.
    ///
    /// # Errors
    /// As [`Mixture::score`]; `LengthMismatch` if `scratch.len() != d`.
    pub fn log_density(
        &self,
        x: &[T],
        t: T,
        scratch: &mut [T],
        out: &mut [T],
    ) -> Result<(), Error> {
        let n = check_shape(x.len(), self.d)?;
        if out.len() != n || scratch.len() != self.d {
            return Err(Error::LengthMismatch);
        }
        check_finite(x)?;
        check_finite(&[t])?;
        self.process.check_eval_time(t.to_f64())?;
        let norm =
            -T::HALF * T::from_usize(self.d) * T::from_f64(libm::log(2.0 * core::f64::consts::PI))
                - crate::sum::sum(self.weights).ln();
        for (xr, o) in rows(x, self.d).zip(out.iter_mut()) {
            *o = self.score_row(xr, t.to_f64(), scratch) + norm;
        }
        Ok(())
    }
}

impl<T: Real> Model<T> for Mixture<'_, T> {
    fn output(&self) -> Output {
        Output::Score
    }

    fn eval(&mut self, x: &[T], t: &[T], out: &mut [T]) -> Result<(), Error> {
        self.score(x, t, out)
    }
}
