//! The `#[repr(C)]` structs and constants of the SDE samplers. Schedule parameters and
//! settings are `double` in both precisions (the core computes schedule scalars in
//! f64); states, grids and model outputs are `float` or `double`.

use otcore::sde::{
    AdaptiveConfig, AdaptiveStats, Churn, Config, Corrector, Method, Output, Process,
};

use crate::status::otc_status;

/// Process kind: variance-preserving, linear β(t) = β_min + t(β_max − β_min);
/// `param0` = β_min (default 0.1), `param1` = β_max (20). Time range [0, 1].
pub const OTC_SDE_VP: i32 = 0;
/// Process kind: VP with the cosine schedule; `param0` = offset (0.008), `param1`
/// unused. Time range [0, 0.9946].
pub const OTC_SDE_VP_COSINE: i32 = 1;
/// Process kind: sub-VP (std 1 − a_t², see the Rust docs); `param0` = β_min,
/// `param1` = β_max. Time range [0, 1].
pub const OTC_SDE_SUB_VP: i32 = 2;
/// Process kind: variance-exploding, σ(t) = σ_min(σ_max/σ_min)^t; `param0` = σ_min
/// (0.01), `param1` = σ_max (50). Time range [0, 1].
pub const OTC_SDE_VE: i32 = 3;
/// Process kind: EDM σ-parameterisation, time = σ; `param0` = σ_min (0.002),
/// `param1` = σ_max (80). Time range [0, σ_max].
pub const OTC_SDE_EDM: i32 = 4;

/// Model output: the score ∇log p_t(x).
pub const OTC_SDE_OUTPUT_SCORE: i32 = 0;
/// Model output: the noise prediction ε̂ = −s_t·score.
pub const OTC_SDE_OUTPUT_NOISE: i32 = 1;
/// Model output: the denoised estimate x̂₀ = (x + s_t²·score)/a_t (EDM's D).
pub const OTC_SDE_OUTPUT_DENOISED: i32 = 2;
/// Model output: the velocity E[ε − x₀ | x_t] of the linear interpolant
/// x_t = (1 − t)x₀ + t·ε (flow matching); only for the `otc_sde_flow_*` samplers (the
/// others return `OTC_STATUS_INVALID_PARAMETER`).
pub const OTC_SDE_OUTPUT_VELOCITY: i32 = 3;

/// Method: Euler–Maruyama on the reverse SDE (1 evaluation per step).
pub const OTC_SDE_EULER_MARUYAMA: i32 = 0;
/// Method: score_sde's reverse-diffusion predictor (1).
pub const OTC_SDE_REVERSE_DIFFUSION: i32 = 1;
/// Method: ancestral sampling, DDPM posterior (1).
pub const OTC_SDE_ANCESTRAL: i32 = 2;
/// Method: Euler on the probability-flow ODE (1).
pub const OTC_SDE_PROBABILITY_FLOW_EULER: i32 = 3;
/// Method: EDM Heun, optional churn (2; 1 on a step to σ = 0).
pub const OTC_SDE_HEUN: i32 = 4;
/// Method: DDIM = DPM-Solver-1 (1).
pub const OTC_SDE_DDIM: i32 = 5;
/// Method: DPM-Solver++(2M) (1).
pub const OTC_SDE_DPM_SOLVER_PP_2M: i32 = 6;
/// Method: DPM-Solver++(3M), third order (1); `otc_sde_sample_*` only (it keeps two past
/// x̂₀): `otc_sde_step_*` returns `OTC_STATUS_INVALID_PARAMETER`.
pub const OTC_SDE_DPM_SOLVER_PP_3M: i32 = 7;
/// Method: ER-SDE-Solver-1, φ(σ) = σ(e^{σ^0.3} + 10) (1 evaluation, stochastic).
pub const OTC_SDE_ER_SDE_1: i32 = 8;
/// Method: UniPC-2 (bh2), third order (1): DPM-Solver++(2M) with the UniC corrector;
/// `otc_sde_sample_*` only (it keeps two past x̂₀ and the last step's start):
/// `otc_sde_step_*` returns `OTC_STATUS_INVALID_PARAMETER`, and so does a Langevin
/// corrector (`corrector_steps > 0`).
pub const OTC_SDE_UNIPC: i32 = 9;

/// Corrector step size: score_sde's Langevin, ε = 2(snr·‖z‖/‖score‖)² per sample
/// (biased in low dimension; see the docs).
pub const OTC_SDE_CORRECTOR_LANGEVIN: i32 = 0;
/// Corrector step size: annealed Langevin, ε = 2(snr·s_t)² (recommended for small d).
pub const OTC_SDE_CORRECTOR_ANNEALED: i32 = 1;

/// Grid spacing: uniform in t.
pub const OTC_SDE_GRID_UNIFORM_TIME: i32 = 0;
/// Grid spacing: uniform in the half log-SNR λ = ln(a/s) (end time must be > 0).
pub const OTC_SDE_GRID_UNIFORM_LOG_SNR: i32 = 1;
/// Grid spacing: Karras et al., uniform in σ̃^{1/ρ} with σ̃ = s/a (ρ = 7 in EDM).
pub const OTC_SDE_GRID_KARRAS: i32 = 2;

/// Mixture covariances: one variance per component (k values).
pub const OTC_SDE_COVARIANCE_ISOTROPIC: i32 = 0;
/// Mixture covariances: one variance per component and coordinate (k·d values).
pub const OTC_SDE_COVARIANCE_DIAGONAL: i32 = 1;

/// Itô scheme: Euler–Maruyama (1 evaluation).
pub const OTC_SDE_ITO_EULER_MARUYAMA: i32 = 0;
/// Itô scheme: derivative-free Milstein (2 evaluations).
pub const OTC_SDE_ITO_MILSTEIN: i32 = 1;
/// Itô scheme: stochastic Heun (2 evaluations; Stratonovich, = Itô for additive noise).
pub const OTC_SDE_ITO_STOCHASTIC_HEUN: i32 = 2;

/// A forward noising process `dx = f(t)·x dt + g(t) dW`, `x_t | x_0 ~ N(a_t x_0, s_t² I)`.
/// Fill with `otc_sde_process_default`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_sde_process {
    /// `sizeof(otc_sde_process)`.
    pub struct_size: usize,
    /// `OTC_SDE_VP`, `OTC_SDE_VP_COSINE`, `OTC_SDE_SUB_VP`, `OTC_SDE_VE` or `OTC_SDE_EDM`.
    pub kind: i32,
    /// First parameter (see the kind).
    pub param0: f64,
    /// Second parameter (see the kind).
    pub param1: f64,
}

impl otc_sde_process {
    pub(crate) fn defaults(kind: i32) -> Result<Self, otc_status> {
        let p = match kind {
            OTC_SDE_VP => Process::VP,
            OTC_SDE_VP_COSINE => Process::VP_COSINE,
            OTC_SDE_SUB_VP => Process::SUB_VP,
            OTC_SDE_VE => Process::VE,
            OTC_SDE_EDM => Process::EDM,
            _ => return Err(otc_status::InvalidParameter),
        };
        let (param0, param1) = match p {
            Process::VpLinear { beta_min, beta_max } | Process::SubVp { beta_min, beta_max } => {
                (beta_min, beta_max)
            }
            Process::VpCosine { offset } => (offset, 0.0),
            Process::Ve {
                sigma_min,
                sigma_max,
            }
            | Process::Edm {
                sigma_min,
                sigma_max,
            } => (sigma_min, sigma_max),
        };
        Ok(Self {
            struct_size: size_of::<Self>(),
            kind,
            param0,
            param1,
        })
    }

    /// The core process, validated.
    pub(crate) fn to_core(self) -> Result<Process, otc_status> {
        let (a, b) = (self.param0, self.param1);
        let p = match self.kind {
            OTC_SDE_VP => Process::VpLinear {
                beta_min: a,
                beta_max: b,
            },
            OTC_SDE_VP_COSINE => Process::VpCosine { offset: a },
            OTC_SDE_SUB_VP => Process::SubVp {
                beta_min: a,
                beta_max: b,
            },
            OTC_SDE_VE => Process::Ve {
                sigma_min: a,
                sigma_max: b,
            },
            OTC_SDE_EDM => Process::Edm {
                sigma_min: a,
                sigma_max: b,
            },
            _ => return Err(otc_status::InvalidParameter),
        };
        p.validate()?;
        Ok(p)
    }
}

/// The schedule scalars of a process at one time, and its fixed facts.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct otc_sde_coefs {
    /// `sizeof(otc_sde_coefs)`, set by the caller.
    pub struct_size: usize,
    /// Mean coefficient a_t.
    pub a: f64,
    /// Standard deviation s_t.
    pub s: f64,
    /// Drift coefficient f(t): the forward drift is f(t)·x.
    pub f: f64,
    /// Squared diffusion g(t)².
    pub g2: f64,
    /// Half log-SNR λ_t = ln(a_t/s_t) (+∞ where s_t = 0).
    pub lambda: f64,
    /// End T of the time range [0, T].
    pub t_max: f64,
    /// Customary end time of sampling (1e-3 VP family, 1e-5 VE, σ_min EDM).
    pub t_eps: f64,
    /// Standard deviation of the prior N(0, σ²I).
    pub prior_std: f64,
}

/// Settings of the fixed-step samplers. Fill with `otc_sde_sampler_config_default`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_sde_sampler_config {
    /// `sizeof(otc_sde_sampler_config)`.
    pub struct_size: usize,
    /// One of `OTC_SDE_EULER_MARUYAMA` … `OTC_SDE_UNIPC`.
    pub method: i32,
    /// `OTC_SDE_CORRECTOR_LANGEVIN` (default) or `OTC_SDE_CORRECTOR_ANNEALED`.
    pub corrector: i32,
    /// Corrector iterations before each predictor step (0 = none, default; ≤ 15).
    pub corrector_steps: u32,
    /// Last step without noise (score_sde's noise removal); for a single step: this
    /// step adds no noise. Default false.
    pub denoise: bool,
    /// Corrector signal-to-noise ratio (> 0; default 0.16).
    pub snr: f64,
    /// Heun churn γ per step = EDM's S_churn/N, in [0, √2 − 1] (default 0).
    pub churn_gamma: f64,
    /// Churn applies where S_min ≤ σ̃ ≤ S_max (defaults 0, +∞).
    pub churn_s_min: f64,
    /// See `churn_s_min`.
    pub churn_s_max: f64,
    /// Churn noise inflation S_noise (default 1).
    pub churn_s_noise: f64,
}

impl otc_sde_sampler_config {
    pub(crate) fn defaults(method: i32) -> Self {
        Self {
            struct_size: size_of::<Self>(),
            method,
            corrector: OTC_SDE_CORRECTOR_LANGEVIN,
            corrector_steps: 0,
            denoise: false,
            snr: 0.16,
            churn_gamma: 0.0,
            churn_s_min: 0.0,
            churn_s_max: f64::INFINITY,
            churn_s_noise: 1.0,
        }
    }

    pub(crate) fn to_core(self) -> Result<Config, otc_status> {
        let method = match self.method {
            OTC_SDE_EULER_MARUYAMA => Method::EulerMaruyama,
            OTC_SDE_REVERSE_DIFFUSION => Method::ReverseDiffusion,
            OTC_SDE_ANCESTRAL => Method::Ancestral,
            OTC_SDE_PROBABILITY_FLOW_EULER => Method::ProbabilityFlowEuler,
            OTC_SDE_HEUN => Method::Heun(Churn {
                gamma: self.churn_gamma,
                s_min: self.churn_s_min,
                s_max: self.churn_s_max,
                s_noise: self.churn_s_noise,
            }),
            OTC_SDE_DDIM => Method::Ddim,
            OTC_SDE_DPM_SOLVER_PP_2M => Method::DpmSolverPp2M,
            OTC_SDE_DPM_SOLVER_PP_3M => Method::DpmSolverPp3M,
            OTC_SDE_ER_SDE_1 => Method::ErSde1,
            OTC_SDE_UNIPC => Method::UniPc,
            _ => return Err(otc_status::InvalidParameter),
        };
        let corrector = match self.corrector {
            OTC_SDE_CORRECTOR_LANGEVIN => Corrector::Langevin,
            OTC_SDE_CORRECTOR_ANNEALED => Corrector::Annealed,
            _ => return Err(otc_status::InvalidParameter),
        };
        Ok(Config {
            method,
            corrector_steps: self.corrector_steps,
            corrector,
            snr: self.snr,
            denoise: self.denoise,
        })
    }
}

/// Settings of the adaptive solver (Jolicoeur-Martineau et al. 2021). Fill with
/// `otc_sde_adaptive_config_default`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_sde_adaptive_config {
    /// `sizeof(otc_sde_adaptive_config)`.
    pub struct_size: usize,
    /// Start time (default T).
    pub t_start: f64,
    /// End time, > 0 (default the process's t_eps).
    pub t_end: f64,
    /// Absolute tolerance (state units; default 0.0078).
    pub eps_abs: f64,
    /// Relative tolerance (default 0.05).
    pub eps_rel: f64,
    /// First step (time units; default 0.01).
    pub h_init: f64,
    /// Safety factor in (0, 1] (default 0.9).
    pub safety: f64,
    /// Controller exponent > 0 (default 0.9).
    pub exponent: f64,
    /// Evaluation budget (0 = unlimited, default).
    pub max_evaluations: u64,
    /// Brownian-tree depth L in 1…24: time resolution (t_start − t_end)/2^L (default 20).
    pub depth: u32,
    /// Brownian-bridge memory for rejected steps (default true; false = GG as
    /// published, biased in low dimension).
    pub memory: bool,
    /// Finish with the Tweedie denoiser x̂₀(x, t_end) (+1 evaluation; default false).
    pub denoise: bool,
}

impl otc_sde_adaptive_config {
    pub(crate) fn from_core(c: &AdaptiveConfig) -> Self {
        Self {
            struct_size: size_of::<Self>(),
            t_start: c.t_start,
            t_end: c.t_end,
            eps_abs: c.eps_abs,
            eps_rel: c.eps_rel,
            h_init: c.h_init,
            safety: c.safety,
            exponent: c.exponent,
            max_evaluations: c.max_evaluations,
            depth: c.depth,
            memory: c.memory,
            denoise: c.denoise,
        }
    }

    pub(crate) fn to_core(self) -> AdaptiveConfig {
        AdaptiveConfig {
            t_start: self.t_start,
            t_end: self.t_end,
            eps_abs: self.eps_abs,
            eps_rel: self.eps_rel,
            h_init: self.h_init,
            safety: self.safety,
            exponent: self.exponent,
            memory: self.memory,
            depth: self.depth,
            max_evaluations: self.max_evaluations,
            denoise: self.denoise,
        }
    }
}

/// What the adaptive solver did.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct otc_sde_adaptive_stats {
    /// `sizeof(otc_sde_adaptive_stats)`, set by the caller.
    pub struct_size: usize,
    /// Batched model evaluations.
    pub evaluations: u64,
    /// Accepted steps, summed over samples.
    pub accepted: u64,
    /// Rejected steps, summed over samples.
    pub rejected: u64,
    /// Samples stopped by the budget before t_end (then the status is
    /// `OTC_STATUS_MAX_ITERATIONS`).
    pub unfinished: u64,
}

impl otc_sde_adaptive_stats {
    pub(crate) fn from_core(s: &AdaptiveStats) -> Self {
        Self {
            struct_size: size_of::<Self>(),
            evaluations: s.evaluations,
            accepted: s.accepted,
            rejected: s.rejected,
            unfinished: s.unfinished,
        }
    }
}

/// The model output kind from its C constant.
pub(crate) fn output_kind(v: i32) -> Result<Output, otc_status> {
    match v {
        OTC_SDE_OUTPUT_SCORE => Ok(Output::Score),
        OTC_SDE_OUTPUT_NOISE => Ok(Output::Noise),
        OTC_SDE_OUTPUT_DENOISED => Ok(Output::Denoised),
        OTC_SDE_OUTPUT_VELOCITY => Ok(Output::Velocity),
        _ => Err(otc_status::InvalidParameter),
    }
}
