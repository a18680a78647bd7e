//! Classifier-free guidance (Ho & Salimans 2022) with a guidance interval (Kynkäänniemi
//! et al. 2024): a conditional model called twice per evaluation, once with the
//! condition and once without, combined as
//! `out = u + w·(c − u)` (w = 1: the conditional model alone; w = 0: the unconditional
//! one), for samples whose time lies in `[t_lo, t_hi]`; elsewhere `out = c` and, when no
//! sample of the batch is in the interval, the unconditional call is skipped.
//!
//! The combination is affine with weights summing to 1, so it means the same thing for
//! every output kind (score, noise, denoised, velocity): [`Guided`] is a [`Model`] that
//! every sampler takes unchanged. It counts its own model calls ([`Guided::calls`]);
//! the samplers' evaluation counts are of guided evaluations.

use super::model::{Model, Output};
use crate::{Error, Real};

/// A model with a condition it can be evaluated with or without.
pub trait Conditional<T: Real> {
    /// What [`Conditional::eval`] returns (the same with and without the condition).
    fn output(&self) -> Output;

    /// As [`Model::eval`], with the condition (`conditional = true`) or without it.
    ///
    /// # Errors
    /// Any error the model reports; the sampler returns it unchanged.
    fn eval(&mut self, x: &[T], t: &[T], conditional: bool, out: &mut [T]) -> Result<(), Error>;
}

/// A [`Conditional`] model under classifier-free guidance, usable as a [`Model`].
#[derive(Debug)]
pub struct Guided<'a, T, M> {
    model: &'a mut M,
    weight: T,
    t_lo: f64,
    t_hi: f64,
    scratch: &'a mut [T],
    calls: u64,
}

impl<'a, T: Real, M: Conditional<T>> Guided<'a, T, M> {
    /// Guidance weight `weight` on the times `[t_lo, t_hi]` (in the sampler's time: t of
    /// the process, σ for EDM, the interpolant's t for flows; `t_hi = ∞` allowed).
    /// `scratch` holds the unconditional output: n·d values for batches of n samples.
    ///
    /// # Errors
    /// `InvalidParameter` if the weight is not finite, or unless `0 ≤ t_lo ≤ t_hi`
    /// (`t_lo` finite, `t_hi` not NaN).
    pub fn new(
        model: &'a mut M,
        weight: f64,
        t_lo: f64,
        t_hi: f64,
        scratch: &'a mut [T],
    ) -> Result<Self, Error> {
        let ok = weight.is_finite() && t_lo.is_finite() && !t_hi.is_nan();
        if !(ok && 0.0 <= t_lo && t_lo <= t_hi) {
            return Err(Error::InvalidParameter);
        }
        Ok(Self {
            model,
            weight: T::from_f64(weight),
            t_lo,
            t_hi,
            scratch,
            calls: 0,
        })
    }

    /// Model calls so far (conditional and unconditional).
    #[must_use]
    pub fn calls(&self) -> u64 {
        self.calls
    }

    fn inside(&self, t: T) -> bool {
        (self.t_lo..=self.t_hi).contains(&t.to_f64())
    }
}

impl<T: Real, M: Conditional<T>> Model<T> for Guided<'_, T, M> {
    fn output(&self) -> Output {
        self.model.output()
    }

    /// # Errors
    /// The model's error; `LengthMismatch` if `scratch` is shorter than `out`.
    fn eval(&mut self, x: &[T], t: &[T], out: &mut [T]) -> Result<(), Error> {
        self.model.eval(x, t, true, out)?;
        self.calls += 1;
        if self.weight == T::ONE || !t.iter().any(|tv| self.inside(*tv)) {
            return Ok(());
        }
        let u = self
            .scratch
            .get_mut(..out.len())
            .ok_or(Error::LengthMismatch)?;
        self.model.eval(x, t, false, u)?;
        self.calls += 1;
        // t is not empty here (a sample is in the interval); d ≥ 1 keeps chunking total.
        let d = (out.len() / t.len()).max(1);
        let w = self.weight;
        let (lo, hi) = (self.t_lo, self.t_hi);
        for ((orow, urow), tv) in out.chunks_exact_mut(d).zip(u.chunks_exact(d)).zip(t) {
            if (lo..=hi).contains(&tv.to_f64()) {
                for (o, uv) in orow.iter_mut().zip(urow) {
                    *o = *uv + w * (*o - *uv);
                }
            }
        }
        Ok(())
    }
}
