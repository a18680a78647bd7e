/* The flow-matching samplers through the C ABI: values against the exact Gaussian flow,
 * single steps = whole run bit for bit, and every bad-input path with canaries
 * (state and evaluation count untouched). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

#define N 16
#define D 2

/* Data N(m, v I): on x_t = (1 - t) x0 + t eps the velocity is
 * v(x, t) = (x (t - (1 - t) v) - t m) / ((1 - t)^2 v + t^2). The callback can be told
 * to fail or to return NaN on a given call. */
typedef struct {
    double m[D];
    double v;
    int calls;
    int bad_at;
    int nan;
} gauss_flow;

static int32_t velocity_f64(void *user, size_t n, size_t d, const double *x, const double *t,
                            double *out) {
    gauss_flow *g = (gauss_flow *)user;
    size_t i, j;
    g->calls += 1;
    if (g->bad_at > 0 && g->calls == g->bad_at && !g->nan) return 3;
    for (i = 0; i < n; ++i) {
        double a = 1.0 - t[i], vt = a * a * g->v + t[i] * t[i];
        for (j = 0; j < d; ++j)
            out[i * d + j] = (x[i * d + j] * (t[i] - a * g->v) - t[i] * g->m[j]) / vt;
    }
    if (g->bad_at > 0 && g->calls == g->bad_at) out[0] = NAN;
    return 0;
}

static int32_t velocity_f32(void *user, size_t n, size_t d, const float *x, const float *t,
                            float *out) {
    double xd[N * D], td[N], od[N * D];
    size_t i;
    for (i = 0; i < n * d; ++i) xd[i] = x[i];
    for (i = 0; i < n; ++i) td[i] = t[i];
    if (velocity_f64(user, n, d, xd, td, od) != 0) return 3;
    for (i = 0; i < n * d; ++i) out[i] = (float)od[i];
    return 0;
}

static void exact_flow(void) {
    gauss_flow g = {{0.7, -1.3}, 0.25, 0, 0, 0};
    double grid[81], x[N * D], x1[N * D], ws[512];
    size_t ws_bytes = 0, i;
    uint64_t evals = 0;
    double worst = 0.0;
    CHECK_STATUS(otc_sde_workspace_size_f64(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK(ws_bytes <= sizeof ws);
    CHECK_STATUS(otc_sde_flow_grid_f64(1.0, 1.0, 0.0, grid, 81), OTC_STATUS_OK);
    CHECK(grid[0] == 1.0 && grid[40] == 0.5 && grid[80] == 0.0);
    for (i = 0; i < N * D; ++i) x[i] = x1[i] = 2.0 * uniform() - 1.0;
    CHECK_STATUS(otc_sde_flow_sample_f64(OTC_SDE_FLOW_HEUN, 0.0, velocity_f64, &g,
                                         OTC_SDE_OUTPUT_VELOCITY, grid, 81, x, N, D, 1, 0, ws,
                                         ws_bytes, &evals),
                 OTC_STATUS_OK);
    CHECK(evals == 2 * 80 - 1);
    /* Exact flow x_0 = m + sqrt(v) x_1. Heun's error at 80 steps is ~1e-4 on this
     * problem (order 2, 8.5e-3 RMS at 10 steps in the Rust tests): 1e-3 bounds the
     * largest of the 32 coordinates with room and fails for a first-order method. */
    for (i = 0; i < N * D; ++i) {
        double e = fabs(x[i] - (g.m[i % D] + sqrt(g.v) * x1[i]));
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-3);
}

static void steps_equal_sample(void) {
    gauss_flow g = {{0.7, -1.3}, 0.25, 0, 0, 0};
    float grid[11], a[N * D], b[N * D], ws[512];
    size_t ws_bytes = 0, i;
    uint64_t evals = 0, total = 0;
    CHECK_STATUS(otc_sde_workspace_size_f32(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_flow_grid_f32(3.0, 1.0, 0.0, grid, 11), OTC_STATUS_OK);
    for (i = 0; i < N * D; ++i) a[i] = b[i] = (float)(2.0 * uniform() - 1.0);
    CHECK_STATUS(otc_sde_flow_sample_f32(OTC_SDE_FLOW_SDE, 1.0, velocity_f32, &g,
                                         OTC_SDE_OUTPUT_VELOCITY, grid, 11, a, N, D, 5, 0, ws,
                                         ws_bytes, &evals),
                 OTC_STATUS_OK);
    CHECK(evals == 10);
    for (i = 0; i < 10; ++i) {
        CHECK_STATUS(otc_sde_flow_step_f32(OTC_SDE_FLOW_SDE, 1.0, velocity_f32, &g,
                                           OTC_SDE_OUTPUT_VELOCITY, b, N, D, grid[i],
                                           grid[i + 1], i, 5, 0, ws, ws_bytes, &evals),
                     OTC_STATUS_OK);
        total += evals;
    }
    CHECK(total == 10);
    CHECK(memcmp(a, b, sizeof a) == 0);
}

/* Runs the f64 sampler on a canary state; checks status and that nothing was written. */
static void bad(int32_t method, double eta, otc_sde_model_fn_f64 f, gauss_flow *g, int32_t output,
                const double *grid, size_t len, size_t ws_bytes, int32_t want, int line) {
    double x[N * D], ws[512];
    uint64_t evals = 77;
    size_t i;
    int ok = 1;
    for (i = 0; i < N * D; ++i) x[i] = 0.25 * (double)i;
    CHECK_STATUS(otc_sde_flow_sample_f64(method, eta, f, g, output, grid, len, x, N, D, 1, 0, ws,
                                         ws_bytes, &evals),
                 want);
    for (i = 0; i < N * D; ++i) ok &= x[i] == 0.25 * (double)i;
    if (!ok || evals != 77) fprintf(stderr, "bad input at line %d wrote its outputs\n", line);
    CHECK(ok && evals == 77);
}

static void bad_inputs(void) {
    gauss_flow g = {{0.7, -1.3}, 0.25, 0, 0, 0};
    double grid[5], short_grid[3] = {1.0, 0.5, 0.1}, x[N * D] = {0}, ws[512];
    float fgrid[4] = {7, 7, 7, 7};
    size_t ws_bytes = 0;
    uint64_t evals = 0;
    otc_sde_process vp;
    otc_sde_sampler_config cfg;
    CHECK_STATUS(otc_sde_workspace_size_f64(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_flow_grid_f64(1.0, 1.0, 0.0, grid, 5), OTC_STATUS_OK);
    bad(OTC_SDE_FLOW_SDE, NAN, velocity_f64, &g, OTC_SDE_OUTPUT_VELOCITY, grid, 5, ws_bytes,
        OTC_STATUS_INVALID_PARAMETER, __LINE__);
    bad(OTC_SDE_FLOW_SDE, -0.5, velocity_f64, &g, OTC_SDE_OUTPUT_VELOCITY, grid, 5, ws_bytes,
        OTC_STATUS_INVALID_PARAMETER, __LINE__);
    bad(99, 0.0, velocity_f64, &g, OTC_SDE_OUTPUT_VELOCITY, grid, 5, ws_bytes,
        OTC_STATUS_INVALID_PARAMETER, __LINE__);
    bad(OTC_SDE_FLOW_EULER, 0.0, velocity_f64, &g, 42, grid, 5, ws_bytes,
        OTC_STATUS_INVALID_PARAMETER, __LINE__);
    /* A grid that does not reach t = 0, and a score model asked for t = 1. */
    bad(OTC_SDE_FLOW_EULER, 0.0, velocity_f64, &g, OTC_SDE_OUTPUT_VELOCITY, short_grid, 3,
        ws_bytes, OTC_STATUS_INVALID_PARAMETER, __LINE__);
    bad(OTC_SDE_FLOW_EULER, 0.0, velocity_f64, &g, OTC_SDE_OUTPUT_SCORE, grid, 5, ws_bytes,
        OTC_STATUS_INVALID_PARAMETER, __LINE__);
    bad(OTC_SDE_FLOW_EULER, 0.0, NULL, &g, OTC_SDE_OUTPUT_VELOCITY, grid, 5, ws_bytes,
        OTC_STATUS_NULL_POINTER, __LINE__);
    bad(OTC_SDE_FLOW_EULER, 0.0, velocity_f64, &g, OTC_SDE_OUTPUT_VELOCITY, grid, 5, 8,
        OTC_STATUS_WORKSPACE_TOO_SMALL, __LINE__);
    /* The model fails, or returns NaN, on the second call (Heun's corrector). */
    g.bad_at = 2;
    bad(OTC_SDE_FLOW_HEUN, 0.0, velocity_f64, &g, OTC_SDE_OUTPUT_VELOCITY, grid, 5, ws_bytes,
        OTC_STATUS_CALLBACK_FAILED, __LINE__);
    g.calls = 0;
    g.nan = 1;
    bad(OTC_SDE_FLOW_HEUN, 0.0, velocity_f64, &g, OTC_SDE_OUTPUT_VELOCITY, grid, 5, ws_bytes,
        OTC_STATUS_NON_FINITE, __LINE__);
    /* Bad grid requests leave the grid untouched. */
    CHECK_STATUS(otc_sde_flow_grid_f32(0.0, 1.0, 0.0, fgrid, 4), OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_sde_flow_grid_f32(1.0, 1.5, 0.0, fgrid, 4), OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_sde_flow_grid_f32(1.0, 1.0, 0.0, fgrid, 1), OTC_STATUS_EMPTY_INPUT);
    CHECK(fgrid[0] == 7 && fgrid[3] == 7);
    /* A velocity model on a process without the interpolant form. */
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VP, &vp), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_DDIM, &cfg), OTC_STATUS_OK);
    grid[4] = 1e-3;
    x[0] = 5.0;
    CHECK_STATUS(otc_sde_sample_f64(&vp, &cfg, velocity_f64, &g, OTC_SDE_OUTPUT_VELOCITY, grid, 5,
                                    x, N, D, 1, 0, ws, ws_bytes, &evals),
                 OTC_STATUS_INVALID_PARAMETER);
    CHECK(x[0] == 5.0 && evals == 0);
}

/* DPM-Solver++(3M) and UniPC run through otc_sde_sample_* (Gaussian score via the
 * mixture score) and land on the exact probability-flow solution; a single step of
 * either is refused, its state untouched. */
static int32_t vp_score(void *user, size_t n, size_t d, const double *x, const double *t,
                        double *out) {
    static const double w[1] = {1.0}, m[2] = {0.7, -1.3}, v[1] = {0.25};
    return otc_sde_mixture_score_f64((const otc_sde_process *)user, 1, d, w, m, v,
                                     OTC_SDE_COVARIANCE_ISOTROPIC, n, x, t, out);
}

static void third_order_multistep(void) {
    static const double m[2] = {0.7, -1.3};
    const int32_t methods[2] = {OTC_SDE_DPM_SOLVER_PP_3M, OTC_SDE_UNIPC};
    otc_sde_process vp;
    otc_sde_sampler_config cfg;
    otc_sde_coefs c0, c1;
    double grid[41], x[N * D], x0[N * D], hist[N * D] = {0}, h_prev = 0.0, ws[512], scale;
    size_t ws_bytes = 0, i;
    uint64_t evals = 0;
    int k;
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VP, &vp), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_workspace_size_f64(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_grid_f64(&vp, OTC_SDE_GRID_UNIFORM_LOG_SNR, 0.0, 1.0, 1e-3, grid, 41),
                 OTC_STATUS_OK);
    c0.struct_size = c1.struct_size = sizeof c0;
    CHECK_STATUS(otc_sde_process_coefs(&vp, 1.0, &c0), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_process_coefs(&vp, 1e-3, &c1), OTC_STATUS_OK);
    scale = sqrt((c1.a * c1.a * 0.25 + c1.s * c1.s) / (c0.a * c0.a * 0.25 + c0.s * c0.s));
    for (k = 0; k < 2; ++k) {
        double worst = 0.0;
        CHECK_STATUS(otc_sde_sampler_config_default(methods[k], &cfg), OTC_STATUS_OK);
        for (i = 0; i < N * D; ++i) x[i] = x0[i] = 2.0 * uniform() - 1.0;
        CHECK_STATUS(otc_sde_sample_f64(&vp, &cfg, vp_score, &vp, OTC_SDE_OUTPUT_SCORE, grid, 41,
                                        x, N, D, 1, 0, ws, ws_bytes, &evals),
                     OTC_STATUS_OK);
        CHECK(evals == 40);
        for (i = 0; i < N * D; ++i) {
            double want = c1.a * m[i % D] + scale * (x0[i] - c0.a * m[i % D]);
            if (fabs(x[i] - want) > worst) worst = fabs(x[i] - want);
        }
        /* 40 log-SNR steps: both are third order; their RMS errors on this target in
         * tests/tests/suite/sde_gaussian.rs are below 6e-4. A first- or second-order slip
         * (DDIM, 2M: 3e-3 RMS and more) exceeds 4e-3 in the largest coordinate. */
        CHECK(worst < 4e-3);
        x[0] = 5.0;
        CHECK_STATUS(otc_sde_step_f64(&vp, &cfg, vp_score, &vp, OTC_SDE_OUTPUT_SCORE, x, N, D, 1.0,
                                      0.5, 0, 1, 0, hist, &h_prev, ws, ws_bytes, &evals),
                     OTC_STATUS_INVALID_PARAMETER);
        CHECK(x[0] == 5.0 && hist[0] == 0.0 && h_prev == 0.0);
    }
    /* UniPC with a Langevin corrector is refused (UniC would discard its moves). */
    cfg.corrector_steps = 1;
    CHECK_STATUS(otc_sde_sample_f64(&vp, &cfg, vp_score, &vp, OTC_SDE_OUTPUT_SCORE, grid, 41, x, N,
                                    D, 1, 0, ws, ws_bytes, &evals),
                 OTC_STATUS_INVALID_PARAMETER);
    CHECK(x[0] == 5.0);
}

/* Classifier-free guidance: conditional N(mc, v), unconditional N(mu, v); the guided
 * velocity is exactly that of N(mu + w (mc - mu), v). Fails the unconditional call on
 * request. */
typedef struct {
    gauss_flow cond, uncond;
    int fail_uncond;
} gauss_pair;

static int32_t pair_velocity(void *user, size_t n, size_t d, const double *x, const double *t,
                             int32_t conditional, double *out) {
    gauss_pair *p = (gauss_pair *)user;
    if (!conditional && p->fail_uncond) return 5;
    return velocity_f64(conditional ? &p->cond : &p->uncond, n, d, x, t, out);
}

static void guided_flow(void) {
    gauss_pair pair = {{{1.0, -0.5}, 0.25, 0, 0, 0}, {{-0.2, 0.4}, 0.25, 0, 0, 0}, 0};
    const double w = 2.5;
    double grid[81], x[N * D], x1[N * D], ws[1024], worst = 0.0;
    size_t ws_bytes = 0, i;
    uint64_t calls = 0;
    CHECK_STATUS(otc_sde_flow_guided_workspace_size_f64(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK(ws_bytes == (7 * N * D + 3 * N + 3 * D) * sizeof(double) && ws_bytes <= sizeof ws);
    CHECK_STATUS(otc_sde_flow_grid_f64(1.0, 1.0, 0.0, grid, 81), OTC_STATUS_OK);
    for (i = 0; i < N * D; ++i) x[i] = x1[i] = 2.0 * uniform() - 1.0;
    CHECK_STATUS(otc_sde_flow_sample_guided_f64(OTC_SDE_FLOW_HEUN, 0.0, pair_velocity, &pair,
                                                OTC_SDE_OUTPUT_VELOCITY, w, 0.0, 1.0, grid, 81, x,
                                                N, D, 1, 0, ws, ws_bytes, &calls),
                 OTC_STATUS_OK);
    CHECK(calls == 2 * (2 * 80 - 1));
    /* Heun at 80 steps: ~1e-4 from the exact flow (as exact_flow); unguided would be
     * |w - 1| |mc - mu| >= 1.3 away. */
    for (i = 0; i < N * D; ++i) {
        double m = pair.uncond.m[i % D] + w * (pair.cond.m[i % D] - pair.uncond.m[i % D]);
        double e = fabs(x[i] - (m + sqrt(0.25) * x1[i]));
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-3);
    /* Non-finite weight, bad interval, failing unconditional call, short workspace:
     * state and call count untouched. */
    {
        const double bad_w[4] = {NAN, 2.0, 2.0, 2.0}, lo[4] = {0.0, 0.6, 0.0, 0.0},
                     hi[4] = {1.0, 0.2, 1.0, 1.0};
        const int32_t want[4] = {OTC_STATUS_INVALID_PARAMETER, OTC_STATUS_INVALID_PARAMETER,
                                 OTC_STATUS_CALLBACK_FAILED, OTC_STATUS_WORKSPACE_TOO_SMALL};
        int k;
        for (k = 0; k < 4; ++k) {
            int ok = 1;
            calls = 77;
            for (i = 0; i < N * D; ++i) x[i] = 0.5 * (double)i;
            pair.fail_uncond = k == 2;
            CHECK_STATUS(otc_sde_flow_sample_guided_f64(
                             OTC_SDE_FLOW_HEUN, 0.0, pair_velocity, &pair, OTC_SDE_OUTPUT_VELOCITY,
                             bad_w[k], lo[k], hi[k], grid, 81, x, N, D, 1, 0, ws,
                             k == 3 ? ws_bytes - sizeof(double) : ws_bytes, &calls),
                         want[k]);
            for (i = 0; i < N * D; ++i) ok &= x[i] == 0.5 * (double)i;
            CHECK(ok && calls == 77);
        }
    }
}

int main(void) {
    guided_flow();
    third_order_multistep();
    exact_flow();
    steps_equal_sample();
    bad_inputs();
    return check_report("test_sde_flow");
}
