//! The SDE reference cases and the code that computes them.
//!
//! `no_std`, no allocation. The same file runs on the host (included by
//! `tests/tests/embedded_sde_reference.rs`, which writes the baked data file
//! `sde_data.rs` and checks it stays current) and on the Cortex-M4F (the `tests`
//! firmware), so both sides compute through exactly the same calls: a batch of
//! [`N`] samples in dimension [`D`] drawn from the VP prior, then one sampler driven
//! by the exact score of a two-component Gaussian mixture.

use otcore::sde::ito::{ito_step, ito_workspace_len, ItoMethod, Sde};
use otcore::sde::{
    self, adaptive, grid, sample, step, AdaptiveConfig, Churn, Config, Covariance, Method, Mixture,
    Multistep, Process, Spacing,
};
use otcore::Error;

/// Samples per batch.
pub const N: usize = 8;
/// Dimension of a sample.
pub const D: usize = 2;
/// Values of a batch.
pub const ND: usize = N * D;
/// Seed of every case (prior and sampler noise).
pub const SEED: u64 = 0x5DE0_0000_0000_0005;
/// Workspace of every sampler here (the Itô step needs less).
pub const WS: usize = sde::workspace_len(N, D);

/// Largest difference allowed between the Cortex-M4F's and the host's f32 results,
/// in units in the last place (ulp) of the host's value.
///
/// Why 0 (bit-identical): unlike Sinkhorn, no SDE path goes through the streaming
/// kernel whose chunk width differs between targets (`otcore::kernel::LANES`): every
/// sampler, the mixture score and the noise run the same IEEE-754 binary32 operations
/// in the same order on both sides, the f64 schedule scalars are computed by the same
/// `libm` code (soft-float on the M4F, correctly rounded like the host's SSE2), and
/// Rust never contracts a·b + c into an FMA on either side (the host test is skipped
/// on an FMA build). Measured: every baked value matches bit for bit under QEMU. A
/// single differently rounded operation anywhere would be reported here.
pub const ULP_AGREEMENT: u32 = 0;

/// The baked cases, in order: (name, what it runs).
pub const NAMES: &[&str] = &[
    "prior_sample",
    "mixture_score",
    "euler_maruyama",
    "probability_flow_euler",
    "dpm_solver_pp_2m",
    "dpm_solver_pp_2m_single_steps",
    "heun_churn",
    "adaptive",
    "ito_milstein",
];

/// One baked case: the host's f32 result and its evaluation count.
pub struct SdeCase {
    /// One of [`NAMES`].
    pub name: &'static str,
    /// Batched model (or SDE) evaluations.
    pub evaluations: u64,
    /// The resulting batch, N×D row-major.
    pub x: &'static [f32],
}

/// The two-component mixture the score comes from: weights, means (K×D), isotropic
/// variances (K).
const WEIGHTS: [f32; 2] = [0.3, 0.7];
const MEANS: [f32; 4] = [-1.5, 0.5, 1.0, -0.75];
const VARIANCES: [f32; 2] = [0.04, 0.09];

/// The process of every case.
const PROCESS: Process = Process::VP;

/// The exact mixture score under [`PROCESS`].
///
/// # Errors
/// None for these constants (the mixture's own checks).
pub fn mixture() -> Result<Mixture<'static, f32>, Error> {
    Mixture::new(
        PROCESS,
        &WEIGHTS,
        &MEANS,
        Covariance::Isotropic(&VARIANCES),
        D,
    )
}

/// An SDE with multiplicative noise for the Itô step: an Ornstein–Uhlenbeck drift
/// `μ = −x` and diffusion `σ = 0.3 + 0.2·x` (state-dependent, so Milstein's
/// correction term is not zero).
struct Ou;

impl Sde<f32> for Ou {
    fn eval(
        &mut self,
        x: &[f32],
        _t: f32,
        drift: &mut [f32],
        diffusion: &mut [f32],
    ) -> Result<(), Error> {
        for ((m, s), v) in drift.iter_mut().zip(diffusion.iter_mut()).zip(x) {
            *m = -*v;
            *s = 0.3 + 0.2 * *v;
        }
        Ok(())
    }
}

/// Grid of the fixed-step cases: `len` points from T to t_eps.
fn grid_of(spacing: Spacing, out: &mut [f32]) -> Result<(), Error> {
    grid::fill(&PROCESS, spacing, PROCESS.t_max(), PROCESS.t_eps(), out)
}

/// Computes case `name` into `x` (N×D) using `ws`; returns the evaluation count.
///
/// # Errors
/// Any error of the calls (a case that errors fails), `InvalidParameter` for an
/// unknown name.
pub fn compute(name: &str, x: &mut [f32; ND], ws: &mut [f32; WS]) -> Result<u64, Error> {
    PROCESS.prior_sample(SEED, 0, D, x)?;
    let mut model = mixture()?;
    let mut grid10 = [0.0f32; 11];
    match name {
        "prior_sample" => Ok(0),
        "mixture_score" => {
            // The score at t = 0.5 of the prior batch.
            let t = [0.5f32; N];
            let mut out = [0.0f32; ND];
            model.score(x, &t, &mut out)?;
            *x = out;
            Ok(1)
        }
        "euler_maruyama" | "probability_flow_euler" | "dpm_solver_pp_2m" | "heun_churn" => {
            let (method, spacing) = match name {
                "euler_maruyama" => (Method::EulerMaruyama, Spacing::UniformTime),
                "probability_flow_euler" => (Method::ProbabilityFlowEuler, Spacing::UniformTime),
                "dpm_solver_pp_2m" => (Method::DpmSolverPp2M, Spacing::UniformLogSnr),
                _ => (
                    Method::Heun(Churn {
                        gamma: 0.2,
                        ..Churn::NONE
                    }),
                    Spacing::Karras { rho: 7.0 },
                ),
            };
            grid_of(spacing, &mut grid10)?;
            let stats = sample(
                &PROCESS,
                &Config::new(method),
                &mut model,
                &grid10,
                x,
                D,
                SEED,
                0,
                ws,
            )?;
            Ok(stats.evaluations)
        }
        "dpm_solver_pp_2m_single_steps" => {
            // The control-loop form: one `step` per tick with caller-held history.
            grid_of(Spacing::UniformLogSnr, &mut grid10)?;
            let mut denoised = [0.0f32; ND];
            let mut hist = Multistep {
                denoised: &mut denoised,
                h_prev: None,
            };
            let config = Config::new(Method::DpmSolverPp2M);
            let mut evaluations = 0;
            for (j, pair) in (0_u64..).zip(grid10.windows(2)) {
                let [t, t_next] = pair else {
                    return Err(Error::EmptyInput);
                };
                evaluations += step(
                    &PROCESS,
                    &config,
                    &mut model,
                    x,
                    D,
                    *t,
                    *t_next,
                    j,
                    SEED,
                    0,
                    Some(&mut hist),
                    ws,
                )?;
            }
            Ok(evaluations)
        }
        "adaptive" => {
            let config = AdaptiveConfig::new(&PROCESS);
            let stats = adaptive(&PROCESS, &config, &mut model, x, D, SEED, 0, ws)?;
            if stats.unfinished != 0 {
                return Err(Error::InvalidParameter);
            }
            Ok(stats.evaluations)
        }
        "ito_milstein" => {
            let ws = ws
                .get_mut(..ito_workspace_len(N, D))
                .ok_or(Error::WorkspaceTooSmall)?;
            let mut evaluations = 0;
            for k in 0..5_u64 {
                let t = 0.1 * k as f32;
                evaluations += u64::from(ito_step(
                    ItoMethod::Milstein,
                    &mut Ou,
                    x,
                    D,
                    t,
                    0.1,
                    SEED,
                    0,
                    k,
                    ws,
                )?);
            }
            Ok(evaluations)
        }
        _ => Err(Error::InvalidParameter),
    }
}

/// Distance in ulp between two finite f32 (`u32::MAX` if either is not finite or the
/// signs differ and the values are not both zero).
pub fn ulps(a: f32, b: f32) -> u32 {
    if a == b {
        return 0;
    }
    if !a.is_finite() || !b.is_finite() || (a < 0.0) != (b < 0.0) {
        return u32::MAX;
    }
    a.abs().to_bits().abs_diff(b.abs().to_bits())
}

/// One disagreement found by [`compare`].
#[derive(Clone, Copy, Debug)]
pub struct Mismatch {
    /// Index in the batch (`usize::MAX`: the evaluation count).
    pub index: usize,
    /// Value computed here.
    pub got: f32,
    /// Baked value.
    pub want: f32,
    /// Their distance in ulp.
    pub ulps: u32,
}

/// Compares a computed batch and evaluation count with a baked case and calls `report`
/// for each value further than [`ULP_AGREEMENT`] (the evaluation count must be equal);
/// returns how many there were.
pub fn compare(
    got: &[f32],
    evaluations: u64,
    want: &SdeCase,
    mut report: impl FnMut(Mismatch),
) -> usize {
    let mut bad = 0;
    if evaluations != want.evaluations || got.len() != want.x.len() {
        bad += 1;
        report(Mismatch {
            index: usize::MAX,
            // Counts here are < 2^24, exact in f32.
            got: evaluations as f32,
            want: want.evaluations as f32,
            ulps: u32::MAX,
        });
    }
    for (index, (g, w)) in got.iter().zip(want.x).enumerate() {
        let u = ulps(*g, *w);
        if u > ULP_AGREEMENT {
            bad += 1;
            report(Mismatch {
                index,
                got: *g,
                want: *w,
                ulps: u,
            });
        }
    }
    bad
}
