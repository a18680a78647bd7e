//! Entropic optimal transport: the log-domain Sinkhorn solver and the operations on
//! its plan.
//!
//! Conventions (DESIGN §4):
//! - cost `C_ij = s·‖x_i − y_j‖²` between point clouds (recomputed on the fly, O(n + m)
//!   memory) or a caller-supplied dense matrix;
//! - potentials in cost units with `P_ij = exp((f_i + g_j − C_ij)/ε)` (OTT/POT
//!   convention "A"); zero-weight points have potential −∞;
//! - sequential g → f updates; relaxed marginals through τ = ρ/(ρ + ε);
//! - the error is the L1 marginal violation, tracked every iteration for free.

mod accel;
pub(crate) mod adjoint;
mod config;
mod ctransform;
pub mod divergence;
mod implicit;
#[cfg(feature = "initializers")]
mod init;
pub mod matches;
mod owned;
mod plan;
mod problem;
pub mod round;
mod sinkhorn;
pub(crate) mod workspace;

pub use adjoint::{Cg, CgReport};
pub use config::{Acceleration, Config, Epsilon, Init};
pub use ctransform::{c_transform_workspace_len, DualPotential};
pub use divergence::{
    divergence, divergence_gradient, divergence_gradient_workspace_len, divergence_workspace_len,
    ot_gradient, Divergence, DivergencePotentials, Gradient,
};
pub use implicit::{implicit_workspace_len, ImplicitReport};
#[cfg(feature = "initializers")]
pub use init::{gaussian_potential, sorted_dual};
pub use matches::{
    dustbin_solve, matches, matches_workspace_len, DustbinSolution, Matches, UNMATCHED,
};
pub use owned::Sinkhorn;
pub use plan::{Plan, PlanOn};
pub use problem::{Cost, Problem};
pub use round::{round, round_workspace_len, Certificate, RoundedParts, RoundedPlan};
pub use sinkhorn::{solve, solve_on, Solution, Status};
pub use workspace::{
    gaussian_workspace_len, init_workspace_len, solve_workspace_len, sorted_workspace_len,
    workspace_len,
};
