//! The no-panic proof: a release firmware that calls every function exported by
//! otcore-ffi, both precisions, with arguments the optimiser cannot see
//! (`black_box`), linked with otcore-ffi's `panic-never` handler. The handler calls
//! an undefined symbol, so this program links only if no panicking branch is
//! reachable from any exported function (bounds checks, unwraps, overflow checks of
//! the release profile, slicing, division, …). Built by `scripts/embedded.sh test`;
//! it is also run once under QEMU.
//!
//! The program itself uses no formatting and no indexing, so that the proof judges
//! the library only. When an exported function is added, add its call here (the
//! script checks that every `otc_` symbol of the header appears in this file).
#![no_std]
#![no_main]

use core::ffi::c_void;
use core::hint::black_box;
use core::ptr;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use otcore_ffi::*;

/// Storage for every array argument, 8-byte aligned (`OTC_WORKSPACE_ALIGN`).
const WORDS: usize = 4096;

macro_rules! probe_precision {
    ($t:ty, $acc:ident, $mem:ident, $ws_size:ident, $cfg_default:ident, $solve:ident,
     $apply:ident, $apply_t:ident, $bary:ident, $cost:ident, $dense:ident) => {{
        let base = $mem.as_mut_ptr().cast::<$t>();
        // Opaque pointers into the buffer and opaque sizes: every path is reachable as
        // far as the compiler knows.
        let p = |k: usize| black_box(base.wrapping_add(black_box(k)));
        let len = |k: usize| black_box(k);
        let problem = black_box(otc_ot_problem::<$t> {
            x: p(0),
            y: p(64),
            c: black_box(ptr::null()),
            a: p(128),
            b: p(160),
            n: len(8),
            m: len(8),
            d: len(2),
            scale: black_box(1.0),
        });
        let mut bytes = 0usize;
        // SAFETY (all calls below): the pointers are NULL or into `mem`; each function
        // checks NULL, alignment, sizes and overlap before touching anything.
        $acc += unsafe { $ws_size(len(8), len(8), len(2), black_box(&mut bytes)) };
        let mut config = unsafe { core::mem::zeroed::<otc_sinkhorn_config<$t>>() };
        $acc += unsafe { $cfg_default(black_box(&mut config)) };
        let mut result = unsafe { core::mem::zeroed::<otc_sinkhorn_result<$t>>() };
        result.struct_size = black_box(core::mem::size_of::<otc_sinkhorn_result<$t>>());
        let ws = black_box(p(1024).cast::<c_void>());
        let ws_bytes = len(8192);
        let eps = black_box(0.1);
        let (pb, f, g) = (black_box(&problem), p(192), p(256));
        $acc += unsafe {
            $solve(
                pb,
                black_box(&config),
                ws,
                ws_bytes,
                f,
                len(8),
                g,
                len(8),
                black_box(&mut result),
            )
        };
        $acc += unsafe {
            $apply(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                p(320),
                len(8),
                ws,
                ws_bytes,
                p(384),
                len(8),
            )
        };
        $acc += unsafe {
            $apply_t(
                pb,
                eps,
                f,
                len(8),
                g,
                len(8),
                p(320),
                len(8),
                ws,
                ws_bytes,
                p(384),
                len(8),
            )
        };
        $acc += unsafe { $bary(pb, eps, f, len(8), g, len(8), ws, ws_bytes, p(448), len(16)) };
        $acc += unsafe { $cost(pb, eps, f, len(8), g, len(8), ws, ws_bytes, p(512)) };
        $acc += unsafe { $dense(pb, eps, f, len(8), g, len(8), ws, ws_bytes, p(576), len(64)) };
    }};
}

#[entry]
fn main() -> ! {
    let mut mem = [0u64; WORDS];
    let mut acc: i32 = 0;
    probe_precision!(
        f32,
        acc,
        mem,
        otc_sinkhorn_workspace_size_f32,
        otc_sinkhorn_config_default_f32,
        otc_sinkhorn_solve_f32,
        otc_plan_apply_f32,
        otc_plan_apply_transpose_f32,
        otc_plan_barycentric_f32,
        otc_plan_transport_cost_f32,
        otc_plan_dense_f32
    );
    probe_precision!(
        f64,
        acc,
        mem,
        otc_sinkhorn_workspace_size_f64,
        otc_sinkhorn_config_default_f64,
        otc_sinkhorn_solve_f64,
        otc_plan_apply_f64,
        otc_plan_apply_transpose_f64,
        otc_plan_barycentric_f64,
        otc_plan_transport_cost_f64,
        otc_plan_dense_f64
    );
    let text = otc_status_str(black_box(acc));
    black_box(text);
    black_box(otc_version());
    #[cfg(feature = "panic-selfcheck")]
    {
        let v = black_box([1i32; 4]);
        acc += v[black_box(7usize)];
    }
    black_box(acc);
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m_rt::heap_start();
    }
}
