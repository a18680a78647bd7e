//! Particle filtering with classical and optimal-transport resampling.
//!
//! - [`weights`]: log-weights, normalisation, ESS, the log-likelihood increment.
//! - [`rng`]: the explicit random source ([`RandomSource`], [`SplitMix64`]).
//! - [`resample`]: multinomial, stratified, systematic, residual (O(N)).
//! - [`ot_resample`](fn@ot_resample): filterflow's entropic-OT resampling on the shared kernel.
//! - [`grad`]: vector–Jacobian products of OT resampling (filterflow's one-step form
//!   and the exact implicit form).
//! - [`filter`]: the predict → weight → resample step with per-step report.
//! - [`diff`]: the same step in forward mode: gradients of ℓ̂ and of the filtered
//!   mean with respect to model parameters, online.
//! - [`tape`]: reverse mode over a window: a recorded tape and one backward pass.
//! - [`state`]: per-coordinate state description (linear or periodic), circular
//!   moments, OT resampling that respects periods.
//! - [`kld`]: KLD-sampling's adaptive particle count.
//! - [`mcl`]: Monte Carlo localisation's resampling: adaptive count, recovery by
//!   injection, any resampler, to a count other than N.

pub mod diff;
pub mod filter;
pub mod grad;
pub mod kld;
pub mod mcl;
pub mod ot_resample;
pub mod resample;
pub mod rng;
pub mod state;
pub mod tape;
pub mod weights;

pub use diff::{
    diff_ot_workspace_len, diff_step, diff_step_classical, diff_workspace_len, tangent_len,
    DiffConfig, DiffModel, Gradient,
};
pub use filter::{
    filter_workspace_len, step, uniform_log_weights, FilterConfig, Resampler, StepReport, Totals,
    Trigger,
};
pub use grad::{
    jvp_workspace_len, ot_resample_jvp, ot_resample_vjp, vjp_workspace_len, JvpReport, Vjp,
    VjpReport,
};
pub use kld::{
    cluster_table_len, cluster_workspace_len, kld_bound, kld_count, kld_table_len, largest_cluster,
    KldConfig, CLUSTER_MAX_DIM,
};
pub use mcl::{mcl_resample, mcl_workspace_len, MclConfig, MclReport, Recovery};
pub use ot_resample::{
    ot_resample, ot_resample_on, ot_resample_warm, ot_resample_warm_on, ot_transport_matrix,
    ot_warm_len, ot_workspace_len, OtConfig, OtReport, OtSchedule,
};
pub use resample::{ancestors, resample_particles, resample_to, Scheme};
pub use rng::{RandomSource, SplitMix64};
pub use state::{
    embedded_dim, ot_resample_state, ot_state_workspace_len, state_moments, Angles, Coord, Kind,
};
pub use tape::{
    tape_gradient, tape_gradient_workspace_len, tape_len, tape_step, tape_step_workspace_len,
    tape_tick_len, Recorded, Tape,
};
