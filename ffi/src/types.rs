//! The `#[repr(C)]` structs and constants of the C ABI. Each struct is generic over the
//! scalar; cbindgen emits one C struct per precision, `…_f32` (float) and `…_f64`
//! (double).

use core::ffi::c_void;

use otcore::ot::{Acceleration, Config, Epsilon, Init, Solution};
use otcore::Real;

use crate::status::otc_status;

/// Required alignment, in bytes, of the workspace pointer of every function that takes
/// one (`OTC_STATUS_MISALIGNED` otherwise). `malloc` and any `double` array satisfy it.
pub const OTC_WORKSPACE_ALIGN: usize = 8;

/// `epsilon_mode`: ε is `epsilon`, in cost units.
pub const OTC_EPSILON_ABSOLUTE: i32 = 0;
/// `epsilon_mode`: ε = `epsilon` × the unweighted mean of C over all n·m pairs (if all
/// costs are 0, the mean is taken as 1 cost unit).
pub const OTC_EPSILON_RELATIVE: i32 = 1;

/// `init`: start from f = g = 0 (the contents of f and g on entry are ignored).
pub const OTC_INIT_ZERO: i32 = 0;
/// `init`: warm start from the caller's f, g (cost units, any pair finite at
/// positive-weight points, e.g. the answer for the previous frame). At least one full
/// iteration runs.
pub const OTC_INIT_POTENTIALS: i32 = 1;
/// `init`: continue a previous solve of the same problem from the f, g it returned: an
/// already converged pair returns at once with 0 iterations, and k calls with budget b
/// reproduce one call with budget k·b bit for bit.
pub const OTC_INIT_RESUME: i32 = 2;
/// `init`: start from the Gaussian initializer (Thornton & Cuturi 2023): f from the
/// Monge map between Gaussians fitted to both clouds (weighted means and covariances,
/// a singular covariance handled on its range), g = 0. Point clouds only. Needs the
/// workspace of `otc_sinkhorn_workspace_size_for_f32`; f, g are not read.
pub const OTC_INIT_GAUSSIAN: i32 = 3;
/// `init`: start from the exact dual of the sorted (monotone) coupling, any weights,
/// O(n log n), with f corrected by half the cloud's soft c-transform onto itself (the
/// first-order entropic term; one pass over n² pairs). Point clouds in d = 1 only
/// (`OTC_STATUS_INVALID_PARAMETER` otherwise).
pub const OTC_INIT_SORTED: i32 = 4;
/// `init`: solve on `subsample_size` evenly spaced points of each cloud first, each
/// weighted by the mass of the cloud's points nearest to it and moved to their
/// weighted mean (same ε and settings, its own budget of `max_iterations`, not
/// counted in `otc_sinkhorn_result.iterations`), then start from its potentials
/// extended to every point by the soft c-transform (`otc_c_transform_f32`). Point
/// clouds only.
pub const OTC_INIT_SUBSAMPLE: i32 = 5;

/// How a point cloud is laid out in memory, in elements (not bytes): coordinate k of
/// point i is `x[i·point_stride + k·coord_stride]`. A zeroed field takes its default,
/// so a zeroed layout is the dense row-major n×d array.
///
/// | array | `point_stride` | `coord_stride` |
/// |---|---|---|
/// | row-major n×d (default) | d (or 0) | 1 (or 0) |
/// | column-major n×d (Eigen's default `Matrix<float, Dynamic, 2>`) | 1 | n |
/// | padded records, e.g. PCL `PointXYZ` (x, y, z, pad) | 4 | 1 (or 0) |
///
/// The library reads the points once per call into its own workspace (and one point
/// per row and pass), so a layout costs nothing in the O(n·m) loop.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct otc_points_layout {
    /// Elements from one point to the next; 0 means d.
    pub point_stride: usize,
    /// Elements from one coordinate of a point to the next; 0 means 1.
    pub coord_stride: usize,
}

impl otc_points_layout {
    /// The (point, coordinate) strides with the defaults of zeroed fields applied.
    pub(crate) fn strides(self, d: usize) -> (usize, usize) {
        let point = if self.point_stride == 0 {
            d
        } else {
            self.point_stride
        };
        let coord = if self.coord_stride == 0 {
            1
        } else {
            self.coord_stride
        };
        (point, coord)
    }
}

/// An entropic optimal-transport problem between n weighted points (rows, weights `a`)
/// and m weighted points (columns, weights `b`). Scalars are `float` in
/// `otc_ot_problem_f32` and `double` in `otc_ot_problem_f64`.
///
/// Give **either** two point clouds `x` and `y` (then `c` must be NULL) **or** a dense
/// cost matrix `c` (then `x` and `y` must be NULL):
/// - point clouds: C_ij = scale·‖x_i − y_j‖² (squared Euclidean), recomputed on the
///   fly, so memory stays O(n + m); each cloud in the layout its `x_layout` /
///   `y_layout` describes (zeroed: row-major);
/// - dense: C_ij = c[i·m + j]; `d`, `scale` and the layouts are ignored.
///
/// Weights are in any consistent mass unit: finite, ≥ 0, with a positive sum on each
/// side. A zero-weight point carries no mass and gets potential −∞. The plan is
/// P_ij = exp((f_i + g_j − C_ij)/ε), with f, g and ε in cost units (the units of
/// scale·‖x − y‖²: m² for positions in metres with scale 1).
///
/// Initialise with `otc_ot_problem_f32 p = { .struct_size = sizeof p };`, then
/// fill in the fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_ot_problem<T> {
    /// `sizeof` this struct, set by the caller; anything else gives
    /// `OTC_STATUS_STRUCT_SIZE`.
    pub struct_size: usize,
    /// Source points, n×d in the layout `x_layout` (row-major by default: point i at
    /// `x[i·d .. i·d + d]`), or NULL.
    pub x: *const T,
    /// Target points, m×d in the layout `y_layout`, or NULL.
    pub y: *const T,
    /// Dense cost matrix, n×m row-major, in cost units, or NULL.
    pub c: *const T,
    /// Source weights, length n (never NULL).
    pub a: *const T,
    /// Target weights, length m (never NULL).
    pub b: *const T,
    /// Number of source points (rows), ≥ 1.
    pub n: usize,
    /// Number of target points (columns), ≥ 1.
    pub m: usize,
    /// Point dimension, ≥ 1 for point clouds; ignored for a dense cost.
    pub d: usize,
    /// Cost scale s > 0 for point clouds (1 as in POT and OTT-JAX; 0.5 as in GeomLoss);
    /// ignored for a dense cost.
    pub scale: T,
    /// Layout of `x` (zeroed: row-major).
    pub x_layout: otc_points_layout,
    /// Layout of `y` (zeroed: row-major).
    pub y_layout: otc_points_layout,
}

/// One task of a parallel-for: the rows of a kernel pass numbered `index`. Call it with
/// the `task_ctx` that `otc_parallel_run` received.
pub type otc_parallel_task = Option<unsafe extern "C" fn(task_ctx: *mut c_void, index: usize)>;

/// A caller's parallel-for: calls `task(task_ctx, i)` once for every `i` in
/// `[0, tasks)`, in any order, on any threads, and returns after every call has
/// returned: 0 on success, anything else on failure (the solve then returns
/// `OTC_STATUS_CALLBACK_FAILED`, as it does if a task was not run). With OpenMP:
/// `#pragma omp parallel for` over `i`.
pub type otc_parallel_run = Option<
    unsafe extern "C" fn(
        pool: *mut c_void,
        tasks: usize,
        task: otc_parallel_task,
        task_ctx: *mut c_void,
    ) -> i32,
>;

/// A thread pool the library borrows for one call (it starts no threads of its own),
/// set in `otc_sinkhorn_config.parallel` or `otc_ot_resample_config.parallel`: the
/// kernel passes cut their target rows into at most 64 tasks of at least 256 rows, a
/// cut that depends only on the row count, and combine the tasks' sums in task order,
/// so the results are bit-identical with or without a pool, whatever the number of
/// workers and the order the tasks run in. Passes of ≤ 256 rows run on the calling
/// thread; Cortex-M builds always do.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_parallel_for {
    /// `sizeof` this struct, set by the caller.
    pub struct_size: usize,
    /// The parallel-for (never NULL).
    pub run: otc_parallel_run,
    /// Passed to `run` as its first argument (the pool object).
    pub pool: *mut c_void,
}

/// Sinkhorn settings. Fill with `otc_sinkhorn_config_default_f32` /
/// `otc_sinkhorn_config_default_f64`, then change what you need. Scalars are `float` in
/// `otc_sinkhorn_config_f32` and `double` in `otc_sinkhorn_config_f64`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_sinkhorn_config<T> {
    /// `sizeof` this struct (set by the `_default` initializer); anything else gives
    /// `OTC_STATUS_STRUCT_SIZE`.
    pub struct_size: usize,
    /// `OTC_EPSILON_ABSOLUTE` or `OTC_EPSILON_RELATIVE` (default).
    pub epsilon_mode: i32,
    /// `OTC_INIT_ZERO` (default), `OTC_INIT_POTENTIALS`, `OTC_INIT_RESUME`, or an
    /// initializer: `OTC_INIT_GAUSSIAN`, `OTC_INIT_SORTED`, `OTC_INIT_SUBSAMPLE`.
    pub init: i32,
    /// ε in **cost units** (absolute mode: the units of scale·‖x − y‖², e.g. m² for
    /// positions in metres) or as a multiple of the mean cost (relative mode, default
    /// 0.05, unit-free). Must be finite and > 0. Not the ε of OT resampling, which is
    /// dimensionless.
    pub epsilon: T,
    /// KL relaxation ρ_a of the row marginal, in cost units; `INFINITY` (default) keeps
    /// it hard. Update factor τ_a = ρ_a/(ρ_a + ε), as in OTT-JAX and POT.
    pub rho_a: T,
    /// Same for the column marginal.
    pub rho_b: T,
    /// Stop when the L1 marginal error (weight units) is ≤ this (default 1e-4 for
    /// float, 1e-7 for double). Must be finite and ≥ 0.
    pub tolerance: T,
    /// ε-scaling factor q in (0, 1), or 0 to disable it (default 0). From
    /// `OTC_INIT_ZERO` the solver first solves at ε₀ = the largest cost, then at ε₀q,
    /// ε₀q², … down to ε, each stage warm-started from the previous one; warm starts
    /// skip the stages. Plain Sinkhorn needs on the order of max(C)/ε iterations, so
    /// below ε ≈ 0.01 × mean cost use q ≈ 0.5–0.8.
    pub epsilon_scaling: T,
    /// Maximum number of full iterations (one g- plus one f-update) in this call, over
    /// all ε-scaling stages (default 1000): a hard bound on the reported `iterations`.
    /// At least 1 unless `init` is `OTC_INIT_RESUME`.
    pub max_iterations: u32,
    /// Points taken from each cloud by `OTC_INIT_SUBSAMPLE` (≥ 1; all of a smaller
    /// cloud); ignored by the other starts (default 0).
    pub subsample_size: u32,
    /// Adaptive over-relaxation (Lehmann et al. 2021, as OTT-JAX's `Momentum`): 0 = off
    /// (default), or k ≥ 2: from iteration k at the final ε, once the error decreases
    /// at a steady rate r, the updates are over-relaxed by ω = 2/(1 + √(1 − r))
    /// (r ≤ 0.99). Every 5/√(1 − r) iterations the error must be below plain
    /// Sinkhorn's predicted one, else (and at the tolerance) it turns itself off for
    /// good; the solve only stops after a plain iteration, so the reported error keeps
    /// its meaning and `max_iterations` stays a hard bound.
    pub acceleration_start: u32,
    /// Must be zero.
    pub reserved: [u32; 1],
    /// A caller's thread pool for `otc_sinkhorn_solve`'s passes, or NULL (default): run
    /// on the calling thread. The other functions that take this config ignore it.
    pub parallel: *const otc_parallel_for,
}

/// What a solve reports besides the potentials. Scalars are `float` in
/// `otc_sinkhorn_result_f32` and `double` in `otc_sinkhorn_result_f64`.
///
/// Set `struct_size = sizeof(otc_sinkhorn_result_f32)` (or `_f64`) before the call,
/// e.g. `otc_sinkhorn_result_f32 res = { .struct_size = sizeof res };`: the library
/// writes no more than that many bytes, and only on success.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_sinkhorn_result<T> {
    /// `sizeof` this struct, set by the caller.
    pub struct_size: usize,
    /// `OTC_STATUS_OK` (converged), `OTC_STATUS_MAX_ITERATIONS` or
    /// `OTC_STATUS_REG_COST_OVERFLOW`, as returned.
    pub status: i32,
    /// Full iterations performed in this call.
    pub iterations: u32,
    /// L1 marginal error of the returned potentials, in weight units.
    pub error: T,
    /// The absolute ε used, in cost units: pass it to the `otc_plan_*` functions.
    pub epsilon: T,
    /// Regularised OT cost in OTT-JAX's dual form (`reg_ot_cost`), cost × mass units:
    /// for hard marginals ⟨a, f − ε ln a⟩ + ⟨b, g − ε ln b⟩ + ε(Σa·Σb − ΣP); −INFINITY
    /// with `OTC_STATUS_REG_COST_OVERFLOW`.
    pub reg_ot_cost: T,
    /// Transport cost ⟨C, P⟩ = Σ_ij C_ij P_ij of the returned plan, cost × mass units.
    pub transport_cost: T,
    /// Total mass Σ_ij P_ij of the returned plan.
    pub plan_mass: T,
    /// Written as zero.
    pub reserved: [T; 3],
}

impl<T: Real> otc_sinkhorn_config<T> {
    /// The C view of [`Config::default`] with [`Init::Zero`].
    pub(crate) fn default_values() -> Self {
        let cfg = Config::<T>::default();
        let (epsilon_mode, epsilon) = match cfg.epsilon {
            Epsilon::Absolute(e) => (OTC_EPSILON_ABSOLUTE, e),
            Epsilon::RelativeToMeanCost(r) => (OTC_EPSILON_RELATIVE, r),
        };
        Self {
            struct_size: size_of::<Self>(),
            epsilon_mode,
            init: OTC_INIT_ZERO,
            epsilon,
            rho_a: cfg.rho_a,
            rho_b: cfg.rho_b,
            tolerance: cfg.tolerance,
            epsilon_scaling: cfg.epsilon_scaling,
            max_iterations: cfg.max_iterations,
            subsample_size: 0,
            acceleration_start: 0,
            reserved: [0; 1],
            parallel: core::ptr::null(),
        }
    }

    /// The core settings and start mode.
    ///
    /// # Errors
    /// `StructSize` for a wrong size or non-zero reserved fields, `InvalidParameter`
    /// for an unknown `epsilon_mode` or `init`.
    pub(crate) fn to_core(self) -> Result<(Config<T>, Init), otc_status> {
        if self.struct_size != size_of::<Self>() || self.reserved != [0; 1] {
            return Err(otc_status::StructSize);
        }
        let epsilon = match self.epsilon_mode {
            OTC_EPSILON_ABSOLUTE => Epsilon::Absolute(self.epsilon),
            OTC_EPSILON_RELATIVE => Epsilon::RelativeToMeanCost(self.epsilon),
            _ => return Err(otc_status::InvalidParameter),
        };
        let init = match self.init {
            OTC_INIT_ZERO => Init::Zero,
            OTC_INIT_POTENTIALS => Init::Potentials,
            OTC_INIT_RESUME => Init::Resume,
            OTC_INIT_GAUSSIAN => Init::Gaussian,
            OTC_INIT_SORTED => Init::Sorted,
            OTC_INIT_SUBSAMPLE => Init::Subsample {
                size: self.subsample_size,
            },
            _ => return Err(otc_status::InvalidParameter),
        };
        let acceleration = match self.acceleration_start {
            0 => Acceleration::Off,
            start => Acceleration::Adaptive { start },
        };
        let config = Config {
            epsilon,
            rho_a: self.rho_a,
            rho_b: self.rho_b,
            tolerance: self.tolerance,
            max_iterations: self.max_iterations,
            epsilon_scaling: self.epsilon_scaling,
            acceleration,
        };
        Ok((config, init))
    }
}

impl<T: Real> otc_sinkhorn_result<T> {
    /// The C view of a core solution.
    pub(crate) fn from_core(sol: &Solution<T>) -> Self {
        Self {
            struct_size: size_of::<Self>(),
            status: otc_status::from(sol.status) as i32,
            iterations: sol.iterations,
            error: sol.error,
            epsilon: sol.epsilon,
            reg_ot_cost: sol.reg_ot_cost,
            transport_cost: sol.transport_cost,
            plan_mass: sol.plan_mass,
            reserved: [T::ZERO; 3],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_sizes_are_pinned() {
        assert_eq!(size_of::<otc_ot_problem<f32>>(), 112);
        assert_eq!(size_of::<otc_ot_problem<f64>>(), 112);
        assert_eq!(size_of::<otc_sinkhorn_config<f32>>(), 64);
        assert_eq!(size_of::<otc_sinkhorn_config<f64>>(), 80);
        assert_eq!(size_of::<otc_parallel_for>(), 24);
        assert_eq!(size_of::<otc_sinkhorn_result<f32>>(), 48);
        assert_eq!(size_of::<otc_sinkhorn_result<f64>>(), 80);
    }

    #[test]
    fn default_config_round_trips() {
        let (cfg, init) = otc_sinkhorn_config::<f64>::default_values()
            .to_core()
            .unwrap();
        assert_eq!(cfg, Config::default());
        assert_eq!(init, Init::Zero);
    }
}
