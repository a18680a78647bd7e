//! otcore: entropic optimal transport for control loops and microcontrollers.
//!
//! `no_std`, no allocation: every algorithm works in memory the caller provides, with a
//! documented size. Generic over [`Real`] (`f32`, `f64`).
//!
//! - [`ot`]: log-domain Sinkhorn on point clouds or dense costs, balanced or with
//!   KL-relaxed marginals, warm-startable and resumable; streamed plan operations.
//! - [`kernel`]: the one streaming log-sum-exp that every plan operation runs on.
//! - [`rng`]: the one standard normal sampler (branch-free Box–Muller) behind the
//!   filter's streams and the SDE noise.
//! - [`sde`]: score-based diffusion sampling (VP/VE/sub-VP/EDM processes, reverse-SDE
//!   and probability-flow steppers, adaptive solver, Itô steps, mixture scores).
//!
//! ```
//! use otcore::ot::{self, Config, Init, Problem};
//! let x = [0.0f64, 0.0, 1.0, 0.0];           // two points in 2-D
//! let y = [0.0f64, 1.0, 1.0, 1.0];
//! let (a, b) = ([0.5, 0.5], [0.5, 0.5]);
//! let problem = Problem::point_clouds(&x, &y, 2, 1.0, &a, &b);
//! let mut ws = [0.0; ot::workspace_len(2, 2, 2)];
//! let (mut f, mut g) = ([0.0; 2], [0.0; 2]);
//! let sol = ot::solve(&problem, &Config::default(), Init::Zero, &mut f, &mut g, &mut ws).unwrap();
//! assert_eq!(sol.status, ot::Status::Converged);
//! assert!((sol.transport_cost - 1.0).abs() < 1e-3);
//! ```
#![no_std]
// `unsafe` is denied everywhere but two places: `Real::mul_add`, which reaches the FMA
// instruction through `core::arch` (stable Rust has no safe fused multiply-add in
// `no_std`); the kernel is much faster with it (`docs/performance.md`); and the f32
// `Real::sqrt` on Cortex-M with an FPU, which issues `vsqrt.f32` through `asm!` (stable
// `no_std` Rust has no square root intrinsic; libm's is software). Also `otcore::rng`'s
// four-at-a-time `sqrtps`/`sqrtpd` for the normal sampler on x86-64.
#![deny(unsafe_code)]

mod buf;
mod dispatch;
mod error;
#[cfg(all(target_arch = "x86_64", not(miri)))]
mod exp2_avx512;
pub mod kernel;
pub mod ot;
pub mod parallel;
pub mod pf;
pub mod points;
mod real;
pub mod rng;
pub mod sde;
mod sum;

pub use dispatch::{
    best_available, cap_detected_for_tests, is_available, set_simd_path, simd_path,
    start_default_for_tests, SimdPath,
};
pub use error::Error;
pub use points::Points;
pub use real::Real;
