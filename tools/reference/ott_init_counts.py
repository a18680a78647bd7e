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


def draws(count_):
    """SubsampleInitializer's iterations over `count_` random keys (f64, n = 256,
    eps in {1e-1, 1e-2} x mean cost): min / median / max, as the example's `draws`."""
    print("| family | d | n | eps/mean C | zero | subsample min | median | max |")
    print("|---|---|---|---|---|---|---|---|")
    n = 256
    for family in ["gauss", "mixture"]:
        for d in [1, 2, 3, 8]:
            x, y = case(family, d, n)
            mean = float(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1).mean())
            for r, rs in [(1e-1, "1e-1"), (1e-2, "1e-2")]:
                zero = count(x, y, r * mean, "zero", jnp.float64)
                its = sorted(
                    int(c.rstrip("+")) + c.endswith("+")
                    for c in (count(x, y, r * mean, "subsample", jnp.float64, s) for s in range(count_))
                )
                show = [str(v) if v <= CAP else f"{CAP}+" for v in its]
                print(f"| {family} | {d} | {n} | {rs} | {zero} | {show[0]} | {show[len(its) // 2]} | {show[-1]} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, choices=[256, 1024], default=None)
    ap.add_argument("--out", default="tools/reference/ott_init_counts.txt")
    ap.add_argument("--prec", choices=["f32", "f64", "both"], default="both")
    ap.add_argument("--draws", type=int, default=None, help="with --prec=f64: subsample draws")
    args = ap.parse_args()
    if args.draws is not None:
        draws(args.draws)
        return
    if args.prec == "both":
        # Rows already in the output file are kept unless this run recomputes them,
        # so `--n 1024` adds the n = 1024 rows to the committed n = 256 ones.
        rows = {}
        try:
            with open(args.out) as fh:
                for line in fh:
                    if line.strip() and not line.startswith("#"):
                        rows[tuple(line.split()[:6])] = line.strip()
        except FileNotFoundError:
            pass
        for prec in ["f32", "f64"]:
            cmd = [sys.executable, __file__, f"--prec={prec}", "--out", "/dev/stdout"]
            if args.n is not None:
                cmd += ["--n", str(args.n)]
            out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
            for line in out.splitlines():
                if line and not line.startswith("#"):
                    rows[tuple(line.split()[:6])] = line
        header = [
            f"# OTT-JAX {__import__('ott').__version__}, jax {jax.__version__}: iterations to an L1 "
            f"marginal error of {TOL} (checked every iteration), cap {CAP}",
            "# made by tools/reference/ott_init_counts.py; family d n eps/meanC precision "
            "initializer iterations",
        ]
        with open(args.out, "w") as fh:
            fh.write("\n".join(header + sorted(rows.values(), key=order)) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
        return
    dtype = jnp.float32 if PREC == "f32" else jnp.float64
    with open(args.out, "w") as fh:
        for n in [256, 1024]:
            if args.n is not None and n != args.n:
                continue
            for family in ["gauss", "mixture"]:
                for d in [1, 2, 3, 8]:
                    x, y = case(family, d, n)
                    c = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
                    mean = float(c.mean())
                    for r, rs in [(1e-1, "1e-1"), (1e-2, "1e-2"), (1e-3, "1e-3")]:
                        inits = ["zero", "gaussian", "subsample"] + (["sorting"] if d == 1 else [])
                        for init in inits:
                            xs, ys = (np.sort(x, 0), np.sort(y, 0)) if init == "sorting" else (x, y)
                            it = count(xs, ys, r * mean, init, dtype)
                            line = f"{family} {d} {n} {rs} {PREC} {init} {it}"
                            print(line, file=sys.stderr, flush=True)
                            fh.write(line + "\n")
                            fh.flush()


def order(line):
    t = line.split()
    return (int(t[2]), t[0], int(t[1]), -float(t[3]), t[4], t[5])


if __name__ == "__main__":
    main()
