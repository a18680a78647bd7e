//! The `#[repr(C)]` structs and constants of the localisation part of the C ABI:
//! the state description, KLD-sampling, recovery and the MCL resampling step.

use otcore::pf::{Coord, Kind, KldConfig, MclConfig, MclReport, Recovery};
use otcore::Real;

use crate::pf_types::{
    otc_ot_resample_config, otc_ot_resample_report, resampler_of, OTC_RESAMPLE_SYSTEMATIC,
};
use crate::status::otc_status;

/// Coordinate kind: an ordinary real coordinate.
pub const OTC_COORD_LINEAR: i32 = 0;
/// Coordinate kind: periodic with `otc_coord_f32::period` (an angle: 2π).
pub const OTC_COORD_PERIODIC: i32 = 1;

/// One coordinate of a state description (an array of d of them describes a state).
/// A plain element struct (no `struct_size`): its layout is fixed.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_coord<T> {
    /// `OTC_COORD_LINEAR` or `OTC_COORD_PERIODIC`.
    pub kind: i32,
    /// Must be zero.
    pub reserved: u32,
    /// The period (> 0, finite) of a periodic coordinate, in its units; ignored for
    /// a linear one.
    pub period: T,
    /// Weight s ≥ 0 of this coordinate in the OT cost Σ s_k·δ_k² (δ the difference,
    /// or the chord (P/π)·sin(πΔ/P) of a periodic coordinate), per squared unit.
    /// Not all zero.
    pub cost_scale: T,
    /// Bin width (> 0, in the coordinate's units) for KLD-sampling and clusters.
    pub bin: T,
}

impl<T: Real> otc_coord<T> {
    pub(crate) fn to_core(self) -> Result<Coord<T>, otc_status> {
        let kind = match (self.kind, self.reserved) {
            (OTC_COORD_LINEAR, 0) => Kind::Linear,
            (OTC_COORD_PERIODIC, 0) => Kind::Periodic(self.period),
            _ => return Err(otc_status::InvalidParameter),
        };
        Ok(Coord {
            kind,
            cost_scale: self.cost_scale,
            bin: self.bin,
        })
    }
}

/// The most coordinates a state description may have in the C ABI (the description
/// is copied to the stack).
pub const OTC_STATE_MAX_DIM: usize = 16;

/// KLD-sampling settings. Fill with `otc_kld_config_default_f32`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_kld_config<T> {
    /// `sizeof` this struct (set by the `_default` initializer).
    pub struct_size: usize,
    /// The fewest particles to keep (≥ 1, ≤ the capacity; default 500 as nav2).
    pub min_particles: usize,
    /// ε: bound on the KL divergence (nats) between the sample and the binned belief
    /// (AMCL `pf_err`; default 0.05 as nav2).
    pub kl_bound: T,
    /// q in (0, 1): probability with which the bound holds (AMCL `pf_z`, which AMCL
    /// misuses as the normal quantile; default 0.99).
    pub confidence: T,
}

impl<T: Real> otc_kld_config<T> {
    pub(crate) fn default_values() -> Self {
        let k = KldConfig::<T>::nav2();
        Self {
            struct_size: size_of::<Self>(),
            min_particles: k.min_particles,
            kl_bound: k.kl_bound,
            confidence: k.confidence,
        }
    }

    pub(crate) fn to_core(self) -> Result<KldConfig<T>, otc_status> {
        if self.struct_size != size_of::<Self>() {
            return Err(otc_status::StructSize);
        }
        Ok(KldConfig {
            kl_bound: self.kl_bound,
            confidence: self.confidence,
            min_particles: self.min_particles,
        })
    }
}

/// Augmented MCL's likelihood averages (in/out of `otc_recovery_update_f32`).
/// Initialise with `otc_recovery_init_f32`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_recovery<T> {
    /// `sizeof` this struct.
    pub struct_size: usize,
    /// α_slow in [0, 1) (ROS 1 AMCL 0.001; 0 with α_fast = 0: recovery off).
    pub alpha_slow: T,
    /// α_fast in (α_slow, 1] (ROS 1 AMCL 0.1).
    pub alpha_fast: T,
    /// ln w_slow (−INFINITY before the first update).
    pub log_slow: T,
    /// ln w_fast.
    pub log_fast: T,
}

impl<T: Real> otc_recovery<T> {
    pub(crate) fn to_core(self) -> Result<Recovery<T>, otc_status> {
        if self.struct_size != size_of::<Self>() {
            return Err(otc_status::StructSize);
        }
        Ok(Recovery {
            alpha_slow: self.alpha_slow,
            alpha_fast: self.alpha_fast,
            log_slow: self.log_slow,
            log_fast: self.log_fast,
        })
    }

    pub(crate) fn from_core(r: &Recovery<T>) -> Self {
        Self {
            struct_size: size_of::<Self>(),
            alpha_slow: r.alpha_slow,
            alpha_fast: r.alpha_fast,
            log_slow: r.log_slow,
            log_fast: r.log_fast,
        }
    }
}

/// Settings of `otc_mcl_resample_f32`. Fill with `otc_mcl_config_default_f32`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_mcl_config<T> {
    /// `sizeof` this struct (set by the `_default` initializer).
    pub struct_size: usize,
    /// `OTC_RESAMPLE_*` (default `OTC_RESAMPLE_SYSTEMATIC`); `OTC_RESAMPLE_OPTIMAL`
    /// runs OT per the state description (set `ot.epsilon`).
    pub resampler: i32,
    /// 1: KLD-sampling chooses the count (settings in `kld`); 0 (default): `count`.
    pub adaptive: i32,
    /// The count without KLD-sampling (0, the default: keep N).
    pub count: usize,
    /// KLD-sampling settings.
    pub kld: otc_kld_config<T>,
    /// OT settings, used with `OTC_RESAMPLE_OPTIMAL`.
    pub ot: otc_ot_resample_config<T>,
}

impl<T: Real> otc_mcl_config<T> {
    pub(crate) fn default_values() -> Self {
        Self {
            struct_size: size_of::<Self>(),
            resampler: OTC_RESAMPLE_SYSTEMATIC,
            adaptive: 0,
            count: 0,
            kld: otc_kld_config::default_values(),
            ot: otc_ot_resample_config::default_values(),
        }
    }

    pub(crate) fn to_core(self) -> Result<MclConfig<T>, otc_status> {
        if self.struct_size != size_of::<Self>() {
            return Err(otc_status::StructSize);
        }
        let (kld, ot) = (self.kld.to_core()?, self.ot.to_core()?);
        let resampler = resampler_of(self.resampler, ot)?;
        let kld = match self.adaptive {
            0 => None,
            1 => Some(kld),
            _ => return Err(otc_status::InvalidParameter),
        };
        Ok(MclConfig {
            resampler,
            kld,
            count: self.count,
        })
    }
}

/// What one `otc_mcl_resample_f32` did. Set `struct_size` before the call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_mcl_report<T> {
    /// `sizeof` this struct, set by the caller.
    pub struct_size: usize,
    /// M': particles written (rows of `x_out`); their log-weights are −ln M'.
    pub count: usize,
    /// Bins the input particles occupy (0 without KLD-sampling).
    pub bins: usize,
    /// Of the M', how many the sampler wrote (the last rows).
    pub injected: usize,
    /// 1 if OT ran (then `ot` is filled), else 0.
    pub ot_ran: i32,
    /// Must be zero.
    pub reserved: u32,
    /// The OT resampler's report.
    pub ot: otc_ot_resample_report<T>,
}

impl<T: Real> otc_mcl_report<T> {
    pub(crate) fn from_core(r: &MclReport<T>) -> Self {
        let ot = r.ot.map_or(
            otc_ot_resample_report {
                struct_size: size_of::<otc_ot_resample_report<T>>(),
                iterations: 0,
                passes: 0,
                epsilon_start: T::ZERO,
                scale: T::ZERO,
                change: T::ZERO,
                error: T::ZERO,
            },
            |o| otc_ot_resample_report::from_core(&o),
        );
        Self {
            struct_size: size_of::<Self>(),
            count: r.count,
            bins: r.bins,
            injected: r.injected,
            ot_ran: i32::from(r.ot.is_some()),
            reserved: 0,
            ot,
        }
    }
}
