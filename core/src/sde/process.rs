//! Forward noising processes `dx = f(t)·x dt + g(t) dW` with Gaussian marginals
//! `x_t | x_0 ~ N(a_t·x_0, s_t²·I)`.
//!
//! Every process is described by a handful of scalars at a time `t`:
//! the mean coefficient `a_t`, the standard deviation `s_t`, the drift coefficient `f(t)`
//! (the drift is `f(t)·x`) and the squared diffusion `g(t)²`. They are computed in `f64`
//! whatever the sample precision (a few scalars per step; the vectors stay in `T`).
//!
//! | process | `a_t` | `s_t` | `f(t)` | `g(t)²` | prior |
//! |---|---|---|---|---|---|
//! | VP linear | `e^{−B/2}`, `B = β₀t + ½(β₁−β₀)t²` | `√(1−a²)` | `−β(t)/2` | `β(t)` | `N(0, I)` |
//! | VP cosine | `√ᾱ`, `ᾱ = cos²(u)/cos²(u₀)`, `u = π/2·(t+c)/(1+c)` | `√(1−ᾱ)` | `−β/2` | `β = π·tan(u)/(1+c)` | `N(0, I)` |
//! | sub-VP | as VP | `1 − a²` | `−β(t)/2` | `β(t)(1 − e^{−2B})` | `N(0, I)` |
//! | VE | 1 | `σ(t) = σmin(σmax/σmin)^t` | 0 | `2σ(t)² ln(σmax/σmin)` | `N(0, σmax²I)` |
//! | EDM | 1 | `t` (time is σ) | 0 | `2t` | `N(0, σmax²I)` |
//!
//! Time ranges: VP, sub-VP and VE run on `[0, 1]`, VP cosine on `[0, 0.9946]` (the end
//! DPM-Solver uses, where `β` is still finite), EDM on `[0, σmax]`.
//!
//! **The sub-VP standard deviation.** score_sde's `subVPSDE.marginal_prob` returns
//! `1 − a_t²` as the *std*, while the paper writes the variance as `(1 − e^{−∫β})²`: the
//! two agree, and `1 − a_t²` is the std. Check: with `V = (1−a²)²`,
//! `dV/dt = 2f·V + g²` (the variance ODE of a linear SDE) holds exactly, and
//! `tests/tests/suite/sde_process.rs` confirms it against Monte Carlo of the forward SDE. What
//! is *not* right is `√(1 − a²)` (the VP std), which some ports use by mistake.
//!
//! **The VE convention.** `s_t = σ(t)` as in score_sde, so `s_0 = σmin`: the process
//! describes data smoothed by `N(0, σmin²)`. The exact conditional std from clean data
//! is `√(σ(t)² − σmin²)`; both satisfy the same Fokker–Planck equation for `t > 0`.

use crate::buf::{rows, rows_mut};
use crate::Error;
use crate::Real;

/// End of the VP-cosine time range (DPM-Solver's `T` for the cosine schedule).
pub const COSINE_T_MAX: f64 = 0.9946;

/// A forward noising process. Parameters are `f64` (schedule scalars are computed in
/// `f64`; see the module docs for the formulas).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Process {
    /// Variance-preserving, linear `β(t) = β₀ + t(β₁ − β₀)` (score_sde `VPSDE`).
    VpLinear {
        /// β₀ (default 0.1).
        beta_min: f64,
        /// β₁ (default 20).
        beta_max: f64,
    },
    /// Variance-preserving with the cosine schedule of Nichol & Dhariwal, offset `c`.
    VpCosine {
        /// The offset `c` (default 0.008).
        offset: f64,
    },
    /// Sub-variance-preserving (score_sde `subVPSDE`), same `β(t)` as VP linear.
    SubVp {
        /// β₀ (default 0.1).
        beta_min: f64,
        /// β₁ (default 20).
        beta_max: f64,
    },
    /// Variance-exploding with geometric σ (score_sde `VESDE`).
    Ve {
        /// σmin (default 0.01).
        sigma_min: f64,
        /// σmax (default 50).
        sigma_max: f64,
    },
    /// The EDM σ-parameterisation (Karras et al. 2022): `x_σ = x_0 + σ·n`, time is σ.
    Edm {
        /// σmin, the default end of sampling (0.002).
        sigma_min: f64,
        /// σmax, the start of sampling and the prior std (80).
        sigma_max: f64,
    },
}

/// The schedule scalars of a process at one time.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coefs {
    /// Mean coefficient `a_t` (`x_t = a_t·x_0 + s_t·ε`).
    pub a: f64,
    /// Standard deviation `s_t`.
    pub s: f64,
    /// Drift coefficient: the forward drift is `f·x`.
    pub f: f64,
    /// Squared diffusion `g(t)²`.
    pub g2: f64,
}

impl Coefs {
    /// `σ̃ = s/a`, the noise level of the rescaled state `x/a` (EDM's σ).
    #[must_use]
    pub fn sigma(&self) -> f64 {
        self.s / self.a
    }
}

impl Process {
    /// VP linear with score_sde's defaults β₀ = 0.1, β₁ = 20.
    pub const VP: Self = Self::VpLinear {
        beta_min: 0.1,
        beta_max: 20.0,
    };
    /// VP cosine with offset 0.008.
    pub const VP_COSINE: Self = Self::VpCosine { offset: 0.008 };
    /// Sub-VP with β₀ = 0.1, β₁ = 20.
    pub const SUB_VP: Self = Self::SubVp {
        beta_min: 0.1,
        beta_max: 20.0,
    };
    /// VE with σmin = 0.01, σmax = 50.
    pub const VE: Self = Self::Ve {
        sigma_min: 0.01,
        sigma_max: 50.0,
    };
    /// EDM with σmin = 0.002, σmax = 80.
    pub const EDM: Self = Self::Edm {
        sigma_min: 0.002,
        sigma_max: 80.0,
    };

    /// Checks the parameters.
    ///
    /// # Errors
    /// `InvalidParameter` unless β₀ > 0, β₁ ≥ β₀ (finite), 0 ≤ c < 1 (finite),
    /// 0 < σmin < σmax (finite).
    pub fn validate(&self) -> Result<(), Error> {
        let ok = match *self {
            Self::VpLinear { beta_min, beta_max } | Self::SubVp { beta_min, beta_max } => {
                beta_min > 0.0 && beta_max >= beta_min && beta_max.is_finite()
            }
            Self::VpCosine { offset } => (0.0..1.0).contains(&offset),
            Self::Ve {
                sigma_min,
                sigma_max,
            }
            | Self::Edm {
                sigma_min,
                sigma_max,
            } => sigma_min > 0.0 && sigma_max > sigma_min && sigma_max.is_finite(),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter)
        }
    }

    /// The end `T` of the time range `[0, T]`.
    #[must_use]
    pub fn t_max(&self) -> f64 {
        match *self {
            Self::VpLinear { .. } | Self::SubVp { .. } | Self::Ve { .. } => 1.0,
            Self::VpCosine { .. } => COSINE_T_MAX,
            Self::Edm { sigma_max, .. } => sigma_max,
        }
    }

    /// The customary end time of sampling: 1e-3 (VP, VP cosine, sub-VP; score_sde),
    /// 1e-5 (VE; score_sde), σmin (EDM).
    #[must_use]
    pub fn t_eps(&self) -> f64 {
        match *self {
            Self::VpLinear { .. } | Self::SubVp { .. } | Self::VpCosine { .. } => 1e-3,
            Self::Ve { .. } => 1e-5,
            Self::Edm { sigma_min, .. } => sigma_min,
        }
    }

    /// Standard deviation of the prior `N(0, σ²I)` that sampling starts from.
    #[must_use]
    pub fn prior_std(&self) -> f64 {
        match *self {
            Self::VpLinear { .. } | Self::SubVp { .. } | Self::VpCosine { .. } => 1.0,
            Self::Ve { sigma_max, .. } | Self::Edm { sigma_max, .. } => sigma_max,
        }
    }

    /// The schedule scalars at time `t` (no range check; see [`Process::check_time`]).
    #[must_use]
    pub fn coefs(&self, t: f64) -> Coefs {
        match *self {
            Self::VpLinear { beta_min, beta_max } | Self::SubVp { beta_min, beta_max } => {
                let big_b = beta_min * t + 0.5 * (beta_max - beta_min) * t * t;
                let beta = beta_min + t * (beta_max - beta_min);
                let a = libm::exp(-0.5 * big_b);
                let one_minus_a2 = -libm::expm1(-big_b);
                match self {
                    Self::VpLinear { .. } => Coefs {
                        a,
                        s: libm::sqrt(one_minus_a2),
                        f: -0.5 * beta,
                        g2: beta,
                    },
                    _ => Coefs {
                        a,
                        s: one_minus_a2,
                        f: -0.5 * beta,
                        g2: beta * -libm::expm1(-2.0 * big_b),
                    },
                }
            }
            Self::VpCosine { offset } => {
                let half_pi = core::f64::consts::FRAC_PI_2;
                let u = half_pi * (t + offset) / (1.0 + offset);
                let u0 = half_pi * offset / (1.0 + offset);
                let (c, c0) = (libm::cos(u), libm::cos(u0));
                let alpha_bar = (c * c) / (c0 * c0);
                // 1 − ᾱ = (cos²u₀ − cos²u)/cos²u₀ = sin(u−u₀)·sin(u+u₀)/cos²u₀, without
                // cancellation near t = 0.
                let one_minus = libm::sin(u - u0) * libm::sin(u + u0) / (c0 * c0);
                let beta = 2.0 * half_pi * libm::tan(u) / (1.0 + offset);
                Coefs {
                    a: libm::sqrt(alpha_bar),
                    s: libm::sqrt(one_minus),
                    f: -0.5 * beta,
                    g2: beta,
                }
            }
            Self::Ve {
                sigma_min,
                sigma_max,
            } => {
                let log_ratio = libm::log(sigma_max / sigma_min);
                let sigma = sigma_min * libm::exp(t * log_ratio);
                Coefs {
                    a: 1.0,
                    s: sigma,
                    f: 0.0,
                    g2: 2.0 * sigma * sigma * log_ratio,
                }
            }
            Self::Edm { .. } => Coefs {
                a: 1.0,
                s: t,
                f: 0.0,
                g2: 2.0 * t,
            },
        }
    }

    /// Half log-SNR `λ_t = ln(a_t/s_t)` (+∞ where `s_t = 0`).
    #[must_use]
    pub fn lambda(&self, t: f64) -> f64 {
        let c = self.coefs(t);
        libm::log(c.a) - libm::log(c.s)
    }

    /// The time at which `λ_t = lambda`, by bisection on `[0, T]` (`λ` decreases in
    /// `t`); clamped to the range. `λ = +∞` gives the time where `s = 0` (0, or for VE
    /// where `s ≥ σmin`, also 0).
    #[must_use]
    pub fn time_of_lambda(&self, lambda: f64) -> f64 {
        let (mut lo, mut hi) = (0.0, self.t_max());
        if lambda >= self.lambda(lo) {
            return lo;
        }
        if lambda <= self.lambda(hi) {
            return hi;
        }
        // 200 halvings reach adjacent doubles for any range used here.
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if self.lambda(mid) > lambda {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// The time at which `σ̃ = s/a` equals `sigma` (`sigma = 0` gives `t = 0`).
    #[must_use]
    pub fn time_of_sigma(&self, sigma: f64) -> f64 {
        match *self {
            Self::Edm { .. } => sigma.min(self.t_max()),
            _ if sigma <= 0.0 => 0.0,
            _ => self.time_of_lambda(-libm::log(sigma)),
        }
    }

    /// Checks that `t` is a time the process is defined at: finite, `0 ≤ t ≤ T`.
    ///
    /// # Errors
    /// `NonFiniteInput` for NaN/∞, `InvalidParameter` outside `[0, T]`.
    pub fn check_time(&self, t: f64) -> Result<(), Error> {
        if !t.is_finite() {
            return Err(Error::NonFiniteInput);
        }
        if (0.0..=self.t_max()).contains(&t) {
            Ok(())
        } else {
            Err(Error::InvalidParameter)
        }
    }

    /// Checks that the model can be evaluated at `t`: in range and `s_t > 0` (so
    /// every conversion between score, noise and denoised output is defined).
    ///
    /// # Errors
    /// As [`Process::check_time`]; `InvalidParameter` where `s_t = 0`.
    pub fn check_eval_time(&self, t: f64) -> Result<(), Error> {
        self.check_time(t)?;
        if self.coefs(t).s > 0.0 {
            Ok(())
        } else {
            Err(Error::InvalidParameter)
        }
    }

    /// Fills `out` (n·d values) with draws from the prior `N(0, prior_std²·I)`, sample
    /// `i` from the noise stream of sample `first_sample + i` (see [`super::noise`]).
    ///
    /// # Errors
    /// `EmptyInput` if d = 0 or `out` is empty, `LengthMismatch` if `out.len()` is not a
    /// multiple of d, `InvalidParameter` for bad process parameters.
    pub fn prior_sample<T: Real>(
        &self,
        seed: u64,
        first_sample: u64,
        d: usize,
        out: &mut [T],
    ) -> Result<(), Error> {
        self.validate()?;
        super::check_shape(out.len(), d)?;
        let std = T::from_f64(self.prior_std());
        for (i, row) in (0_u64..).zip(rows_mut(out, d)) {
            super::noise::normals(
                seed,
                first_sample.wrapping_add(i),
                super::noise::PRIOR_KEY,
                row,
            );
            row.iter_mut().for_each(|v| *v *= std);
        }
        Ok(())
    }

    /// Log-density of the prior at each sample: `out[i] = −d/2·ln(2πσ²) − ‖x_i‖²/(2σ²)`.
    ///
    /// # Errors
    /// `EmptyInput`, `LengthMismatch` (`x.len() != out.len()·d`), `NonFiniteInput`,
    /// `InvalidParameter`.
    pub fn prior_log_density<T: Real>(
        &self,
        x: &[T],
        d: usize,
        out: &mut [T],
    ) -> Result<(), Error> {
        self.validate()?;
        let n = super::check_shape(x.len(), d)?;
        if out.len() != n {
            return Err(Error::LengthMismatch);
        }
        super::check_finite(x)?;
        let var = self.prior_std() * self.prior_std();
        let norm = -0.5 * d as f64 * libm::log(2.0 * core::f64::consts::PI * var);
        for (o, row) in out.iter_mut().zip(rows(x, d)) {
            let sq: f64 = row.iter().map(|v| v.to_f64() * v.to_f64()).sum();
            *o = T::from_f64(norm - 0.5 * sq / var);
        }
        Ok(())
    }
}
