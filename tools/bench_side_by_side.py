"""Side by side: otcore (the C library a user links), OTT-JAX and POT on the same
problems, in one process, pinned to one core, in alternating rounds.

`--what sinkhorn` (default):

Problem (DESIGN.md §7): n = m points, x uniform in [-1, 1]^d and y uniform in
[-0.25, 1.25]^d (one seeded LCG), uniform weights, cost ||x - y||^2, eps = 0.05 x mean
cost, 50 fixed iterations (no stopping test in any library). Reported: ns per matrix
entry per half-iteration, time / (2 * 50 * n * m), the best of the rounds, and the
ratios (peer time / otcore time, > 1 means otcore is faster).

* otcore: `otc_sinkhorn_solve_f32/_f64` from target/release/libotcore_ffi.so through
  ctypes (build it first: `cargo build --release -p otcore-ffi`), on the instruction-set
  path the library picks at run time, and pinned to the portable path.
* OTT-JAX: `Sinkhorn(lse_mode=True, min_iterations=max_iterations=50)` on a
  `PointCloud` (squared Euclidean), jit-compiled, single-threaded XLA.
* POT: `ot.bregman.sinkhorn_log(numItermax=50, stopThr=0)`, cost matrix included.

Not part of the test suite. From the repository root, in a venv with
tools/reference/requirements.txt installed:

    cargo build --release -p otcore-ffi
    python3 tools/bench_side_by_side.py [--rounds 5] [--cpu 1]

`--what resample`: OT resampling of a weighted particle cloud (N particles in d
dimensions, log-weights of a Gaussian likelihood), each library with its own stopping
rule at 1e-3, through the transported particles x~ = N * P x.
* otcore: `otc_ot_resample_f32/_f64` with its defaults (annealed, stop when every row of
  the transport sums to 1 within 1e-3), eps = 0.5 (dimensionless: the normalised cloud).
* OTT-JAX: `Sinkhorn(threshold=1e-3)` with its defaults (no annealing, L1 marginal error
  checked every 10 iterations) on the same normalised cloud and cost 1/2 ||z - z'||^2 at
  the same eps, then N * P z, jit-compiled as one function with the normalisation.
Reported: ms per call (best of the rounds), iterations, and the largest difference
between the two libraries' particles relative to the cloud's spread.

    python3 tools/bench_side_by_side.py --what resample [--rounds 5] [--cpu 1]

f64 problems run in a child process (JAX's x64 switch is global).
"""

import argparse
import warnings
import ctypes as ct
import os
import subprocess
import sys
import time

ITERATIONS = 50
PROBLEMS = {"f32": [(256, 2), (1024, 2), (1024, 3)], "f64": [(1024, 2)]}


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--cpu", type=int, default=1, help="the core to pin to")
    p.add_argument("--prec", choices=["f32", "f64", "both"], default="both")
    p.add_argument("--lib", default="target/release/libotcore_ffi.so")
    p.add_argument("--what", choices=["sinkhorn", "resample"], default="sinkhorn")
    return p.parse_args()


ARGS = parse()
warnings.filterwarnings("ignore", message="Sinkhorn did not converge")
if ARGS.prec == "both":
    for prec in ("f32", "f64"):
        rc = subprocess.call([sys.executable, __file__, "--prec", prec,
                              "--rounds", str(ARGS.rounds), "--cpu", str(ARGS.cpu),
                              "--lib", ARGS.lib, "--what", ARGS.what])
        if rc:
            sys.exit(rc)
    sys.exit(0)

# One core, one thread everywhere, before any numerical library starts its pools.
os.sched_setaffinity(0, {ARGS.cpu})
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402
import jax  # noqa: E402

jax.config.update("jax_enable_x64", ARGS.prec == "f64")
import jax.numpy as jnp  # noqa: E402
import ot  # noqa: E402
import ott  # noqa: E402
from ott.geometry import pointcloud  # noqa: E402
from ott.problems.linear import linear_problem  # noqa: E402
from ott.solvers.linear import sinkhorn  # noqa: E402

REAL = {"f32": (ct.c_float, np.float32), "f64": (ct.c_double, np.float64)}[ARGS.prec]


class Layout(ct.Structure):
    _fields_ = [("point_stride", ct.c_size_t), ("coord_stride", ct.c_size_t)]


def structs(real):
    ptr = ct.POINTER(real)

    class Problem(ct.Structure):
        _fields_ = [("struct_size", ct.c_size_t), ("x", ptr), ("y", ptr), ("c", ptr),
                    ("a", ptr), ("b", ptr), ("n", ct.c_size_t), ("m", ct.c_size_t),
                    ("d", ct.c_size_t), ("scale", real), ("x_layout", Layout),
                    ("y_layout", Layout)]

    class Config(ct.Structure):
        _fields_ = [("struct_size", ct.c_size_t), ("epsilon_mode", ct.c_int32),
                    ("init", ct.c_int32), ("epsilon", real), ("rho_a", real),
                    ("rho_b", real), ("tolerance", real), ("epsilon_scaling", real),
                    ("max_iterations", ct.c_uint32), ("subsample_size", ct.c_uint32),
                    ("acceleration_start", ct.c_uint32), ("reserved", ct.c_uint32),
                    ("parallel", ct.c_void_p)]

    class Result(ct.Structure):
        _fields_ = [("struct_size", ct.c_size_t), ("status", ct.c_int32),
                    ("iterations", ct.c_uint32), ("error", real), ("epsilon", real),
                    ("reg_ot_cost", real), ("transport_cost", real), ("plan_mass", real),
                    ("reserved", real * 3)]

    return Problem, Config, Result


class Otcore:
    """One problem through the C ABI, workspace and outputs allocated once."""

    SIMD = {0: "auto", 1: "portable", 2: "AVX2+FMA", 3: "AVX-512"}

    def __init__(self, lib, x, y, eps, suffix):
        self.lib, (real, dtype) = lib, REAL
        Problem, Config, Result = structs(real)
        sizes = {"f32": (112, 64, 48), "f64": (112, 80, 80)}[ARGS.prec]
        assert (ct.sizeof(Problem), ct.sizeof(Config), ct.sizeof(Result)) == sizes, \
            "ctypes structs out of date with include/otcore.h"
        n, d = x.shape
        self.keep = [np.ascontiguousarray(v, dtype) for v in (x, y, np.full(n, 1 / n),
                                                             np.full(n, 1 / n))]
        ptr = ct.POINTER(real)
        p = [v.ctypes.data_as(ptr) for v in self.keep]
        self.problem = Problem(ct.sizeof(Problem), p[0], p[1], None, p[2], p[3], n, n, d,
                               1.0)
        self.config = Config()
        getattr(lib, f"otc_sinkhorn_config_default_{suffix}")(ct.byref(self.config))
        self.config.epsilon_mode = 0  # OTC_EPSILON_ABSOLUTE
        self.config.epsilon = eps
        self.config.tolerance = 0.0
        self.config.max_iterations = ITERATIONS
        size = ct.c_size_t()
        query = getattr(lib, f"otc_sinkhorn_workspace_size_{suffix}")
        query.argtypes = [ct.c_size_t, ct.c_size_t, ct.c_size_t, ct.c_void_p]
        assert query(n, n, d, ct.byref(size)) == 0
        self.ws = np.zeros(size.value // 8 + 8, np.float64)  # 8-byte aligned
        self.ws_bytes = size.value
        self.f, self.g = np.zeros(n, dtype), np.zeros(n, dtype)
        self.result = Result(ct.sizeof(Result))
        self.solve = getattr(lib, f"otc_sinkhorn_solve_{suffix}")
        self.solve.restype = ct.c_int32
        self.solve.argtypes = [ct.c_void_p, ct.c_void_p, ct.c_void_p, ct.c_size_t, ptr,
                               ct.c_size_t, ptr, ct.c_size_t, ct.c_void_p]

    def __call__(self):
        st = self.solve(ct.byref(self.problem), ct.byref(self.config),
                        self.ws.ctypes.data_as(ct.c_void_p), ct.c_size_t(self.ws_bytes),
                        self.f.ctypes.data_as(ct.POINTER(REAL[0])), len(self.f),
                        self.g.ctypes.data_as(ct.POINTER(REAL[0])), len(self.g),
                        ct.byref(self.result))
        assert st >= 0 and self.result.iterations == ITERATIONS, (st, self.result.iterations)


def cloud(n, d, seed, lo, hi):
    s, out = seed, []
    for _ in range(n * d):
        s = (s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(lo + (hi - lo) * ((s >> 11) / float(1 << 53)))
    return np.array(out).reshape(n, d)


def alternate(runs):
    """Best wall time of each run over ARGS.rounds alternating rounds, after a warm-up."""
    best = {k: float("inf") for k in runs}
    for f in runs.values():  # warm-up (jit, caches)
        f()
    for _ in range(ARGS.rounds):
        for k, f in runs.items():
            t = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def sinkhorn_table(lib):
    set_path, get_path = lib.otc_set_simd_path, lib.otc_simd_path
    set_path.argtypes, set_path.restype, get_path.restype = [ct.c_int32], ct.c_int32, ct.c_int32
    best_path = Otcore.SIMD[get_path()]
    rows = []
    for n, d in PROBLEMS[ARGS.prec]:
        x, y = cloud(n, d, 1, -1.0, 1.0), cloud(n, d, 2, -0.25, 1.25)
        eps = 0.05 * ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1).mean()
        dtype = REAL[1]
        otc = Otcore(lib, x, y, eps, ARGS.prec)

        def otc_auto():
            set_path(0)
            otc()

        def otc_portable():
            set_path(1)
            otc()

        geom_x, geom_y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
        solver = sinkhorn.Sinkhorn(lse_mode=True, threshold=-1.0, min_iterations=ITERATIONS,
                                   max_iterations=ITERATIONS, inner_iterations=10,
                                   recenter_potentials=False, parallel_dual_updates=False)
        ott_solve = jax.jit(lambda x, y: solver(linear_problem.LinearProblem(
            pointcloud.PointCloud(x, y, epsilon=eps))))
        out = ott_solve(geom_x, geom_y)
        assert int(out.n_iters) == ITERATIONS, int(out.n_iters)

        def ott_run():
            jax.block_until_ready(ott_solve(geom_x, geom_y).f)

        xa, ya = x.astype(dtype), y.astype(dtype)
        w = np.full(n, 1 / n, dtype)

        def pot_run():
            ot.bregman.sinkhorn_log(w, w, ot.dist(xa, ya), eps, numItermax=ITERATIONS,
                                    stopThr=0.0)

        runs = {"otcore": otc_auto, "portable": otc_portable, "OTT-JAX": ott_run,
                "POT": pot_run}
        best = alternate(runs)
        set_path(0)
        per = {k: 1e9 * t / (2 * ITERATIONS * n * n) for k, t in best.items()}
        rows.append((n, d, per))
    print(f"| problem ({ARGS.prec}) | otcore ({best_path}) | otcore portable | "
          f"OTT-JAX {ott.__version__} | POT {ot.__version__} | OTT ÷ otcore | "
          f"POT ÷ otcore |")
    print("|---|---|---|---|---|---|---|")
    for n, d, per in rows:
        print(f"| n = m = {n}, d = {d} | {per['otcore']:.3f} | {per['portable']:.3f} | "
              f"{per['OTT-JAX']:.3f} | {per['POT']:.2f} | "
              f"{per['OTT-JAX'] / per['otcore']:.2f}× | {per['POT'] / per['otcore']:.1f}× |")


RESAMPLE_EPS = 0.5
RESAMPLE_PROBLEMS = [(64, 2), (256, 2), (256, 4), (1024, 2), (1024, 4)]


class OtcoreResample:
    """`otc_ot_resample_*` on one cloud, workspace and outputs allocated once."""

    def __init__(self, lib, x, logw, suffix):
        real, dtype = REAL
        n, d = x.shape
        self.x, self.logw = (np.ascontiguousarray(v, dtype) for v in (x, logw))
        self.out = np.zeros_like(self.x)
        # The config through its own initializer, into a buffer larger than any version
        # of the struct; epsilon follows struct_size (size_t).
        self.config = (ct.c_uint8 * 256)()
        assert getattr(lib, f"otc_ot_resample_config_default_{suffix}")(self.config) == 0
        real.from_buffer(self.config, ct.sizeof(ct.c_size_t)).value = RESAMPLE_EPS
        size = ct.c_size_t()
        query = getattr(lib, f"otc_ot_resample_workspace_size_{suffix}")
        query.argtypes = [ct.c_size_t, ct.c_size_t, ct.c_void_p]
        assert query(n, d, ct.byref(size)) == 0
        self.ws = np.zeros(size.value // 8 + 8, np.float64)
        self.ws_bytes = size.value

        class Report(ct.Structure):
            _fields_ = [("struct_size", ct.c_size_t), ("iterations", ct.c_uint32),
                        ("passes", ct.c_uint32), ("epsilon_start", real), ("scale", real),
                        ("change", real), ("error", real)]

        self.report = Report(ct.sizeof(Report))
        self.run = getattr(lib, f"otc_ot_resample_{suffix}")
        self.run.restype = ct.c_int32
        ptr = ct.POINTER(real)
        self.args = (ct.byref(self.config), self.x.ctypes.data_as(ptr),
                     self.logw.ctypes.data_as(ptr), ct.c_size_t(n), ct.c_size_t(d),
                     self.ws.ctypes.data_as(ct.c_void_p), ct.c_size_t(self.ws_bytes),
                     self.out.ctypes.data_as(ptr), ct.byref(self.report))

    def __call__(self):
        st = self.run(*self.args)
        assert st == 0, st


def ott_resampler(n):
    """x, logw -> (N P x, iterations): OTT-JAX's Sinkhorn with its own 1e-3 stop on
    otcore's normalised cloud (centred, divided by the largest coordinate std times
    sqrt(d); cost 1/2 ||z - z'||^2 as the squared distance of z / sqrt(2))."""
    solver = sinkhorn.Sinkhorn(threshold=1e-3)

    def run(x, logw):
        d = x.shape[1]
        mean = x.mean(0)
        s = jnp.sqrt(((x - mean) ** 2).mean(0)).max() * jnp.sqrt(d)
        z = (x - mean) / s
        w = jax.nn.softmax(logw)
        geom = pointcloud.PointCloud(z / jnp.sqrt(2.0), z / jnp.sqrt(2.0),
                                     epsilon=RESAMPLE_EPS)
        out = solver(linear_problem.LinearProblem(geom, jnp.full(n, 1.0 / n), w))
        return mean + s * n * (out.matrix @ z), out.n_iters

    return jax.jit(run)


def resample_table(lib):
    rows = []
    rng = np.random.default_rng(7)
    for n, d in RESAMPLE_PROBLEMS:
        # A predicted cloud and the log-likelihood of one observation of its first
        # coordinate (a filter's resampling input).
        x = rng.normal(size=(n, d))
        logw = -0.5 * ((x[:, 0] - 0.8) / 0.5) ** 2
        dtype = REAL[1]
        otc = OtcoreResample(lib, x, logw, ARGS.prec)
        ott_run = ott_resampler(n)
        xj, lj = jnp.asarray(x, dtype), jnp.asarray(logw, dtype)

        def ott_call():
            jax.block_until_ready(ott_run(xj, lj)[0])

        best = alternate({"otcore": otc, "OTT-JAX": ott_call})
        otc()
        x_ott, it_ott = ott_run(xj, lj)
        spread = x.std(0).max()
        diff = np.abs(np.asarray(x_ott) - otc.out).max() / spread
        rows.append((n, d, best, otc.report, int(it_ott), diff))
    print(f"| OT resampling ({ARGS.prec}, eps = {RESAMPLE_EPS}) | otcore ms | iterations "
          f"(passes) | OTT-JAX {ott.__version__} ms | iterations | OTT ÷ otcore | "
          f"max difference / spread |")
    print("|---|---|---|---|---|---|---|")
    for n, d, best, rep, it_ott, diff in rows:
        print(f"| N = {n}, d = {d} | {1e3 * best['otcore']:.3f} | {rep.iterations} "
              f"({rep.passes}) | {1e3 * best['OTT-JAX']:.3f} | {it_ott} | "
              f"{best['OTT-JAX'] / best['otcore']:.2f}× | {diff:.1e} |")


def main():
    lib = ct.CDLL(os.path.abspath(ARGS.lib))
    (resample_table if ARGS.what == "resample" else sinkhorn_table)(lib)


if __name__ == "__main__":
    main()
