#!/usr/bin/env python3
"""OTT-JAX's Sinkhorn iteration counts from each of its initializers on the problems of
`tests/examples/sinkhorn_init_table.rs` (issue 19), written to
`tools/reference/ott_init_counts.txt`, which that example prints side by side with
otcore's counts. Never needed by the test suite.

Same problems bit for bit up to the last ulp of the normal draws: the generator below
mirrors `otcore_tests::Rng` (SplitMix64, Box-Muller) and the example's `case()`.
Same solve: cost ||x - y||^2, uniform weights, epsilon = r x mean(C), L1 marginal
error checked every iteration (`inner_iterations=1`) against threshold 1e-3,
at most 2000 iterations ("2000+" if not converged), lse_mode, f32 and f64
(`jax_enable_x64` in the f64 pass only, each pass in its own process).

Initializers: default (zero), GaussianInitializer, SubsampleInitializer(n/8, n/8)
(random subsample, its own rng), SortingInitializer (d = 1 only; it needs the
identity to be optimal, so both clouds are passed sorted).

Run (a venv with `pip install -r tools/reference/requirements.txt`, CPU):
    python3 tools/reference/ott_init_counts.py             # every row
    python3 tools/reference/ott_init_counts.py --n 1024    # the n = 1024 rows only

    python3 tools/reference/ott_init_counts.py --draws 10  # subsample over 10 keys
    python3 tools/reference/ott_init_counts.py --ulps 10   # f32 Gaussian start +-1 ulp

`--draws N` runs only the SubsampleInitializer, with random keys 0..N-1 on every
problem, and writes `tools/reference/ott_subsample_draws.txt` (the example's `draws`
table reads it: one random draw per problem says little about a random start).
`--ulps N` (f32 only, its own process) runs the Gaussian start moved by one ulp N
times per problem and writes `tools/reference/ott_gaussian_ulps.txt` (the example's
`ulps` table: how far f32 rounding alone moves OTT's count).

Rows of the output file that a run does not recompute are kept. The f32 and f64
passes run one after the other, each single-threaded (XLA_FLAGS below); the
n = 1024 rows took 62 minutes of wall time pinned to one core that other jobs
shared, most of it the solves that run to the cap of 2000 iterations. For one core:
    XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \
        taskset -c 1 python3 tools/reference/ott_init_counts.py --n 1024
"""
import argparse
import math
import subprocess
import sys

import jax

# x64 only for the f64 pass: with x64 on, OTT's GaussianInitializer mixes f64
# constants into an f32 solve and the while loop refuses the dtypes. Each precision
# therefore runs in its own process (see main).
PREC = "f64" if "--prec=f64" in sys.argv else "f32"
jax.config.update("jax_enable_x64", PREC == "f64")
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from ott.geometry import pointcloud  # noqa: E402
from ott.initializers.linear import initializers  # noqa: E402
from ott.problems.linear import linear_problem  # noqa: E402
from ott.solvers.linear import sinkhorn  # noqa: E402

DEFAULT_OUT = "tools/reference/ott_init_counts.txt"
DRAWS_OUT = "tools/reference/ott_subsample_draws.txt"
ULPS_OUT = "tools/reference/ott_gaussian_ulps.txt"
MASK = (1 << 64) - 1
CAP = 2000
TOL = 1e-3


class Rng:
    """SplitMix64 + Box-Muller, as otcore_tests::Rng."""

    def __init__(self, seed):
        self.s = seed & MASK

    def next_u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next_u64() >> 11) / float(1 << 53)

    def normal(self):
        u = max(self.uniform(), 1e-300)
        v = self.uniform()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)

    def normals(self, n, mean, sd):
        return [mean + sd * self.normal() for _ in range(n)]


def case(family, d, n):
    rng = Rng(1000 * d + n + (7 if family == "mixture" else 0))
    if family == "gauss":
        x = rng.normals(n * d, 0.0, 1.0)
        z = rng.normals(n * d, 0.0, 1.0)
        y = [0.0] * (n * d)
        for i in range(n):
            for k in range(d):
                v = 1.0 + (0.5 + k / d) * z[i * d + k]
                if d > 1:
                    v += 0.3 * z[i * d + (k + 1) % d]
                y[i * d + k] = v
    else:
        def cloud():
            centres = rng.normals(3 * d, 0.0, 2.0)
            noise = rng.normals(n * d, 0.0, 0.5)
            return [centres[(e // d % 3) * d + e % d] + noise[e] for e in range(n * d)]

        x = cloud()
        y = cloud()
    return np.array(x).reshape(n, d), np.array(y).reshape(n, d)


def solver(init, n):
    if init == "zero":
        ini = initializers.DefaultInitializer()
    elif init == "gaussian":
        ini = initializers.GaussianInitializer()
    elif init == "subsample":
        ini = initializers.SubsampleInitializer(n // 8, n // 8)
    else:
        ini = initializers.SortingInitializer(vectorized_update=True)
    return sinkhorn.Sinkhorn(
        threshold=TOL,
        max_iterations=CAP,
        inner_iterations=1,
        lse_mode=True,
        initializer=ini,
    )


_jitted = {}


def count(x, y, eps, init, dtype, seed=0):
    """Iterations as a string; `seed` is the key of the subsample's random draw."""
    n = x.shape[0]
    key = (init, n, x.shape[1], dtype)
    if key not in _jitted:
        solve = solver(init, n)

        def run(x, y, eps, rng):
            geom = pointcloud.PointCloud(x, y, epsilon=eps)
            out = solve(linear_problem.LinearProblem(geom), rng=rng)
            return out.n_iters, out.converged

        _jitted[key] = jax.jit(run)
    it, conv = _jitted[key](
        jnp.asarray(x, dtype), jnp.asarray(y, dtype), jnp.asarray(eps, dtype), jax.random.key(seed)
    )
    return str(int(it)) if bool(conv) else f"{CAP}+"


def problems(n_only):
    """Every problem of the table in table order (only n = n_only if given): family, d,
    n, the clouds, epsilon = r x mean cost, and r as the data files spell it."""
    for n in [256, 1024]:
        if n_only is not None and n != n_only:
            continue
        for family in ["gauss", "mixture"]:
            for d in [1, 2, 3, 8]:
                x, y = case(family, d, n)
                mean = float(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1).mean())
                for r, rs in [(1e-1, "1e-1"), (1e-2, "1e-2"), (1e-3, "1e-3")]:
                    yield family, d, n, x, y, r * mean, rs


def draws(count_, n_only, out):
    """SubsampleInitializer's iterations over `count_` random keys (0, 1, ...) on every
    problem of the table in this process's precision, one line per problem:
    family d n eps/meanC precision, then the counts in key order."""
    dtype = jnp.float32 if PREC == "f32" else jnp.float64
    with open(out, "w") as fh:
        for family, d, n, x, y, eps, rs in problems(n_only):
            its = [count(x, y, eps, "subsample", dtype, s) for s in range(count_)]
            line = f"{family} {d} {n} {rs} {PREC} " + " ".join(its)
            print(line, file=sys.stderr, flush=True)
            fh.write(line + "\n")
            fh.flush()


def ulps(count_, n_only, out):
    """f32 only: GaussianInitializer's start as the solver computes it (its count), then
    the same start passed as `init=(f, g)` unmoved and with each f_i moved by one ulp,
    up or down at random (numpy seeds 1..count_). One line per problem: family d n
    eps/meanC f32, the initializer's count, the unmoved count, then the moved ones. The
    example's `ulps` table compares this rounding range with otcore's."""
    dtype = jnp.float32
    plain = sinkhorn.Sinkhorn(
        threshold=TOL, max_iterations=CAP, inner_iterations=1, lse_mode=True
    )

    @jax.jit
    def from_start(x, y, eps, f, g):
        geom = pointcloud.PointCloud(x, y, epsilon=eps)
        out = plain(linear_problem.LinearProblem(geom), init=(f, g))
        return out.n_iters, out.converged

    @jax.jit
    def gaussian_start(x, y, eps):
        geom = pointcloud.PointCloud(x, y, epsilon=eps)
        return initializers.GaussianInitializer()(linear_problem.LinearProblem(geom), lse_mode=True)

    with open(out, "w") as fh:
        for family, d, n, x, y, eps_abs, rs in problems(n_only):
            xs, ys = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
            eps = jnp.asarray(eps_abs, dtype)
            f0, g0 = gaussian_start(xs, ys, eps)
            f0 = np.asarray(f0)

            def run(f):
                it, conv = from_start(xs, ys, eps, jnp.asarray(f), g0)
                return str(int(it)) if bool(conv) else f"{CAP}+"

            its = [count(x, y, eps_abs, "gaussian", dtype), run(f0)]
            for seed in range(1, count_ + 1):
                up = np.random.default_rng(seed).random(n) < 0.5
                toward = np.where(up, np.float32(np.inf), np.float32(-np.inf))
                its.append(run(np.nextafter(f0, toward).astype(np.float32)))
            line = f"{family} {d} {n} {rs} f32 " + " ".join(its)
            print(line, file=sys.stderr, flush=True)
            fh.write(line + "\n")
            fh.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, choices=[256, 1024], default=None)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--prec", choices=["f32", "f64", "both"], default="both")
    ap.add_argument(
        "--draws",
        type=int,
        default=None,
        help="the subsample initializer over this many random keys per problem "
        "(writes tools/reference/ott_subsample_draws.txt unless --out says otherwise)",
    )
    ap.add_argument(
        "--ulps",
        type=int,
        default=None,
        help="f32: the Gaussian start moved by one ulp, this many times per problem "
        "(writes tools/reference/ott_gaussian_ulps.txt unless --out says otherwise)",
    )
    args = ap.parse_args()
    if args.ulps is not None:
        if args.out == DEFAULT_OUT:
            args.out = ULPS_OUT
        header = [
            f"# OTT-JAX {__import__('ott').__version__}, jax {jax.__version__}, f32: iterations "
            f"to an L1 marginal error of {TOL}, cap {CAP}, from GaussianInitializer, then "
            f"from its start passed as init= unmoved and moved by one ulp ({args.ulps} draws)",
            "# made by tools/reference/ott_init_counts.py --ulps; family d n eps/meanC "
            "precision initializer-count unmoved-count moved-counts",
        ]
        tmp = args.out + ".part"
        ulps(args.ulps, args.n, tmp)
        rows = {}
        for path in [args.out, tmp]:
            try:
                with open(path) as fh:
                    for line in fh:
                        if line.strip() and not line.startswith("#"):
                            rows[tuple(line.split()[:5])] = line.strip()
            except FileNotFoundError:
                pass
        with open(args.out, "w") as fh:
            fh.write("\n".join(header + sorted(rows.values(), key=order)) + "\n")
        __import__("os").remove(tmp)
        print(f"wrote {args.out}", file=sys.stderr)
        return
    if args.draws is not None and args.out == DEFAULT_OUT:
        args.out = DRAWS_OUT
    if args.prec != "both":
        if args.draws is not None:
            draws(args.draws, args.n, args.out)
        else:
            counts(args.n, args.out)
        return
    # Rows already in the output file are kept unless this run recomputes them, so
    # `--n 1024` adds the n = 1024 rows to the committed n = 256 ones. A row is keyed
    # by its first 6 fields (with the initializer), or 5 for the draws file.
    width = 5 if args.draws is not None else 6
    rows = {}
    try:
        with open(args.out) as fh:
            for line in fh:
                if line.strip() and not line.startswith("#"):
                    rows[tuple(line.split()[:width])] = line.strip()
    except FileNotFoundError:
        pass
    for prec in ["f32", "f64"]:
        cmd = [sys.executable, __file__, f"--prec={prec}", "--out", "/dev/stdout"]
        if args.n is not None:
            cmd += ["--n", str(args.n)]
        if args.draws is not None:
            cmd += ["--draws", str(args.draws)]
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            if line and not line.startswith("#"):
                rows[tuple(line.split()[:width])] = line
    what = (
        f"SubsampleInitializer(n/8, n/8) with random keys 0..{args.draws - 1}"
        if args.draws is not None
        else "each initializer"
    )
    header = [
        f"# OTT-JAX {__import__('ott').__version__}, jax {jax.__version__}: iterations to an L1 "
        f"marginal error of {TOL} (checked every iteration), cap {CAP}, from {what}",
        "# made by tools/reference/ott_init_counts.py; family d n eps/meanC precision "
        + ("iterations (one per key)" if args.draws is not None else "initializer iterations"),
    ]
    with open(args.out, "w") as fh:
        fh.write("\n".join(header + sorted(rows.values(), key=order)) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


def counts(n_only, out):
    """Every initializer's count on every problem, in this process's precision."""
    dtype = jnp.float32 if PREC == "f32" else jnp.float64
    with open(out, "w") as fh:
        for family, d, n, x, y, eps, rs in problems(n_only):
            inits = ["zero", "gaussian", "subsample"] + (["sorting"] if d == 1 else [])
            for init in inits:
                xs, ys = (np.sort(x, 0), np.sort(y, 0)) if init == "sorting" else (x, y)
                it = count(xs, ys, eps, init, dtype)
                line = f"{family} {d} {n} {rs} {PREC} {init} {it}"
                print(line, file=sys.stderr, flush=True)
                fh.write(line + "\n")
                fh.flush()


def order(line):
    t = line.split()
    return (int(t[2]), t[0], int(t[1]), -float(t[3]), t[4], t[5] if len(t) == 7 else "")


if __name__ == "__main__":
    main()
