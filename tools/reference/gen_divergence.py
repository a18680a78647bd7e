"""Reference values of the debiased Sinkhorn divergence and its gradients.

Writes tests/data/divergence_reference.txt for tests/tests/references/ot_divergence.rs:

* OTT-JAX `ott.tools.sinkhorn_divergence.sinkhorn_divergence` (PointCloud, cost
  ||x - y||^2, absolute epsilon, symmetric terms with OTT's own averaged updates),
  balanced and unbalanced (tau_a = tau_b = rho/(rho+eps)), value, the three
  reg_ot_cost terms and jax.grad with respect to x, y, a, b.
* GeomLoss 0.3.1 legacy `sinkhorn_loop` (the routine behind
  `SamplesLoss("sinkhorn", p=2, blur, debias=True)`, cost ||x - y||^2 / 2,
  eps = blur^2), balanced only, value and torch.autograd gradients.  GeomLoss runs
  one averaged update per step of its eps-annealing schedule and stops at the end of
  the schedule, far from convergence at the default scaling; to get converged
  references, the script calls `sinkhorn_loop` with GeomLoss's own schedule
  (scaling 0.5) followed by `TAIL` more steps at the target eps, and checks that
  doubling the tail changes nothing beyond float64 rounding (the tail doubles up to
  16 times TAIL until it does; the remaining change is written as `spread`).

Run from the repository root (float64, CPU, about a minute):
    python3 tools/reference/gen_divergence.py
"""

import argparse
import sys

import numpy as np

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import ott  # noqa: E402
from ott.geometry import pointcloud  # noqa: E402
from ott.tools import sinkhorn_divergence as otsd  # noqa: E402

import torch  # noqa: E402
import geomloss  # noqa: E402
from geomloss._legacy import sinkhorn_divergence as gsd  # noqa: E402
from geomloss._legacy import sinkhorn_samples as gss  # noqa: E402

TAIL = 4000


def problems():
    rng = np.random.default_rng(20)
    out = []
    # (name, n, m, d, eps, rho, weights)
    specs = [
        ("p7x5_d2", 7, 5, 2, 0.3, None, "random"),
        ("p30x40_d2", 30, 40, 2, 0.2, None, "uniform"),
        ("p64x48_d3", 64, 48, 3, 0.5, None, "random"),
        ("p12x9_d1", 12, 9, 1, 0.1, None, "random"),
        ("p20x20_d2_small_eps", 20, 20, 2, 0.05, None, "uniform"),
        ("u15x11_d2", 15, 11, 2, 0.3, 1.0, "random_mass"),
        ("u25x30_d3", 25, 30, 3, 0.5, 2.0, "random"),
    ]
    for name, n, m, d, eps, rho, wk in specs:
        x = rng.normal(size=(n, d))
        y = rng.normal(size=(m, d)) * 0.8 + 0.7
        if wk == "uniform":
            a, b = np.full(n, 1.0 / n), np.full(m, 1.0 / m)
        else:
            a = rng.uniform(0.2, 1.0, n)
            b = rng.uniform(0.2, 1.0, m)
            a /= a.sum()
            b /= b.sum()
            if wk == "random_mass":
                a *= 1.3
                b *= 0.8
        out.append((name, x, y, a, b, eps, rho))
    return out


def ott_reference(x, y, a, b, eps, rho):
    kw = dict(threshold=1e-14, max_iterations=200000, lse_mode=True)
    if rho is not None:
        tau = rho / (rho + eps)
        kw.update(tau_a=tau, tau_b=tau)

    def div(x, y, a, b):
        val, out = otsd.sinkhorn_divergence(
            pointcloud.PointCloud, x, y, a=a, b=b, epsilon=eps, solve_kwargs=kw
        )
        return val, out

    (val, out), grads = jax.value_and_grad(div, argnums=(0, 1, 2, 3), has_aux=True)(
        jnp.asarray(x), jnp.asarray(y), jnp.asarray(a), jnp.asarray(b)
    )
    conv = [bool(c) for c in out.converged]
    return {
        "value": float(val),
        "converged": all(conv),
        "grads": [np.asarray(g) for g in grads],
    }


def ott_terms(x, y, a, b, eps, rho):
    """The three reg_ot_cost terms, solved separately as sinkhorn_divergence does."""
    from ott.solvers import linear
    from ott.solvers.linear import acceleration

    kw = dict(threshold=1e-14, max_iterations=200000, lse_mode=True)
    if rho is not None:
        tau = rho / (rho + eps)
        kw.update(tau_a=tau, tau_b=tau)
    sym = dict(kw, parallel_dual_updates=True, momentum=acceleration.Momentum(start=0, value=0.5), anderson=None)
    gxy = pointcloud.PointCloud(jnp.asarray(x), jnp.asarray(y), epsilon=eps)
    gxx = pointcloud.PointCloud(jnp.asarray(x), jnp.asarray(x), epsilon=eps)
    gyy = pointcloud.PointCloud(jnp.asarray(y), jnp.asarray(y), epsilon=eps)
    oxy = linear.solve(gxy, a=jnp.asarray(a), b=jnp.asarray(b), **kw)
    oxx = linear.solve(gxx, a=jnp.asarray(a), b=jnp.asarray(a), **sym)
    oyy = linear.solve(gyy, a=jnp.asarray(b), b=jnp.asarray(b), **sym)
    conv = bool(oxy.converged) and bool(oxx.converged) and bool(oyy.converged)
    return [float(oxy.reg_ot_cost), float(oxx.reg_ot_cost), float(oyy.reg_ot_cost)], conv


def geomloss_reference(x, y, a, b, eps, tail):
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    xt, yt = t(x)[None].requires_grad_(), t(y)[None].requires_grad_()
    at, bt = t(a)[None].requires_grad_(), t(b)[None].requires_grad_()

    def half_sq(u, v):
        return ((u[:, :, None, :] - v[:, None, :, :]) ** 2).sum(-1) / 2

    C_xy, C_yx = half_sq(xt, yt.detach()), half_sq(yt, xt.detach())
    C_xx, C_yy = half_sq(xt, xt.detach()), half_sq(yt, yt.detach())
    blur = eps**0.5
    _, eps_t, eps_list, rho = gsd.scaling_parameters(xt, yt, 2, blur, None, None, 0.5)
    assert abs(eps_t - eps) <= 1e-15 * eps
    eps_list = list(eps_list) + [eps] * tail
    f_aa, g_bb, g_ab, f_ba = gsd.sinkhorn_loop(
        gss.softmin_tensorized,
        gsd.log_weights(at),
        gsd.log_weights(bt),
        C_xx,
        C_yy,
        C_xy,
        C_yx,
        eps_list,
        rho,
        debias=True,
    )
    val = gsd.sinkhorn_cost(eps, rho, at, bt, f_aa, g_bb, g_ab, f_ba, batch=True, debias=True)
    val = val.sum()
    gx, gy, ga, gb = torch.autograd.grad(val, [xt, yt, at, bt])
    return float(val), [g[0].numpy() for g in (gx, gy, ga, gb)]


def fmt(v):
    return " ".join(repr(float(u)) for u in np.ravel(v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/divergence_reference.txt")
    args = ap.parse_args()
    lines = [
        "# otcore Sinkhorn-divergence references (float64). Generated by",
        "# tools/reference/gen_divergence.py -- do not edit by hand.",
        f"# OTT-JAX {ott.__version__} (jax {jax.__version__}, x64), GeomLoss {geomloss.__version__}"
        f" (torch {torch.__version__}), numpy {np.__version__}, python {sys.version.split()[0]}.",
        "# Each problem: lib ott (cost scale 1) or geomloss (cost scale 1/2), eps absolute,",
        "# rho (inf = balanced), value S, for ott the terms OT(x,y) OT(x,x) OT(y,y),",
        "# gradients gx (n*d), gy (m*d), ga (n), gb (m); 'spread' = change of the value",
        "# and gradients when the reference runs twice as long (convergence check).",
    ]
    for name, x, y, a, b, eps, rho in problems():
        n, d = x.shape
        m = y.shape[0]
        ref = ott_reference(x, y, a, b, eps, rho)
        terms, conv = ott_terms(x, y, a, b, eps, rho)
        if not (ref["converged"] and conv):
            print(f"{name}: OTT did not converge, skipped", file=sys.stderr)
        else:
            lines += [
                f"problem ott_{name}",
                f"n {n}", f"m {m}", f"d {d}", "scale 1.0", f"eps {eps!r}",
                f"rho {rho if rho is not None else 'inf'}",
                f"x {fmt(x)}", f"y {fmt(y)}", f"a {fmt(a)}", f"b {fmt(b)}",
                f"value {ref['value']!r}", f"terms {fmt(terms)}",
            ]
            for key, gr in zip(("gx", "gy", "ga", "gb"), ref["grads"]):
                lines.append(f"{key} {fmt(gr)}")
            lines.append("end")
        if rho is None:
            geps = eps / 2  # same kernel as OTT's eps on ||x-y||^2: (|x-y|^2/2)/(eps/2)
            tail = TAIL
            v1, g1 = geomloss_reference(x, y, a, b, geps, tail)
            while True:
                v2, g2 = geomloss_reference(x, y, a, b, geps, 2 * tail)
                spread = max([abs(v1 - v2) / abs(v2)] + [
                    float(np.max(np.abs(p - q)) / max(np.max(np.abs(q)), 1e-300))
                    for p, q in zip(g1, g2)
                ])
                if spread <= 1e-13 or tail >= 16 * TAIL:
                    break
                tail, v1, g1 = 2 * tail, v2, g2
            print(f"{name}: geomloss spread {spread:.2e}", file=sys.stderr)
            lines += [
                f"problem geomloss_{name}",
                f"n {n}", f"m {m}", f"d {d}", "scale 0.5", f"eps {geps!r}", "rho inf",
                f"x {fmt(x)}", f"y {fmt(y)}", f"a {fmt(a)}", f"b {fmt(b)}",
                f"value {v2!r}", f"spread {spread!r}",
            ]
            for key, gr in zip(("gx", "gy", "ga", "gb"), g2):
                lines.append(f"{key} {fmt(gr)}")
            lines.append("end")
        print(f"{name}: done", file=sys.stderr)
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
