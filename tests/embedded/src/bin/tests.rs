//! The on-target test suites, run under QEMU (`scripts/embedded.sh test`).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use otcore_embedded_tests::harness::{Suite, Tally};
use otcore_embedded_tests::sinkhorn_case::{compare, Buffers};
use otcore_embedded_tests::sinkhorn_data::CASES;

/// Every suite, in order. A new algorithm adds one line here.
const SUITES: &[Suite] = &[("sinkhorn_reference", sinkhorn_reference)];

/// Each baked problem: solve + every plan operation, compared with the host's f32
/// results (tolerance: `sinkhorn_case::F32_AGREEMENT`).
fn sinkhorn_reference(t: &mut Tally) {
    let mut buf = Buffers::new();
    for case in CASES {
        let ok = match case.compute(&mut buf) {
            Ok(got) => {
                let bad = compare(&got, &case.expected, |m| {
                    hprintln!(
                        "  {}[{}]: got {:e}, host {:e}",
                        m.what,
                        m.index,
                        m.got,
                        m.want
                    );
                });
                bad == 0
            }
            Err(e) => {
                hprintln!("  error: {}", e);
                false
            }
        };
        t.record("sinkhorn_reference", case.name, ok);
    }
}

#[entry]
fn main() -> ! {
    Tally::run_all(SUITES)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    otcore_embedded_tests::harness::on_panic(info)
}
