/* Restart sampling (Xu et al. 2023) through the C ABI (otc_sde_restart_*,
 * otc_sde_restart_config_from_sigma): values against closed forms in f32 and f64, the
 * noise's determinism and batch independence, and every bad-input path with canaries
 * (state and evaluation count untouched).
 *
 * The closed form: data N(m, v I) under EDM (a = 1, time = sigma). The denoiser is
 * affine, D(x; s) = m + v/(v + s^2) (x - m), so the probability-flow ODE is
 * dx/ds = g(s) (x - m) with g(s) = s/(v + s^2), and one Heun step from s0 to s1
 * (h = s1 - s0) is the scalar map
 *     x' - m = (x - m) (1 + h/2 (g0 + g1 (1 + h g0)))      (s1 > 0)
 *     x' - m = (x - m) (1 + h g0)                           (s1 = 0: Euler, 1 call).
 * Restart = Heun along the grid to its point s_lo nearest t_min (product A), then K
 * times "x += J z_r, J = sqrt(t_max^2 - s_lo^2), N Heun steps on the Karras grid
 * (rho = 7) from t_max back to s_lo" (product I each), then Heun to the end (B):
 *     x_out - m = P (x0 - m) + B J sum_r I^(K - r + 1) z_r,   P = B I^K A.
 * So two runs from different x0 with the same seed differ by exactly P (x0 - x0'),
 * and (x_out - m - P (x0 - m)) / (B J sqrt(sum_j I^(2j))) is a standard normal. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

#define D 2
#define GRID 12  /* 11 Karras points from sigma 5 down to sigma_min = 0.002, then 0 */
#define NBIG 4096 /* samples of the law check: 8192 values */

static const double M[D] = {0.5, -1.0};
static const double V = 0.25;

typedef struct {
    int calls;
    int fail_at; /* > 0: the call with this number fails ... */
    int nan;     /* ... by returning NaN in its output instead of an error */
} model_state;

static int32_t denoiser_f64(void *user, size_t n, size_t d, const double *x, const double *t,
                            double *out) {
    model_state *s = (model_state *)user;
    size_t i, j;
    s->calls += 1;
    if (s->calls == s->fail_at && !s->nan) return 3;
    for (i = 0; i < n; ++i) {
        double r = V / (V + t[i] * t[i]);
        for (j = 0; j < d; ++j) out[i * d + j] = M[j] + r * (x[i * d + j] - M[j]);
    }
    if (s->calls == s->fail_at) out[n * d - 1] = NAN;
    return 0;
}

static int32_t denoiser_f32(void *user, size_t n, size_t d, const float *x, const float *t,
                            float *out) {
    model_state *s = (model_state *)user;
    size_t i, j;
    s->calls += 1;
    if (s->calls == s->fail_at && !s->nan) return 3;
    for (i = 0; i < n; ++i) {
        double r = V / (V + (double)t[i] * (double)t[i]);
        for (j = 0; j < d; ++j) out[i * d + j] = (float)(M[j] + r * ((double)x[i * d + j] - M[j]));
    }
    if (s->calls == s->fail_at) out[n * d - 1] = NAN;
    return 0;
}

static double g(double s) { return s / (V + s * s); }

static double heun_factor(double s0, double s1) {
    double h = s1 - s0, g0 = g(s0);
    return s1 == 0.0 ? 1.0 + h * g0 : 1.0 + 0.5 * h * (g0 + g(s1) * (1.0 + h * g0));
}

/* The closed form's coefficients for `grid` (len points) and `cfg`: P and the noise
 * scale B J sqrt(sum_{j=1..K} I^(2j)). */
static void closed_form(const double *grid, size_t len, const otc_sde_restart_config *cfg,
                        double *p_out, double *q_out) {
    size_t at = 1, k;
    double a = 1.0, b = 1.0, in = 1.0, s_lo, r0, r1, q2 = 0.0, ik = 1.0;
    unsigned r, j;
    for (k = 2; k < len; ++k) /* the first nearest grid point after the first */
        if (fabs(grid[k] - cfg->t_min) < fabs(grid[at] - cfg->t_min)) at = k;
    s_lo = grid[at];
    for (k = 0; k < at; ++k) a *= heun_factor(grid[k], grid[k + 1]);
    for (k = at; k + 1 < len; ++k) b *= heun_factor(grid[k], grid[k + 1]);
    r0 = pow(cfg->t_max, 1.0 / 7.0);
    r1 = pow(s_lo, 1.0 / 7.0);
    for (j = 0; j < cfg->steps; ++j) {
        double u0 = (double)j / cfg->steps, u1 = (double)(j + 1) / cfg->steps;
        double s0 = j == 0 ? cfg->t_max : pow(r0 + u0 * (r1 - r0), 7.0);
        double s1 = j + 1 == cfg->steps ? s_lo : pow(r0 + u1 * (r1 - r0), 7.0);
        in *= heun_factor(s0, s1);
    }
    for (r = 0; r < cfg->repeats; ++r) {
        ik *= in;
        q2 += ik * ik;
    }
    *p_out = b * ik * a;
    *q_out = b * sqrt(cfg->t_max * cfg->t_max - s_lo * s_lo) * sqrt(q2);
}

/* Runs restart on n samples of `x` (n*D doubles, in place) in f64 or, with `f32`, on a
 * float copy (converted back); the model is the Gaussian denoiser. */
static int32_t run(int f32, const otc_sde_process *edm, const otc_sde_restart_config *cfg,
                   const double *grid, size_t len, double *x, size_t n, uint64_t seed,
                   uint64_t first, uint64_t *evals) {
    model_state ms = {0, 0, 0};
    size_t bytes = 0, i;
    void *ws;
    int32_t st;
    if (f32) {
        float gf[GRID], *xf = (float *)malloc(n * D * sizeof(float));
        CHECK(len <= GRID && xf != NULL);
        for (i = 0; i < len; ++i) gf[i] = (float)grid[i];
        for (i = 0; i < n * D; ++i) xf[i] = (float)x[i];
        CHECK_STATUS(otc_sde_workspace_size_f32(n, D, &bytes), OTC_STATUS_OK);
        CHECK(bytes == (6 * n * D + 3 * n + 3 * D) * sizeof(float));
        ws = malloc(bytes);
        st = otc_sde_restart_f32(edm, cfg, denoiser_f32, &ms, OTC_SDE_OUTPUT_DENOISED, gf, len,
                                 xf, n, D, seed, first, ws, bytes, evals);
        for (i = 0; i < n * D; ++i) x[i] = xf[i];
        free(xf);
    } else {
        CHECK_STATUS(otc_sde_workspace_size_f64(n, D, &bytes), OTC_STATUS_OK);
        CHECK(bytes == (6 * n * D + 3 * n + 3 * D) * sizeof(double));
        ws = malloc(bytes);
        st = otc_sde_restart_f64(edm, cfg, denoiser_f64, &ms, OTC_SDE_OUTPUT_DENOISED, grid, len,
                                 x, n, D, seed, first, ws, bytes, evals);
    }
    free(ws);
    CHECK(st != OTC_STATUS_OK || (uint64_t)ms.calls == *evals);
    return st;
}

/* The grid (in the run's precision, as doubles) and a config of K round trips of N
 * steps between sigma 1 and 2. */
static void setup(int f32, otc_sde_process *edm, double *grid, otc_sde_restart_config *cfg,
                  unsigned k, unsigned steps) {
    size_t i;
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_EDM, edm), OTC_STATUS_OK);
    if (f32) {
        float gf[GRID];
        CHECK_STATUS(otc_sde_grid_f32(edm, OTC_SDE_GRID_KARRAS, 7.0, 5.0, 0.0, gf, GRID),
                     OTC_STATUS_OK);
        for (i = 0; i < GRID; ++i) grid[i] = gf[i];
    } else {
        CHECK_STATUS(otc_sde_grid_f64(edm, OTC_SDE_GRID_KARRAS, 7.0, 5.0, 0.0, grid, GRID),
                     OTC_STATUS_OK);
    }
    CHECK(grid[GRID - 1] == 0.0);
    CHECK_STATUS(otc_sde_restart_config_from_sigma(edm, 1.0, 2.0, k, steps, cfg), OTC_STATUS_OK);
    CHECK(cfg->struct_size == sizeof *cfg && cfg->t_min == 1.0 && cfg->t_max == 2.0 &&
          cfg->repeats == k && cfg->steps == steps);
}

/* Same seed, different starts: the outputs differ by exactly P (x0 - x0'); and the
 * evaluation count is 2 (GRID - 1) - 1 + 2 K N. */
static void deterministic_part(int f32) {
    enum { n = 64 };
    otc_sde_process edm;
    otc_sde_restart_config cfg;
    double grid[GRID], x[n * D], y[n * D], x0[n * D], y0[n * D], p, q, worst = 0.0;
    uint64_t ex = 0, ey = 0;
    size_t i;
    setup(f32, &edm, grid, &cfg, 3, 4);
    closed_form(grid, GRID, &cfg, &p, &q);
    for (i = 0; i < n * D; ++i) {
        x[i] = x0[i] = 10.0 * uniform() - 5.0;
        y[i] = y0[i] = 10.0 * uniform() - 5.0;
    }
    if (f32) /* the starts the f32 run sees */
        for (i = 0; i < n * D; ++i) {
            x0[i] = (float)x0[i];
            y0[i] = (float)y0[i];
        }
    CHECK_STATUS(run(f32, &edm, &cfg, grid, GRID, x, n, 5, 0, &ex), OTC_STATUS_OK);
    CHECK_STATUS(run(f32, &edm, &cfg, grid, GRID, y, n, 5, 0, &ey), OTC_STATUS_OK);
    CHECK(ex == 2 * (GRID - 1) - 1 + 2 * 3 * 4 && ey == ex);
    for (i = 0; i < n * D; ++i) {
        double e = fabs((x[i] - y[i]) - p * (x0[i] - y0[i]));
        if (e > worst) worst = e;
    }
    fprintf(stderr, "restart %s: P = %.6f, noise scale %.6f, worst |dx - P dx0| = %.3g\n",
            f32 ? "f32" : "f64", p, q, worst);
    /* P = 0.018 (sigma 5 -> 0 contracts N(m, v + 25) to N(m, v); each of the three
     * round trips contracts by ~0.55), so P dx0 is up to 0.18; skipping a round trip
     * or a Heun stage changes it by > 40 %, i.e. > 1e-3 on most samples. What remains
     * is rounding that does not cancel between the two runs (their noise is the same
     * bits): ~45 Heun steps of a few operations on |x| <= 8, whose contributions are
     * themselves contracted by the later steps; observed 8e-16 (f64) and 5.7e-7 (f32,
     * 0.6 ulp of 8; the model also sees float times). 1e-13 and 1e-5 leave a factor
     * of ~20-100 over that and are still 100 times below any such mistake. Our P comes
     * from C's pow for the inner Karras times, which may differ from the core's libm
     * in the last bit: a relative 1e-16 change of P, negligible here. */
    CHECK(worst < (f32 ? 1e-5 : 1e-13));
}

/* The noise: with K = 2 round trips the standardised residual
 * (x_out - m - P (x0 - m)) / q is N(0, 1) over 8192 values. */
static void noise_law(int f32) {
    otc_sde_process edm;
    otc_sde_restart_config cfg;
    double grid[GRID], p, q, mean = 0.0, var = 0.0, *x = malloc(NBIG * D * sizeof(double)),
                             *x0 = malloc(NBIG * D * sizeof(double));
    const double cnt = (double)(NBIG * D);
    uint64_t ev = 0;
    size_t i;
    CHECK(x != NULL && x0 != NULL);
    setup(f32, &edm, grid, &cfg, 2, 3);
    closed_form(grid, GRID, &cfg, &p, &q);
    for (i = 0; i < NBIG * D; ++i) {
        x[i] = 6.0 * uniform() - 3.0;
        x0[i] = f32 ? (double)(float)x[i] : x[i];
    }
    CHECK_STATUS(run(f32, &edm, &cfg, grid, GRID, x, NBIG, 11, 0, &ev), OTC_STATUS_OK);
    for (i = 0; i < NBIG * D; ++i) mean += (x[i] - M[i % D] - p * (x0[i] - M[i % D])) / q;
    mean /= cnt;
    for (i = 0; i < NBIG * D; ++i) {
        double z = (x[i] - M[i % D] - p * (x0[i] - M[i % D])) / q - mean;
        var += z * z;
    }
    var /= cnt - 1.0;
    fprintf(stderr, "restart %s: standardised jump noise mean %.4f, variance %.4f\n",
            f32 ? "f32" : "f64", mean, var);
    /* 4 standard errors of 8192 N(0, 1) draws: mean 4/sqrt(8192) = 0.044, variance
     * 4 sqrt(2/8192) = 0.063. The seed is fixed, so the test is deterministic; the
     * margins say a correct sampler would pass with almost any seed. A jump of t_max
     * instead of sqrt(t_max^2 - s_lo^2) (s_lo = 1.03) gives variance 4/(4 - 1.03^2) =
     * 1.36, one key for both round trips (I + I^2)^2/(I^2 + I^4) = 1.85 (I = 0.55);
     * the f32 run's rounding (~1e-6 against q = 0.51) is far below either margin. */
    CHECK(fabs(mean) < 4.0 / sqrt(cnt));
    CHECK(fabs(var - 1.0) < 4.0 * sqrt(2.0 / cnt));
    free(x);
    free(x0);
}

/* Sample i's noise depends on (seed, first_sample + i) only: two half batches with
 * first_sample 0 and n/2 give the bits of one whole batch; another seed gives other
 * samples. */
static void batch_independent(int f32) {
    enum { n = 32 };
    otc_sde_process edm;
    otc_sde_restart_config cfg;
    double grid[GRID], x[n * D], y[n * D], z[n * D];
    uint64_t e = 0;
    size_t i;
    setup(f32, &edm, grid, &cfg, 2, 2);
    for (i = 0; i < n * D; ++i) {
        x[i] = 4.0 * uniform() - 2.0;
        x[i] = y[i] = z[i] = f32 ? (double)(float)x[i] : x[i];
    }
    CHECK_STATUS(run(f32, &edm, &cfg, grid, GRID, x, n, 21, 100, &e), OTC_STATUS_OK);
    CHECK_STATUS(run(f32, &edm, &cfg, grid, GRID, y, n / 2, 21, 100, &e), OTC_STATUS_OK);
    CHECK_STATUS(run(f32, &edm, &cfg, grid, GRID, y + n / 2 * D, n / 2, 21, 100 + n / 2, &e),
                 OTC_STATUS_OK);
    CHECK(memcmp(x, y, sizeof x) == 0);
    CHECK_STATUS(run(f32, &edm, &cfg, grid, GRID, z, n, 22, 100, &e), OTC_STATUS_OK);
    CHECK(memcmp(x, z, sizeof x) != 0);
}

/* otc_sde_restart_config_from_sigma on VP: the times have s/a = sigma. */
static void from_sigma_vp(void) {
    otc_sde_process vp;
    otc_sde_restart_config cfg;
    otc_sde_coefs c;
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VP, &vp), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_restart_config_from_sigma(&vp, 0.3, 2.0, 2, 5, &cfg), OTC_STATUS_OK);
    CHECK(cfg.t_min > 0.0 && cfg.t_min < cfg.t_max && cfg.t_max < 1.0);
    c.struct_size = sizeof c;
    /* The time comes from bisection to adjacent doubles: s/a matches to ~1e-15
     * relative; 1e-12 leaves room for the schedule's own rounding. */
    CHECK_STATUS(otc_sde_process_coefs(&vp, cfg.t_min, &c), OTC_STATUS_OK);
    CHECK(fabs(c.s / c.a - 0.3) < 1e-12 * 0.3);
    CHECK_STATUS(otc_sde_process_coefs(&vp, cfg.t_max, &c), OTC_STATUS_OK);
    CHECK(fabs(c.s / c.a - 2.0) < 1e-12 * 2.0);
}

/* Runs the f64 sampler on a canary state; checks the status and that nothing was
 * written. `ws_bytes` 0: the right size. */
static void bad(const otc_sde_process *process, const otc_sde_restart_config *cfg,
                otc_sde_model_fn_f64 f, model_state *ms, int32_t output, const double *grid,
                size_t len, size_t n, size_t ws_bytes, int32_t want, int line) {
    double x[8 * D];
    uint64_t evals = 77;
    size_t bytes = 0, i;
    void *ws;
    int ok = 1;
    CHECK_STATUS(otc_sde_workspace_size_f64(8, D, &bytes), OTC_STATUS_OK);
    ws = malloc(bytes);
    for (i = 0; i < 8 * D; ++i) x[i] = 0.25 * (double)i;
    ms->calls = 0;
    CHECK_STATUS(otc_sde_restart_f64(process, cfg, f, ms, output, grid, len, x, n, D, 1, 0, ws,
                                     ws_bytes ? ws_bytes : bytes, &evals),
                 want);
    for (i = 0; i < 8 * D; ++i) ok &= x[i] == 0.25 * (double)i;
    if (!ok || evals != 77) fprintf(stderr, "bad input at line %d wrote its outputs\n", line);
    CHECK(ok && evals == 77);
    free(ws);
}

static void bad_inputs(void) {
    otc_sde_process edm, vp, broken;
    otc_sde_restart_config good, c, sized;
    model_state ms = {0, 0, 0};
    double grid[GRID], g2[GRID], x[8 * D], y[8 * D], ws[512];
    float xf[8 * D], gf[GRID], wsf[512];
    size_t bytes = 0, i;
    uint64_t evals = 77;
    const int32_t DEN = OTC_SDE_OUTPUT_DENOISED, BADP = OTC_STATUS_INVALID_PARAMETER;
    setup(0, &edm, grid, &good, 2, 3);
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VP, &vp), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_workspace_size_f64(8, D, &bytes), OTC_STATUS_OK);
    CHECK(bytes <= sizeof ws);
    /* The call itself works with these arguments. */
    for (i = 0; i < 8 * D; ++i) x[i] = 0.25 * (double)i;
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, x, 8, D, 1, 0,
                                     ws, bytes, &evals),
                 OTC_STATUS_OK);
    CHECK(evals == 2 * (GRID - 1) - 1 + 2 * 2 * 3);
    /* NULL pointers. */
    bad(NULL, &good, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, OTC_STATUS_NULL_POINTER, __LINE__);
    bad(&edm, NULL, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, OTC_STATUS_NULL_POINTER, __LINE__);
    bad(&edm, &good, NULL, &ms, DEN, grid, GRID, 8, 0, OTC_STATUS_NULL_POINTER, __LINE__);
    bad(&edm, &good, denoiser_f64, &ms, DEN, NULL, GRID, 8, 0, OTC_STATUS_NULL_POINTER, __LINE__);
    for (i = 0; i < 8 * D; ++i) x[i] = 0.5;
    evals = 77;
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, NULL, 8, D,
                                     1, 0, ws, bytes, &evals),
                 OTC_STATUS_NULL_POINTER);
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, x, 8, D, 1,
                                     0, NULL, bytes, &evals),
                 OTC_STATUS_NULL_POINTER);
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, x, 8, D, 1,
                                     0, ws, bytes, NULL),
                 OTC_STATUS_NULL_POINTER);
    CHECK(x[0] == 0.5 && x[8 * D - 1] == 0.5 && evals == 77);
    /* Struct sizes (process, config). */
    sized = good;
    sized.struct_size = sizeof sized - 1;
    bad(&edm, &sized, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, OTC_STATUS_STRUCT_SIZE, __LINE__);
    broken = edm;
    broken.struct_size = 0;
    bad(&broken, &good, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, OTC_STATUS_STRUCT_SIZE,
        __LINE__);
    broken = edm;
    broken.param0 = -1.0; /* sigma_min <= 0 */
    bad(&broken, &good, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    /* Sizes: n = 0, d = 0, one grid point. */
    bad(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, 0, 0, OTC_STATUS_EMPTY_INPUT, __LINE__);
    for (i = 0; i < 8 * D; ++i) x[i] = 0.5;
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, x, 8, 0, 1,
                                     0, ws, bytes, &evals),
                 OTC_STATUS_EMPTY_INPUT);
    CHECK(x[0] == 0.5 && evals == 77);
    bad(&edm, &good, denoiser_f64, &ms, DEN, grid, 1, 8, 0, OTC_STATUS_EMPTY_INPUT, __LINE__);
    /* Output kind: unknown, velocity (flow samplers only). */
    bad(&edm, &good, denoiser_f64, &ms, 42, grid, GRID, 8, 0, BADP, __LINE__);
    bad(&edm, &good, denoiser_f64, &ms, OTC_SDE_OUTPUT_VELOCITY, grid, GRID, 8, 0, BADP, __LINE__);
    /* The grid: NaN, not decreasing, outside the process's range (VP's T = 1). */
    memcpy(g2, grid, sizeof g2);
    g2[3] = NAN;
    bad(&edm, &good, denoiser_f64, &ms, DEN, g2, GRID, 8, 0, OTC_STATUS_NON_FINITE_INPUT,
        __LINE__);
    memcpy(g2, grid, sizeof g2);
    g2[3] = g2[2];
    bad(&edm, &good, denoiser_f64, &ms, DEN, g2, GRID, 8, 0, BADP, __LINE__);
    bad(&vp, &good, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    /* The restart settings. */
    c = good, c.repeats = 0;
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    c = good, c.repeats = 17;
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    c = good, c.steps = 0;
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    c = good, c.steps = 65;
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    c = good, c.t_max = NAN;
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    c = good, c.t_min = INFINITY;
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    c = good, c.t_min = -1.0;
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    c = good, c.t_max = 81.0; /* above T = sigma_max = 80 */
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    c = good, c.t_max = 0.9; /* below the grid point t_min = 1 snaps to */
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    c = good, c.t_min = 0.0; /* snaps to the last grid point, sigma = 0 */
    bad(&edm, &c, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, BADP, __LINE__);
    /* The workspace: one value short, misaligned; x overlapping it. */
    bad(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, 8, bytes - sizeof(double),
        OTC_STATUS_WORKSPACE_TOO_SMALL, __LINE__);
    for (i = 0; i < 8 * D; ++i) x[i] = 0.5;
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, x, 8, D, 1,
                                     0, (char *)ws + 1, bytes - 8, &evals),
                 OTC_STATUS_MISALIGNED);
    CHECK(x[0] == 0.5 && evals == 77);
    for (i = 0; i < 8 * D; ++i) ws[i] = 0.5;
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, ws, 8, D, 1,
                                     0, ws, bytes, &evals),
                 BADP);
    CHECK(ws[0] == 0.5 && ws[8 * D - 1] == 0.5 && evals == 77);
    /* x not finite. */
    for (i = 0; i < 8 * D; ++i) x[i] = 0.5;
    x[5] = INFINITY;
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, x, 8, D, 1,
                                     0, ws, bytes, &evals),
                 OTC_STATUS_NON_FINITE_INPUT);
    CHECK(x[0] == 0.5 && isinf(x[5]) && evals == 77);
    /* The model fails, or returns NaN, on its 10th call: inside the round trips (the
     * grid reaches its point nearest t_min = 1, sigma 1.03, after 3 Heun steps = 6
     * calls; the 2 x 3 Heun steps of the round trips are calls 7-18). */
    ms.fail_at = 10;
    bad(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, OTC_STATUS_CALLBACK_FAILED,
        __LINE__);
    CHECK(ms.calls == 10);
    ms.nan = 1;
    bad(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, 8, 0, OTC_STATUS_NON_FINITE, __LINE__);
    ms.fail_at = 0;
    ms.nan = 0;
    /* A failed run leaves nothing behind: the next run gives the bits of a first one. */
    for (i = 0; i < 8 * D; ++i) x[i] = y[i] = 2.0 * uniform() - 1.0;
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, x, 8, D, 4,
                                     0, ws, bytes, &evals),
                 OTC_STATUS_OK);
    ms.calls = 0;
    ms.fail_at = 30;
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, y, 8, D, 4,
                                     0, ws, bytes, &evals),
                 OTC_STATUS_CALLBACK_FAILED);
    ms.fail_at = 0;
    CHECK_STATUS(otc_sde_restart_f64(&edm, &good, denoiser_f64, &ms, DEN, grid, GRID, y, 8, D, 4,
                                     0, ws, bytes, &evals),
                 OTC_STATUS_OK);
    CHECK(memcmp(x, y, sizeof x) == 0);
    /* f32: a short workspace, and a failing model; state untouched. */
    for (i = 0; i < GRID; ++i) gf[i] = (float)grid[i];
    CHECK_STATUS(otc_sde_workspace_size_f32(8, D, &bytes), OTC_STATUS_OK);
    CHECK(bytes <= sizeof wsf);
    for (i = 0; i < 8 * D; ++i) xf[i] = 0.5f;
    evals = 77;
    CHECK_STATUS(otc_sde_restart_f32(&edm, &good, denoiser_f32, &ms, DEN, gf, GRID, xf, 8, D, 1, 0,
                                     wsf, bytes - sizeof(float), &evals),
                 OTC_STATUS_WORKSPACE_TOO_SMALL);
    ms.calls = 0;
    ms.fail_at = 10;
    ms.nan = 1;
    CHECK_STATUS(otc_sde_restart_f32(&edm, &good, denoiser_f32, &ms, DEN, gf, GRID, xf, 8, D, 1, 0,
                                     wsf, bytes, &evals),
                 OTC_STATUS_NON_FINITE);
    ms.fail_at = 0;
    ms.nan = 0;
    CHECK(xf[0] == 0.5f && xf[8 * D - 1] == 0.5f && evals == 77);
    /* otc_sde_restart_config_from_sigma: out untouched on every error. */
    {
        const struct {
            const otc_sde_process *p;
            double lo, hi;
            uint32_t k, n;
            int32_t want;
        } cases[] = {
            {NULL, 1.0, 2.0, 1, 1, OTC_STATUS_NULL_POINTER},
            {&broken, 1.0, 2.0, 1, 1, BADP},
            {&edm, -0.1, 2.0, 1, 1, BADP},
            {&edm, NAN, 2.0, 1, 1, BADP},
            {&edm, 1.0, INFINITY, 1, 1, BADP},
            {&edm, 2.0, 2.0, 1, 1, BADP},
            {&edm, 1.0, 81.0, 1, 1, BADP}, /* above EDM's sigma_max = 80 */
            {&edm, 1.0, 2.0, 0, 1, BADP},
            {&edm, 1.0, 2.0, 17, 1, BADP},
            {&edm, 1.0, 2.0, 1, 0, BADP},
            {&edm, 1.0, 2.0, 1, 65, BADP},
        };
        size_t k;
        for (k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
            c = good;
            CHECK_STATUS(otc_sde_restart_config_from_sigma(cases[k].p, cases[k].lo, cases[k].hi,
                                                           cases[k].k, cases[k].n, &c),
                         cases[k].want);
            CHECK(memcmp(&c, &good, sizeof c) == 0);
        }
        CHECK_STATUS(otc_sde_restart_config_from_sigma(&edm, 1.0, 2.0, 1, 1, NULL),
                     OTC_STATUS_NULL_POINTER);
    }
}

int main(void) {
    /* Layout pinned: size_t, two doubles, two uint32_t. */
    CHECK(sizeof(otc_sde_restart_config) == 32);
    CHECK(offsetof(otc_sde_restart_config, repeats) == 24);
    deterministic_part(0);
    deterministic_part(1);
    noise_law(0);
    noise_law(1);
    batch_independent(0);
    batch_independent(1);
    from_sigma_vp();
    bad_inputs();
    return check_report("test_sde_restart");
}
