/* The SDE samplers through the C ABI: struct layouts, values against closed forms
 * (exact Gaussian probability-flow, exact final denoise, deterministic Itô step),
 * batch independence, and every bad-input path with canaries (outputs untouched). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

/* A Gaussian N(m, v I) in d = 2 as a mixture with one component; the callback counts
 * calls and can be told to fail. */
typedef struct {
    otc_sde_process process;
    double mean[2];
    double var[1];
    double weight[1];
    int calls;
    int fail_at;
} gauss_model;

static int32_t gauss_score(void *user, size_t n, size_t d, const double *x, const double *t,
                           double *out) {
    gauss_model *g = (gauss_model *)user;
    g->calls += 1;
    if (g->fail_at > 0 && g->calls >= g->fail_at) return 7;
    return otc_sde_mixture_score_f64(&g->process, 1, d, g->weight, g->mean, g->var,
                                     OTC_SDE_COVARIANCE_ISOTROPIC, n, x, t, out);
}

/* The same, in float, returning the denoised estimate x0 = (x + s^2 score)/a. */
typedef struct {
    otc_sde_process process;
    float mean[2];
    float var[1];
    float weight[1];
} gauss_model_f32;

static int32_t gauss_denoised_f32(void *user, size_t n, size_t d, const float *x,
                                  const float *t, float *out) {
    gauss_model_f32 *g = (gauss_model_f32 *)user;
    size_t i, j;
    int32_t s = otc_sde_mixture_score_f32(&g->process, 1, d, g->weight, g->mean, g->var,
                                          OTC_SDE_COVARIANCE_ISOTROPIC, n, x, t, out);
    if (s != OTC_STATUS_OK) return s;
    for (i = 0; i < n; ++i) {
        otc_sde_coefs c;
        c.struct_size = sizeof c;
        if (otc_sde_process_coefs(&g->process, t[i], &c) != OTC_STATUS_OK) return 1;
        for (j = 0; j < d; ++j)
            out[i * d + j] = (float)((x[i * d + j] + c.s * c.s * out[i * d + j]) / c.a);
    }
    return 0;
}

static int32_t gbm_drift_only(void *user, size_t n, size_t d, const double *x, double t,
                              double *drift, double *diffusion) {
    size_t i;
    (void)user;
    (void)t;
    for (i = 0; i < n * d; ++i) {
        drift[i] = 0.5 * x[i];
        diffusion[i] = 0.0;
    }
    return 0;
}

static int same_bits(const void *a, const void *b, size_t bytes) { return memcmp(a, b, bytes) == 0; }

#define N 16
#define D 2

static void layouts(void) {
    if (sizeof(size_t) != 8) return;
    CHECK(sizeof(otc_sde_process) == 32);
    CHECK(offsetof(otc_sde_process, param0) == 16);
    CHECK(sizeof(otc_sde_coefs) == 72);
    CHECK(sizeof(otc_sde_sampler_config) == 64);
    CHECK(offsetof(otc_sde_sampler_config, snr) == 24);
    CHECK(sizeof(otc_sde_adaptive_config) == 80);
    CHECK(offsetof(otc_sde_adaptive_config, depth) == 72);
    CHECK(sizeof(otc_sde_adaptive_stats) == 40);
    CHECK(OTC_SDE_VP == 0 && OTC_SDE_EDM == 4 && OTC_SDE_DPM_SOLVER_PP_2M == 6);
    CHECK(OTC_SDE_OUTPUT_SCORE == 0 && OTC_SDE_OUTPUT_DENOISED == 2);
}

/* Heun on Gaussian data against the exact PF-ODE flow x_t = a_t m + sqrt(V_t/V_T)(x_T - a_T m). */
static void exact_gaussian_flow(void) {
    gauss_model g;
    double x[N * D], x0[N * D], grid[41], ws_buf[6 * N * D + 3 * N + 3 * D];
    size_t ws_bytes = 0;
    uint64_t evals = 0;
    otc_sde_sampler_config cfg;
    otc_sde_coefs c0, c1;
    double v0, v1, err = 0.0;
    int i;
    memset(&g, 0, sizeof g);
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VP, &g.process), OTC_STATUS_OK);
    g.mean[0] = 0.7; g.mean[1] = -1.3; g.var[0] = 0.25; g.weight[0] = 1.0;
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_HEUN, &cfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_grid_f64(&g.process, OTC_SDE_GRID_KARRAS, 7.0, 1.0, 1e-3, grid, 41), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_workspace_size_f64(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK(ws_bytes == sizeof ws_buf);
    CHECK_STATUS(otc_sde_prior_sample_f64(&g.process, 3, 0, N, D, x), OTC_STATUS_OK);
    memcpy(x0, x, sizeof x);
    CHECK_STATUS(otc_sde_sample_f64(&g.process, &cfg, gauss_score, &g, OTC_SDE_OUTPUT_SCORE, grid, 41,
                                    x, N, D, 1, 0, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_OK);
    CHECK(evals == 80 && g.calls == 80);
    c0.struct_size = c1.struct_size = sizeof c0;
    CHECK_STATUS(otc_sde_process_coefs(&g.process, 1.0, &c0), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_process_coefs(&g.process, 1e-3, &c1), OTC_STATUS_OK);
    v0 = c0.a * c0.a * 0.25 + c0.s * c0.s;
    v1 = c1.a * c1.a * 0.25 + c1.s * c1.s;
    for (i = 0; i < N * D; ++i) {
        double m = g.mean[i % D];
        double exact = c1.a * m + sqrt(v1 / v0) * (x0[i] - c0.a * m);
        err = fmax(err, fabs(x[i] - exact));
    }
    /* Heun, 40 Karras steps: the Rust order test measures an RMS error 1.2e-3 at 80
     * steps, 4.8e-3 at 40; a max over 32 values stays below 2e-2. */
    CHECK(err < 2e-2);
    fprintf(stderr, "heun 40 steps: max error vs exact flow %.3e\n", err);
}

/* A DDIM step to t = 0 lands on the denoised estimate; batches of different sizes give
 * the same bits; single steps with history reproduce the driver (DPM-Solver++(2M)). */
static void float_paths(void) {
    gauss_model_f32 g;
    float x[N * D], y[N * D], den[N * D], t[N], grid[9];
    double ws_buf[6 * N * D + 3 * N + 3 * D];
    float hist[N * D];
    double h_prev = 0.0;
    uint64_t evals = 0, e1 = 0;
    otc_sde_sampler_config cfg;
    int i, j;
    memset(&g, 0, sizeof g);
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VP, &g.process), OTC_STATUS_OK);
    g.mean[0] = 1.0f; g.mean[1] = 0.5f; g.var[0] = 0.04f; g.weight[0] = 2.0f;
    CHECK_STATUS(otc_sde_prior_sample_f32(&g.process, 9, 0, N, D, x), OTC_STATUS_OK);
    memcpy(y, x, sizeof x);
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_DDIM, &cfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_step_f32(&g.process, &cfg, gauss_denoised_f32, &g, OTC_SDE_OUTPUT_DENOISED, x, N, D,
                                  0.4f, 0.0f, 0, 1, 0, NULL, NULL, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_OK);
    for (i = 0; i < N; ++i) t[i] = 0.4f;
    CHECK(gauss_denoised_f32(&g, N, D, y, t, den) == 0);
    CHECK(evals == 1 && same_bits(x, den, sizeof x));

    /* Batch independence, Euler-Maruyama with a corrector. */
    CHECK_STATUS(otc_sde_grid_f32(&g.process, OTC_SDE_GRID_UNIFORM_TIME, 0.0, 1.0, 1e-3, grid, 9), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_EULER_MARUYAMA, &cfg), OTC_STATUS_OK);
    cfg.corrector_steps = 1;
    CHECK_STATUS(otc_sde_prior_sample_f32(&g.process, 9, 0, N, D, x), OTC_STATUS_OK);
    memcpy(y, x, sizeof x);
    CHECK_STATUS(otc_sde_sample_f32(&g.process, &cfg, gauss_denoised_f32, &g, OTC_SDE_OUTPUT_DENOISED, grid, 9,
                                    x, N, D, 5, 0, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_OK);
    CHECK(evals == 16);
    CHECK_STATUS(otc_sde_sample_f32(&g.process, &cfg, gauss_denoised_f32, &g, OTC_SDE_OUTPUT_DENOISED, grid, 9,
                                    y, 5, D, 5, 0, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_sample_f32(&g.process, &cfg, gauss_denoised_f32, &g, OTC_SDE_OUTPUT_DENOISED, grid, 9,
                                    y + 5 * D, N - 5, D, 5, 5, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_OK);
    CHECK(same_bits(x, y, sizeof x));

    /* Single steps with history = driver, DPM-Solver++(2M). */
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_DPM_SOLVER_PP_2M, &cfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_prior_sample_f32(&g.process, 9, 0, N, D, x), OTC_STATUS_OK);
    memcpy(y, x, sizeof x);
    CHECK_STATUS(otc_sde_sample_f32(&g.process, &cfg, gauss_denoised_f32, &g, OTC_SDE_OUTPUT_DENOISED, grid, 9,
                                    x, N, D, 5, 0, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_OK);
    for (j = 0; j < 8; ++j) {
        CHECK_STATUS(otc_sde_step_f32(&g.process, &cfg, gauss_denoised_f32, &g, OTC_SDE_OUTPUT_DENOISED, y, N, D,
                                      grid[j], grid[j + 1], (uint64_t)j, 5, 0, hist, &h_prev, ws_buf,
                                      sizeof ws_buf, &e1), OTC_STATUS_OK);
    }
    CHECK(h_prev > 0.0);
    CHECK(same_bits(x, y, sizeof x));
}

static void adaptive_and_ito(void) {
    gauss_model g;
    double x[N * D], ws_buf[6 * N * D + 3 * N + 3 * D];
    otc_sde_adaptive_config cfg;
    otc_sde_adaptive_stats st;
    double xi[3] = {1.0, 2.0, -0.5}, wsi[18];
    size_t bytes = 0;
    int i;
    memset(&g, 0, sizeof g);
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VE, &g.process), OTC_STATUS_OK);
    g.mean[0] = 0.3; g.mean[1] = 0.1; g.var[0] = 0.01; g.weight[0] = 1.0;
    CHECK_STATUS(otc_sde_adaptive_config_default(&g.process, &cfg), OTC_STATUS_OK);
    CHECK(cfg.memory && cfg.depth == 20 && cfg.t_start == 1.0 && cfg.t_end == 1e-5);
    CHECK_STATUS(otc_sde_prior_sample_f64(&g.process, 1, 0, N, D, x), OTC_STATUS_OK);
    st.struct_size = sizeof st;
    CHECK_STATUS(otc_sde_adaptive_f64(&g.process, &cfg, gauss_score, &g, OTC_SDE_OUTPUT_SCORE, x, N, D, 4, 0,
                                      ws_buf, sizeof ws_buf, &st), OTC_STATUS_OK);
    CHECK(st.unfinished == 0 && st.accepted >= N && st.evaluations >= 2);
    /* 16 samples of N((0.3, 0.1), 0.01 I) smoothed by sigma_min: all within 6 std. */
    for (i = 0; i < N * D; ++i) CHECK(fabs(x[i] - g.mean[i % D]) < 0.6);
    /* A budget: stops early, status MAX_ITERATIONS, stats written. */
    cfg.max_evaluations = 4;
    CHECK_STATUS(otc_sde_prior_sample_f64(&g.process, 1, 0, N, D, x), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_adaptive_f64(&g.process, &cfg, gauss_score, &g, OTC_SDE_OUTPUT_SCORE, x, N, D, 4, 0,
                                      ws_buf, sizeof ws_buf, &st), OTC_STATUS_MAX_ITERATIONS);
    CHECK(st.unfinished > 0 && st.evaluations <= 4);

    /* In pieces of one iteration per call, the state in the caller's buffer: the same
     * bits as one call. */
    {
        double whole[N * D], state[2 * N * D + 2 * N];
        int calls = 0;
        int32_t status;
        bool fresh = true;
        CHECK_STATUS(otc_sde_adaptive_config_default(&g.process, &cfg), OTC_STATUS_OK);
        CHECK_STATUS(otc_sde_prior_sample_f64(&g.process, 1, 0, N, D, whole), OTC_STATUS_OK);
        CHECK_STATUS(otc_sde_adaptive_f64(&g.process, &cfg, gauss_score, &g, OTC_SDE_OUTPUT_SCORE, whole, N, D, 4,
                                          0, ws_buf, sizeof ws_buf, &st), OTC_STATUS_OK);
        CHECK_STATUS(otc_sde_prior_sample_f64(&g.process, 1, 0, N, D, x), OTC_STATUS_OK);
        cfg.max_evaluations = 2;
        do {
            status = otc_sde_adaptive_resume_f64(&g.process, &cfg, gauss_score, &g, OTC_SDE_OUTPUT_SCORE, x, N, D,
                                                 4, 0, state, fresh, ws_buf, sizeof ws_buf, &st);
            fresh = false;
            ++calls;
        } while (status == OTC_STATUS_MAX_ITERATIONS && calls < 100000);
        CHECK_STATUS(status, OTC_STATUS_OK);
        CHECK(calls > 1 && same_bits(x, whole, sizeof x));
        state[2 * N * D] = 0.5; /* not a step counter */
        memcpy(whole, x, sizeof x);
        CHECK_STATUS(otc_sde_adaptive_resume_f64(&g.process, &cfg, gauss_score, &g, OTC_SDE_OUTPUT_SCORE, x, N, D, 4,
                                                 0, state, false, ws_buf, sizeof ws_buf, &st),
                     OTC_STATUS_INVALID_PARAMETER);
        CHECK(same_bits(x, whole, sizeof x) && state[2 * N * D] == 0.5);
        CHECK_STATUS(otc_sde_adaptive_resume_f64(&g.process, &cfg, gauss_score, &g, OTC_SDE_OUTPUT_SCORE, x, N, D, 4,
                                                 0, x, true, ws_buf, sizeof ws_buf, &st),
                     OTC_STATUS_INVALID_PARAMETER);
    }

    /* Itô Euler-Maruyama without diffusion is Euler: x(1 + 0.5 h), exactly. */
    CHECK_STATUS(otc_sde_ito_workspace_size_f64(3, 1, &bytes), OTC_STATUS_OK);
    CHECK(bytes == sizeof wsi);
    CHECK_STATUS(otc_sde_ito_step_f64(OTC_SDE_ITO_EULER_MARUYAMA, gbm_drift_only, NULL, xi, 3, 1, 0.0, 0.1, 1, 0, 0,
                                      wsi, sizeof wsi), OTC_STATUS_OK);
    CHECK(xi[0] == 1.0 + 0.5 * 1.0 * 0.1 && xi[1] == 2.0 + 0.5 * 2.0 * 0.1 && xi[2] == -0.5 + 0.5 * -0.5 * 0.1);
}

/* Every bad input: the right status, and the state, evaluations and stats untouched. */
static void bad_inputs(void) {
    gauss_model g;
    double x[N * D], canary[N * D], grid[5] = {1.0, 0.7, 0.4, 0.1, 1e-3}, bad_grid[5];
    double ws_buf[6 * N * D + 3 * N + 3 * D + 1];
    uint64_t evals = 12345;
    otc_sde_sampler_config cfg, bad_cfg;
    otc_sde_process bad_p;
    otc_sde_adaptive_config acfg;
    otc_sde_adaptive_stats st;
    otc_sde_coefs co;
    size_t i;
    memset(&g, 0, sizeof g);
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VP, &g.process), OTC_STATUS_OK);
    g.mean[0] = 0.0; g.mean[1] = 0.0; g.var[0] = 1.0; g.weight[0] = 1.0;
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_EULER_MARUYAMA, &cfg), OTC_STATUS_OK);
    for (i = 0; i < N * D; ++i) canary[i] = x[i] = 0.25 + (double)i;

#define SAMPLE(p, c, fn, out, gr, gl, xx, n, ws, wsb, ev) \
    otc_sde_sample_f64(p, c, fn, &g, out, gr, gl, xx, n, D, 1, 0, ws, wsb, ev)
#define UNTOUCHED() CHECK(same_bits(x, canary, sizeof x) && evals == 12345)
    CHECK_STATUS(SAMPLE(NULL, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_NULL_POINTER); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, NULL, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_NULL_POINTER); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, NULL, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_NULL_POINTER); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, NULL, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_NULL_POINTER); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, NULL, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_NULL_POINTER); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, x, N, NULL, sizeof ws_buf, &evals), OTC_STATUS_NULL_POINTER); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, NULL), OTC_STATUS_NULL_POINTER); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 3, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, x, 0, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_EMPTY_INPUT); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 1, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_EMPTY_INPUT); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf - 16, &evals), OTC_STATUS_WORKSPACE_TOO_SMALL); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, x, N, (char *)ws_buf + 4, sizeof ws_buf - 8, &evals), OTC_STATUS_MISALIGNED); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, x, N, x, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, x, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    /* Grids: non-monotone, beyond T, negative end, NaN, evaluation where s = 0. */
    memcpy(bad_grid, grid, sizeof grid); bad_grid[2] = 0.8;
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, bad_grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    memcpy(bad_grid, grid, sizeof grid); bad_grid[0] = 1.5;
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, bad_grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    memcpy(bad_grid, grid, sizeof grid); bad_grid[4] = -0.1;
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, bad_grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    memcpy(bad_grid, grid, sizeof grid); bad_grid[1] = NAN;
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, bad_grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_NON_FINITE_INPUT); UNTOUCHED();
    memcpy(bad_grid, grid, sizeof grid); bad_grid[3] = 0.0; bad_grid[4] = 0.0;
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, bad_grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    /* Process and config. */
    bad_p = g.process; bad_p.struct_size = 8;
    CHECK_STATUS(SAMPLE(&bad_p, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_STRUCT_SIZE); UNTOUCHED();
    bad_p = g.process; bad_p.kind = 9;
    CHECK_STATUS(SAMPLE(&bad_p, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    bad_p = g.process; bad_p.param0 = 0.0;
    CHECK_STATUS(SAMPLE(&bad_p, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    bad_p = g.process; bad_p.param1 = -1.0;
    CHECK_STATUS(SAMPLE(&bad_p, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    bad_cfg = cfg; bad_cfg.method = 42;
    CHECK_STATUS(SAMPLE(&g.process, &bad_cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    bad_cfg = cfg; bad_cfg.snr = 0.0; bad_cfg.corrector_steps = 1;
    CHECK_STATUS(SAMPLE(&g.process, &bad_cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    bad_cfg = cfg; bad_cfg.corrector = 5;
    CHECK_STATUS(SAMPLE(&g.process, &bad_cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    bad_cfg = cfg; bad_cfg.method = OTC_SDE_HEUN; bad_cfg.churn_gamma = 1.0;
    CHECK_STATUS(SAMPLE(&g.process, &bad_cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    bad_cfg = cfg; bad_cfg.struct_size = 1;
    CHECK_STATUS(SAMPLE(&g.process, &bad_cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_STRUCT_SIZE); UNTOUCHED();
    /* State with NaN / Inf. */
    x[3] = NAN; canary[3] = NAN;
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_NON_FINITE_INPUT); UNTOUCHED();
    x[3] = INFINITY; canary[3] = INFINITY;
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_NON_FINITE_INPUT); UNTOUCHED();
    x[3] = canary[3] = 3.25;
    /* The callback fails on its third call: nothing written. */
    g.fail_at = 3; g.calls = 0;
    CHECK_STATUS(SAMPLE(&g.process, &cfg, gauss_score, 0, grid, 5, x, N, ws_buf, sizeof ws_buf, &evals), OTC_STATUS_CALLBACK_FAILED); UNTOUCHED();
    CHECK(g.calls == 3);
    g.fail_at = 0;
    /* Single step: t_next >= t, exactly one history pointer. */
    CHECK_STATUS(otc_sde_step_f64(&g.process, &cfg, gauss_score, &g, 0, x, N, D, 0.5, 0.5, 0, 1, 0, NULL, NULL,
                                  ws_buf, sizeof ws_buf, &evals), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    CHECK_STATUS(otc_sde_step_f64(&g.process, &cfg, gauss_score, &g, 0, x, N, D, 0.5, 0.4, 0, 1, 0, canary, NULL,
                                  ws_buf, sizeof ws_buf, &evals), OTC_STATUS_NULL_POINTER); UNTOUCHED();
    /* Adaptive: zero tolerances, depth 0, t_end = 0; stats untouched. */
    CHECK_STATUS(otc_sde_adaptive_config_default(&g.process, &acfg), OTC_STATUS_OK);
    memset(&st, 0xAB, sizeof st); st.struct_size = sizeof st;
    acfg.eps_abs = 0.0; acfg.eps_rel = 0.0;
    CHECK_STATUS(otc_sde_adaptive_f64(&g.process, &acfg, gauss_score, &g, 0, x, N, D, 1, 0, ws_buf, sizeof ws_buf, &st), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    CHECK(st.evaluations == 0xABABABABABABABABull);
    CHECK_STATUS(otc_sde_adaptive_config_default(&g.process, &acfg), OTC_STATUS_OK);
    acfg.depth = 0;
    CHECK_STATUS(otc_sde_adaptive_f64(&g.process, &acfg, gauss_score, &g, 0, x, N, D, 1, 0, ws_buf, sizeof ws_buf, &st), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    CHECK_STATUS(otc_sde_adaptive_config_default(&g.process, &acfg), OTC_STATUS_OK);
    acfg.t_end = 0.0;
    CHECK_STATUS(otc_sde_adaptive_f64(&g.process, &acfg, gauss_score, &g, 0, x, N, D, 1, 0, ws_buf, sizeof ws_buf, &st), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    st.struct_size = 3;
    CHECK_STATUS(otc_sde_adaptive_config_default(&g.process, &acfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_adaptive_f64(&g.process, &acfg, gauss_score, &g, 0, x, N, D, 1, 0, ws_buf, sizeof ws_buf, &st), OTC_STATUS_STRUCT_SIZE); UNTOUCHED();
    /* Process queries and grids. */
    co.struct_size = sizeof co; co.a = 42.0;
    CHECK_STATUS(otc_sde_process_coefs(&g.process, 1.5, &co), OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_sde_process_coefs(&g.process, NAN, &co), OTC_STATUS_NON_FINITE_INPUT);
    CHECK(co.a == 42.0);
    CHECK_STATUS(otc_sde_process_default(17, &bad_p), OTC_STATUS_INVALID_PARAMETER);
    memcpy(bad_grid, grid, sizeof grid);
    CHECK_STATUS(otc_sde_grid_f64(&g.process, 9, 7.0, 1.0, 1e-3, bad_grid, 5), OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_sde_grid_f64(&g.process, OTC_SDE_GRID_KARRAS, -7.0, 1.0, 1e-3, bad_grid, 5), OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_sde_grid_f64(&g.process, OTC_SDE_GRID_UNIFORM_LOG_SNR, 0.0, 1.0, 0.0, bad_grid, 5), OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_sde_grid_f64(&g.process, OTC_SDE_GRID_UNIFORM_TIME, 0.0, 0.1, 0.5, bad_grid, 5), OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_sde_grid_f64(&g.process, OTC_SDE_GRID_UNIFORM_TIME, 0.0, 1.0, 0.5, bad_grid, 1), OTC_STATUS_EMPTY_INPUT);
    CHECK(same_bits(bad_grid, grid, sizeof grid));
    /* Mixture score: negative weight, zero mass, negative variance, t = 0, overlap. */
    {
        double w[2] = {0.5, -0.5}, mu[4] = {0, 0, 1, 1}, v[2] = {1, 1}, t[N], out[N * D];
        for (i = 0; i < N; ++i) t[i] = 0.5;
        memcpy(out, canary, sizeof out);
        CHECK_STATUS(otc_sde_mixture_score_f64(&g.process, 2, D, w, mu, v, 0, N, x, t, out), OTC_STATUS_NEGATIVE_WEIGHT);
        w[1] = 0.0; w[0] = 0.0;
        CHECK_STATUS(otc_sde_mixture_score_f64(&g.process, 2, D, w, mu, v, 0, N, x, t, out), OTC_STATUS_ZERO_MASS);
        w[0] = 1.0; v[1] = -1.0;
        CHECK_STATUS(otc_sde_mixture_score_f64(&g.process, 2, D, w, mu, v, 0, N, x, t, out), OTC_STATUS_INVALID_PARAMETER);
        v[1] = 1.0; t[2] = 0.0;
        CHECK_STATUS(otc_sde_mixture_score_f64(&g.process, 2, D, w, mu, v, 0, N, x, t, out), OTC_STATUS_INVALID_PARAMETER);
        t[2] = 0.5;
        CHECK_STATUS(otc_sde_mixture_score_f64(&g.process, 2, D, w, mu, v, 2, N, x, t, out), OTC_STATUS_INVALID_PARAMETER);
        CHECK_STATUS(otc_sde_mixture_score_f64(&g.process, 2, D, w, mu, v, 0, N, x, t, x), OTC_STATUS_INVALID_PARAMETER);
        CHECK(same_bits(out, canary, sizeof out));
        UNTOUCHED();
    }
    /* Itô: h <= 0, NULL callback, unknown method. */
    CHECK_STATUS(otc_sde_ito_step_f64(OTC_SDE_ITO_MILSTEIN, gbm_drift_only, NULL, x, N, D, 0.0, 0.0, 1, 0, 0, ws_buf, sizeof ws_buf), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    CHECK_STATUS(otc_sde_ito_step_f64(OTC_SDE_ITO_MILSTEIN, NULL, NULL, x, N, D, 0.0, 0.1, 1, 0, 0, ws_buf, sizeof ws_buf), OTC_STATUS_NULL_POINTER); UNTOUCHED();
    CHECK_STATUS(otc_sde_ito_step_f64(9, gbm_drift_only, NULL, x, N, D, 0.0, 0.1, 1, 0, 0, ws_buf, sizeof ws_buf), OTC_STATUS_INVALID_PARAMETER); UNTOUCHED();
    CHECK_STATUS(otc_sde_ito_step_f64(0, gbm_drift_only, NULL, x, N, D, 0.0, 0.1, 1, 0, 0, ws_buf, 8), OTC_STATUS_WORKSPACE_TOO_SMALL); UNTOUCHED();
#undef SAMPLE
#undef UNTOUCHED
}

int main(void) {
    layouts();
    exact_gaussian_flow();
    float_paths();
    adaptive_and_ito();
    bad_inputs();
    return check_report("test_sde");
}
