"""Side-by-side timing of the Sinkhorn divergence and its gradient in OTT-JAX and
GeomLoss (CPU, float32), on the problem of core/benches/divergence.rs: n = m = 1024
points in 2-D (the same LCG), cost ||x - y||^2, eps = 0.05 x mean cost.

* OTT-JAX: jit(value_and_grad(sinkhorn_divergence)) w.r.t. x, threshold 1e-4 on the
  L1 marginal error (otcore's f32 default tolerance).
* GeomLoss: SamplesLoss("sinkhorn", p=2, blur=sqrt(eps/2), scaling) (cost ||x-y||^2/2,
  so the same kernel), tensorized backend, value + backward w.r.t. x. GeomLoss has no
  tolerance: its eps-annealing schedule fixes the work (scaling 0.5 default, 0.9).

Not part of the test suite. Run: python3 tools/reference/bench_divergence.py
"""

import time

import numpy as np

import jax

import jax.numpy as jnp  # noqa: E402
from ott.geometry import pointcloud  # noqa: E402
from ott.tools import sinkhorn_divergence as otsd  # noqa: E402

import torch  # noqa: E402
from geomloss import SamplesLoss  # noqa: E402

N = 1024


def cloud(count, seed, shift):
    s, out = seed, []
    for _ in range(count * 2):
        s = (s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(((s >> 11) / float(1 << 53)) * 2.0 - 1.0 + shift)
    return np.array(out).reshape(count, 2)


def best(f, repeat=5):
    f()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    x, y = cloud(N, 1, 0.0), cloud(N, 2, 0.5)
    c = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    eps = 0.05 * c.mean()
    torch.set_num_threads(1)
    xj, yj = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)

    def ott_div(x):
        val, out = otsd.sinkhorn_divergence(
            pointcloud.PointCloud, x, yj, epsilon=eps,
            solve_kwargs=dict(threshold=1e-4, max_iterations=100000))
        return val, out

    f = jax.jit(jax.value_and_grad(ott_div, has_aux=True))
    (_, out), _ = f(xj)
    its = [int(o) for o in out.n_iters] if hasattr(out, "n_iters") else "?"
    t = best(lambda: jax.block_until_ready(f(xj)))
    print(f"OTT-JAX {jax.__version__} f32 value+grad: {t * 1e3:.1f} ms (iterations {its})")

    for scaling in (0.5, 0.9):
        loss = SamplesLoss("sinkhorn", p=2, blur=float(np.sqrt(eps / 2)), scaling=scaling,
                           backend="tensorized")
        xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
        yt = torch.tensor(y, dtype=torch.float32)

        def run():
            v = loss(xt, yt)
            (g,) = torch.autograd.grad(v, [xt])
            return g

        t = best(run)
        print(f"GeomLoss f32 scaling {scaling} value+grad: {t * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
