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
    ("far_costs", far_costs),
    ("sinkhorn_reference", sinkhorn_reference),
    ("sde_reference", sde_reference),
    ("pf_reference", pf_reference),
];

/// The kernel's 2^x as compiled for Cortex-M (its own table form, see
/// `Real::exp2_kernel`) against libm's f64 `exp2`, to the same contract as the host's
/// `tests/tests/references/exp2_kernel.rs`: relative error ≤ 3e-7 on [−125, 127] (an even sweep
/// plus a dense one of [−4, 4], where Sinkhorn exponents lie near convergence), exactly
/// 0 at and below −127 and for the kernel's mask `Real::MASKED` (this form needs
/// finite arguments, so the kernel masks with it instead of −∞), and a non-finite
/// value at and above 128 (the kernel's overflow signal); and its first-pass form
/// (`Real::exp2_biased` without `FULL`): bit-equal from −2^17 up, 0 or NaN below.
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
    // Every binade below −127 (×1, ×1.3, ×1.7), so that negative sums x + 2^17 + 127
    // of every size are covered.
    let binades = (7..127).flat_map(|k| [1.0f32, 1.3, 1.7].map(|m| -m * libm::exp2f(k as f32)));
    let zero = [
        -127.0f32,
        -127.5,
        -200.0,
        -131_200.0,
        -2e5,
        -262_200.0,
        -1e30,
        f32::MASKED,
    ]
    .into_iter()
    .chain(binades)
    .all(|x| x.exp2_kernel() == 0.0);
    t.record("exp2_kernel", "underflow_to_zero", zero);
    let over = [128.0f32, 200.0, 1e30, f32::INFINITY]
        .iter()
        .all(|x| !x.exp2_kernel().is_finite());
    t.record("exp2_kernel", "overflow_signal", over);
    // The kernel's first-pass form (`exp2_biased` without FULL, offset 0): the same
    // bits from −2^17 up, 0 or NaN (never another finite value) below.
    // (Cortex-M always splits the offset: `None` would fail the check below.)
    let (bias, phi) = f32::exp2_bias(0.0).unwrap_or((f32::NAN, f32::NAN));
    let near = |x: f32| x.exp2_biased::<false>(bias);
    let near_same = phi == 0.0
        && (0..=steps)
            .map(|k| -131_072.0 + 131_272.0 * (k as f32 / steps as f32))
            .chain([-131_072.0f32, 1e30, f32::INFINITY])
            .all(|x| near(x).to_bits() == x.exp2_kernel().to_bits());
    t.record("exp2_kernel", "near_same_above_minus_2^17", near_same);
    let near_below = (17..127)
        .flat_map(|k| [1.0f32, 1.3, 1.7].map(|m| -m * libm::exp2f(k as f32)))
        .chain([f32::MASKED, -200_000.0])
        .all(|x| {
            let v = near(x);
            v == 0.0 || v.is_nan()
        });
    t.record("exp2_kernel", "near_zero_or_nan_below", near_below);
}

/// Costs far beyond ε, whose kernel exponents (about −2·10⁵ in base 2) fall where the
/// Cortex-M exponential's first-pass form gives NaN (`Real::exp2_biased` without `FULL`): two
/// points x = y = {0, 1} (1-D clouds, and the same costs as a dense matrix), uniform
/// weights, ε = 1/138 629 (C/ε = 138 629 off the diagonal), with and without
/// ε-scaling. The plan is diag(½, ½) up to e^−138629 = 0, so every solve must
/// converge with ⟨C, P⟩ = 0 and Σ P = 1 (1e-6 absolute, f32 rounding with a wide
/// margin) and f_i + g_i = ε ln ½. The last holds to 1e-3·ε for the dense matrix; for
/// the clouds the kernel's absorbed potentials and cross terms are of the size
/// κ·R² ≈ 10⁵ (R = ½ from the centre), whose f32 ulp is 2^−7 in base-2 exponents,
/// i.e. 0.0054·ε in cost units: 0.05·ε allows about ten of them (measured 0.012·ε).
fn far_costs(t: &mut Tally) {
    use otcore::ot::{self, Config, Epsilon, Init, Problem, Status};
    let pts = [0.0f32, 1.0];
    let cost = [0.0f32, 1.0, 1.0, 0.0];
    let w = [0.5f32, 0.5];
    let eps = 1.0 / 138_629.0;
    let cases = [
        ("clouds_plain", false, 0.0f32, 0.05),
        ("clouds_eps_scaling", false, 0.5, 0.05),
        ("dense_plain", true, 0.0, 1e-3),
        ("dense_eps_scaling", true, 0.5, 1e-3),
    ];
    for (name, dense, scaling, tol) in cases {
        let problem = if dense {
            Problem::matrix(&cost, &w, &w)
        } else {
            Problem::point_clouds(&pts, &pts, 1, 1.0, &w, &w)
        };
        let config = Config {
            epsilon: Epsilon::Absolute(eps),
            epsilon_scaling: scaling,
            ..Config::default()
        };
        let (mut f, mut g) = ([0.0f32; 2], [0.0f32; 2]);
        let mut ws = [0.0f32; 64];
        let ws = &mut ws[..ot::workspace_len(2, 2, 1)];
        let ok = match ot::solve(&problem, &config, Init::Zero, &mut f, &mut g, ws) {
            Ok(s) => {
                let worst = (0..2)
                    .map(|i| (f[i] + g[i] + eps * core::f32::consts::LN_2).abs() / eps)
                    .fold(0.0f32, f32::max);
                hprintln!(
                    "  {}: {:?} after {}, error {:e}, cost {:e}, mass {}, |f + g − ε ln ½| {:e}·ε",
                    name,
                    s.status,
                    s.iterations,
                    s.error,
                    s.transport_cost,
                    s.plan_mass,
                    worst
                );
                s.status == Status::Converged
                    && s.error <= 1e-6
                    && s.transport_cost.abs() <= 1e-6
                    && (s.plan_mass - 1.0).abs() <= 1e-6
                    && worst <= tol
            }
            Err(e) => {
                hprintln!("  {}: error {}", name, e);
                false
            }
        };
        t.record("far_costs", name, ok);
    }
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
