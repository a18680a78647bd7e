//! Measurements on the emulated Cortex-M4F, printed for `scripts/embedded.sh numbers`:
//! workspace sizes, the deepest stack use of a solve and of each plan operation
//! (stack painting), and instruction-count regions for `tools/qemu-icount` (each
//! region is bracketed by two calls of [`otcore_icount_mark`]; the plugin records the
//! instruction count at each call).
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use otcore::ot::{self, Config, Epsilon, Init, Plan, Problem};
use otcore::pf::{
    self, FilterConfig, OtConfig, RandomSource, Resampler, Scheme, SplitMix64, Totals, Trigger,
};
use otcore::sde::ito::{ito_step, ItoMethod, Sde};
use otcore::sde::{self as sde, AdaptiveConfig, Churn, Method, Mixture, Multistep, Process};
use otcore_embedded_tests::harness;
use otcore_embedded_tests::sde_case;
use otcore_embedded_tests::stack;

/// Largest problem measured.
const N: usize = 128;
/// Point dimension of the instruction-count problem (DESIGN §7: d = 2).
const D: usize = 2;

/// [`D`] as the library sees it from C: a run-time value. Passed as the literal, it is
/// propagated into the inlined solver, which then measures a loop specialised for
/// d = 2 that no caller through the C ABI runs.
fn dim() -> usize {
    core::hint::black_box(D)
}
const WS: usize = ot::workspace_len(N, N, D);

/// Iteration budgets of the two instruction-count solves; their difference isolates
/// the per-iteration cost from the setup.
const K1: u32 = 5;
const K2: u32 = 15;

/// The instruction-count marker: the plugin records the count each time the first
/// instruction of this function executes.
#[no_mangle]
#[inline(never)]
pub extern "C" fn otcore_icount_mark() {
    // SAFETY: a `nop`; the asm block only keeps the call from being optimised away.
    unsafe { core::arch::asm!("nop") };
}

/// Inputs and buffers of one n×n problem in dimension `D`.
struct Bench {
    n: usize,
    x: [f32; N * D],
    y: [f32; N * D],
    a: [f32; N],
    b: [f32; N],
    f: [f32; N],
    g: [f32; N],
    out: [f32; N * D],
    ws: [f32; WS],
    config: Config<f32>,
}

impl Bench {
    /// Two uniform clouds on [0, 1)² (a fixed LCG), x shifted by 0.5 in the first
    /// coordinate; uniform weights; ε = 0.05 × mean cost (the DESIGN §7 set-up).
    fn new(n: usize) -> Self {
        let mut s: u32 = 0x2545_F491;
        let mut next = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32
        };
        let mut b = Bench {
            n,
            x: [0.0; N * D],
            y: [0.0; N * D],
            a: [0.0; N],
            b: [0.0; N],
            f: [0.0; N],
            g: [0.0; N],
            out: [0.0; N * D],
            ws: [0.0; WS],
            config: Config {
                epsilon: Epsilon::RelativeToMeanCost(0.05),
                ..Config::default()
            },
        };
        for (i, v) in b.x.iter_mut().enumerate() {
            *v = next() + if i % D == 0 { 0.5 } else { 0.0 };
        }
        for v in b.y.iter_mut() {
            *v = next();
        }
        b.a.iter_mut().for_each(|v| *v = 1.0 / n as f32);
        b.b.iter_mut().for_each(|v| *v = 1.0 / n as f32);
        b
    }

    fn solve(&mut self) -> Result<ot::Solution<f32>, otcore::Error> {
        let n = self.n;
        let problem = Problem::point_clouds(
            &self.x[..n * D],
            &self.y[..n * D],
            dim(),
            1.0,
            &self.a[..n],
            &self.b[..n],
        );
        let ws = &mut self.ws[..ot::workspace_len(n, n, D)];
        ot::solve(
            &problem,
            &self.config,
            Init::Zero,
            &mut self.f[..n],
            &mut self.g[..n],
            ws,
        )
    }

    fn plan_op(&mut self, op: u8) -> Result<(), otcore::Error> {
        let n = self.n;
        let problem = Problem::point_clouds(
            &self.x[..n * D],
            &self.y[..n * D],
            dim(),
            1.0,
            &self.a[..n],
            &self.b[..n],
        );
        let ws = &mut self.ws[..ot::workspace_len(n, n, D)];
        let eps = self.config.epsilon.resolve(1.0)?;
        let plan = Plan::new(problem, eps, &self.f[..n], &self.g[..n]);
        match op {
            0 => plan.apply(&self.a[..n], &mut self.out[..n], ws),
            1 => plan.apply_transpose(&self.b[..n], &mut self.out[..n], ws),
            2 => plan.barycentric(&mut self.out[..n * D], ws),
            _ => plan.transport_cost(ws).map(|_| ()),
        }
    }
}

/// A named call whose stack depth is measured.
type Measured = (&'static str, fn(&mut Bench) -> bool);

fn stack_solve(b: &mut Bench) -> bool {
    b.solve().is_ok()
}
fn stack_apply(b: &mut Bench) -> bool {
    b.plan_op(0).is_ok()
}
fn stack_apply_t(b: &mut Bench) -> bool {
    b.plan_op(1).is_ok()
}
fn stack_barycentric(b: &mut Bench) -> bool {
    b.plan_op(2).is_ok()
}
fn stack_cost(b: &mut Bench) -> bool {
    b.plan_op(3).is_ok()
}

/// Largest SDE batch measured (samples; dimension `D`).
const SDE_N: usize = 64;
const SDE_WS: usize = sde::workspace_len(SDE_N, D);
/// The SDE process of the measurements (and of the on-target tests).
const SDE_PROCESS: Process = Process::VP;

/// One SDE batch of n ≤ [`SDE_N`] samples with its workspace and DPM-Solver++(2M)
/// history, the model being the on-target tests' Gaussian mixture
/// (`sde_case::mixture`).
struct SdeBench {
    n: usize,
    x: [f32; SDE_N * D],
    out: [f32; SDE_N * D],
    t: [f32; SDE_N],
    denoised: [f32; SDE_N * D],
    h_prev: Option<f64>,
    ws: [f32; SDE_WS],
    model: Mixture<'static, f32>,
}

/// Times of the measured steps (VP, t ∈ (0, 1]): a mid-trajectory step.
const SDE_T: [f32; 3] = [0.6, 0.5, 0.4];

impl SdeBench {
    /// n prior samples (seed of the on-target tests).
    fn new(n: usize) -> Result<Self, otcore::Error> {
        let mut b = SdeBench {
            n,
            x: [0.0; SDE_N * D],
            out: [0.0; SDE_N * D],
            t: [0.0; SDE_N],
            denoised: [0.0; SDE_N * D],
            h_prev: None,
            ws: [0.0; SDE_WS],
            model: sde_case::mixture()?,
        };
        SDE_PROCESS.prior_sample(sde_case::SEED, 0, D, &mut b.x[..n * D])?;
        Ok(b)
    }

    /// The model alone: the mixture score of the batch at t = 0.5.
    fn model(&mut self) -> Result<(), otcore::Error> {
        let n = self.n;
        self.t[..n].fill(0.5);
        self.model
            .score(&self.x[..n * D], &self.t[..n], &mut self.out[..n * D])
    }

    /// Fixed-step `method` from `SDE_T[k]` to `SDE_T[k + 1]` (DPM-Solver++(2M) with
    /// its history: second order from the second step on).
    fn step(&mut self, method: Method, k: usize) -> Result<u64, otcore::Error> {
        let n = self.n;
        let (t, t_next) = (SDE_T[k], SDE_T[k + 1]);
        let mut hist = Multistep {
            denoised: &mut self.denoised[..n * D],
            h_prev: self.h_prev,
        };
        let r = sde::step(
            &SDE_PROCESS,
            &sde::Config::new(method),
            &mut self.model,
            &mut self.x[..n * D],
            D,
            t,
            t_next,
            k as u64,
            sde_case::SEED,
            0,
            Some(&mut hist),
            &mut self.ws[..sde::workspace_len(n, D)],
        );
        self.h_prev = hist.h_prev;
        r
    }
}

/// A drift/diffusion for the Itô step's stack: μ = −x, σ = 0.3.
struct Ou;
impl Sde<f32> for Ou {
    fn eval(
        &mut self,
        x: &[f32],
        _t: f32,
        drift: &mut [f32],
        diffusion: &mut [f32],
    ) -> Result<(), otcore::Error> {
        drift.iter_mut().zip(x).for_each(|(m, v)| *m = -*v);
        diffusion.fill(0.3);
        Ok(())
    }
}

/// A named SDE call whose stack depth is measured.
type SdeMeasured = (&'static str, fn(&mut SdeBench) -> bool);

fn stack_sde_em(b: &mut SdeBench) -> bool {
    b.step(Method::EulerMaruyama, 0).is_ok()
}
fn stack_sde_heun(b: &mut SdeBench) -> bool {
    let churn = Churn {
        gamma: 0.2,
        ..Churn::NONE
    };
    b.step(Method::Heun(churn), 0).is_ok()
}
fn stack_sde_dpm(b: &mut SdeBench) -> bool {
    b.step(Method::DpmSolverPp2M, 0).is_ok() && b.step(Method::DpmSolverPp2M, 1).is_ok()
}
fn stack_sde_adaptive(b: &mut SdeBench) -> bool {
    let n = b.n;
    let config = AdaptiveConfig::new(&SDE_PROCESS);
    sde::adaptive(
        &SDE_PROCESS,
        &config,
        &mut b.model,
        &mut b.x[..n * D],
        D,
        sde_case::SEED,
        0,
        &mut b.ws[..sde::workspace_len(n, D)],
    )
    .is_ok()
}
fn stack_sde_ito(b: &mut SdeBench) -> bool {
    let n = b.n;
    ito_step(
        ItoMethod::Milstein,
        &mut Ou,
        &mut b.x[..n * D],
        D,
        0.0,
        0.1,
        sde_case::SEED,
        0,
        0,
        &mut b.ws[..sde::ito::ito_workspace_len(n, D)],
    )
    .is_ok()
}

/// SDE workspace, stack (painting) and instruction-count regions (a DPM-Solver++(2M)
/// second-order step, and the model alone, for n ∈ {8, 64}, d = 2); `false` if a call
/// failed.
fn measure_sde() -> bool {
    let mut ok = true;
    for n in [8usize, 64] {
        hprintln!(
            "workspace sde n={} d={} f32_bytes={} f64_bytes={}",
            n,
            D,
            sde::workspace_len(n, D) * 4,
            sde::workspace_len(n, D) * 8
        );
    }
    let calls: [SdeMeasured; 5] = [
        ("sde_step_euler_maruyama", stack_sde_em),
        ("sde_step_heun_churn", stack_sde_heun),
        ("sde_step_dpm_solver_pp_2m", stack_sde_dpm),
        ("sde_adaptive", stack_sde_adaptive),
        ("sde_ito_step_milstein", stack_sde_ito),
    ];
    for (name, call) in calls {
        let Ok(mut bench) = SdeBench::new(8) else {
            return false;
        };
        let (good, depth) = stack::measure(call, &mut bench);
        ok &= good;
        hprintln!("stack {} n=8 d=2 bytes={}", name, depth);
    }
    for n in [8usize, 64] {
        let Ok(mut bench) = SdeBench::new(n) else {
            return false;
        };
        // First step (first order) fills the history; the measured one is second order.
        ok &= bench.step(Method::DpmSolverPp2M, 0).is_ok();
        otcore_icount_mark();
        let r = black_box(&mut bench).step(Method::DpmSolverPp2M, 1);
        otcore_icount_mark();
        ok &= r == Ok(1);
        hprintln!("region sde_dpm_solver_pp_2m_step n={} d={}", n, D);
        otcore_icount_mark();
        let r = black_box(&mut bench).model();
        otcore_icount_mark();
        ok &= r.is_ok();
        hprintln!("region sde_mixture_score_k2 n={} d={}", n, D);
    }
    ok
}

/// Largest particle count measured.
const NP: usize = 128;
/// Workspace of the largest filter step (OT resampling needs more than the others).
const PF_WS: usize = pf::filter_workspace_len(NP, D, true);

/// A weighted particle cloud (N×2) and the buffers of the particle-filter calls.
struct PfBench {
    n: usize,
    x: [f32; NP * D],
    out: [f32; NP * D],
    logw: [f32; NP],
    mean: [f32; D],
    cov: [f32; D * D],
    ws: [f32; PF_WS],
    rng: SplitMix64,
    totals: Totals<f32>,
}

impl PfBench {
    /// n particles uniform on [0, 1)² with uneven log-weights (a fixed LCG), as after a
    /// weighting step; ε = 0.5 (the documented recommendation for N ≤ 100).
    fn new(n: usize) -> Self {
        let mut s: u32 = 0x9E37_79B9;
        let mut next = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / 16_777_216.0
        };
        let mut b = Self {
            n,
            x: [0.0; NP * D],
            out: [0.0; NP * D],
            logw: [0.0; NP],
            mean: [0.0; D],
            cov: [0.0; D * D],
            ws: [0.0; PF_WS],
            rng: SplitMix64::new(7),
            totals: Totals::default(),
        };
        for v in b.x.iter_mut().take(n * D) {
            *v = next();
        }
        for w in b.logw.iter_mut().take(n) {
            *w = -3.0 * next();
        }
        // Normalised log-weights, as the filter keeps them.
        if pf::weights::normalise(&mut b.logw[..n]).is_err() {
            b.n = 0;
        }
        b
    }

    fn ot_resample(&mut self) -> Result<pf::OtReport<f32>, otcore::Error> {
        let n = self.n;
        pf::ot_resample(
            &self.x[..n * D],
            &self.logw[..n],
            dim(),
            &OtConfig::new(0.5),
            &mut self.out[..n * D],
            &mut self.ws[..pf::ot_workspace_len(n, D)],
        )
    }

    /// OT resampling that runs exactly `k` iterations (tolerance 0, cap `k`): the
    /// worst case of an iteration budget.
    fn ot_resample_budget(&mut self, k: u32) -> Result<pf::OtReport<f32>, otcore::Error> {
        let n = self.n;
        let cfg = OtConfig {
            tolerance: 0.0,
            max_iterations: k,
            ..OtConfig::new(0.5)
        };
        pf::ot_resample(
            &self.x[..n * D],
            &self.logw[..n],
            dim(),
            &cfg,
            &mut self.out[..n * D],
            &mut self.ws[..pf::ot_workspace_len(n, D)],
        )
    }

    fn systematic(&mut self) -> Result<(), otcore::Error> {
        let n = self.n;
        pf::resample_particles(
            Scheme::Systematic,
            &self.logw[..n],
            &mut self.rng,
            &self.x[..n * D],
            dim(),
            &mut self.out[..n * D],
        )
    }

    /// One filter step: a random-walk transition and a Gaussian likelihood around
    /// (0.5, 0.5), resampling always (so the measured step includes it).
    fn step(&mut self, optimal: bool) -> Result<(), otcore::Error> {
        let n = self.n;
        let resampler = if optimal {
            Resampler::Optimal(OtConfig::new(0.5))
        } else {
            Resampler::Classical(Scheme::Systematic)
        };
        let cfg = FilterConfig {
            resampler,
            trigger: Trigger::Always,
        };
        pf::step(
            &mut self.x[..n * D],
            &mut self.logw[..n],
            dim(),
            &cfg,
            &mut self.totals,
            &mut self.rng,
            |prev: &[f32], next: &mut [f32], rng: &mut SplitMix64| {
                for (p, q) in prev.iter().zip(next.iter_mut()) {
                    *q = *p + 0.05 * (rng.uniform::<f32>() - 0.5);
                }
                Ok(())
            },
            |xs: &[f32], ll: &mut [f32]| {
                for (row, l) in xs.chunks_exact(D).zip(ll.iter_mut()) {
                    let (dx, dy) = (row[0] - 0.5, row[1] - 0.5);
                    *l = -(dx * dx + dy * dy) / (2.0 * 0.01);
                }
                Ok(())
            },
            &mut self.mean,
            &mut self.cov,
            &mut self.ws[..pf::filter_workspace_len(n, D, optimal)],
        )
        .map(|_| ())
    }
}

fn stack_ot_resample(b: &mut PfBench) -> bool {
    b.ot_resample().is_ok()
}
fn stack_systematic(b: &mut PfBench) -> bool {
    b.systematic().is_ok()
}
fn stack_step_ot(b: &mut PfBench) -> bool {
    b.step(true).is_ok()
}
fn stack_step_systematic(b: &mut PfBench) -> bool {
    b.step(false).is_ok()
}

type PfMeasured = (&'static str, fn(&mut PfBench) -> bool);

/// Particle-filter workspace (per algorithm, N ∈ {32, 64, 128}), stack (painting) and
/// the instructions of one OT resampling (N ∈ {32, 64}, d = 2); `false` if a call
/// failed.
fn measure_pf() -> bool {
    let mut ok = true;
    for n in [32usize, 64, 128] {
        hprintln!(
            "workspace pf n={} d={} ot_resample_f32_bytes={} vjp_f32_bytes={} step_systematic_f32_bytes={} step_ot_f32_bytes={}",
            n,
            D,
            pf::ot_workspace_len(n, D) * 4,
            pf::vjp_workspace_len(n, D) * 4,
            pf::filter_workspace_len(n, D, false) * 4,
            pf::filter_workspace_len(n, D, true) * 4
        );
    }
    let calls: [PfMeasured; 4] = [
        ("pf_ot_resample", stack_ot_resample),
        ("pf_resample_systematic", stack_systematic),
        ("pf_step_ot", stack_step_ot),
        ("pf_step_systematic", stack_step_systematic),
    ];
    for (name, call) in calls {
        let mut bench = PfBench::new(64);
        let (good, depth) = stack::measure(call, &mut bench);
        ok &= good;
        hprintln!("stack {} n=64 d=2 bytes={}", name, depth);
    }
    // The predict noise of a tick: N·d standard normals (`fill_normal`: branch-free
    // Box–Muller, one SplitMix64 word, polynomial ln/sin/cos and one `sqrt` per pair).
    let mut bench = PfBench::new(64);
    otcore_icount_mark();
    {
        let b = black_box(&mut bench);
        b.rng.fill_normal(&mut b.out[..64 * D]);
    }
    otcore_icount_mark();
    hprintln!("region pf_fill_normal n=64 d={} normals={}", D, 64 * D);
    // One tick of a systematic filter (uniform transition noise, resampling always).
    let mut bench = PfBench::new(64);
    otcore_icount_mark();
    let r = black_box(&mut bench).step(false);
    otcore_icount_mark();
    ok &= r.is_ok();
    hprintln!("region pf_step_systematic n=64 d={}", D);
    // Worst case per iteration budget: every iteration runs (docs/embedded.md fits
    // instructions = N̂²·(a·K + b) to these).
    for n in [16usize, 32, 64, 128] {
        for k in [5u32, 20] {
            let mut bench = PfBench::new(n);
            otcore_icount_mark();
            let r = black_box(&mut bench).ot_resample_budget(k);
            otcore_icount_mark();
            ok &= r.is_ok_and(|rep| rep.iterations == k);
            hprintln!(
                "region pf_ot_resample_budget n={} d={} max_iterations={}",
                n,
                D,
                k
            );
        }
    }
    for n in [32usize, 64] {
        let mut bench = PfBench::new(n);
        otcore_icount_mark();
        let r = black_box(&mut bench).ot_resample();
        otcore_icount_mark();
        match r {
            Ok(rep) => hprintln!(
                "region pf_ot_resample n={} d={} ot_iterations={}",
                n,
                D,
                rep.iterations
            ),
            Err(e) => {
                hprintln!("ot_resample failed: {}", e);
                ok = false;
            }
        }
    }
    ok
}

#[entry]
fn main() -> ! {
    for n in [32usize, 64, 128] {
        hprintln!(
            "workspace n={} m={} d={} f32_bytes={} f64_bytes={}",
            n,
            n,
            D,
            ot::workspace_len(n, n, D) * 4,
            ot::workspace_len(n, n, D) * 8
        );
    }

    let mut ok = true;
    let mut bench = Bench::new(64);
    let calls: [Measured; 5] = [
        ("solve", stack_solve),
        ("plan_apply", stack_apply),
        ("plan_apply_transpose", stack_apply_t),
        ("plan_barycentric", stack_barycentric),
        ("plan_transport_cost", stack_cost),
    ];
    for (name, call) in calls {
        let (good, depth) = stack::measure(call, &mut bench);
        ok &= good;
        hprintln!("stack {} n=64 d=2 bytes={}", name, depth);
    }

    // Instruction counts: for n in {64, 128}, solves of exactly K1 and K2 iterations
    // (tolerance 0 never stops early), each between two markers.
    for n in [64usize, 128] {
        let mut bench = Bench::new(n);
        bench.config.tolerance = 0.0;
        for k in [K1, K2] {
            bench.config.max_iterations = k;
            otcore_icount_mark();
            let sol = black_box(&mut bench).solve();
            otcore_icount_mark();
            match sol {
                Ok(s) => hprintln!(
                    "region solve n={} m={} d={} iterations={}",
                    n,
                    n,
                    D,
                    s.iterations
                ),
                Err(e) => {
                    hprintln!("solve failed: {}", e);
                    ok = false;
                }
            }
        }
    }
    ok &= measure_sde();
    ok &= measure_pf();
    harness::exit(ok)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    harness::on_panic(info)
}
