//! What every fuzz target shares: reading the fuzzer's bytes as problem data, and the
//! promises of the C ABI checked after each call (`include/otcore.h`, DESIGN §5):
//! only documented statuses; on an error (status < 0) every output byte-identical to
//! before the call; on a status ≥ 0 every output finite (unless documented otherwise);
//! iteration and evaluation counts within the budget given.

use otcore_ffi::otc_status;

/// The fuzzer's bytes as a stream of small choices and numbers. Past the end every
/// read returns zeros, so any input is a complete (if dull) test case.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Reads from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The next byte (0 past the end).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next `N` bytes.
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.byte();
        }
        out
    }

    /// A size in `lo..=hi`.
    pub fn size(&mut self, lo: usize, hi: usize) -> usize {
        lo + usize::from(self.byte()) % (hi - lo + 1)
    }

    /// A boolean.
    pub fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A u64 of full range.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes::<8>())
    }

    /// A number: mostly ordinary values (so the fuzzer reaches the numerics), sometimes
    /// raw bits (NaN, ±∞, subnormals, the ends of the range), chosen by a tag byte.
    pub fn number(&mut self) -> f64 {
        let tag = self.byte();
        match tag % 8 {
            // Small signed values in steps of 1/16 (−8 .. 8).
            0..=3 => f64::from(i8::from_le_bytes([self.byte()])) / 16.0,
            // A signed mantissa times a power of ten, 1e-40 .. 1e40.
            4 | 5 => {
                let m = f64::from(i16::from_le_bytes(self.bytes::<2>())) / 1024.0;
                let e = i32::from(self.byte() % 81) - 40;
                m * 10f64.powi(e)
            }
            // Special values.
            6 => [
                0.0,
                -0.0,
                1.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                f64::MAX,
                f64::MIN_POSITIVE,
                f32::MAX as f64,
                f32::MIN_POSITIVE as f64,
                1e-45,
                3e38,
                -3e38,
                1.7e308,
                5e-324,
                0.5,
            ][usize::from(self.byte() % 16)],
            // Raw bits.
            _ => f64::from_bits(self.u64()),
        }
    }

    /// `len` numbers converted to `T`.
    pub fn numbers<T: Float>(&mut self, len: usize) -> Vec<T> {
        (0..len).map(|_| T::of(self.number())).collect()
    }

    /// A non-negative weight: mostly ordinary, sometimes 0 or anything.
    pub fn weight<T: Float>(&mut self) -> T {
        let v = self.number();
        T::of(if self.byte().is_multiple_of(4) { v } else { v.abs() })
    }
}

/// f32 and f64 as the targets need them.
pub trait Float: Copy + PartialEq + core::fmt::Debug + 'static {
    /// From an f64 (rounded).
    fn of(v: f64) -> Self;
    /// To f64 (exact).
    fn to(self) -> f64;
    /// Raw bits, widened.
    fn bits(self) -> u64;
}

impl Float for f32 {
    fn of(v: f64) -> Self {
        v as f32
    }
    fn to(self) -> f64 {
        f64::from(self)
    }
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl Float for f64 {
    fn of(v: f64) -> Self {
        v
    }
    fn to(self) -> f64 {
        self
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

/// The bytes of a value (an output buffer or struct), to compare before and after.
pub fn bytes_of<S: Copy>(v: &[S]) -> Vec<u8> {
    // SAFETY: reading the initialised memory of a slice of plain `Copy` data (floats,
    // integers and `#[repr(C)]` structs of them, whose padding the targets zero by
    // building them from `zeroed` memory) as bytes.
    unsafe { core::slice::from_raw_parts(v.as_ptr().cast::<u8>(), core::mem::size_of_val(v)) }
        .to_vec()
}

/// A value of `S` with every byte zero (padding included), for C structs.
pub fn zeroed<S: Copy>() -> S {
    // SAFETY: only used for the `#[repr(C)]` structs of the C ABI, all of whose fields
    // (integers, floats, bools, raw pointers, optional function pointers) accept
    // all-zero bytes.
    unsafe { core::mem::zeroed() }
}

/// Panics unless `status` is one of `allowed` (the function's documented statuses).
pub fn documented(status: i32, allowed: &[otc_status]) {
    assert!(
        allowed.iter().any(|s| *s as i32 == status),
        "undocumented status {status}"
    );
}

/// Panics unless every value is finite.
pub fn finite<T: Float>(what: &str, v: &[T]) {
    for (i, x) in v.iter().enumerate() {
        assert!(
            x.to().is_finite(),
            "{what}[{i}] = {x:?} with a success status"
        );
    }
}

/// Every output buffer's bytes; compared before and after a call that failed.
pub struct Snapshot(Vec<Vec<u8>>);

impl Snapshot {
    /// The current bytes of `parts`.
    pub fn of(parts: &[&[u8]]) -> Self {
        Self(parts.iter().map(|p| p.to_vec()).collect())
    }

    /// Panics if any part differs from the snapshot (after a status < 0).
    pub fn unchanged(&self, status: i32, parts: &[&[u8]]) {
        for (i, (a, b)) in self.0.iter().zip(parts).enumerate() {
            assert!(a == b, "status {status}: output {i} changed on error");
        }
    }
}

/// A workspace of `bytes` bytes aligned to `OTC_WORKSPACE_ALIGN` (64), filled with a
/// byte pattern (its contents on entry must not matter).
pub struct Workspace {
    buf: Vec<u8>,
    offset: usize,
    /// The usable length in bytes.
    pub bytes: usize,
}

impl Workspace {
    /// `bytes` usable bytes, every one `fill`.
    pub fn new(bytes: usize, fill: u8) -> Self {
        let buf = vec![fill; bytes + 64];
        let offset = buf.as_ptr().align_offset(64);
        Self { buf, offset, bytes }
    }

    /// The aligned start.
    pub fn ptr(&mut self) -> *mut core::ffi::c_void {
        self.buf[self.offset..].as_mut_ptr().cast()
    }
}

/// Statuses every function that takes a config, arrays and a workspace may return
/// on bad input (the targets call with valid pointers, so no NULL/misaligned ones).
pub const INPUT_ERRORS: [otc_status; 9] = [
    otc_status::LengthMismatch,
    otc_status::EmptyInput,
    otc_status::NonFiniteInput,
    otc_status::NegativeWeight,
    otc_status::ZeroMass,
    otc_status::MassMismatch,
    otc_status::InvalidEpsilon,
    otc_status::InvalidParameter,
    otc_status::NonFinite,
];

/// A scripted SDE model or Itô SDE for the callbacks: returns `out = −c·x + offset`
/// (an ordinary score), or writes the fuzzed `special` value at call `bad_call`, or
/// fails at call `fail_call`; counts its calls.
pub struct Script {
    /// Multiplier c of the linear answer.
    pub c: f64,
    /// Added to every output.
    pub offset: f64,
    /// The call (0-based) that writes `special` into one output, if any.
    pub bad_call: u64,
    /// The value written then (often NaN or ∞).
    pub special: f64,
    /// The call that returns failure (−1), if any.
    pub fail_call: u64,
    /// Calls so far.
    pub calls: core::cell::Cell<u64>,
}

impl Script {
    /// Reads a script; `bad_call` and `fail_call` are mostly never reached.
    pub fn read(inp: &mut Input) -> Self {
        let rare = |b: u8| if b < 32 { u64::from(b) } else { u64::MAX };
        Self {
            c: inp.number(),
            offset: inp.number(),
            bad_call: rare(inp.byte()),
            special: inp.number(),
            fail_call: rare(inp.byte()),
            calls: core::cell::Cell::new(0),
        }
    }

    /// Fills `out` for the input `x` and returns the callback's status.
    pub fn answer<T: Float>(&self, x: &[T], out: &mut [T]) -> i32 {
        for (o, v) in out.iter_mut().zip(x) {
            *o = T::of(-self.c * v.to() + self.offset);
        }
        self.finish(out)
    }

    /// Fills `out` with no input (a sampler of states): value k is `c·k + offset`;
    /// returns the callback's status.
    pub fn draw<T: Float>(&self, out: &mut [T]) -> i32 {
        for (k, o) in out.iter_mut().enumerate() {
            *o = T::of(self.c * k as f64 + self.offset);
        }
        self.finish(out)
    }

    /// Counts the call, writes `special` at `bad_call`, fails at `fail_call`.
    fn finish<T: Float>(&self, out: &mut [T]) -> i32 {
        let k = self.calls.get();
        self.calls.set(k + 1);
        if k == self.bad_call {
            if let Some(o) = out.first_mut() {
                *o = T::of(self.special);
            }
        }
        -i32::from(k == self.fail_call)
    }
}

/// The model callback over a [`Script`] (`user`).
///
/// # Safety
/// `user` is a `Script`; `x` and `out` hold n·d values.
pub unsafe extern "C" fn model<T: Float>(
    user: *mut core::ffi::c_void,
    n: usize,
    d: usize,
    x: *const T,
    _t: *const T,
    out: *mut T,
) -> i32 {
    // SAFETY: the caller's contract.
    let (s, x, out) = unsafe {
        (
            &*user.cast::<Script>(),
            core::slice::from_raw_parts(x, n * d),
            core::slice::from_raw_parts_mut(out, n * d),
        )
    };
    s.answer(x, out)
}

/// A process from the fuzzer: a default of a kind, parameters sometimes changed.
pub fn process(inp: &mut Input) -> otcore_ffi::otc_sde_process {
    let mut p: otcore_ffi::otc_sde_process = zeroed();
    // SAFETY: a valid pointer; an unknown kind is refused without writing.
    let s = unsafe { otcore_ffi::otc_sde_process_default(i32::from(inp.byte() % 6), &mut p) };
    if s != 0 {
        p.struct_size = core::mem::size_of_val(&p);
    }
    if inp.byte().is_multiple_of(4) {
        p.param0 = inp.number();
        p.param1 = inp.number();
    }
    p
}

/// A time in [0, t_max] mostly, anything sometimes.
pub fn time(inp: &mut Input, t_max: f64) -> f64 {
    if inp.byte().is_multiple_of(8) {
        inp.number()
    } else {
        t_max * f64::from(inp.byte()) / 255.0
    }
}

/// OT settings from the fuzzer on top of `otc_ot_resample_config_default_*`'s (ε always
/// read: the default 0 is invalid), as `otc_ot_resample_f32` and the localisation
/// functions take them.
pub fn ot_config<T: Float>(inp: &mut Input, cfg: &mut otcore_ffi::otc_ot_resample_config<T>) {
    cfg.epsilon = T::of(inp.number());
    if inp.flag() {
        cfg.scaling = T::of(inp.number());
    }
    if inp.flag() {
        cfg.tolerance = T::of(inp.number());
    }
    if inp.flag() {
        cfg.scale = T::of(inp.number());
    }
    cfg.max_iterations = u32::from(inp.byte());
    // 0, 1: the two schedules; 2: refused.
    if inp.flag() {
        cfg.schedule = u32::from(inp.byte() % 3);
    }
}
