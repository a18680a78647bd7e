//! Deepest stack use of a call, by painting: fill the free stack below the caller with
//! a pattern, run the call, find the lowest word that no longer holds the pattern.

/// The paint pattern.
const PAINT: u32 = 0xC0DE_57AC;

/// How much stack below the measuring frame is painted (and so the largest depth
/// this can measure).
pub const PAINTED_BYTES: usize = 32 * 1024;

/// Runs `call(arg)` and returns (its result, the deepest stack use in bytes below the
/// stack pointer at the call, a lower bound if it used more than [`PAINTED_BYTES`]).
///
/// `call` is a function pointer passed through `black_box`, so it cannot be inlined
/// into this frame (whose stack pointer is the reference): everything `call` and its
/// callees use is counted, including `call`'s own (small) frame.
#[inline(never)]
pub fn measure<A, R>(call: fn(&mut A) -> R, arg: &mut A) -> (R, usize) {
    let top = cortex_m::register::msp::read() as usize;
    let bottom = top - PAINTED_BYTES;
    paint(bottom, top - 256);
    let r = core::hint::black_box(call)(arg);
    let mut lowest = top;
    let mut addr = bottom;
    while addr < top {
        // SAFETY: [bottom, top) is this core's own stack, below the live frames when
        // painted (above: 256 bytes of margin for `paint`'s own frame), word-aligned
        // (`msp` is 8-aligned), and only read here; volatile so the reads are kept.
        let word = unsafe { core::ptr::read_volatile(addr as *const u32) };
        if word != PAINT {
            lowest = addr;
            break;
        }
        addr += 4;
    }
    (r, top - lowest)
}

/// Fills [bottom, end) with the pattern; its own frame lies above `end`.
#[inline(never)]
fn paint(bottom: usize, end: usize) {
    let mut addr = bottom;
    while addr < end {
        // SAFETY: free stack below every live frame (see `measure`), word-aligned.
        unsafe { core::ptr::write_volatile(addr as *mut u32, PAINT) };
        addr += 4;
    }
}
