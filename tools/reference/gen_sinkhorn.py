#!/usr/bin/env python3
"""Generate float64 reference solutions of entropic OT problems for otcore.

Primary reference: OTT-JAX (``ott.solvers.linear.sinkhorn.Sinkhorn``, lse_mode,
float64 via ``jax_enable_x64``).  Cross-check: POT (``ot.bregman.sinkhorn_log``
for balanced problems, ``ot.unbalanced.sinkhorn_unbalanced`` with
``reg_type="entropy"`` for unbalanced ones -- see README.md for why not "kl").

Run from the repository root:

    python3 tools/reference/gen_sinkhorn.py [--out tests/data/sinkhorn_reference.txt]

The output is deterministic for the pinned library versions in
``tools/reference/requirements.txt``.  See ``tools/reference/README.md`` for
the conventions and the file format.
"""

import argparse
import math
import os
import platform
import sys
import time
import warnings

import numpy as np

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import ot  # noqa: E402
import ott  # noqa: E402
from ott.geometry import geometry  # noqa: E402
from ott.problems.linear import linear_problem  # noqa: E402
from ott.solvers.linear import sinkhorn  # noqa: E402

INF = math.inf

# --------------------------------------------------------------------------
# Solver settings
# --------------------------------------------------------------------------
TARGET_ERROR = 1e-15         # L1 optimality residual we aim for (OTT threshold)
STALL_FACTOR = 0.9           # a chunk must cut the residual by 10% ...
STALL_CHUNKS = 3             # ... else after 3 such chunks: rounding floor reached
STALL_ONLY_BELOW = 1e-11     # (a residual above this is never taken for the floor)
OTT_INNER_ITERATIONS = 10
OTT_CHUNK = 5_000
OTT_MAX_ITERATIONS = 400_000
POT_CHUNK = 2_000
POT_ABSORB_CHUNK = 20
POT_MAX_ITER = 400_000
# Asserted agreement between OTT and POT: max|P_ott - P_pot| / max(P_ott)
CROSS_CHECK_TOL = 1e-10
# Asserted bound on the reference's own optimality residual (ref_error)
REF_ERROR_TOL = 1e-12
PLAN_FULL_MAX = 5000          # n*m above this -> plan_rows instead of plan
PLAN_ROWS_K = 6

# --------------------------------------------------------------------------
# Problem set.  Fields:
#   name, n, m, d, scale, eps_rel, cloud, wa, wb, rho_a_rel, rho_b_rel, seed
#   cloud: gauss | box | shift | mixed
#   wa/wb: uniform | dirichlet | zeros   (optionally "*<mass>" for total mass)
#   rho_*_rel: multiple of mean_cost, or INF (hard marginal)
# --------------------------------------------------------------------------
B = INF  # shorthand: hard marginal

PROBLEMS = [
    # ---------------- balanced ----------------
    ("bal_1x1_d1", 1, 1, 1, 1.0, 0.1, "gauss", "uniform", "uniform", B, B, 101),
    ("bal_1x7_d2", 1, 7, 2, 1.0, 0.05, "gauss", "uniform", "dirichlet", B, B, 102),
    ("bal_64x1_d3", 64, 1, 3, 1.0, 1.0, "box", "dirichlet", "uniform", B, B, 103),
    ("bal_2x2_d1_eps1e-3", 2, 2, 1, 1.0, 1e-3, "gauss", "uniform", "uniform", B, B, 104),
    ("bal_2x7_d8", 2, 7, 8, 1.0, 1e-2, "mixed", "dirichlet", "dirichlet", B, B, 105),
    ("bal_7x2_d2", 7, 2, 2, 1.0, 1.0, "box", "dirichlet", "uniform", B, B, 106),
    ("bal_7x7_d1_eps1e-3", 7, 7, 1, 1.0, 1e-3, "gauss", "dirichlet", "dirichlet", B, B, 107),
    ("bal_7x64_d3_zeros_a", 7, 64, 3, 1.0, 0.1, "gauss", "zeros", "dirichlet", B, B, 108),
    ("bal_64x7_d8_zeros_b", 64, 7, 8, 1.0, 0.05, "mixed", "dirichlet", "zeros", B, B, 109),
    ("bal_64x64_d2_eps1e-3", 64, 64, 2, 1.0, 1e-3, "gauss", "dirichlet", "dirichlet", B, B, 110),
    ("bal_64x64_d1_shift", 64, 64, 1, 1.0, 0.05, "shift", "uniform", "uniform", B, B, 111),
    ("bal_64x64_d8_zeros_ab_eps1e-3", 64, 64, 8, 1.0, 1e-3, "gauss", "zeros", "zeros", B, B, 112),
    ("bal_64x64_d3_box_s05", 64, 64, 3, 0.5, 1.0, "box", "uniform", "uniform", B, B, 113),
    ("bal_300x300_d2", 300, 300, 2, 1.0, 0.05, "gauss", "uniform", "uniform", B, B, 114),
    ("bal_300x300_d3_s05", 300, 300, 3, 0.5, 0.1, "gauss", "dirichlet", "dirichlet", B, B, 115),
    ("bal_300x300_d8_zeros_ab", 300, 300, 8, 1.0, 1.0, "mixed", "zeros", "zeros", B, B, 116),
    ("bal_300x300_d1_shift", 300, 300, 1, 1.0, 0.1, "shift", "uniform", "uniform", B, B, 117),
    ("bal_300x300_d1_eps1e-2", 300, 300, 1, 1.0, 1e-2, "gauss", "uniform", "uniform", B, B, 131),
    ("bal_300x64_d2_zeros_a", 300, 64, 2, 1.0, 1e-2, "gauss", "zeros", "uniform", B, B, 118),
    ("bal_64x300_d8", 64, 300, 8, 1.0, 0.05, "box", "uniform", "dirichlet", B, B, 119),
    ("bal_300x7_d1_zeros_b", 300, 7, 1, 1.0, 0.1, "mixed", "uniform", "zeros", B, B, 120),
    ("bal_1x300_d3", 1, 300, 3, 1.0, 1e-2, "gauss", "uniform", "dirichlet", B, B, 121),
    ("bal_300x1_d2_zeros_a", 300, 1, 2, 1.0, 0.05, "box", "zeros", "uniform", B, B, 122),
    ("bal_7x300_d8_s05", 7, 300, 8, 0.5, 1.0, "gauss", "dirichlet", "uniform", B, B, 123),
    ("bal_2x64_d1_zeros_b_eps1e-3_s05", 2, 64, 1, 0.5, 1e-3, "box", "uniform", "zeros", B, B, 124),
    ("bal_64x2_d3", 64, 2, 3, 1.0, 0.1, "mixed", "dirichlet", "dirichlet", B, B, 125),
    ("bal_7x7_d2_zeros_ab_eps1e-3", 7, 7, 2, 1.0, 1e-3, "box", "zeros", "zeros", B, B, 126),
    ("bal_64x64_d8_shift_s05", 64, 64, 8, 0.5, 0.05, "shift", "dirichlet", "dirichlet", B, B, 127),
    ("bal_300x64_d3", 300, 64, 3, 1.0, 1.0, "box", "uniform", "uniform", B, B, 128),
    ("bal_64x7_d1_eps1e-3", 64, 7, 1, 1.0, 1e-3, "box", "uniform", "uniform", B, B, 129),
    ("bal_2x1_d8", 2, 1, 8, 1.0, 1e-2, "gauss", "dirichlet", "uniform", B, B, 130),
    # ---------------- unbalanced ----------------
    ("unb_7x7_d2", 7, 7, 2, 1.0, 0.1, "gauss", "dirichlet", "dirichlet", 1.0, 1.0, 201),
    ("unb_64x64_d3", 64, 64, 3, 1.0, 0.05, "gauss", "uniform", "dirichlet", 0.1, 10.0, 202),
    ("unb_64x300_d2_semi_b", 64, 300, 2, 1.0, 0.1, "box", "uniform", "uniform", B, 1.0, 203),
    ("unb_300x64_d8_semi_a", 300, 64, 8, 1.0, 0.05, "mixed", "dirichlet", "uniform", 0.5, B, 204),
    ("unb_300x300_d1", 300, 300, 1, 1.0, 0.1, "gauss", "uniform", "uniform", 2.0, 2.0, 205),
    ("unb_1x7_d3_mass", 1, 7, 3, 1.0, 1.0, "gauss", "uniform*2.0", "dirichlet", 0.3, 0.3, 206),
    ("unb_7x1_d1_semi_b", 7, 1, 1, 1.0, 1e-2, "box", "dirichlet", "uniform", B, 5.0, 207),
    ("unb_64x64_d8_zeros_a_eps1e-3", 64, 64, 8, 1.0, 1e-3, "gauss", "zeros", "uniform", 1.0, 1.0, 208),
    ("unb_2x64_d2_zeros_b_semi_a", 2, 64, 2, 1.0, 1e-2, "mixed", "uniform", "zeros", 3.0, B, 209),
    ("unb_64x7_d3_zeros_ab_semi_b_eps1e-3", 64, 7, 3, 1.0, 1e-3, "box", "zeros", "zeros", B, 0.2, 210),
    ("unb_300x300_d3_s05", 300, 300, 3, 0.5, 0.05, "gauss", "dirichlet", "dirichlet", 10.0, 10.0, 211),
    ("unb_7x64_d8_s05_semi_a", 7, 64, 8, 0.5, 1.0, "box", "uniform", "uniform", 0.1, B, 212),
    ("unb_64x64_d1_shift_mass", 64, 64, 1, 1.0, 1e-2, "shift", "uniform", "uniform*1.5", 1.0, 0.1, 213),
    ("unb_1x1_d2_mass", 1, 1, 2, 1.0, 0.05, "gauss", "uniform*2.0", "uniform*0.5", 1.0, 1.0, 214),
    ("unb_7x300_d1_s05", 7, 300, 1, 0.5, 1e-2, "gauss", "dirichlet", "uniform", 0.5, 0.5, 215),
    ("unb_300x7_d2_zeros_ab", 300, 7, 2, 1.0, 1.0, "gauss", "zeros", "zeros", 5.0, 0.2, 216),
]


# --------------------------------------------------------------------------
# Problem construction
# --------------------------------------------------------------------------
def make_cov(rng, d, lo, hi):
    """Random SPD covariance with eigenvalues in [lo, hi]^2."""
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    s = rng.uniform(lo, hi, size=d)
    return (q * s**2) @ q.T


def gauss_cloud(rng, k, d, mean, lo, hi):
    cov = make_cov(rng, d, lo, hi)
    L = np.linalg.cholesky(cov)
    return mean + rng.normal(size=(k, d)) @ L.T


def make_clouds(rng, cloud, n, m, d):
    if cloud == "gauss":
        mx = rng.uniform(-2.0, 2.0, size=d)
        my = mx + rng.uniform(0.5, 2.5, size=d)
        x = gauss_cloud(rng, n, d, mx, 0.5, 1.5)
        y = gauss_cloud(rng, m, d, my, 0.3, 2.0)
    elif cloud == "box":
        x = rng.uniform(0.0, 4.0, size=(n, d))
        y = rng.uniform(1.0, 6.0, size=(m, d))
    elif cloud == "shift":
        assert n == m
        x = rng.normal(size=(n, d)) * 1.5
        shift = rng.uniform(0.3, 1.2, size=d)
        y = x + shift
    elif cloud == "mixed":
        x = gauss_cloud(rng, n, d, np.zeros(d), 0.5, 1.5)
        y = rng.uniform(-1.0, 5.0, size=(m, d))
    else:
        raise ValueError(cloud)
    return x, y


def make_weights(rng, kind, k):
    mass = 1.0
    if "*" in kind:
        kind, mass_s = kind.split("*")
        mass = float(mass_s)
    if kind == "uniform":
        w = np.full(k, 1.0 / k)
    elif kind == "dirichlet":
        w = rng.dirichlet(np.full(k, 2.0)) if k > 1 else np.ones(1)
    elif kind == "zeros":
        assert k >= 2, "zero weights need at least two points"
        w = rng.dirichlet(np.full(k, 2.0))
        nz = max(1, k // 4)
        idx = rng.choice(k, size=nz, replace=False)
        w[idx] = 0.0
        w = w / w.sum()
    else:
        raise ValueError(kind)
    if mass != 1.0:
        w = w * mass
    return w


def cost_matrix(x, y, scale):
    # Direct differences (no |x|^2 + |y|^2 - 2xy expansion): exact to ~1 ulp.
    diff = x[:, None, :] - y[None, :, :]
    return scale * np.sum(diff * diff, axis=-1)


def build(spec):
    name, n, m, d, scale, eps_rel, cloud, wa, wb, rho_a_rel, rho_b_rel, seed = spec
    rng = np.random.default_rng(seed)
    x, y = make_clouds(rng, cloud, n, m, d)
    a = make_weights(rng, wa, n)
    b = make_weights(rng, wb, m)
    C = cost_matrix(x, y, scale)
    mean_cost = float(C.mean())
    eps = eps_rel * mean_cost
    rho_a = rho_a_rel * mean_cost if math.isfinite(rho_a_rel) else INF
    rho_b = rho_b_rel * mean_cost if math.isfinite(rho_b_rel) else INF
    return dict(name=name, n=n, m=m, d=d, scale=scale, eps_rel=eps_rel,
                x=x, y=y, a=a, b=b, C=C, mean_cost=mean_cost, eps=eps,
                rho_a=rho_a, rho_b=rho_b, cloud=cloud, wa=wa, wb=wb)


def tau_of(rho, eps):
    return 1.0 if math.isinf(rho) else rho / (rho + eps)


# --------------------------------------------------------------------------
# Iterate-until-converged driver shared by OTT and POT.
#
# Every solver is run in chunks, each chunk warm-started from the previous
# one's potentials (plain Sinkhorn has no other state, so this is the same as
# one long run).  We stop when the L1 optimality residual is below TARGET_ERROR
# or when it has stopped improving (it sits at the float64 rounding floor,
# which is ~ulp(C)/eps and so is ~1e-14 for eps_rel = 1e-3).
# --------------------------------------------------------------------------
def run_chunks(step, residual, state, max_iter):
    best, stall, total, err = math.inf, 0, 0, math.inf
    while total < max_iter:
        state, it = step(state)
        total += it
        err = residual(state)
        if not math.isfinite(err):
            raise FloatingPointError(f"non-finite residual {err} after {total} iterations")
        if err < TARGET_ERROR:
            break
        if err < STALL_FACTOR * best or err > STALL_ONLY_BELOW:
            best, stall = min(err, best), 0
        else:
            stall += 1
            if stall >= STALL_CHUNKS:
                break
    return state, total, err


# --------------------------------------------------------------------------
# OTT-JAX reference
# --------------------------------------------------------------------------
def solve_ott(p):
    geom = geometry.Geometry(cost_matrix=jnp.asarray(p["C"]), epsilon=p["eps"])
    prob = linear_problem.LinearProblem(
        geom, jnp.asarray(p["a"]), jnp.asarray(p["b"]),
        tau_a=tau_of(p["rho_a"], p["eps"]), tau_b=tau_of(p["rho_b"], p["eps"]))
    solver = sinkhorn.Sinkhorn(
        lse_mode=True, threshold=TARGET_ERROR, norm_error=1,
        inner_iterations=OTT_INNER_ITERATIONS, max_iterations=OTT_CHUNK,
        recenter_potentials=False, parallel_dual_updates=False)
    # init=None -> OTT's DefaultInitializer (f = g = 0); later chunks warm-start.
    run = jax.jit(lambda prob, init: solver(prob, init=init))
    first = jax.jit(lambda prob: solver(prob))

    def step(state):
        out = first(prob) if state is None else run(prob, (state.f, state.g))
        return out, int(out.n_iters)

    def residual(out):
        errs = np.asarray(out.errors)
        errs = errs[np.isfinite(errs) & (errs >= 0)]
        return float(errs[-1]) if errs.size else math.inf

    out, total, err = run_chunks(step, residual, None, OTT_MAX_ITERATIONS)
    f = np.asarray(out.f, dtype=np.float64)
    g = np.asarray(out.g, dtype=np.float64)
    return dict(f=f, g=g, reg_ot_cost=float(out.reg_ot_cost),
                n_iters=total, ott_error=err,
                ott_matrix=np.asarray(out.matrix, dtype=np.float64))


# --------------------------------------------------------------------------
# Quantities recomputed in numpy from (f, g)
# --------------------------------------------------------------------------
def plan_from(f, g, C, eps):
    with np.errstate(invalid="raise"):
        return np.exp((f[:, None] + g[None, :] - C) / eps)


def optimality_residual(P, f, g, a, b, rho_a, rho_b):
    """L1 residual of the fixed-point (first-order) conditions.

    Balanced side (rho = inf): P 1 = a.  KL-relaxed side: P 1 = a * exp(-f/rho)
    (zero-weight entries: target 0).  Same quantity as OTT's solution_error
    with norm_error=1 (OTT only evaluates the column side in the balanced case,
    where the rows are exact after the f update).
    """
    def target(w, h, rho):
        if math.isinf(rho):
            return w
        t = np.zeros_like(w)
        s = w > 0
        t[s] = w[s] * np.exp(-h[s] / rho)
        return t
    ra = np.abs(P.sum(axis=1) - target(a, f, rho_a)).sum()
    rb = np.abs(P.sum(axis=0) - target(b, g, rho_b)).sum()
    return float(ra + rb)


def reg_ot_cost_formula(f, g, P, a, b, eps, rho_a, rho_b):
    """OTT's compute_kl_reg_cost re-implemented (for verification)."""
    def div(w, h, rho):
        s = w > 0
        hs = h[s] - eps * np.log(w[s])          # h - eps log w
        if math.isinf(rho):
            return float(np.sum(w[s] * hs))
        return float(-np.sum(w[s] * rho * np.expm1(-hs / rho)))
    return (div(a, f, rho_a) + div(b, g, rho_b)
            + eps * (a.sum() * b.sum() - P.sum()))


# --------------------------------------------------------------------------
# POT cross-check
# --------------------------------------------------------------------------
def _pot_balanced(p, rng):
    a, b, C, eps = p["a"], p["b"], p["C"], p["eps"]
    n, m = C.shape

    def step(state):
        u, v = state
        with warnings.catch_warnings(), np.errstate(divide="ignore"):
            warnings.simplefilter("ignore")
            # POT's own test: L2 norm of the column-marginal error (<= L1)
            _, log = ot.bregman.sinkhorn_log(
                a, b, C, eps, numItermax=POT_CHUNK, stopThr=0.1 * TARGET_ERROR,
                log=True, warn=False, warmstart=(u, v))
        it = int(log.get("niter", POT_CHUNK - 1)) + 1
        return (np.asarray(log["log_u"]), np.asarray(log["log_v"])), it

    def residual(state):
        f, g = eps * state[0], eps * state[1]
        return optimality_residual(plan_from(f, g, C, eps), f, g, a, b, INF, INF)

    # random start (log-scalings), different from OTT's f = g = 0
    init = (rng.normal(size=n) * 3.0, rng.normal(size=m) * 3.0)
    (lu, lv), total, err = run_chunks(step, residual, init, POT_MAX_ITER)
    f, g = eps * lu, eps * lv
    return dict(P=plan_from(f, g, C, eps), f=f, g=g, method="sinkhorn_log",
                iters=total, err=err)


def _pot_knopp_chunk(a, b, C, eps, rho, warm, n_iter):
    """n_iter iterations of POT's scaling-domain unbalanced Sinkhorn
    (ot.unbalanced.sinkhorn_unbalanced, method='sinkhorn', reg_type='entropy').
    Returns log-scalings; raises if POT hit over/underflow."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", over="ignore",
                                                invalid="ignore", under="ignore"):
        warnings.simplefilter("ignore")
        _, log = ot.unbalanced.sinkhorn_unbalanced(
            a, b, C, eps, rho, method="sinkhorn", reg_type="entropy",
            warmstart=warm, numItermax=n_iter, stopThr=-1.0, log=True)
    lu, lv = np.asarray(log["logu"]), np.asarray(log["logv"])
    if (len(log["err"]) < n_iter or not np.all(np.isfinite(lu))
            or not np.all(np.isfinite(lv))):
        raise FloatingPointError("POT scaling-domain overflow/underflow")
    return lu, lv


def _pot_unbalanced(p, rng):
    """POT's unbalanced Sinkhorn on the support of (a, b).

    Zero-weight points carry no mass and do not influence the plan on the
    support, so POT is run on the support only (its scaling-domain solver
    would otherwise report log(1e-300) instead of -inf for them).

    'raw': POT on the original problem, chunked with warm starts.
    'absorbed' (fallback when exp(-C/eps) over/underflows, e.g. eps_rel=1e-3):
    the same POT iterations, but every POT_ABSORB_CHUNK iterations the current
    log-scalings are absorbed into the cost, C' = C - alpha - beta, with
    a' = a*exp(-alpha/rho_a), b' = b*exp(-beta/rho_b) (a, b unchanged on a hard
    side).  For the entropy-reference unbalanced problem this substitution
    leaves the optimal plan unchanged and f = alpha + f', g = beta + g'.
    (POT's own method='sinkhorn_stabilized' does this too, but returned wrong
    plans for our eps_rel=1e-3 problems, see README.)
    """
    a0, b0, C0, eps = p["a"], p["b"], p["C"], p["eps"]
    ra, rb = p["rho_a"], p["rho_b"]
    sa, sb = a0 > 0, b0 > 0
    a, b, C = a0[sa], b0[sb], C0[sa][:, sb]
    n, m = C.shape

    def embed(f, g):
        F = np.full(a0.shape, -INF)
        G = np.full(b0.shape, -INF)
        F[sa], G[sb] = f, g
        return F, G

    def residual_fg(f, g):
        P = plan_from(f, g, C, eps)
        return optimality_residual(P, f, g, a, b, ra, rb)

    warm0 = (rng.normal(size=n) * 0.5, rng.normal(size=m) * 0.5)

    # --- raw POT problem
    try:
        def step(state):
            return _pot_knopp_chunk(a, b, C, eps, (ra, rb), state, POT_CHUNK), POT_CHUNK

        (lu, lv), total, err = run_chunks(
            step, lambda s: residual_fg(eps * s[0], eps * s[1]), warm0, POT_MAX_ITER)
        f, g = eps * lu, eps * lv
        method = "sinkhorn"
    except FloatingPointError:
        # --- absorbed
        def shifted(al, be):
            a2 = a * np.exp(-al / ra) if math.isfinite(ra) else a
            b2 = b * np.exp(-be / rb) if math.isfinite(rb) else b
            return a2, b2, C - al[:, None] - be[None, :]

        def step(state):
            al, be, warm = state
            a2, b2, C2 = shifted(al, be)
            lu, lv = _pot_knopp_chunk(a2, b2, C2, eps, (ra, rb), warm,
                                      POT_ABSORB_CHUNK)
            return (al + eps * lu, be + eps * lv, None), POT_ABSORB_CHUNK

        al = C.min(axis=1)
        be = (C - al[:, None]).min(axis=0)
        (al, be, _), total, err = run_chunks(
            step, lambda s: residual_fg(s[0], s[1]), (al, be, warm0), POT_MAX_ITER)
        f, g = al, be
        method = "sinkhorn+absorption"
    F, G = embed(f, g)
    return dict(P=plan_from(F, G, C0, eps), f=F, g=G, method=method,
                iters=total, err=err)


def solve_pot(p, seed):
    """Independent POT solve started from a *different* (random) point.

    Returns the plan and f, g in convention A (cost units).  Different
    initialisation than OTT, so agreement means both reached the fixed point
    (not just that they followed the same trajectory).
    """
    rng = np.random.default_rng(seed)
    if math.isinf(p["rho_a"]) and math.isinf(p["rho_b"]):
        return _pot_balanced(p, rng)
    return _pot_unbalanced(p, rng)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------
def fmt(v):
    v = float(v)
    if math.isnan(v):
        raise ValueError("NaN in output")
    return repr(v)


def line(key, values):
    return key + " " + " ".join(fmt(v) for v in np.ravel(values))


def plan_rows_indices(a, n):
    idx = sorted(set(int(round(t)) for t in np.linspace(0, n - 1, PLAN_ROWS_K)))
    zero_rows = [i for i in range(n) if a[i] == 0.0 and i not in idx]
    if zero_rows:  # show a zero-weight row too (replace a middle one)
        idx[len(idx) // 2] = zero_rows[0]
        idx = sorted(set(idx))
    assert len(idx) == PLAN_ROWS_K and idx[0] == 0 and idx[-1] == n - 1
    return idx


def emit(p, r):
    out = []
    out.append(f"problem {p['name']}")
    out.append(f"n {p['n']}")
    out.append(f"m {p['m']}")
    out.append(f"d {p['d']}")
    out.append(line("scale", [p["scale"]]))
    out.append(line("eps_rel", [p["eps_rel"]]))
    out.append(line("eps", [p["eps"]]))
    out.append(line("mean_cost", [p["mean_cost"]]))
    out.append(line("rho_a", [p["rho_a"]]))
    out.append(line("rho_b", [p["rho_b"]]))
    out.append(line("x", p["x"]))
    out.append(line("y", p["y"]))
    out.append(line("a", p["a"]))
    out.append(line("b", p["b"]))
    out.append(line("f", r["f"]))
    out.append(line("g", r["g"]))
    out.append(line("reg_ot_cost", [r["reg_ot_cost"]]))
    out.append(line("transport_cost", [r["transport_cost"]]))
    out.append(line("ref_error", [r["ref_error"]]))
    n, m = p["n"], p["m"]
    P = r["P"]
    if n * m <= PLAN_FULL_MAX:
        out.append(line("plan", P))
    else:
        idx = plan_rows_indices(p["a"], n)
        out.append("plan_rows " + str(len(idx)) + " "
                   + " ".join(str(i) for i in idx) + " "
                   + " ".join(fmt(v) for v in P[idx].ravel()))
    out.append("end")
    return "\n".join(out) + "\n"


KEYS = ["problem", "n", "m", "d", "scale", "eps_rel", "eps", "mean_cost", "rho_a", "rho_b",
        "x", "y", "a", "b", "f", "g", "reg_ot_cost", "transport_cost", "ref_error"]


def verify_file(path):
    """Re-read the written file with a strict line parser (mirroring what the
    Rust side does) and re-check every problem from the parsed numbers only."""
    with open(path) as fh:
        lines = fh.read().split("\n")
    assert lines[-1] == "", "file must end with a newline"
    lines = lines[:-1]
    i, count = 0, 0
    while i < len(lines):
        if lines[i].startswith("#"):
            i += 1
            continue
        rec = {}
        for key in KEYS:
            parts = lines[i].split(" ")
            assert parts[0] == key, (i + 1, key, lines[i][:40])
            rec[key] = parts[1:]
            i += 1
        name = rec["problem"][0]
        n, m, d = int(rec["n"][0]), int(rec["m"][0]), int(rec["d"][0])
        num = {k: np.array([float(t) for t in rec[k]]) for k in KEYS[4:]}
        for k, want in [("x", n * d), ("y", m * d), ("a", n), ("b", m), ("f", n), ("g", m)]:
            assert num[k].size == want, (name, k)
        for k in KEYS[4:]:
            assert not np.any(np.isnan(num[k])), (name, k)
            if k not in ("rho_a", "rho_b", "f", "g"):
                assert np.all(np.isfinite(num[k])), (name, k)
        x, y = num["x"].reshape(n, d), num["y"].reshape(m, d)
        a, b, f, g = num["a"], num["b"], num["f"], num["g"]
        eps = num["eps"][0]
        C = cost_matrix(x, y, num["scale"][0])
        assert C.mean() == num["mean_cost"][0], name
        assert eps == num["eps_rel"][0] * num["mean_cost"][0], name
        P = plan_from(f, g, C, eps)
        parts = lines[i].split(" ")
        if parts[0] == "plan":
            assert n * m <= PLAN_FULL_MAX, name
            stored = np.array([float(t) for t in parts[1:]]).reshape(n, m)
            rows = np.arange(n)
        else:
            assert parts[0] == "plan_rows" and n * m > PLAN_FULL_MAX, name
            k = int(parts[1])
            rows = np.array([int(t) for t in parts[2:2 + k]])
            stored = np.array([float(t) for t in parts[2 + k:]]).reshape(k, m)
            assert k == PLAN_ROWS_K and rows[0] == 0 and rows[-1] == n - 1, name
        assert np.array_equal(stored, P[rows]), name
        assert abs(np.sum(C * P) - num["transport_cost"][0]) <= 1e-13 * max(1.0, abs(num["transport_cost"][0])), name
        res = optimality_residual(P, f, g, a, b, num["rho_a"][0], num["rho_b"][0])
        assert res == num["ref_error"][0], name
        rc = reg_ot_cost_formula(f, g, P, a, b, eps, num["rho_a"][0], num["rho_b"][0])
        assert abs(rc - num["reg_ot_cost"][0]) <= 1e-11 * max(1.0, abs(rc)), name
        i += 1
        assert lines[i] == "end", (name, lines[i][:40])
        i += 1
        count += 1
    return count


def check_problem_set(probs):
    names = [p[0] for p in probs]
    assert len(set(names)) == len(names), "duplicate names"
    assert all(" " not in s for s in names)
    assert len(probs) >= 36
    sizes = {1, 2, 7, 64, 300}
    for (name, n, m, d, scale, eps_rel, *_rest) in probs:
        assert n in sizes and m in sizes, name
        assert d in {1, 2, 3, 8}, name
        assert eps_rel in {1e-3, 1e-2, 0.05, 0.1, 1.0}, name
        assert scale in {1.0, 0.5}, name
        if eps_rel == 1e-3:
            assert n <= 64 and m <= 64, name
    for dd in (1, 2, 3, 8):
        assert sum(p[3] == dd for p in probs) >= 4, f"d={dd} used < 4 times"
    for e in (1e-3, 1e-2, 0.05, 0.1, 1.0):
        assert sum(p[5] == e for p in probs) >= 4, f"eps_rel={e} used < 4 times"
    assert sum(p[1] == 300 and p[2] == 300 for p in probs) >= 2
    assert any(p[1] == 1 for p in probs) and any(p[2] == 1 for p in probs)
    assert any(p[1] != p[2] for p in probs)
    unb = [p for p in probs if math.isfinite(p[9]) or math.isfinite(p[10])]
    assert len(unb) >= 10
    assert any(math.isfinite(p[9]) and math.isfinite(p[10]) for p in unb)
    assert any(math.isinf(p[9]) for p in unb) and any(math.isinf(p[10]) for p in unb)
    assert any(p[4] == 0.5 for p in probs)
    za = [p for p in probs if p[7].startswith("zeros")]
    zb = [p for p in probs if p[8].startswith("zeros")]
    assert za and zb and set(x[0] for x in za) & set(x[0] for x in zb)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join("tests", "data", "sinkhorn_reference.txt"))
    ap.add_argument("--only", default=None, help="comma-separated problem names (debug)")
    args = ap.parse_args()

    check_problem_set(PROBLEMS)
    specs = PROBLEMS
    if args.only:
        keep = set(args.only.split(","))
        specs = [s for s in PROBLEMS if s[0] in keep]

    t_start = time.time()
    blocks = []
    summary = []
    worst_x = (0.0, "")
    worst_err = (0.0, "")
    worst_reg = (0.0, "")
    for k, spec in enumerate(specs):
        t0 = time.time()
        p = build(spec)
        r = solve_ott(p)
        f, g = r["f"], r["g"]
        a, b, C, eps = p["a"], p["b"], p["C"], p["eps"]
        # -inf exactly where the weight is zero, finite elsewhere
        assert np.all(np.isneginf(f[a == 0])) and np.all(np.isfinite(f[a > 0])), p["name"]
        assert np.all(np.isneginf(g[b == 0])) and np.all(np.isfinite(g[b > 0])), p["name"]
        P = plan_from(f, g, C, eps)
        assert not np.any(np.isnan(P))
        # our numpy plan vs OTT's own matrix
        d_ott = float(np.max(np.abs(P - r["ott_matrix"])) / P.max())
        assert d_ott < 1e-12, (p["name"], d_ott)
        r["P"] = P
        r["transport_cost"] = float(np.sum(C * P))
        r["ref_error"] = optimality_residual(P, f, g, a, b, p["rho_a"], p["rho_b"])
        assert r["ref_error"] < REF_ERROR_TOL, (p["name"], r["ref_error"])
        rc = reg_ot_cost_formula(f, g, P, a, b, eps, p["rho_a"], p["rho_b"])
        d_reg = abs(rc - r["reg_ot_cost"]) / max(1.0, abs(rc))
        assert d_reg < 1e-11, (p["name"], rc, r["reg_ot_cost"])
        t_ott = time.time() - t0

        t1 = time.time()
        q = solve_pot(p, seed=10_000 + k)
        t_pot = time.time() - t1
        xdiff = float(np.max(np.abs(q["P"] - P)) / P.max())
        # potentials: compare on the support; balanced ones only up to a shift
        sa, sb = a > 0, b > 0
        df = q["f"][sa] - f[sa]
        dg = q["g"][sb] - g[sb]
        balanced = math.isinf(p["rho_a"]) and math.isinf(p["rho_b"])
        if balanced:
            c = np.mean(df)
            df, dg = df - c, dg + c
        pot_diff = float(max(np.max(np.abs(df)), np.max(np.abs(dg))) / p["mean_cost"])
        assert xdiff < CROSS_CHECK_TOL, (p["name"], "POT vs OTT plan", xdiff)
        if xdiff > worst_x[0]:
            worst_x = (xdiff, p["name"])
        if r["ref_error"] > worst_err[0]:
            worst_err = (r["ref_error"], p["name"])
        if d_reg > worst_reg[0]:
            worst_reg = (d_reg, p["name"])

        kind = "balanced" if balanced else "unbalanced"
        comment = (f"# {p['name']}: {kind}, cloud={p['cloud']}, a={p['wa']}, b={p['wb']}, "
                   f"ott_iters={r['n_iters']}, ott_error={r['ott_error']:.3e}, "
                   f"pot={q['method']}, pot_iters={q['iters']}, pot_vs_ott_plan_rel={xdiff:.3e}, "
                   f"pot_vs_ott_potentials_rel={pot_diff:.3e}")
        blocks.append(comment + "\n" + emit(p, r))
        summary.append((p["name"], kind, r["n_iters"], r["ref_error"], xdiff, pot_diff,
                        t_ott, t_pot))
        print(f"[{k + 1:2d}/{len(specs)}] {p['name']:<38s} {kind:<10s} iters={r['n_iters']:>7d} "
              f"ref_err={r['ref_error']:.2e} pot_vs_ott={xdiff:.2e} "
              f"pot_f={pot_diff:.2e} ({q['method']}) t_ott={t_ott:.1f}s t_pot={t_pot:.1f}s",
              flush=True)

    n_bal = sum(1 for s in summary if s[1] == "balanced")
    n_unb = len(summary) - n_bal
    header = [
        "# otcore entropic-OT reference solutions (float64).",
        "# Generated by tools/reference/gen_sinkhorn.py -- do not edit by hand.",
        f"# Primary reference: OTT-JAX {ott.__version__} (jax {jax.__version__}, x64, "
        f"lse_mode=True, threshold={TARGET_ERROR}, run in chunks until the residual",
        "#   reaches the threshold or stops improving = float64 rounding floor).",
        f"# Cross-check: POT {ot.__version__} (balanced: ot.bregman.sinkhorn_log; unbalanced: "
        "ot.unbalanced.sinkhorn_unbalanced method='sinkhorn',",
        "#   reg_type='entropy', on the support of a, b; for eps_rel=1e-3 with log-domain absorption",
        "#   between POT calls), started from a random point (OTT starts from f=g=0).",
        f"# numpy {np.__version__}, python {platform.python_version()}.",
        f"# {len(summary)} problems: {n_bal} balanced, {n_unb} unbalanced.",
        f"# Worst POT-vs-OTT plan disagreement max|dP|/max(P): {worst_x[0]:.3e} ({worst_x[1]}).",
        f"# Worst reference optimality residual (ref_error, L1): {worst_err[0]:.3e} ({worst_err[1]}).",
        "# Conventions: C_ij = scale*||x_i-y_j||^2 (direct differences); mean_cost = unweighted",
        "#   mean of C; eps = eps_rel*mean_cost; P_ij = exp((f_i+g_j-C_ij)/eps); f_i = -inf iff",
        "#   a_i == 0 (same for g/b).  Balanced f, g are OTT's raw output (started from f=g=0,",
        "#   g updated first); they are only defined up to (f+c, g-c).  Unbalanced: tau = rho/(rho+eps),",
        "#   OTT lse_step fixed point (entropy reference 1, NOT KL(P|a x b) -- see README.md).",
        "# reg_ot_cost = OTT out.reg_ot_cost = sum_{a>0} -a*phi(f - eps*log a) + (same for b)",
        "#   + eps*(sum(a)*sum(b) - sum(P)), phi(h) = rho*(exp(-h/rho)-1), or -h if rho=inf (its limit).",
        "# transport_cost = sum(C*P).  ref_error = |P1 - a~|_1 + |P^T1 - b~|_1 with a~ = a",
        "#   (rho_a=inf) or a*exp(-f/rho_a) (the fixed-point condition); same for b.",
        "# plan_rows: n*m > 5000 -> k=6 rows (first, last, evenly spaced; a zero-weight row",
        "#   if any), format: plan_rows k i_1 .. i_k then k*m floats, row-major.",
    ]
    text = "\n".join(header) + "\n" + "".join(blocks)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(text)
    n_read = verify_file(args.out)
    assert n_read == len(summary), (n_read, len(summary))
    elapsed = time.time() - t_start
    print(f"wrote {args.out}: {len(summary)} problems ({n_bal} balanced, {n_unb} unbalanced), "
          f"{len(text.encode()) / 1e6:.2f} MB, {elapsed:.1f}s")
    print(f"read-back check of {args.out}: {n_read} problems OK")
    print(f"worst POT-vs-OTT plan disagreement: {worst_x[0]:.3e} ({worst_x[1]})")
    print(f"worst reference optimality residual: {worst_err[0]:.3e} ({worst_err[1]})")
    print(f"worst reg_ot_cost formula mismatch: {worst_reg[0]:.3e} ({worst_reg[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
