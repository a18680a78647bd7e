//! The cross-crate test suite, one binary so that otcore's generic code is compiled
//! once for all of it. Each module is one subject; run one with its name as filter,
//! e.g. `cargo test -p otcore-tests --test suite pf_tape::`.
//!
//! Kept apart, as their own binaries: `simd_dispatch` and the `embedded_*` bakers,
//! which choose the process's SIMD path; `references` (the comparisons with other
//! libraries and closed forms that also run on aarch64); `hardening` and
//! `sinkhorn_parallel`, which Miri runs.

mod ot_implicit;
mod ot_matches;
mod ot_round;
mod pf_diff;
mod pf_grad;
mod pf_jvp;
mod pf_resample;
mod pf_state;
mod pf_tape;
mod pf_weights;
mod rng_normal;
mod sde_flow;
mod sde_gaussian;
mod sde_guidance;
mod sde_ito;
mod sde_mixture;
mod sde_process;
mod sde_restart;
mod sde_steppers;
mod sinkhorn_bad_input;
mod sinkhorn_budget;
mod sinkhorn_hard_cases;
mod sinkhorn_init;
mod sinkhorn_layouts;
mod sinkhorn_properties;
