//! The `#[repr(C)]` structs and constants of the particle-filter part of the C ABI.

use otcore::pf::{
    FilterConfig, OtConfig, OtReport, OtSchedule, Resampler, Scheme, StepReport, Totals, Trigger,
    Vjp,
};
use otcore::Real;

use crate::status::otc_status;
use crate::types::otc_parallel_for;

/// Resampler: multinomial (N i.i.d. draws, O(N) by sorted uniforms).
pub const OTC_RESAMPLE_MULTINOMIAL: i32 = 0;
/// Resampler: stratified (one uniform per stratum).
pub const OTC_RESAMPLE_STRATIFIED: i32 = 1;
/// Resampler: systematic (one shared uniform; the usual default).
pub const OTC_RESAMPLE_SYSTEMATIC: i32 = 2;
/// Resampler: residual (⌊N·W⌋ copies, the rest multinomial).
pub const OTC_RESAMPLE_RESIDUAL: i32 = 3;
/// Resampler: entropic optimal transport (filterflow's `RegularisedTransform`),
/// settings in `otc_pf_config_f32::ot`.
pub const OTC_RESAMPLE_OPTIMAL: i32 = 4;

/// OT schedule (default): anneal, then stop as soon as the transport's row error
/// max_i |Σ_j T_ij − 1| is ≤ `tolerance` (dimensionless), with undamped steps at ε.
pub const OTC_OT_SCHEDULE_MARGINAL: u32 = 0;
/// OT schedule: filterflow's rule, damped steps at ε until the largest potential
/// change is ≤ `tolerance` (cost units of the normalised cloud).
pub const OTC_OT_SCHEDULE_FILTERFLOW: u32 = 1;

/// Trigger: resample when ESS < threshold·N (threshold in [0, 1]).
pub const OTC_TRIGGER_ESS: i32 = 0;
/// Trigger: resample every step.
pub const OTC_TRIGGER_ALWAYS: i32 = 1;
/// Trigger: never resample.
pub const OTC_TRIGGER_NEVER: i32 = 2;

/// VJP form: filterflow's (through the final Sinkhorn step, ∂L/∂T clipped to ±clip).
pub const OTC_VJP_FILTERFLOW: i32 = 0;
/// VJP form: exact gradient of the converged map (implicit differentiation, CG).
pub const OTC_VJP_IMPLICIT: i32 = 1;

/// A random stream: SplitMix64, the whole state is one 64-bit word (any value is valid;
/// copy the struct to fork or replay a stream). Seed with `otc_rng_seed`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_rng {
    /// The state.
    pub state: u64,
}

/// The classical scheme an `OTC_RESAMPLE_*` value names.
///
/// # Errors
/// `InvalidParameter` for any other value (`OTC_RESAMPLE_OPTIMAL` included).
pub(crate) fn scheme_of(code: i32) -> Result<Scheme, otc_status> {
    Ok(match code {
        OTC_RESAMPLE_MULTINOMIAL => Scheme::Multinomial,
        OTC_RESAMPLE_STRATIFIED => Scheme::Stratified,
        OTC_RESAMPLE_SYSTEMATIC => Scheme::Systematic,
        OTC_RESAMPLE_RESIDUAL => Scheme::Residual,
        _ => return Err(otc_status::InvalidParameter),
    })
}

/// The resampler an `OTC_RESAMPLE_*` value names, OT with settings `ot`.
///
/// # Errors
/// `InvalidParameter` for an unknown value.
pub(crate) fn resampler_of<T>(code: i32, ot: OtConfig<T>) -> Result<Resampler<T>, otc_status> {
    if code == OTC_RESAMPLE_OPTIMAL {
        Ok(Resampler::Optimal(ot))
    } else {
        scheme_of(code).map(Resampler::Classical)
    }
}

/// Settings of OT resampling. Fill with `otc_ot_resample_config_default_f32`, then set
/// `epsilon` (required). Scalars are `float` in `otc_ot_resample_config_f32` and
/// `double` in `otc_ot_resample_config_f64`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_ot_resample_config<T> {
    /// `sizeof` this struct (set by the `_default` initializer).
    pub struct_size: usize,
    /// Target ε of the **normalised** cloud: dimensionless, unlike the Sinkhorn
    /// solver's ε (cost units). The particles are centred and divided by the largest
    /// coordinate standard deviation × √d, and the cost is ½‖z − z'‖² of the
    /// normalised points, so one value suits clouds of any size and unit. Required: the
    /// default is 0, which is refused (`OTC_STATUS_INVALID_EPSILON`). Recommended 0.5
    /// for N ≤ 100 (filterflow's examples use 0.25–0.75), about 1/ln N above.
    pub epsilon: T,
    /// Annealing factor in (0, 1): ε shrinks by scaling² per iteration from the
    /// cloud's squared extent (default 0.75).
    pub scaling: T,
    /// Stop rule's tolerance (default 1e-3): the row error of the transport under
    /// `OTC_OT_SCHEDULE_MARGINAL`, the largest potential change under
    /// `OTC_OT_SCHEDULE_FILTERFLOW`.
    pub tolerance: T,
    /// 0 (default): normalise by the cloud's own s·√d; > 0: divide by this instead.
    pub scale: T,
    /// Iteration cap, a hard bound whatever the schedule: at most
    /// `max_iterations − 1` iterations and a final step (default 100).
    pub max_iterations: u32,
    /// `OTC_OT_SCHEDULE_*` (default `OTC_OT_SCHEDULE_MARGINAL`).
    pub schedule: u32,
    /// Must be zero.
    pub reserved: [u32; 2],
    /// A caller's thread pool for the kernel passes of `otc_ot_resample_f32` and
    /// `otc_ot_resample_warm_f32` (N > 256: the particles are cut into tasks, the same
    /// bits as without it), or NULL (default): run on the calling thread. The filters
    /// that embed this config ignore it.
    pub parallel: *const otc_parallel_for,
}

impl<T: Real> otc_ot_resample_config<T> {
    /// The defaults, ε = 0 (must be set).
    pub(crate) fn default_values() -> Self {
        let c = OtConfig::new(T::ZERO);
        Self {
            struct_size: size_of::<Self>(),
            epsilon: c.epsilon,
            scaling: c.scaling,
            tolerance: c.tolerance,
            scale: c.scale,
            max_iterations: c.max_iterations,
            schedule: OTC_OT_SCHEDULE_MARGINAL,
            reserved: [0; 2],
            parallel: core::ptr::null(),
        }
    }

    /// The core settings.
    pub(crate) fn to_core(self) -> Result<OtConfig<T>, otc_status> {
        if self.struct_size != size_of::<Self>() || self.reserved != [0; 2] {
            return Err(otc_status::StructSize);
        }
        let schedule = match self.schedule {
            OTC_OT_SCHEDULE_MARGINAL => OtSchedule::Marginal,
            OTC_OT_SCHEDULE_FILTERFLOW => OtSchedule::Filterflow,
            _ => return Err(otc_status::InvalidParameter),
        };
        Ok(OtConfig {
            epsilon: self.epsilon,
            scaling: self.scaling,
            tolerance: self.tolerance,
            max_iterations: self.max_iterations,
            scale: self.scale,
            schedule,
        })
    }
}

/// What one OT resampling did. Set `struct_size` before the call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_ot_resample_report<T> {
    /// `sizeof` this struct, set by the caller.
    pub struct_size: usize,
    /// Damped iterations run plus 1 for the final step (plus 1 per repeated final
    /// step under `OTC_OT_SCHEDULE_MARGINAL`).
    pub iterations: u32,
    /// Kernel passes of N² entries of the solve (the cost; the transport adds one).
    pub passes: u32,
    /// ε₀ the annealing started from.
    pub epsilon_start: T,
    /// The normalisation divisor s·√d.
    pub scale: T,
    /// Largest potential change of the last damped iteration.
    pub change: T,
    /// Bound on the row error of the transport, max_i |Σ_j T_ij − 1| ≤ `error`
    /// (dimensionless; see `otc_ot_resample_f32`).
    pub error: T,
}

impl<T: Real> otc_ot_resample_report<T> {
    pub(crate) fn from_core(r: &OtReport<T>) -> Self {
        Self {
            struct_size: size_of::<Self>(),
            iterations: r.iterations,
            passes: r.passes,
            epsilon_start: r.epsilon_start,
            scale: r.scale,
            change: r.change,
            error: r.error,
        }
    }
}

/// Particle-filter settings. Fill with `otc_pf_config_default_f32`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_pf_config<T> {
    /// `sizeof` this struct (set by the `_default` initializer).
    pub struct_size: usize,
    /// `OTC_RESAMPLE_*` (default `OTC_RESAMPLE_SYSTEMATIC`).
    pub resampler: i32,
    /// `OTC_TRIGGER_*` (default `OTC_TRIGGER_ESS`).
    pub trigger: i32,
    /// ESS threshold in [0, 1] for `OTC_TRIGGER_ESS` (default 0.5).
    pub threshold: T,
    /// OT settings, used with `OTC_RESAMPLE_OPTIMAL` (its ε must then be set).
    pub ot: otc_ot_resample_config<T>,
}

impl<T: Real> otc_pf_config<T> {
    pub(crate) fn default_values() -> Self {
        Self {
            struct_size: size_of::<Self>(),
            resampler: OTC_RESAMPLE_SYSTEMATIC,
            trigger: OTC_TRIGGER_ESS,
            threshold: T::HALF,
            ot: otc_ot_resample_config::default_values(),
        }
    }

    pub(crate) fn to_core(self) -> Result<FilterConfig<T>, otc_status> {
        if self.struct_size != size_of::<Self>() {
            return Err(otc_status::StructSize);
        }
        let ot = self.ot.to_core()?;
        let resampler = resampler_of(self.resampler, ot)?;
        let trigger = match self.trigger {
            OTC_TRIGGER_ESS => Trigger::Ess(self.threshold),
            OTC_TRIGGER_ALWAYS => Trigger::Always,
            OTC_TRIGGER_NEVER => Trigger::Never,
            _ => return Err(otc_status::InvalidParameter),
        };
        Ok(FilterConfig { resampler, trigger })
    }
}

/// Running totals of a filter (in/out of `otc_pf_step_f32`). Initialise with
/// `otc_pf_init_f32`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_pf_state<T> {
    /// `sizeof` this struct.
    pub struct_size: usize,
    /// ℓ̂: the log-likelihood estimate of the observations so far (nats).
    pub log_likelihood: T,
    /// Steps taken.
    pub steps: u64,
    /// Steps that resampled.
    pub resamples: u64,
}

impl<T: Real> otc_pf_state<T> {
    pub(crate) fn to_core(self) -> Totals<T> {
        Totals {
            log_likelihood: self.log_likelihood,
            steps: self.steps,
            resamples: self.resamples,
        }
    }
    pub(crate) fn from_core(t: &Totals<T>) -> Self {
        Self {
            struct_size: size_of::<Self>(),
            log_likelihood: t.log_likelihood,
            steps: t.steps,
            resamples: t.resamples,
        }
    }
}

/// What one filter step did. Set `struct_size` before the call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_pf_report<T> {
    /// `sizeof` this struct, set by the caller.
    pub struct_size: usize,
    /// 1 if the step resampled, else 0.
    pub resampled: i32,
    /// OT iterations (0 if OT did not run).
    pub ot_iterations: u32,
    /// Δℓ of this step (nats).
    pub log_likelihood_increment: T,
    /// ℓ̂ after this step.
    pub log_likelihood: T,
    /// ESS after weighting, before resampling (particles, 1..N).
    pub ess: T,
}

impl<T: Real> otc_pf_report<T> {
    pub(crate) fn from_core(r: &StepReport<T>) -> Self {
        Self {
            struct_size: size_of::<Self>(),
            resampled: i32::from(r.resampled),
            ot_iterations: r.ot.map_or(0, |o| o.iterations),
            log_likelihood_increment: r.log_likelihood_increment,
            log_likelihood: r.log_likelihood,
            ess: r.ess,
        }
    }
}

/// Settings of the OT-resampling VJP. Fill with `otc_vjp_config_default_f32`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_vjp_config<T> {
    /// `sizeof` this struct (set by the `_default` initializer).
    pub struct_size: usize,
    /// `OTC_VJP_FILTERFLOW` (default) or `OTC_VJP_IMPLICIT`.
    pub mode: i32,
    /// CG iteration cap for `OTC_VJP_IMPLICIT` (default 200).
    pub cg_max_iterations: u32,
    /// Clip bound of ∂L/∂T for `OTC_VJP_FILTERFLOW` (> 0; default 1 as filterflow;
    /// `INFINITY` disables clipping).
    pub clip: T,
    /// Relative CG residual for `OTC_VJP_IMPLICIT` (> 0; default 1e-5 float, 1e-10
    /// double).
    pub cg_tolerance: T,
}

impl<T: Real> otc_vjp_config<T> {
    pub(crate) fn default_values() -> Self {
        Self {
            struct_size: size_of::<Self>(),
            mode: OTC_VJP_FILTERFLOW,
            cg_max_iterations: 200,
            clip: T::ONE,
            cg_tolerance: if T::EPSILON > T::from_f64(1e-10) {
                T::from_f64(1e-5)
            } else {
                T::from_f64(1e-10)
            },
        }
    }

    pub(crate) fn to_core(self) -> Result<Vjp<T>, otc_status> {
        if self.struct_size != size_of::<Self>() {
            return Err(otc_status::StructSize);
        }
        match self.mode {
            OTC_VJP_FILTERFLOW => Ok(Vjp::Filterflow { clip: self.clip }),
            OTC_VJP_IMPLICIT => Ok(Vjp::Implicit {
                cg_tolerance: self.cg_tolerance,
                cg_max_iterations: self.cg_max_iterations,
            }),
            _ => Err(otc_status::InvalidParameter),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_sizes_are_pinned() {
        assert_eq!(size_of::<otc_rng>(), 8);
        assert_eq!(size_of::<otc_ot_resample_config<f32>>(), 48);
        assert_eq!(size_of::<otc_ot_resample_config<f64>>(), 64);
        assert_eq!(size_of::<otc_pf_config<f32>>(), 72);
        assert_eq!(size_of::<otc_pf_config<f64>>(), 88);
        assert_eq!(size_of::<otc_pf_state<f64>>(), 32);
        assert_eq!(size_of::<otc_pf_report<f64>>(), 40);
        assert_eq!(size_of::<otc_vjp_config<f32>>(), 24);
        assert_eq!(size_of::<otc_vjp_config<f64>>(), 32);
    }

    #[test]
    fn defaults_round_trip() {
        let c = otc_pf_config::<f64>::default_values().to_core().unwrap();
        assert_eq!(c.trigger, Trigger::Ess(0.5));
        assert_eq!(c.resampler, Resampler::Classical(Scheme::Systematic));
        let mut o = otc_ot_resample_config::<f32>::default_values();
        o.epsilon = 0.5;
        assert_eq!(o.to_core().unwrap(), OtConfig::new(0.5));
    }
}
