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
use otcore_embedded_tests::sinkhorn_case::{self, Buffers};
use otcore_embedded_tests::sinkhorn_data::CASES;

/// Every suite, in order. A new algorithm adds one line here.
const SUITES: &[Suite] = &[
    ("exp2_kernel", exp2_kernel),
    ("ln_kernel", ln_kernel),
    ("sinkhorn_reference", sinkhorn_reference),
    ("sde_reference", sde_reference),
    ("pf_reference", pf_reference),
];

/// The kernel's 2^x as compiled for Cortex-M (its own table form, see
/// `Real::exp2_kernel`) against libm's f64 `exp2`, to the same contract as the host's
/// `tests/tests/exp2_kernel.rs`: relative error ≤ 3e-7 on [−125, 127] (an even sweep
/// plus a dense one of [−4, 4], where Sinkhorn exponents lie near convergence), exactly
/// 0 at and below −127 and for the kernel's mask `Real::MASKED` (this form needs
/// finite arguments, so the kernel masks with it instead of −∞), and a non-finite
/// value at and above 128 (the kernel's overflow signal).
fn exp2_kernel(t: &mut Tally) {
    use otcore::Real;
    let steps = 40_000u32;
    let even = (0..=steps).map(|k| -125.0 + 252.0 * (k as f32 / steps as f32));
    let dense = (0..=steps).map(|k| -4.0 + 8.0 * (k as f32 / steps as f32));
    let mut worst = 0.0f64;
    for x in even.chain(dense) {
        let want = libm::exp2(f64::from(x));
        worst = worst.max((f64::from(x.exp2_kernel()) - want).abs() / want);
    }
    hprintln!("  worst relative error {:e}", worst);
    t.record("exp2_kernel", "relative_error", worst <= 3e-7);
    let zero = [-127.0f32, -127.5, -200.0, -1e30, f32::MASKED]
        .iter()
        .all(|x| x.exp2_kernel() == 0.0);
    t.record("exp2_kernel", "underflow_to_zero", zero);
    let over = [128.0f32, 200.0, 1e30, f32::INFINITY]
        .iter()
        .all(|x| !x.exp2_kernel().is_finite());
    t.record("exp2_kernel", "overflow_signal", over);
}

/// The per-row `ln` as compiled for Cortex-M (its table form, see `Real::ln_kernel`)
/// against libm's f64 `log`: absolute error ≤ 4e-7·max(1, |ln x|) on positive normal
/// numbers (a log-even sweep of [2^−126, 2^127] plus a dense one of [1/4, 4], where
/// the Sinkhorn sums lie near convergence; the bound is about 2.5 ulp of the result),
/// and libm's values where the table form does not apply (0, subnormal, negative, ∞).
fn ln_kernel(t: &mut Tally) {
    use otcore::Real;
    let steps = 40_000u32;
    let even = (0..=steps).map(|k| libm::exp2f(-126.0 + 253.0 * (k as f32 / steps as f32)));
    let dense = (0..=steps).map(|k| 0.25 + 3.75 * (k as f32 / steps as f32));
    let mut worst = 0.0f64;
    for x in even.chain(dense).filter(|x| x.is_normal()) {
        let want = libm::log(f64::from(x));
        worst = worst.max((f64::from(x.ln_kernel()) - want).abs() / want.abs().max(1.0));
    }
    hprintln!("  worst error {:e}", worst);
    t.record("ln_kernel", "error", worst <= 4e-7);
    let special = [0.0f32, 1e-40, -1.0, f32::INFINITY, f32::NAN]
        .iter()
        .all(|&x| x.ln_kernel().to_bits() == libm::logf(x).to_bits());
    t.record("ln_kernel", "outside_the_table", special);
}

/// Each baked problem: solve + every plan operation, compared with the host's f32
/// results (tolerance: `sinkhorn_case::F32_AGREEMENT`).
fn sinkhorn_reference(t: &mut Tally) {
    let mut buf = Buffers::new();
    for case in CASES {
        let found = sinkhorn_case::check(case, &mut buf, |m| {
            hprintln!(
                "  {}[{}]: got {:e}, host {:e}",
                m.what,
                m.index,
                m.got,
                m.want
            );
        });
        let ok = match found {
            Ok(bad) => bad == 0,
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
