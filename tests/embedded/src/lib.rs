//! otcore on an emulated Cortex-M4F: shared pieces of the firmware binaries.
//!
//! - `src/bin/tests.rs`: the on-target test suites (a list of [`Suite`]s; any failure
//!   or panic ends QEMU with a non-zero exit status);
//! - `src/bin/measure.rs`: workspace sizes, stack depth (painting) and the instruction
//!   count markers read by `tools/qemu-icount` (see `scripts/embedded.sh numbers`);
//! - `src/bin/panic_probe.rs`: calls every exported C function; links only if no
//!   panicking branch is reachable.
//!
//! To add an algorithm (particle filter, SDE steppers): write `src/<name>_case.rs`
//! (baked by a host test like `tests/tests/embedded_reference.rs`), a suite function
//! `fn(&mut Tally)`, and one line in the `SUITES` list of `src/bin/tests.rs`.
#![no_std]

pub mod harness;
pub mod pf_case;
pub mod pf_data;
pub mod sde_case;
pub mod sde_data;
pub mod sinkhorn_case;
pub mod sinkhorn_data;
pub mod stack;
