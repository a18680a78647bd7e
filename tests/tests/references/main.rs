//! The comparisons with references nobody here wrote (OTT-JAX, POT, GeomLoss, the
//! Kalman filter, the exponential's contract), one binary: the test command runs it
//! on the host, on each x86-64 path and under qemu-aarch64.

mod exp2_kernel;
mod ln_kernel;
mod ot_divergence;
mod pf_kalman;
mod pf_ot_resample;
mod sinkhorn_reference;
