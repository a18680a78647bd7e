//! The kernel's instruction-set path (x86-64 run-time dispatch): which one runs, and
//! pinning one.

use otcore::{set_simd_path, simd_path, SimdPath};

use crate::boundary::run;
use crate::status::otc_status;

/// `otc_set_simd_path`: back to the best path the CPU has (the default).
pub const OTC_SIMD_AUTO: i32 = 0;
/// The build's baseline: SSE2 without FMA on x86-64; the only path on other
/// architectures (Cortex-M, aarch64). Its results are the same bits on every x86-64 CPU.
pub const OTC_SIMD_PORTABLE: i32 = 1;
/// AVX2 with fused multiply-adds (x86-64).
pub const OTC_SIMD_AVX2_FMA: i32 = 2;
/// AVX-512 (F, BW, DQ, VL) with fused multiply-adds (x86-64); in f32 with its own
/// exponential, so its f32 results differ from AVX2's in the last bits.
pub const OTC_SIMD_AVX512: i32 = 3;

/// Pins the instruction-set path of every kernel pass (Sinkhorn, plan operations,
/// OT resampling and its gradients) for the whole process: `OTC_SIMD_PORTABLE`,
/// `OTC_SIMD_AVX2_FMA`, `OTC_SIMD_AVX512`, or `OTC_SIMD_AUTO` for the best the CPU
/// has (the default; detected once with CPUID). Results are deterministic per path;
/// the FMA paths differ from the portable one in the last bits, so a caller who needs
/// the same bits on every machine pins `OTC_SIMD_PORTABLE`.
///
/// Thread-safety: one atomic value, read at the start of every kernel pass. Set it
/// before starting computations: a computation running on another thread meanwhile
/// may switch path between two of its passes.
///
/// Returns `OTC_STATUS_OK`; `OTC_STATUS_FEATURE_DISABLED` if the CPU (or the
/// architecture) lacks the path's instructions, `OTC_STATUS_INVALID_PARAMETER` for an
/// unknown value: then nothing is changed.
#[unsafe(no_mangle)]
pub extern "C" fn otc_set_simd_path(path: i32) -> i32 {
    run(|| {
        let path = match path {
            OTC_SIMD_AUTO => SimdPath::Auto,
            OTC_SIMD_PORTABLE => SimdPath::Portable,
            OTC_SIMD_AVX2_FMA => SimdPath::Avx2Fma,
            OTC_SIMD_AVX512 => SimdPath::Avx512,
            _ => return Err(otc_status::InvalidParameter),
        };
        set_simd_path(path)?;
        Ok(otc_status::Ok)
    })
}

/// The instruction-set path the kernel passes run on now: `OTC_SIMD_PORTABLE`,
/// `OTC_SIMD_AVX2_FMA` or `OTC_SIMD_AVX512` (never `OTC_SIMD_AUTO`). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn otc_simd_path() -> i32 {
    match simd_path() {
        SimdPath::Avx2Fma => OTC_SIMD_AVX2_FMA,
        SimdPath::Avx512 => OTC_SIMD_AVX512,
        SimdPath::Auto | SimdPath::Portable => OTC_SIMD_PORTABLE,
    }
}
