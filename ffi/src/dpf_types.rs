//! The `#[repr(C)]` structs and constants of the differentiable particle filter.

use core::ffi::c_void;

use otcore::ot::Cg;
use otcore::pf::{DiffConfig, Gradient, OtConfig, Scheme, Trigger};
use otcore::Real;

use crate::pf_types::{
    otc_ot_resample_config, scheme_of, OTC_RESAMPLE_OPTIMAL, OTC_TRIGGER_ALWAYS, OTC_TRIGGER_ESS,
    OTC_TRIGGER_NEVER,
};
use crate::status::otc_status;

/// Gradient at a resampling: "detach" — the ancestor indices are held fixed and the
/// log-weight tangents reset to 0 (the pathwise gradient of the computed ℓ̂; biased
/// for ∇ log p, see docs/differentiable_filter.md).
pub const OTC_DPF_DETACH: i32 = 0;
/// Gradient at a resampling: Ścibior & Wood's (2021) stop-gradient correction — the
/// ancestors are held fixed and each new particle keeps its ancestor's log-weight
/// tangent; p̂·∇ℓ̂ is then an unbiased estimator of ∇p.
pub const OTC_DPF_STOP_GRADIENT: i32 = 1;
/// Gradient: Fisher's identity along ancestral paths (Poyiadjis, Doucet & Singh 2011) —
/// the states are stopped (no transition tangent: `transition_jvp` may be NULL),
/// ∇_θ log f from the model's `transition_score` and ∇_θ log g are summed along each
/// particle's path in its log-weight tangent, kept at resampling as with
/// `OTC_DPF_STOP_GRADIENT`; p̂·∇ℓ̂ is unbiased for ∇p. O(N·P) per step; its variance
/// grows with t (path degeneracy): for short windows.
pub const OTC_DPF_SCORE: i32 = 2;

/// A parameterised model for the differentiable filter: a reparameterised transition
/// x' = f_θ(x, ξ), ξ ~ N(0, I_k) drawn by the library from the caller's `otc_rng`,
/// and an observation log-density λ = log g_θ(y | x'). Every callback is batched over
/// the N particles (row-major arrays), gets `user`, N, d, P and θ (P values), and
/// returns 0 on success (anything else: `OTC_STATUS_CALLBACK_FAILED`, nothing
/// changed). The arrays are the library's own, valid for the call only. The
/// forward-mode step needs `transition`, `loglik`, `loglik_grad` and, unless the
/// gradient is `OTC_DPF_SCORE`, `transition_jvp`; `OTC_DPF_SCORE` needs
/// `transition_score`. `_f32`: `float` arrays; `_f64`: `double`.
///
/// Reverse mode (`otc_dpf_tape_gradient_f32`) needs `seek`, `loglik_grad` and
/// `transition_vjp`; the forward steps ignore those two.
///
/// ABI growth: `reserved` holds the slot of a callback a later mode may add, as a
/// NULL-able pointer; it must be NULL now (`OTC_STATUS_STRUCT_SIZE` otherwise), so a
/// model written today stays valid.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_dpf_model<T> {
    /// `sizeof` this struct.
    pub struct_size: usize,
    /// Passed unchanged to every callback.
    pub user: *mut c_void,
    /// k: standard normals drawn per particle per step (0 allowed).
    pub noise_dim: usize,
    /// Writes `x_next[i] = f_θ(x[i], xi[i])` for the N×d particles `x` and the N×k
    /// standard normals `xi` the library drew.
    pub transition: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            n: usize,
            d: usize,
            p: usize,
            theta: *const T,
            x: *const T,
            xi: *const T,
            x_next: *mut T,
        ) -> i32,
    >,
    /// Writes, per particle i, the d×P block (row-major)
    /// `dx_next[i] = ∂f/∂x(x[i], xi[i]) · dx[i] + ∂f/∂θ(x[i], xi[i])`, where `dx[i]`
    /// is the d×P block ∂x_i/∂θ; `x_next` holds the values `transition` wrote.
    pub transition_jvp: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            n: usize,
            d: usize,
            p: usize,
            theta: *const T,
            x: *const T,
            xi: *const T,
            x_next: *const T,
            dx: *const T,
            dx_next: *mut T,
        ) -> i32,
    >,
    /// Writes, per particle i, the P values `score[i]` = ∇_θ log f_θ(x_next_i | x_i),
    /// the gradient of the transition density. Needed by `OTC_DPF_SCORE` only (may be
    /// NULL otherwise).
    pub transition_score: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            n: usize,
            d: usize,
            p: usize,
            theta: *const T,
            x: *const T,
            x_next: *const T,
            score: *mut T,
        ) -> i32,
    >,
    /// Writes `loglik[i] = log g_θ(y | x[i])` in nats (−∞ allowed: a dead particle;
    /// NaN or +∞: `OTC_STATUS_NON_FINITE`). The observation y is the caller's (keep it
    /// in `user`).
    pub loglik: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            n: usize,
            d: usize,
            p: usize,
            theta: *const T,
            x: *const T,
            loglik: *mut T,
        ) -> i32,
    >,
    /// Writes `grad_x[i]` = ∇_x log g_θ(y | x_i) (d values per particle) and
    /// `grad_theta[i]` = ∇_θ log g_θ(y | x_i) (P values per particle). Entries of
    /// particles whose log-likelihood is −∞ are ignored; any other non-finite entry
    /// gives `OTC_STATUS_NON_FINITE`.
    pub loglik_grad: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            n: usize,
            d: usize,
            p: usize,
            theta: *const T,
            x: *const T,
            grad_x: *mut T,
            grad_theta: *mut T,
        ) -> i32,
    >,
    /// Reverse mode: writes, per particle i, `x_bar[i]` = (∂f/∂x)ᵀ `x_next_bar[i]` (d
    /// values) and `theta_bar[i]` = (∂f/∂θ)ᵀ `x_next_bar[i]` (P values; the library
    /// sums them), at the recorded `x`, `xi`, `x_next` of the tick `seek` selected.
    /// May be NULL for the forward steps.
    // Spelled out, not aliased, so that the header names the parameters.
    #[allow(clippy::type_complexity)]
    pub transition_vjp: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            n: usize,
            d: usize,
            p: usize,
            theta: *const T,
            x: *const T,
            xi: *const T,
            x_next: *const T,
            x_next_bar: *const T,
            x_bar: *mut T,
            theta_bar: *mut T,
        ) -> i32,
    >,
    /// Reverse mode: the callbacks that follow, until the next `seek`, are for tick
    /// `tick` of the tape (0-based, in recording order): use that tick's observation
    /// and inputs. May be NULL for the forward steps.
    pub seek: Option<unsafe extern "C" fn(user: *mut c_void, tick: usize) -> i32>,
    /// Must be NULL (the slot of a future callback).
    pub reserved: [*mut c_void; 1],
}

impl<T> otc_dpf_model<T> {
    /// The reserved slots are NULL.
    pub(crate) fn reserved_clear(&self) -> bool {
        self.reserved.iter().all(|p| p.is_null())
    }
}

/// Settings of the differentiable filter step. Fill with
/// `otc_dpf_config_default_f32`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_dpf_config<T> {
    /// `sizeof` this struct (set by the `_default` initializer).
    pub struct_size: usize,
    /// A classical `OTC_RESAMPLE_*` (default `OTC_RESAMPLE_SYSTEMATIC`) for
    /// `otc_dpf_step_*`; `OTC_RESAMPLE_OPTIMAL` for `otc_dpf_step_ot_*` (each refuses the
    /// other's with `OTC_STATUS_INVALID_PARAMETER`).
    pub resampler: i32,
    /// `OTC_TRIGGER_*` (default `OTC_TRIGGER_ESS`).
    pub trigger: i32,
    /// `OTC_DPF_DETACH`, `OTC_DPF_STOP_GRADIENT` (default) or `OTC_DPF_SCORE`.
    pub gradient: i32,
    /// Must be zero.
    pub reserved: u32,
    /// ESS threshold in [0, 1] for `OTC_TRIGGER_ESS` (default 0.5).
    pub threshold: T,
}

impl<T: Real> otc_dpf_config<T> {
    pub(crate) fn default_values() -> Self {
        Self {
            struct_size: size_of::<Self>(),
            resampler: crate::pf_types::OTC_RESAMPLE_SYSTEMATIC,
            trigger: OTC_TRIGGER_ESS,
            gradient: OTC_DPF_STOP_GRADIENT,
            reserved: 0,
            threshold: T::HALF,
        }
    }

    /// The core settings; `ot` (the OT step's settings) requires `OTC_RESAMPLE_OPTIMAL`,
    /// which the classical step refuses.
    pub(crate) fn to_core(
        self,
        ot: Option<(OtConfig<T>, Cg<T>)>,
    ) -> Result<DiffConfig<T>, otc_status> {
        if self.struct_size != size_of::<Self>() || self.reserved != 0 {
            return Err(otc_status::StructSize);
        }
        let scheme = match ot {
            // The classical scheme is unused when OT resamples.
            Some(_) if self.resampler == OTC_RESAMPLE_OPTIMAL => Scheme::Systematic,
            Some(_) => return Err(otc_status::InvalidParameter),
            None => scheme_of(self.resampler)?,
        };
        let trigger = match self.trigger {
            OTC_TRIGGER_ESS => Trigger::Ess(self.threshold),
            OTC_TRIGGER_ALWAYS => Trigger::Always,
            OTC_TRIGGER_NEVER => Trigger::Never,
            _ => return Err(otc_status::InvalidParameter),
        };
        let gradient = match self.gradient {
            OTC_DPF_DETACH => Gradient::Detach,
            OTC_DPF_STOP_GRADIENT => Gradient::StopGradient,
            OTC_DPF_SCORE => Gradient::Score,
            _ => return Err(otc_status::InvalidParameter),
        };
        Ok(DiffConfig {
            scheme,
            trigger,
            gradient,
            ot,
        })
    }
}

/// Settings of the OT step (`otc_dpf_step_ot_f32`): OT resampling's map and the
/// conjugate-gradient solve of its exact (implicit) JVP. Fill with
/// `otc_dpf_ot_config_default_f32`, then set `resample.epsilon` (required).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_dpf_ot_config<T> {
    /// `sizeof` this struct (set by the `_default` initializer).
    pub struct_size: usize,
    /// OT resampling's settings, as for `otc_ot_resample_f32` (`resample.struct_size`
    /// set by the `_default` initializer too).
    pub resample: otc_ot_resample_config<T>,
    /// Relative residual at which the JVP's CG solve stops (finite, > 0; default 1e-5
    /// float, 1e-10 double).
    pub cg_tolerance: T,
    /// CG iteration cap, a hard bound (two kernel passes each; default 200).
    pub cg_max_iterations: u32,
    /// Must be zero.
    pub reserved: u32,
}

impl<T: Real> otc_dpf_ot_config<T> {
    pub(crate) fn default_values() -> Self {
        Self {
            struct_size: size_of::<Self>(),
            resample: otc_ot_resample_config::default_values(),
            cg_tolerance: if T::EPSILON > T::from_f64(1e-10) {
                T::from_f64(1e-5)
            } else {
                T::from_f64(1e-10)
            },
            cg_max_iterations: 200,
            reserved: 0,
        }
    }

    /// The map's settings and the CG's.
    ///
    /// # Errors
    /// `StructSize` (also `reserved` ≠ 0), what the OT resampling config's conversion
    /// returns.
    pub(crate) fn to_core(self) -> Result<(OtConfig<T>, Cg<T>), otc_status> {
        if self.struct_size != size_of::<Self>() || self.reserved != 0 {
            return Err(otc_status::StructSize);
        }
        let cg = Cg {
            tolerance: self.cg_tolerance,
            max_iterations: self.cg_max_iterations,
        };
        Ok((self.resample.to_core()?, cg))
    }
}

/// A reverse-mode tape in caller memory: `values` holds `window` recorded ticks of N
/// particles (`otc_dpf_tape_len`). Fill with `otc_dpf_tape_init_f32`;
/// `otc_dpf_tape_step_f32` appends a tick, `otc_dpf_tape_gradient_f32` reads them;
/// set `ticks` to 0 to start a new window. Change no other field.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_dpf_tape<T> {
    /// `sizeof` this struct.
    pub struct_size: usize,
    /// The recorded values (the library's layout).
    pub values: *mut T,
    /// Elements at `values` (at least what `otc_dpf_tape_len` gives for n, d,
    /// `noise_dim` and `window`).
    pub values_len: usize,
    /// N, the particle count.
    pub n: usize,
    /// d, the state dimension.
    pub d: usize,
    /// k, the model's `noise_dim`.
    pub noise_dim: usize,
    /// Ticks the tape holds at most.
    pub window: usize,
    /// Ticks recorded (0 ≤ ticks ≤ window).
    pub ticks: usize,
}
