//! Run-time choice of the kernel's instruction set (x86-64): which compiled copy of
//! each kernel pass runs.
//!
//! The kernel passes (Sinkhorn half-iterations, plan operations, OT resampling's
//! passes, its gradients) are compiled three times on x86-64 from the one generic
//! source: for the build's baseline (SSE2, no FMA, unless the build enables more), for
//! AVX2 + FMA and for AVX-512 + FMA. Each copy is a `#[target_feature]` function into
//! which the whole pass — every target, every chunk — is inlined, so the choice is one
//! relaxed atomic load and a predictable branch per pass, nothing per entry. The best
//! path the CPU has is detected once (CPUID and XGETBV: the OS must save the vector
//! registers too) and cached.
//!
//! Results are deterministic per path; they differ between the portable path and the
//! FMA paths in the last bits (fused multiply-adds round once). AVX2 and AVX-512 give
//! the same bits in f64 (the same operations per lane in the same order); in f32 the
//! AVX-512 path has its own exponential (`exp2_avx512`: a table permute and a scaling
//! instruction AVX2 lacks, within the same 3e-7), so they differ in the last bits. A caller who
//! needs the same bits on every machine pins [`SimdPath::Portable`] with
//! [`set_simd_path`].
//!
//! Elsewhere (Cortex-M, aarch64, under Miri) there is one path, [`SimdPath::Portable`],
//! and the dispatch compiles to nothing.
//!
//! Build-time default: the environment variable `OTCORE_SIMD_PATH` (`portable`,
//! `avx2`, `avx512`; unset or `auto`: detection) read when otcore is compiled sets the
//! path a process starts on, if the CPU has it (otherwise detection decides). With the
//! test hook feature `test-simd-path-env`, `OTCORE_TEST_SIMD_PATH` read when the
//! process starts its first pass overrides it: the test command runs the kernel test
//! suites once per path from one build.

use core::sync::atomic::{AtomicU8, Ordering};

use crate::error::Error;
use crate::kernel::LANES;
use crate::real::Real;

/// An instruction-set path of the kernel passes.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SimdPath {
    /// Only for [`set_simd_path`]: return to the best path the CPU has (the default).
    Auto = 0,
    /// The build's baseline: SSE2 without FMA on x86-64 (with FMA if the build enables
    /// it, e.g. `-C target-cpu=native`); the only path on other architectures.
    Portable = 1,
    /// AVX2 with fused multiply-adds (x86-64 CPUs since 2013–2015).
    Avx2Fma = 2,
    /// AVX-512 (F, BW, DQ, VL) with fused multiply-adds.
    Avx512 = 3,
}

impl SimdPath {
    /// The path of a stored value (see [`ACTIVE`]); 0 and unknown values are `Auto`.
    const fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Portable,
            2 => Self::Avx2Fma,
            3 => Self::Avx512,
            _ => Self::Auto,
        }
    }
}

/// The path the passes run on; 0 until the first pass (or query) decides it.
static ACTIVE: AtomicU8 = AtomicU8::new(0);

/// The best path this CPU has (cached: CPUID is slow, and serialising).
static DETECTED: AtomicU8 = AtomicU8::new(0);

/// The build-time default (`OTCORE_SIMD_PATH`, see the module docs).
const BUILD_DEFAULT: SimdPath = match option_env!("OTCORE_SIMD_PATH") {
    Some(s) => named(s.as_bytes()),
    None => SimdPath::Auto,
};

/// A path's name as the environment variables spell it (`Auto` for anything else).
const fn named(s: &[u8]) -> SimdPath {
    match s {
        b"portable" => SimdPath::Portable,
        b"avx2" => SimdPath::Avx2Fma,
        b"avx512" => SimdPath::Avx512,
        _ => SimdPath::Auto,
    }
}

/// The path a process starts on, before detection: the build-time default, or with the
/// test hook the run-time `OTCORE_TEST_SIMD_PATH` when it names a path.
fn start_default() -> SimdPath {
    #[cfg(feature = "test-simd-path-env")]
    {
        // C's getenv, not std: linking std would put its inherent float methods
        // (`mul_add`, `exp`, …) ahead of `Real`'s in every method call of the crate.
        #[allow(unsafe_code)]
        unsafe extern "C" {
            fn getenv(name: *const core::ffi::c_char) -> *const core::ffi::c_char;
        }
        #[allow(unsafe_code)]
        // SAFETY: a NUL-terminated name; the result is NULL or a NUL-terminated string,
        // read at once (the tests set the variable before the process starts).
        let value = unsafe {
            let v = getenv(c"OTCORE_TEST_SIMD_PATH".as_ptr());
            (!v.is_null()).then(|| core::ffi::CStr::from_ptr(v).to_bytes())
        };
        if let Some(p) = value.map(named).filter(|&p| p != SimdPath::Auto) {
            return p;
        }
    }
    BUILD_DEFAULT
}

/// The best path this CPU has (`Portable` off x86-64 and under Miri).
#[must_use]
pub fn best_available() -> SimdPath {
    match SimdPath::from_u8(DETECTED.load(Ordering::Relaxed)) {
        SimdPath::Auto => {
            let best = detect();
            DETECTED.store(best as u8, Ordering::Relaxed);
            best
        }
        p => p,
    }
}

/// Whether this CPU (and build) can run `path`; `Auto` always can.
#[must_use]
pub fn is_available(path: SimdPath) -> bool {
    path as u8 <= best_available() as u8
}

/// Pins the kernel passes to `path` for the whole process (`Auto`: back to the best
/// path the CPU has).
///
/// Thread-safety: the path is one atomic value read at the start of every kernel pass
/// (a half-iteration, a plan operation, a resampling pass). Set it before starting
/// computations; a computation running on another thread meanwhile may switch path
/// between two of its passes, so its result is then not bit-identical to a run on
/// either path.
///
/// # Errors
/// [`Error::FeatureDisabled`] if the CPU lacks `path`'s instructions (or the
/// architecture is not x86-64): nothing is changed.
pub fn set_simd_path(path: SimdPath) -> Result<(), Error> {
    let effective = match path {
        SimdPath::Auto => best_available(),
        p if is_available(p) => p,
        _ => return Err(Error::FeatureDisabled),
    };
    ACTIVE.store(effective as u8, Ordering::Relaxed);
    Ok(())
}

/// The path the kernel passes run on now (never `Auto`).
#[must_use]
pub fn simd_path() -> SimdPath {
    match SimdPath::from_u8(ACTIVE.load(Ordering::Relaxed)) {
        SimdPath::Auto => init(),
        p => p,
    }
}

/// The first decision: the start default if the CPU has it, else the best path.
#[cold]
fn init() -> SimdPath {
    let start = start_default();
    let path = if start != SimdPath::Auto && is_available(start) {
        start
    } else {
        best_available()
    };
    ACTIVE.store(path as u8, Ordering::Relaxed);
    path
}

/// Caps what [`best_available`] reports at `cap` (`Auto`: detection again), for the
/// tests of refused pins on a CPU that has every path. Not for applications.
#[doc(hidden)]
pub fn cap_detected_for_tests(cap: SimdPath) {
    let best = detect();
    let v = if cap == SimdPath::Auto || cap as u8 > best as u8 {
        best
    } else {
        cap
    };
    DETECTED.store(v as u8, Ordering::Relaxed);
}

/// The path a fresh process starts on before detection (see [`simd_path`]), for the
/// test of the test hook. Not for applications.
#[doc(hidden)]
pub fn start_default_for_tests() -> SimdPath {
    start_default()
}

/// CPUID and XGETBV: AVX2 + FMA need the OS to save the 256-bit registers (XCR0 bits
/// 1–2), AVX-512 the opmask and 512-bit ones too (bits 5–7).
#[cfg(all(target_arch = "x86_64", not(miri)))]
fn detect() -> SimdPath {
    use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};
    let bit = |r: u32, b: u32| (r >> b) & 1 == 1;
    #[allow(unsafe_code, unused_unsafe)]
    // SAFETY: CPUID exists on every x86-64 CPU.
    let (max_leaf, l1) = unsafe { (__cpuid(0).eax, __cpuid(1)) };
    let (fma, osxsave, avx) = (bit(l1.ecx, 12), bit(l1.ecx, 27), bit(l1.ecx, 28));
    if max_leaf < 7 || !(fma && osxsave && avx) {
        return SimdPath::Portable;
    }
    #[allow(unsafe_code, unused_unsafe)]
    // SAFETY: XGETBV(0) runs only when CPUID reports OSXSAVE (leaf 1, ECX bit 27):
    // XGETBV is supported and enabled by the OS. Leaf 7 exists (max_leaf ≥ 7).
    let (xcr0, l7) = unsafe { (_xgetbv(0), __cpuid_count(7, 0)) };
    if xcr0 & 0b110 != 0b110 || !bit(l7.ebx, 5) {
        return SimdPath::Portable;
    }
    let avx512 = [16, 17, 30, 31].iter().all(|&b| bit(l7.ebx, b));
    if avx512 && xcr0 & 0b1110_0110 == 0b1110_0110 {
        SimdPath::Avx512
    } else {
        SimdPath::Avx2Fma
    }
}

/// One path off x86-64 and under Miri (which does not emulate CPUID).
#[cfg(not(all(target_arch = "x86_64", not(miri))))]
fn detect() -> SimdPath {
    SimdPath::Portable
}

/// How a kernel pass does its multiply-adds and exponentials: the instruction-set
/// token the pass was compiled for. [`Portable`] is [`Real::mul_add`] and
/// [`Real::exp2_biased`]; [`Fma`] the fused instruction (and on AVX-512 its own f32
/// exponential), a token only the dispatch can hand out (a value proves the CPU has
/// the instructions).
pub(crate) trait Isa: Copy + Sync {
    /// `a·b + c`.
    fn mul_add<T: Real>(self, a: T, b: T, c: T) -> T;
    /// [`Real::exp2_biased`] with this path's multiply-adds.
    fn exp2_biased<T: Real, const FULL: bool>(self, w: T, bias: T) -> T;
    /// This path's split of a target's exponent offset `base` for
    /// [`Isa::exp2_chunk`] (as [`Real::exp2_bias`]: `None` where it cannot hold it).
    #[inline(always)]
    fn exp2_bias<T: Real>(self, base: T) -> Option<(T, T)> {
        T::exp2_bias(base)
    }
    /// This path's own exponential of a whole kernel chunk `w`, if it has one for `T`:
    /// e_l = [`Isa::exp2_biased`]`(w_l, bias)` into `e`, added to `sum` lane by lane,
    /// and `true`. `false` (the default), nothing written: the kernel runs its per-lane
    /// loop with [`Isa::exp2_biased`].
    #[inline(always)]
    fn exp2_chunk<T: Real, const FULL: bool>(
        self,
        w: &[T; LANES],
        bias: T,
        e: &mut [T; LANES],
        sum: &mut [T; LANES],
    ) -> bool {
        let _ = (w, bias, e, sum);
        false
    }
}

/// The portable path (two roundings per multiply-add unless the build enables FMA).
#[derive(Clone, Copy)]
pub(crate) struct Portable;

impl Isa for Portable {
    #[inline(always)]
    fn mul_add<T: Real>(self, a: T, b: T, c: T) -> T {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn exp2_biased<T: Real, const FULL: bool>(self, w: T, bias: T) -> T {
        w.exp2_biased::<FULL>(bias)
    }
}

/// Fused multiply-adds: a value exists only inside the dispatch's FMA-enabled copies,
/// after CPUID reported FMA (the private field keeps it from being made elsewhere).
/// The field says AVX-512 (F/BW/DQ/VL, reported too): `run_avx512`'s token, which for
/// f32 runs its own chunk exponential (`exp2_avx512`: a table permute and a scaling
/// instruction, 9 operations per chunk where the polynomial form takes 12);
/// otherwise both paths do the same operations (the same bits). A field rather than a
/// second token type, so that both paths share the instances of the generic pass code
/// and LLVM inlines it alike; inlined into each path, the field is a constant.
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[derive(Clone, Copy)]
pub(crate) struct Fma(bool);

#[cfg(all(target_arch = "x86_64", not(miri)))]
impl Isa for Fma {
    #[inline(always)]
    fn mul_add<T: Real>(self, a: T, b: T, c: T) -> T {
        // SAFETY: an `Fma` value is only made by `run_avx2` and `run_avx512`, which
        // run only on a CPU whose CPUID reported FMA (see `simd_path`).
        #[allow(unsafe_code)]
        unsafe {
            a.mul_add_fused(b, c)
        }
    }
    /// The portable form's formula with fused multiply-adds (only x86-64 has this
    /// path, where the two forms of `exp2_biased` are the same).
    #[inline(always)]
    fn exp2_biased<T: Real, const FULL: bool>(self, w: T, bias: T) -> T {
        w.exp2_biased_with(bias, |p, r, c| self.mul_add(p, r, c))
    }
    #[inline(always)]
    fn exp2_bias<T: Real>(self, base: T) -> Option<(T, T)> {
        if self.0 {
            T::exp2_bias_avx512(base)
        } else {
            T::exp2_bias(base)
        }
    }
    #[inline(always)]
    fn exp2_chunk<T: Real, const FULL: bool>(
        self,
        w: &[T; LANES],
        bias: T,
        e: &mut [T; LANES],
        sum: &mut [T; LANES],
    ) -> bool {
        // SAFETY: only `run_avx512` makes an `Fma(true)`, and it runs only on a CPU
        // whose CPUID reported AVX-512 and FMA (see `simd_path`).
        #[allow(unsafe_code)]
        unsafe {
            self.0 && T::exp2_chunk_avx512(w, bias, e, sum)
        }
    }
}

/// Runs `f` on the portable path (inlined: the caller's own code).
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[inline(always)]
pub(crate) fn run_portable<R>(f: impl FnOnce(Portable) -> R) -> R {
    f(Portable)
}

/// Runs `f` compiled for AVX2 + FMA (`f` is inlined into this copy).
///
/// # Safety
/// The CPU must have AVX2 and FMA, and the OS must save the YMM registers
/// ([`is_available`]`(`[`SimdPath::Avx2Fma`]`)`).
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[target_feature(enable = "avx,avx2,fma")]
#[allow(unsafe_code)]
pub(crate) unsafe fn run_avx2<R>(f: impl FnOnce(Fma) -> R) -> R {
    f(Fma(false))
}

/// Runs `f` compiled for AVX-512 + FMA (`f` is inlined into this copy).
///
/// # Safety
/// The CPU must have AVX-512 F/BW/DQ/VL, AVX2 and FMA, and the OS must save the ZMM
/// and opmask registers ([`is_available`]`(`[`SimdPath::Avx512`]`)`).
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[target_feature(enable = "avx,avx2,fma,avx512f,avx512bw,avx512dq,avx512vl")]
#[allow(unsafe_code)]
pub(crate) unsafe fn run_avx512<R>(f: impl FnOnce(Fma) -> R) -> R {
    f(Fma(true))
}

/// `dispatch!(|isa| body)`: runs `body` (an expression, usually a whole kernel pass
/// over all targets) on the active [`SimdPath`], with `isa` bound to that path's
/// [`Isa`] token. The body is expanded once per path, each copy inlined into its
/// `#[target_feature]` function; off x86-64 it is just the body on [`Portable`].
/// `?` and `return` inside the body act on the closure: use it for whole function
/// bodies.
macro_rules! dispatch {
    (|$isa:ident| $body:expr) => {{
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        {
            match $crate::dispatch::simd_path() {
                $crate::dispatch::SimdPath::Avx512 => {
                    // SAFETY: `simd_path` returns a path only if `is_available` says
                    // the CPU has it (CPUID and XGETBV, see `detect`).
                    #[allow(unsafe_code)]
                    unsafe {
                        $crate::dispatch::run_avx512(
                            #[inline(always)]
                            |$isa| $body,
                        )
                    }
                }
                $crate::dispatch::SimdPath::Avx2Fma => {
                    // SAFETY: as above.
                    #[allow(unsafe_code)]
                    unsafe {
                        $crate::dispatch::run_avx2(
                            #[inline(always)]
                            |$isa| $body,
                        )
                    }
                }
                _ => $crate::dispatch::run_portable(
                    #[inline(always)]
                    |$isa| $body,
                ),
            }
        }
        #[cfg(not(all(target_arch = "x86_64", not(miri))))]
        {
            let $isa = $crate::dispatch::Portable;
            $body
        }
    }};
}
pub(crate) use dispatch;
