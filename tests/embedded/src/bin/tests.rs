//! The on-target test suites, run under QEMU (`scripts/embedded.sh test`).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use otcore_embedded_tests::harness::{Suite, Tally};
use otcore_embedded_tests::pf_case::{self, Agreement, Outputs};
use otcore_embedded_tests::pf_data;
use otcore_embedded_tests::sde_case;
use otcore_embedded_tests::sde_data;
use otcore_embedded_tests::sinkhorn_case::{compare, Buffers};
use otcore_embedded_tests::sinkhorn_data::CASES;

/// Every suite, in order. A new algorithm adds one line here.
const SUITES: &[Suite] = &[
    ("sinkhorn_reference", sinkhorn_reference),
    ("sde_reference", sde_reference),
    ("pf_reference", pf_reference),
];

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

/// Each baked SDE case (prior, mixture score, samplers, adaptive, Itô step) recomputed
/// here and compared with the host's f32 results, bit for bit
/// (`sde_case::ULP_AGREEMENT`), evaluation counts equal.
fn sde_reference(t: &mut Tally) {
    let mut ws = [0.0f32; sde_case::WS];
    for case in sde_data::CASES {
        let mut x = [0.0f32; sde_case::ND];
        let ok = match sde_case::compute(case.name, &mut x, &mut ws) {
            Ok(evaluations) => {
                let bad = sde_case::compare(&x, evaluations, case, |m| {
                    hprintln!(
                        "  x[{}]: got {:e}, host {:e} ({} ulp)",
                        m.index,
                        m.got,
                        m.want,
                        m.ulps
                    );
                });
                bad == 0
            }
            Err(e) => {
                hprintln!("  error: {}", e);
                false
            }
        };
        t.record("sde_reference", case.name, ok);
    }
}

/// Each baked particle-filter case (classical resamplers, OT resampling, both VJPs,
/// filter steps) recomputed here and compared with the host's f32 results: bit for bit
/// without the kernel on the path, to `pf_case::F32_AGREEMENT` through it (the largest
/// relative deviation measured is printed).
fn pf_reference(t: &mut Tally) {
    let mut ws = [0.0f32; pf_case::WS];
    let mut out = Outputs::new();
    for (case, &(name, mode)) in pf_data::CASES.iter().zip(pf_case::NAMES) {
        let ok = case.name == name
            && match pf_case::compute(name, &mut out, &mut ws) {
                Ok(()) => {
                    let (bad, worst) = pf_case::compare(&out, case, mode, |m| {
                        hprintln!(
                            "  block {} [{}]: got {:e}, host {:e}",
                            m.block,
                            m.index,
                            m.got,
                            m.want
                        );
                    });
                    match mode {
                        Agreement::Exact if worst == 0.0 => hprintln!("  bit-identical"),
                        _ => hprintln!("  largest relative deviation {:e}", worst),
                    }
                    bad == 0
                }
                Err(e) => {
                    hprintln!("  error: {}", e);
                    false
                }
            };
        t.record("pf_reference", name, ok);
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
