/* Classifier-free guidance of the score/noise/denoiser samplers through the C ABI
 * (otc_sde_sample_guided_*, otc_sde_step_guided_*): values against closed forms, single
 * steps = whole run bit for bit, and every bad-input path with canaries (state, history
 * and call count untouched, the noise streams unchanged).
 *
 * The model: conditional data N(mc, v I), unconditional data N(mu, v I). Their
 * denoisers (and scores) are affine in the mean, so the guided output
 * u + w (c - u) is exactly the model of N(mg, v I) with mg = mu + w (mc - mu); its
 * probability-flow ODE is x_t - a_t mg = sqrt((a_t^2 v + s_t^2) / (a_T^2 v + s_T^2))
 * (x_T - a_T mg). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

#define N 8
#define D 2

typedef struct {
    const otc_sde_process *process; /* the score model asks the mixture score */
    double mc[D], mu[D], v;
    int calls, uncond_calls;
    int fail_uncond_at; /* > 0: the unconditional call with this number fails */
    int nan;            /* ... by returning NaN instead of an error */
} gauss_pair;

/* EDM denoiser of N(m, v I) at sigma: m + v / (v + sigma^2) (x - m). */
static int32_t pair_denoiser_f64(void *user, size_t n, size_t d, const double *x,
                                 const double *t, int32_t conditional, double *out) {
    gauss_pair *p = (gauss_pair *)user;
    const double *m = conditional ? p->mc : p->mu;
    size_t i, j;
    p->calls += 1;
    if (!conditional) {
        p->uncond_calls += 1;
        if (p->uncond_calls == p->fail_uncond_at && !p->nan) return 7;
    }
    for (i = 0; i < n; ++i) {
        double r = p->v / (p->v + t[i] * t[i]);
        for (j = 0; j < d; ++j) out[i * d + j] = m[j] + r * (x[i * d + j] - m[j]);
    }
    if (!conditional && p->uncond_calls == p->fail_uncond_at) out[n * d - 1] = NAN;
    return 0;
}

static int32_t pair_denoiser_f32(void *user, size_t n, size_t d, const float *x, const float *t,
                                 int32_t conditional, float *out) {
    double xd[N * D] = {0}, td[N] = {0}, od[N * D] = {0};
    size_t i;
    int32_t r;
    for (i = 0; i < n * d; ++i) xd[i] = x[i];
    for (i = 0; i < n; ++i) td[i] = t[i];
    r = pair_denoiser_f64(user, n, d, xd, td, conditional, od);
    for (i = 0; i < n * d; ++i) out[i] = (float)od[i];
    return r;
}

/* VP score of N(m, v I) through the library's mixture score (one component). */
static int32_t pair_score_f64(void *user, size_t n, size_t d, const double *x, const double *t,
                              int32_t conditional, double *out) {
    gauss_pair *p = (gauss_pair *)user;
    static const double w[1] = {1.0};
    double var[1];
    var[0] = p->v;
    p->calls += 1;
    return otc_sde_mixture_score_f64(p->process, 1, d, w, conditional ? p->mc : p->mu, var,
                                     OTC_SDE_COVARIANCE_ISOTROPIC, n, x, t, out);
}

static double guided_mean(const gauss_pair *p, double w, size_t j) {
    return p->mu[j] + w * (p->mc[j] - p->mu[j]);
}

/* One DDIM step on EDM from sigma0 to sigma1 has the closed form
 * x' = (sigma1/sigma0) x + (1 - sigma1/sigma0) D(x; sigma0); with the guidance interval
 * excluding sigma0 it is the conditional model's step, with one model call. */
static void one_step_closed_form(void) {
    gauss_pair p = {NULL, {1.0, -0.5}, {-0.2, 0.4}, 0.25, 0, 0, 0, 0};
    otc_sde_process edm;
    otc_sde_sampler_config cfg;
    const double w = 3.0, s0 = 2.0, s1 = 0.5;
    double grid[2] = {s0, s1}, x[N * D], x0[N * D], ws[512];
    float gridf[2] = {(float)s0, (float)s1}, xf[N * D], wsf[512];
    size_t ws_bytes = 0, ws_bytes_f = 0, i;
    uint64_t calls = 0;
    int interval;
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_EDM, &edm), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_DDIM, &cfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_guided_workspace_size_f64(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_guided_workspace_size_f32(N, D, &ws_bytes_f), OTC_STATUS_OK);
    CHECK(ws_bytes == (7 * N * D + 3 * N + 3 * D) * sizeof(double) && ws_bytes <= sizeof ws);
    CHECK(ws_bytes_f == (7 * N * D + 3 * N + 3 * D) * sizeof(float) && ws_bytes_f <= sizeof wsf);
    for (interval = 0; interval < 2; ++interval) {
        /* interval 0: [0, inf) contains sigma0; interval 1: [0, 1] does not. */
        const double t_hi = interval ? 1.0 : INFINITY, wt = interval ? 1.0 : w;
        const double r = s1 / s0, k = p.v / (p.v + s0 * s0);
        double worst = 0.0, worst_f = 0.0;
        for (i = 0; i < N * D; ++i) x[i] = x0[i] = 4.0 * uniform() - 2.0;
        for (i = 0; i < N * D; ++i) xf[i] = (float)x0[i];
        p.calls = 0;
        CHECK_STATUS(otc_sde_sample_guided_f64(&edm, &cfg, pair_denoiser_f64, &p,
                                               OTC_SDE_OUTPUT_DENOISED, w, 0.0, t_hi, grid, 2, x,
                                               N, D, 1, 0, ws, ws_bytes, &calls),
                     OTC_STATUS_OK);
        CHECK(calls == (interval ? 1u : 2u) && p.calls == (int)calls);
        CHECK_STATUS(otc_sde_sample_guided_f32(&edm, &cfg, pair_denoiser_f32, &p,
                                               OTC_SDE_OUTPUT_DENOISED, w, 0.0, t_hi, gridf, 2,
                                               xf, N, D, 1, 0, wsf, ws_bytes_f, &calls),
                     OTC_STATUS_OK);
        CHECK(calls == (interval ? 1u : 2u));
        for (i = 0; i < N * D; ++i) {
            double m = guided_mean(&p, wt, i % D);
            double want = r * x0[i] + (1.0 - r) * (m + k * (x0[i] - m));
            if (fabs(x[i] - want) > worst) worst = fabs(x[i] - want);
            if (fabs(xf[i] - want) > worst_f) worst_f = fabs(xf[i] - want);
        }
        /* |x| <= 2 and the step is a few operations: f64 to rounding (1e-12 leaves
         * 4 orders of room), f32 to a few ulps of 2 (2.4e-7 each; 2e-6 bounds it). A
         * guidance weight applied wrongly is off by |w - 1| |mc - mu| (1 - r) k >= 0.1. */
        CHECK(worst < 1e-12);
        CHECK(worst_f < 2e-6);
    }
}

/* A whole DPM-Solver++(3M) run on VP with score outputs against the exact flow map of
 * the guided Gaussian. */
static void whole_run_exact(void) {
    otc_sde_process vp;
    otc_sde_sampler_config cfg;
    otc_sde_coefs c0, c1;
    gauss_pair p = {NULL, {1.0, -0.5}, {-0.2, 0.4}, 0.25, 0, 0, 0, 0};
    const double w = 2.0;
    double grid[41], x[N * D], x0[N * D], ws[512], worst = 0.0, scale;
    size_t ws_bytes = 0, i;
    uint64_t calls = 0;
    p.process = &vp;
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VP, &vp), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_DPM_SOLVER_PP_3M, &cfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_guided_workspace_size_f64(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_grid_f64(&vp, OTC_SDE_GRID_UNIFORM_LOG_SNR, 0.0, 1.0, 1e-3, grid, 41),
                 OTC_STATUS_OK);
    c0.struct_size = c1.struct_size = sizeof c0;
    CHECK_STATUS(otc_sde_process_coefs(&vp, 1.0, &c0), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_process_coefs(&vp, 1e-3, &c1), OTC_STATUS_OK);
    for (i = 0; i < N * D; ++i) x[i] = x0[i] = 2.0 * uniform() - 1.0;
    CHECK_STATUS(otc_sde_sample_guided_f64(&vp, &cfg, pair_score_f64, &p, OTC_SDE_OUTPUT_SCORE, w,
                                           0.0, 1.0, grid, 41, x, N, D, 1, 0, ws, ws_bytes,
                                           &calls),
                 OTC_STATUS_OK);
    CHECK(calls == 80);
    scale = sqrt((c1.a * c1.a * p.v + c1.s * c1.s) / (c0.a * c0.a * p.v + c0.s * c0.s));
    for (i = 0; i < N * D; ++i) {
        double m = guided_mean(&p, w, i % D);
        double want = c1.a * m + scale * (x0[i] - c0.a * m);
        if (fabs(x[i] - want) > worst) worst = fabs(x[i] - want);
    }
    /* 40 steps uniform in log-SNR: the largest error is 8.8e-5 (1.4e-3 at 20 steps,
     * 5.5e-6 at 80: it shrinks 16-fold per halving); 2e-4 bounds it with room. Without
     * guidance the samples would sit |w - 1| |mc - mu| >= 0.9 away. */
    CHECK(worst < 2e-4);
}

/* Runs the f64 guided sampler on a canary state; checks the status and that nothing
 * was written. */
static void bad(const otc_sde_process *process, const otc_sde_sampler_config *cfg,
                otc_sde_cond_model_fn_f64 f, gauss_pair *p, int32_t output, double w, double lo,
                double hi, const double *grid, size_t len, size_t ws_bytes, int32_t want,
                int line) {
    double x[N * D], ws[512];
    uint64_t calls = 77;
    size_t i;
    int ok = 1;
    for (i = 0; i < N * D; ++i) x[i] = 0.25 * (double)i;
    p->calls = p->uncond_calls = 0;
    CHECK_STATUS(otc_sde_sample_guided_f64(process, cfg, f, p, output, w, lo, hi, grid, len, x, N,
                                           D, 1, 0, ws, ws_bytes, &calls),
                 want);
    for (i = 0; i < N * D; ++i) ok &= x[i] == 0.25 * (double)i;
    if (!ok || calls != 77) fprintf(stderr, "bad input at line %d wrote its outputs\n", line);
    CHECK(ok && calls == 77);
}

static void bad_inputs(void) {
    gauss_pair p = {NULL, {1.0, -0.5}, {-0.2, 0.4}, 0.25, 0, 0, 0, 0};
    otc_sde_process edm, vp;
    otc_sde_sampler_config cfg, em;
    double grid[9], x[N * D], y[N * D], ws[512];
    float xf[N * D], gridf[9], wsf[512];
    size_t ws_bytes = 0, ws_bytes_f = 0, i;
    uint64_t calls = 77;
    const int32_t DEN = OTC_SDE_OUTPUT_DENOISED, BADP = OTC_STATUS_INVALID_PARAMETER;
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_EDM, &edm), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_VP, &vp), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_HEUN, &cfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_guided_workspace_size_f64(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_guided_workspace_size_f32(N, D, &ws_bytes_f), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_grid_f64(&edm, OTC_SDE_GRID_KARRAS, 7.0, 80.0, 0.002, grid, 9),
                 OTC_STATUS_OK);
    for (i = 0; i < 9; ++i) gridf[i] = (float)grid[i];
    /* The guidance: weight not finite, interval not 0 <= t_lo <= t_hi. */
    bad(&edm, &cfg, pair_denoiser_f64, &p, DEN, NAN, 0.0, 1.0, grid, 9, ws_bytes, BADP, __LINE__);
    bad(&edm, &cfg, pair_denoiser_f64, &p, DEN, INFINITY, 0.0, 1.0, grid, 9, ws_bytes, BADP,
        __LINE__);
    bad(&edm, &cfg, pair_denoiser_f64, &p, DEN, 2.0, 0.6, 0.2, grid, 9, ws_bytes, BADP, __LINE__);
    bad(&edm, &cfg, pair_denoiser_f64, &p, DEN, 2.0, -0.1, 1.0, grid, 9, ws_bytes, BADP, __LINE__);
    bad(&edm, &cfg, pair_denoiser_f64, &p, DEN, 2.0, INFINITY, INFINITY, grid, 9, ws_bytes, BADP,
        __LINE__);
    bad(&edm, &cfg, pair_denoiser_f64, &p, DEN, 2.0, 0.0, NAN, grid, 9, ws_bytes, BADP, __LINE__);
    /* The model: no callback, unknown or velocity output (EDM has no interpolant form). */
    bad(&edm, &cfg, NULL, &p, DEN, 2.0, 0.0, 1.0, grid, 9, ws_bytes, OTC_STATUS_NULL_POINTER,
        __LINE__);
    bad(&edm, &cfg, pair_denoiser_f64, &p, 42, 2.0, 0.0, 1.0, grid, 9, ws_bytes, BADP, __LINE__);
    bad(&edm, &cfg, pair_denoiser_f64, &p, OTC_SDE_OUTPUT_VELOCITY, 2.0, 0.0, 1.0, grid, 9,
        ws_bytes, BADP, __LINE__);
    /* A grid outside the process's range (VP ends at T = 1), a short workspace. */
    bad(&vp, &cfg, pair_denoiser_f64, &p, DEN, 2.0, 0.0, 1.0, grid, 9, ws_bytes, BADP, __LINE__);
    bad(&edm, &cfg, pair_denoiser_f64, &p, DEN, 2.0, 0.0, 1.0, grid, 9, ws_bytes - sizeof(double),
        OTC_STATUS_WORKSPACE_TOO_SMALL, __LINE__);
    /* The unconditional call fails, or returns NaN, on its third call (mid-run). */
    p.fail_uncond_at = 3;
    bad(&edm, &cfg, pair_denoiser_f64, &p, DEN, 2.0, 0.0, INFINITY, grid, 9, ws_bytes,
        OTC_STATUS_CALLBACK_FAILED, __LINE__);
    p.nan = 1;
    bad(&edm, &cfg, pair_denoiser_f64, &p, DEN, 2.0, 0.0, INFINITY, grid, 9, ws_bytes,
        OTC_STATUS_NON_FINITE, __LINE__);
    /* ... outside the guidance interval the unconditional model is never called. */
    for (i = 0; i < N * D; ++i) x[i] = 0.25 * (double)i;
    p.calls = p.uncond_calls = 0;
    CHECK_STATUS(otc_sde_sample_guided_f64(&edm, &cfg, pair_denoiser_f64, &p, DEN, 2.0, 0.0, 1e-3,
                                           grid, 9, x, N, D, 1, 0, ws, ws_bytes, &calls),
                 OTC_STATUS_OK);
    CHECK(p.uncond_calls == 0 && calls == (uint64_t)p.calls && calls == 16); /* Heun: 8 steps x 2 */
    calls = 77;
    p.fail_uncond_at = 0;
    p.nan = 0;
    /* f32: NaN weight, state untouched. */
    for (i = 0; i < N * D; ++i) xf[i] = 0.5f;
    CHECK_STATUS(otc_sde_sample_guided_f32(&edm, &cfg, pair_denoiser_f32, &p, DEN, NAN, 0.0, 1.0,
                                           gridf, 9, xf, N, D, 1, 0, wsf, ws_bytes_f, &calls),
                 BADP);
    CHECK(xf[0] == 0.5f && xf[N * D - 1] == 0.5f && calls == 77);
    /* The noise streams are keyed by (seed, sample, step): a stochastic run that failed
     * midway leaves nothing behind, the next run is the same bits as a first one. */
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_EULER_MARUYAMA, &em), OTC_STATUS_OK);
    for (i = 0; i < N * D; ++i) x[i] = y[i] = 2.0 * uniform() - 1.0;
    CHECK_STATUS(otc_sde_sample_guided_f64(&edm, &em, pair_denoiser_f64, &p, DEN, 2.0, 0.0, 5.0,
                                           grid, 9, x, N, D, 3, 0, ws, ws_bytes, &calls),
                 OTC_STATUS_OK);
    p.uncond_calls = 0;
    p.fail_uncond_at = 2;
    CHECK_STATUS(otc_sde_sample_guided_f64(&edm, &em, pair_denoiser_f64, &p, DEN, 2.0, 0.0, 5.0,
                                           grid, 9, y, N, D, 3, 0, ws, ws_bytes, &calls),
                 OTC_STATUS_CALLBACK_FAILED);
    p.fail_uncond_at = 0;
    CHECK_STATUS(otc_sde_sample_guided_f64(&edm, &em, pair_denoiser_f64, &p, DEN, 2.0, 0.0, 5.0,
                                           grid, 9, y, N, D, 3, 0, ws, ws_bytes, &calls),
                 OTC_STATUS_OK);
    CHECK(memcmp(x, y, sizeof x) == 0);
}

/* Stepping a grid by hand with otc_sde_step_guided_* (DPM-Solver++(2M), its history
 * carried between calls) gives the bits of the whole guided run; a bad step leaves the
 * state, the history and the call count untouched. */
static void steps_equal_sample(void) {
    gauss_pair p = {NULL, {1.0, -0.5}, {-0.2, 0.4}, 0.25, 0, 0, 0, 0};
    otc_sde_process edm;
    otc_sde_sampler_config cfg;
    float grid[11], a[N * D], b[N * D], hist[N * D] = {0}, ws[512];
    double h_prev = 0.0;
    size_t ws_bytes = 0, i;
    uint64_t calls = 0, total = 0;
    CHECK_STATUS(otc_sde_process_default(OTC_SDE_EDM, &edm), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_sampler_config_default(OTC_SDE_DPM_SOLVER_PP_2M, &cfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_guided_workspace_size_f32(N, D, &ws_bytes), OTC_STATUS_OK);
    CHECK_STATUS(otc_sde_grid_f32(&edm, OTC_SDE_GRID_KARRAS, 7.0, 80.0, 0.002, grid, 11),
                 OTC_STATUS_OK);
    for (i = 0; i < N * D; ++i) a[i] = b[i] = (float)(80.0 * (2.0 * uniform() - 1.0));
    /* Guided for sigma in [0.1, 5] only: some steps make one call, some two. */
    CHECK_STATUS(otc_sde_sample_guided_f32(&edm, &cfg, pair_denoiser_f32, &p,
                                           OTC_SDE_OUTPUT_DENOISED, 2.0, 0.1, 5.0, grid, 11, a,
                                           N, D, 9, 0, ws, ws_bytes, &calls),
                 OTC_STATUS_OK);
    CHECK(calls > 10 && calls < 20);
    for (i = 0; i < 10; ++i) {
        uint64_t c = 77;
        float x_before = b[0], h_before = hist[0];
        double hp_before = h_prev;
        /* A NaN weight first: nothing moves. */
        CHECK_STATUS(otc_sde_step_guided_f32(&edm, &cfg, pair_denoiser_f32, &p,
                                             OTC_SDE_OUTPUT_DENOISED, NAN, 0.1, 5.0, b, N, D,
                                             grid[i], grid[i + 1], i, 9, 0, hist, &h_prev, ws,
                                             ws_bytes, &c),
                     OTC_STATUS_INVALID_PARAMETER);
        CHECK(c == 77 && b[0] == x_before && hist[0] == h_before && h_prev == hp_before);
        CHECK_STATUS(otc_sde_step_guided_f32(&edm, &cfg, pair_denoiser_f32, &p,
                                             OTC_SDE_OUTPUT_DENOISED, 2.0, 0.1, 5.0, b, N, D,
                                             grid[i], grid[i + 1], i, 9, 0, hist, &h_prev, ws,
                                             ws_bytes, &c),
                     OTC_STATUS_OK);
        total += c;
    }
    CHECK(total == calls);
    CHECK(memcmp(a, b, sizeof a) == 0);
}

int main(void) {
    one_step_closed_form();
    whole_run_exact();
    bad_inputs();
    steps_equal_sample();
    return check_report("test_sde_guided");
}
