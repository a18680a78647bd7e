//! Particle filtering with classical and optimal-transport resampling.
//!
//! - [`weights`]: log-weights, normalisation, ESS, the log-likelihood increment.
//! - [`rng`]: the explicit random source ([`RandomSource`], [`SplitMix64`]).
//! - [`resample`]: multinomial, stratified, systematic, residual (O(N)).
//! - [`ot_resample`](fn@ot_resample): filterflow's entropic-OT resampling on the shared kernel.
//! - [`grad`]: vector–Jacobian products of OT resampling (filterflow's one-step form
//!   and the exact implicit form).
//! - [`filter`]: the predict → weight → resample step with per-step report.

pub mod filter;
pub mod grad;
pub mod ot_resample;
pub mod resample;
pub mod rng;
pub mod weights;

pub use filter::{
    filter_workspace_len, step, uniform_log_weights, FilterConfig, Resampler, StepReport, Totals,
    Trigger,
};
pub use grad::{ot_resample_vjp, vjp_workspace_len, Vjp, VjpReport};
pub use ot_resample::{ot_resample, ot_transport_matrix, ot_workspace_len, OtConfig, OtReport};
pub use resample::{ancestors, resample_particles, Scheme};
pub use rng::{RandomSource, SplitMix64};
