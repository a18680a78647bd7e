/* The particle-filter part of the C ABI: a filter run in both precisions (likelihood
 * against the exact Kalman filter of a 1-D random walk, determinism), OT resampling
 * (mean preserved, workspace formula), the VJP, the RNG, and bad input with canary-
 * filled outputs that must stay untouched. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

#define N 64
#define T_STEPS 20

/* x_t = 0.9 x_{t-1} + N(0, 1), y_t = x_t + N(0, 0.5). */
static double ys[T_STEPS];

typedef struct {
    int t;
    int fail_predict;
    int nan_predict;
    int fail_loglik;
} model;

static int32_t predict64(void *user, size_t n, size_t d, const double *prev, double *next,
                         otc_rng *rng) {
    model *m = (model *)user;
    size_t i;
    if (m->fail_predict) return 7;
    if (otc_rng_normal_f64(rng, next, n * d) != OTC_STATUS_OK) return 1;
    for (i = 0; i < n * d; ++i) next[i] += 0.9 * prev[i];
    if (m->nan_predict) next[0] = NAN;
    return 0;
}

static int32_t loglik64(void *user, size_t n, size_t d, const double *x, double *out) {
    model *m = (model *)user;
    size_t i;
    (void)d;
    if (m->fail_loglik) return -3;
    for (i = 0; i < n; ++i) {
        double e = ys[m->t] - x[i];
        out[i] = -0.5 * e * e / 0.5 - 0.5 * log(2.0 * 3.14159265358979323846 * 0.5);
    }
    return 0;
}

static int32_t predict32(void *user, size_t n, size_t d, const float *prev, float *next,
                         otc_rng *rng) {
    size_t i;
    (void)user;
    if (otc_rng_normal_f32(rng, next, n * d) != OTC_STATUS_OK) return 1;
    for (i = 0; i < n * d; ++i) next[i] += 0.9f * prev[i];
    return 0;
}

static int32_t loglik32(void *user, size_t n, size_t d, const float *x, float *out) {
    model *m = (model *)user;
    size_t i;
    (void)d;
    for (i = 0; i < n; ++i) {
        float e = (float)ys[m->t] - x[i];
        out[i] = -e * e - 0.5f * logf(3.14159265f);
    }
    return 0;
}

/* Exact Kalman log-likelihood of ys (x_0 ~ N(0, 1)). */
static double kalman(void) {
    double m = 0.0, p = 1.0, ll = 0.0;
    int t;
    for (t = 0; t < T_STEPS; ++t) {
        double mp = 0.9 * m, pp = 0.81 * p + 1.0, s = pp + 0.5, e = ys[t] - mp;
        ll += -0.5 * (e * e / s + log(2.0 * 3.14159265358979323846 * s));
        m = mp + pp / s * e;
        p = pp - pp * pp / s;
    }
    return ll;
}

static _Alignas(8) unsigned char ws[1 << 16];

/* Runs a filter; returns ℓ̂ (NAN on failure). */
static double run64(int resampler, uint64_t seed, double *x_final) {
    otc_pf_config_f64 cfg;
    otc_pf_state_f64 st = {sizeof st, 0, 0, 0};
    otc_pf_report_f64 rep = {sizeof rep, 0, 0, 0, 0, 0};
    otc_rng rng;
    model m = {0, 0, 0, 0};
    double x[N], logw[N], mean[1], cov[1];
    size_t bytes;
    int32_t s;
    CHECK_STATUS(otc_pf_config_default_f64(&cfg), OTC_STATUS_OK);
    cfg.resampler = resampler;
    cfg.ot.epsilon = 0.5;
    CHECK_STATUS(otc_pf_workspace_size_f64(N, 1, resampler, &bytes), OTC_STATUS_OK);
    CHECK(bytes <= sizeof ws);
    otc_rng_seed(&rng, seed);
    otc_rng_normal_f64(&rng, x, N);
    CHECK_STATUS(otc_pf_init_f64(logw, N, &st), OTC_STATUS_OK);
    for (m.t = 0; m.t < T_STEPS; ++m.t) {
        s = otc_pf_step_f64(&cfg, predict64, loglik64, &m, N, 1, &rng, x, logw, &st, ws,
                            bytes, mean, cov, &rep);
        CHECK_STATUS(s, OTC_STATUS_OK);
        if (s != OTC_STATUS_OK) return NAN;
        CHECK(rep.ess >= 1.0 - 1e-9 && rep.ess <= N + 1e-9);
        CHECK(cov[0] > 0.0);
        CHECK(rep.log_likelihood == st.log_likelihood);
    }
    CHECK(st.steps == T_STEPS && st.resamples >= 1 && st.resamples <= T_STEPS);
    if (x_final) memcpy(x_final, x, sizeof x);
    return st.log_likelihood;
}

static void filter_runs(void) {
    double kf = kalman(), sum = 0.0, sum2 = 0.0, mean, se, a[N], b[N];
    int k;
    const int runs = 2000;
    /* Same seed, same bits. */
    double l1 = run64(OTC_RESAMPLE_SYSTEMATIC, 5, a), l2 = run64(OTC_RESAMPLE_SYSTEMATIC, 5, b);
    CHECK(l1 == l2 && memcmp(a, b, sizeof a) == 0);
    /* exp(ℓ̂ − ℓ) has mean 1 (the estimate is unbiased) and, at N = 64 and T = 20, a
     * spread of about 1 per run: over 2000 runs its mean is within 5 standard errors
     * of 1 (a 5σ bound, the standard error measured from the same runs), and that
     * error must be below 0.05 so that a wrong bookkeeping (a missing weight term is
     * off by a factor ≫ 1.2) cannot pass. */
    for (k = 0; k < runs; ++k) {
        double r = exp(run64(OTC_RESAMPLE_SYSTEMATIC, 100 + (uint64_t)k, NULL) - kf);
        sum += r;
        sum2 += r * r;
    }
    mean = sum / runs;
    se = sqrt((sum2 / runs - mean * mean) / (runs - 1));
    CHECK(se < 0.05);
    CHECK(fabs(mean - 1.0) < 5.0 * se);
    /* OT resampling: biased but close: per-step |ℓ̂ − ℓ|/T < 0.05 nats. */
    CHECK(fabs(run64(OTC_RESAMPLE_OPTIMAL, 7, NULL) - kf) / T_STEPS < 0.05);
    CHECK(!isnan(run64(OTC_RESAMPLE_MULTINOMIAL, 8, NULL)));
    CHECK(!isnan(run64(OTC_RESAMPLE_RESIDUAL, 9, NULL)));
    CHECK(!isnan(run64(OTC_RESAMPLE_STRATIFIED, 10, NULL)));
}

static void filter_f32(void) {
    otc_pf_config_f32 cfg;
    otc_pf_state_f32 st = {sizeof st, 0, 0, 0};
    otc_pf_report_f32 rep = {sizeof rep, 0, 0, 0, 0, 0};
    otc_rng rng;
    model m = {0, 0, 0, 0};
    float x[N], logw[N], mean[1], cov[1];
    size_t bytes;
    CHECK_STATUS(otc_pf_config_default_f32(&cfg), OTC_STATUS_OK);
    cfg.resampler = OTC_RESAMPLE_OPTIMAL;
    cfg.ot.epsilon = 0.5f;
    CHECK_STATUS(otc_pf_workspace_size_f32(N, 1, cfg.resampler, &bytes), OTC_STATUS_OK);
    /* Documented formula: sizeof(float)·(N·(d+1) + (2d+7)·N̂); N = 64 is a multiple of
       the kernel width (16 on the host, 4 on Cortex-M), so N̂ = 64. */
    CHECK(bytes == sizeof(float) * (N * 2 + 9 * 64));
    otc_rng_seed(&rng, 3);
    otc_rng_normal_f32(&rng, x, N);
    otc_pf_init_f32(logw, N, &st);
    for (m.t = 0; m.t < T_STEPS; ++m.t)
        CHECK_STATUS(otc_pf_step_f32(&cfg, predict32, loglik32, &m, N, 1, &rng, x, logw, &st,
                                     ws, bytes, mean, cov, &rep),
                     OTC_STATUS_OK);
    CHECK(isfinite(st.log_likelihood) && st.steps == T_STEPS);
}

static void ot_and_vjp(void) {
    enum { M = 20, D = 2 };
    otc_ot_resample_config_f64 cfg;
    otc_ot_resample_report_f64 rep = {sizeof rep, 0, 0, 0, 0, 0, 0};
    otc_vjp_config_f64 vcfg;
    double x[M * D], logw[M], out[M * D], ybar[M * D], dx[M * D], dl[M];
    double wsum = 0.0, want[D] = {0, 0}, got[D] = {0, 0}, dlsum = 0.0;
    size_t bytes, i, k;
    for (i = 0; i < M * D; ++i) x[i] = 4.0 * uniform() - 2.0 + (double)(i % D) * 10.0;
    for (i = 0; i < M; ++i) logw[i] = 2.0 * uniform();
    for (i = 0; i < M * D; ++i) ybar[i] = uniform() - 0.5;
    for (i = 0; i < M; ++i) wsum += exp(logw[i]);
    CHECK_STATUS(otc_ot_resample_config_default_f64(&cfg), OTC_STATUS_OK);
    CHECK(cfg.epsilon == 0.0 && cfg.scaling == 0.75 && cfg.max_iterations == 100);
    CHECK_STATUS(otc_ot_resample_workspace_size_f64(M, D, &bytes), OTC_STATUS_OK);
    /* Documented formula: sizeof(double)·(2d+7)·N̂; N̂ = 32 is M = 20 rounded up to the
       host's kernel width 16 (these tests run on the host). */
    CHECK(bytes == sizeof(double) * (2 * D + 7) * 32);
    /* ε is required. */
    CHECK_STATUS(otc_ot_resample_f64(&cfg, x, logw, M, D, ws, bytes, out, &rep),
                 OTC_STATUS_INVALID_EPSILON);
    cfg.epsilon = 0.5;
    CHECK_STATUS(otc_ot_resample_f64(&cfg, x, logw, M, D, ws, bytes, out, &rep), OTC_STATUS_OK);
    CHECK(rep.iterations >= 1 && rep.scale > 0.0);
    for (i = 0; i < M; ++i)
        for (k = 0; k < D; ++k) {
            want[k] += exp(logw[i]) / wsum * x[i * D + k];
            got[k] += out[i * D + k] / M;
        }
    /* Weighted mean preserved up to double rounding over M terms (values ~10). */
    for (k = 0; k < D; ++k) CHECK(fabs(got[k] - want[k]) < 1e-10);
    CHECK_STATUS(otc_vjp_config_default_f64(&vcfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_ot_resample_vjp_workspace_size_f64(M, D, &bytes), OTC_STATUS_OK);
    CHECK(bytes == sizeof(double) * ((13 * D + 29) * 32 + D));
    CHECK(bytes <= sizeof ws);
    CHECK_STATUS(otc_ot_resample_vjp_f64(&cfg, &vcfg, x, logw, M, D, ybar, ws, bytes, dx, dl),
                 OTC_STATUS_OK);
    vcfg.mode = OTC_VJP_IMPLICIT;
    CHECK_STATUS(otc_ot_resample_vjp_f64(&cfg, &vcfg, x, logw, M, D, ybar, ws, bytes, dx, dl),
                 OTC_STATUS_OK);
    /* Log-weights are used relative to their total: the gradient sums to 0. */
    for (i = 0; i < M; ++i) dlsum += dl[i];
    CHECK(fabs(dlsum) < 1e-9);
    vcfg.mode = 9;
    for (i = 0; i < M; ++i) dl[i] = 42.0;
    CHECK_STATUS(otc_ot_resample_vjp_f64(&cfg, &vcfg, x, logw, M, D, ybar, ws, bytes, dx, dl),
                 OTC_STATUS_INVALID_PARAMETER);
    for (i = 0; i < M; ++i) CHECK(dl[i] == 42.0);

    /* Forward mode: the JVP is the implicit VJP's transpose, <ybar, J v> = <J^T ybar,
     * v>, both to a 1e-12 CG residual on a tightly converged map (as the Rust test). */
    {
        double xd[2 * M * D], ld[2 * M], xo[M * D], xod[2 * M * D], lhs = 0.0, rhs = 0.0,
            size = 0.0, keep;
        size_t q;
        for (i = 0; i < 2 * M * D; ++i) xd[i] = uniform() - 0.5;
        for (i = 0; i < 2 * M; ++i) ld[i] = uniform() - 0.5;
        for (i = 1; i < 40; i += 13)
            for (k = 1; k < 5; ++k) {
                CHECK(otc_ot_resample_jvp_workspace_size_f32(i, k, 3, &q) == OTC_STATUS_OK &&
                      q == OTC_OT_RESAMPLE_JVP_WORKSPACE_SIZE_F32(i, k, 3));
                CHECK(otc_ot_resample_jvp_workspace_size_f64(i, k, 2, &q) == OTC_STATUS_OK &&
                      q == OTC_OT_RESAMPLE_JVP_WORKSPACE_SIZE_F64(i, k, 2));
            }
        cfg.tolerance = 1e-14;
        cfg.max_iterations = 20000;
        CHECK_STATUS(otc_ot_resample_f64(&cfg, x, logw, M, D, ws, sizeof ws, out, &rep),
                     OTC_STATUS_OK);
        cfg.scale = rep.scale;
        CHECK_STATUS(otc_ot_resample_jvp_workspace_size_f64(M, D, 2, &bytes), OTC_STATUS_OK);
        CHECK(bytes <= sizeof ws);
        CHECK_STATUS(otc_ot_resample_jvp_f64(&cfg, 1e-12, 1000, x, logw, M, D, xd, ld, 2, ws,
                                             bytes, xo, xod),
                     OTC_STATUS_OK);
        CHECK(memcmp(xo, out, sizeof out) == 0);
        vcfg.mode = OTC_VJP_IMPLICIT;
        vcfg.cg_tolerance = 1e-12;
        vcfg.cg_max_iterations = 1000;
        CHECK_STATUS(otc_ot_resample_vjp_workspace_size_f64(M, D, &q), OTC_STATUS_OK);
        CHECK_STATUS(otc_ot_resample_vjp_f64(&cfg, &vcfg, x, logw, M, D, ybar, ws, q, dx, dl),
                     OTC_STATUS_OK);
        /* Second direction. */
        for (i = 0; i < M * D; ++i) {
            lhs += ybar[i] * xod[M * D + i];
            rhs += dx[i] * xd[M * D + i];
            if (fabs(xod[M * D + i]) > size) size = fabs(xod[M * D + i]);
        }
        for (i = 0; i < M; ++i) rhs += dl[i] * ld[M + i];
        CHECK(fabs(lhs - rhs) <= 1e-9 * size * M * D);
        keep = xod[0];
        xd[5] = NAN;
        CHECK_STATUS(otc_ot_resample_jvp_f64(&cfg, 1e-12, 1000, x, logw, M, D, xd, ld, 2, ws,
                                             bytes, xo, xod),
                     OTC_STATUS_NON_FINITE_INPUT);
        xd[5] = 0.0;
        CHECK_STATUS(otc_ot_resample_jvp_f64(&cfg, 1e-12, 1000, x, logw, M, D, xd, ld, 0, ws,
                                             bytes, xo, xod),
                     OTC_STATUS_EMPTY_INPUT);
        CHECK_STATUS(otc_ot_resample_jvp_f64(&cfg, 0.0, 1000, x, logw, M, D, xd, ld, 2, ws,
                                             bytes, xo, xod),
                     OTC_STATUS_INVALID_PARAMETER);
        CHECK_STATUS(otc_ot_resample_jvp_f64(&cfg, 1e-12, 1000, x, logw, M, D, xd, ld, 2, ws,
                                             bytes - 8, xo, xod),
                     OTC_STATUS_WORKSPACE_TOO_SMALL);
        CHECK_STATUS(otc_ot_resample_jvp_f64(&cfg, 1e-12, 1000, x, logw, M, D, xd, ld, 2, ws,
                                             bytes, xod, xod),
                     OTC_STATUS_INVALID_PARAMETER);
        CHECK(xod[0] == keep);
    }
}

/* The schedules and the warm start: the default stops on the row error (≤ tolerance,
   fewer passes than filterflow's rule); a warm start from the previous tick's state
   converges too; a bad schedule or a NaN state is refused with nothing written. */
static void ot_schedule_and_warm_start(void) {
    enum { M = 40, D = 2 };
    otc_ot_resample_config_f64 cfg;
    otc_ot_resample_report_f64 rep = {sizeof rep, 0, 0, 0, 0, 0, 0};
    otc_ot_resample_report_f64 ff = {sizeof ff, 0, 0, 0, 0, 0, 0};
    double x[M * D], logw[M], out[M * D], state[(D + 1) * 48 + 2];
    size_t bytes, len, i;
    for (i = 0; i < M * D; ++i) x[i] = 4.0 * uniform() - 2.0;
    for (i = 0; i < M; ++i) logw[i] = -0.5 * (x[2 * i] - 1.0) * (x[2 * i] - 1.0);
    CHECK_STATUS(otc_ot_resample_config_default_f64(&cfg), OTC_STATUS_OK);
    CHECK(cfg.schedule == OTC_OT_SCHEDULE_MARGINAL);
    cfg.epsilon = 0.5;
    CHECK_STATUS(otc_ot_resample_workspace_size_f64(M, D, &bytes), OTC_STATUS_OK);
    CHECK_STATUS(otc_ot_resample_f64(&cfg, x, logw, M, D, ws, bytes, out, &rep), OTC_STATUS_OK);
    CHECK(rep.error <= cfg.tolerance && rep.passes >= 2);
    cfg.schedule = OTC_OT_SCHEDULE_FILTERFLOW;
    CHECK_STATUS(otc_ot_resample_f64(&cfg, x, logw, M, D, ws, bytes, out, &ff), OTC_STATUS_OK);
    CHECK(rep.passes < ff.passes);
    cfg.schedule = 2;
    for (i = 0; i < M * D; ++i) out[i] = 42.0;
    CHECK_STATUS(otc_ot_resample_f64(&cfg, x, logw, M, D, ws, bytes, out, &rep),
                 OTC_STATUS_INVALID_PARAMETER);
    for (i = 0; i < M * D; ++i) CHECK(out[i] == 42.0);
    cfg.schedule = OTC_OT_SCHEDULE_MARGINAL;
    /* Documented formula: (d + 1)·N̂ + 2, N̂ = 48 (M = 40 rounded up to 16). */
    CHECK_STATUS(otc_ot_resample_warm_len(M, D, &len), OTC_STATUS_OK);
    CHECK(len == (D + 1) * 48 + 2 && len == sizeof state / sizeof state[0]);
    for (i = 0; i < len; ++i) state[i] = 0.0;
    CHECK_STATUS(otc_ot_resample_warm_f64(&cfg, x, logw, M, D, ws, bytes, state, len, out, &ff),
                 OTC_STATUS_OK);
    /* The next tick: the cloud moved a little. */
    for (i = 0; i < M * D; ++i) x[i] = 0.9 * x[i] + 0.2 * (uniform() - 0.5);
    CHECK_STATUS(otc_ot_resample_warm_f64(&cfg, x, logw, M, D, ws, bytes, state, len, out, &rep),
                 OTC_STATUS_OK);
    CHECK(rep.error <= cfg.tolerance && rep.epsilon_start == cfg.epsilon);
    CHECK_STATUS(otc_ot_resample_warm_f64(&cfg, x, logw, M, D, ws, bytes, state, len - 1, out,
                                          &rep),
                 OTC_STATUS_LENGTH_MISMATCH);
    state[0] = NAN;
    for (i = 0; i < M * D; ++i) out[i] = 42.0;
    CHECK_STATUS(otc_ot_resample_warm_f64(&cfg, x, logw, M, D, ws, bytes, state, len, out, &rep),
                 OTC_STATUS_NON_FINITE_INPUT);
    for (i = 0; i < M * D; ++i) CHECK(out[i] == 42.0);
    CHECK(isnan(state[0]));
}

static void rng_and_ancestors(void) {
    otc_rng a, b;
    double u[1000], z[1000], mean = 0.0, var = 0.0, lw[5] = {0.0, -INFINITY, 0.0, -INFINITY, 0.0};
    size_t anc[5], i;
    otc_rng_seed(&a, 1);
    otc_rng_seed(&b, 1);
    CHECK_STATUS(otc_rng_uniform_f64(&a, u, 1000), OTC_STATUS_OK);
    CHECK_STATUS(otc_rng_normal_f64(&b, z, 1000), OTC_STATUS_OK);
    for (i = 0; i < 1000; ++i) {
        CHECK(u[i] >= 0.0 && u[i] < 1.0);
        mean += z[i] / 1000;
    }
    for (i = 0; i < 1000; ++i) var += (z[i] - mean) * (z[i] - mean) / 999;
    /* 1000 standard normals: mean SE 0.032, variance SE 0.045; 5 SE bounds. */
    CHECK(fabs(mean) < 0.16 && fabs(var - 1.0) < 0.23);
    CHECK_STATUS(otc_resample_ancestors_f64(OTC_RESAMPLE_SYSTEMATIC, lw, 5, &a, anc),
                 OTC_STATUS_OK);
    for (i = 0; i < 5; ++i) CHECK(anc[i] == 0 || anc[i] == 2 || anc[i] == 4);
    CHECK_STATUS(otc_resample_ancestors_f64(OTC_RESAMPLE_OPTIMAL, lw, 5, &a, anc),
                 OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_rng_seed(NULL, 1), OTC_STATUS_NULL_POINTER);
    {
        /* Weights 1, 0, 3 (unnormalised): log-sum log 4, ESS 1/(1/16 + 9/16) = 1.6. */
        double l3[3] = {0.0, -INFINITY, log(3.0)}, lse = 7.0, ess = 7.0;
        float f3[3] = {0.0f, -INFINITY, NAN}, flse = 7.0f, fess = 7.0f;
        CHECK_STATUS(otc_log_weights_normalise_f64(l3, 3, &lse, &ess), OTC_STATUS_OK);
        CHECK(fabs(lse - log(4.0)) < 1e-15 && fabs(ess - 1.6) < 1e-14);
        CHECK(fabs(l3[0] + log(4.0)) < 1e-15 && l3[1] == -INFINITY);
        CHECK_STATUS(otc_log_weights_normalise_f32(f3, 3, &flse, &fess),
                     OTC_STATUS_NON_FINITE_INPUT);
        CHECK(flse == 7.0f && fess == 7.0f && f3[0] == 0.0f);
        f3[2] = -INFINITY;
        f3[0] = -INFINITY;
        CHECK_STATUS(otc_log_weights_normalise_f32(f3, 3, &flse, &fess), OTC_STATUS_ZERO_MASS);
        CHECK_STATUS(otc_log_weights_normalise_f64(l3, 0, &lse, &ess), OTC_STATUS_EMPTY_INPUT);
        CHECK_STATUS(otc_log_weights_normalise_f64(l3, 3, NULL, &ess), OTC_STATUS_NULL_POINTER);
    }
    CHECK_STATUS(otc_rng_normal_f64(&a, NULL, 3), OTC_STATUS_NULL_POINTER);
}

/* Every bad step leaves x, logw, state, mean, cov, report and rng untouched. */
static void step_bad_input(void) {
    enum { K = 8 };
    otc_pf_config_f64 cfg, bad;
    otc_pf_state_f64 st;
    otc_pf_report_f64 rep;
    otc_rng rng;
    model m = {0, 0, 0, 0};
    double x[K], logw[K], mean[1], cov[1];
    size_t bytes, bytes_ot, i;
    int32_t s;
    otc_pf_config_default_f64(&cfg);
    otc_pf_workspace_size_f64(K, 1, OTC_RESAMPLE_SYSTEMATIC, &bytes);
    otc_pf_workspace_size_f64(K, 1, OTC_RESAMPLE_OPTIMAL, &bytes_ot);
#define RESET()                                                          \
    do {                                                                 \
        for (i = 0; i < K; ++i) {                                        \
            x[i] = (double)i;                                            \
            logw[i] = -log((double)K);                                   \
        }                                                                \
        st.struct_size = sizeof st;                                      \
        st.log_likelihood = 1.5;                                         \
        st.steps = 4;                                                    \
        st.resamples = 2;                                                \
        memset(&rep, 0xAB, sizeof rep);                                  \
        rep.struct_size = sizeof rep;                                    \
        mean[0] = cov[0] = 99.0;                                         \
        rng.state = 1234;                                                \
        m.fail_predict = m.nan_predict = m.fail_loglik = 0;              \
    } while (0)
#define UNCHANGED()                                                      \
    do {                                                                 \
        for (i = 0; i < K; ++i) CHECK(x[i] == (double)i);                \
        for (i = 0; i < K; ++i) CHECK(logw[i] == -log((double)K));       \
        CHECK(st.log_likelihood == 1.5 && st.steps == 4 && st.resamples == 2); \
        CHECK(mean[0] == 99.0 && cov[0] == 99.0 && rng.state == 1234);   \
        CHECK(rep.resampled == (int32_t)0xABABABAB);                     \
    } while (0)
#define STEP(c, pr, ll, wsp, wsb) \
    otc_pf_step_f64((c), (pr), (ll), &m, K, 1, &rng, x, logw, &st, (wsp), (wsb), mean, cov, &rep)
#define BAD(expr, want)              \
    do {                             \
        RESET();                     \
        s = (expr);                  \
        CHECK_STATUS(s, (want));     \
        UNCHANGED();                 \
    } while (0)

    BAD(STEP(NULL, predict64, loglik64, ws, bytes), OTC_STATUS_NULL_POINTER);
    BAD(STEP(&cfg, NULL, loglik64, ws, bytes), OTC_STATUS_NULL_POINTER);
    BAD(STEP(&cfg, predict64, NULL, ws, bytes), OTC_STATUS_NULL_POINTER);
    BAD(STEP(&cfg, predict64, loglik64, NULL, bytes), OTC_STATUS_NULL_POINTER);
    BAD(STEP(&cfg, predict64, loglik64, ws + 4, bytes), OTC_STATUS_MISALIGNED);
    BAD(STEP(&cfg, predict64, loglik64, ws, bytes - 8), OTC_STATUS_WORKSPACE_TOO_SMALL);
    bad = cfg;
    bad.struct_size = 3;
    BAD(STEP(&bad, predict64, loglik64, ws, bytes), OTC_STATUS_STRUCT_SIZE);
    bad = cfg;
    bad.threshold = 1.5;
    BAD(STEP(&bad, predict64, loglik64, ws, bytes), OTC_STATUS_INVALID_PARAMETER);
    bad.threshold = NAN;
    BAD(STEP(&bad, predict64, loglik64, ws, bytes), OTC_STATUS_INVALID_PARAMETER);
    bad = cfg;
    bad.resampler = 17;
    BAD(STEP(&bad, predict64, loglik64, ws, bytes), OTC_STATUS_INVALID_PARAMETER);
    bad = cfg;
    bad.resampler = OTC_RESAMPLE_OPTIMAL; /* ε left at 0 */
    BAD(STEP(&bad, predict64, loglik64, ws, bytes_ot), OTC_STATUS_INVALID_EPSILON);
    bad.ot.epsilon = 0.5;
    BAD(STEP(&bad, predict64, loglik64, ws, bytes), OTC_STATUS_WORKSPACE_TOO_SMALL);
    RESET();
    x[3] = NAN;
    CHECK_STATUS(STEP(&cfg, predict64, loglik64, ws, bytes), OTC_STATUS_NON_FINITE_INPUT);
    CHECK(isnan(x[3]) && mean[0] == 99.0 && rng.state == 1234);
    RESET();
    for (i = 0; i < K; ++i) logw[i] = -INFINITY;
    CHECK_STATUS(STEP(&cfg, predict64, loglik64, ws, bytes), OTC_STATUS_ZERO_MASS);
    CHECK(mean[0] == 99.0 && st.steps == 4 && rng.state == 1234);
    RESET();
    m.fail_predict = 1;
    s = STEP(&cfg, predict64, loglik64, ws, bytes);
    CHECK_STATUS(s, OTC_STATUS_CALLBACK_FAILED);
    m.fail_predict = 0;
    UNCHANGED();
    RESET();
    m.fail_loglik = 1;
    s = STEP(&cfg, predict64, loglik64, ws, bytes);
    CHECK_STATUS(s, OTC_STATUS_CALLBACK_FAILED);
    m.fail_loglik = 0;
    UNCHANGED();
    RESET();
    m.nan_predict = 1;
    s = STEP(&cfg, predict64, loglik64, ws, bytes);
    CHECK_STATUS(s, OTC_STATUS_NON_FINITE);
    m.nan_predict = 0;
    UNCHANGED();
    /* Overlapping buffers: mean inside x. */
    RESET();
    s = otc_pf_step_f64(&cfg, predict64, loglik64, &m, K, 1, &rng, x, logw, &st, ws, bytes,
                        x + 2, cov, &rep);
    CHECK_STATUS(s, OTC_STATUS_INVALID_PARAMETER);
    UNCHANGED();
    BAD(otc_pf_step_f64(&cfg, predict64, loglik64, &m, 0, 1, &rng, x, logw, &st, ws, bytes,
                        mean, cov, &rep),
        OTC_STATUS_EMPTY_INPUT);
    BAD(otc_pf_step_f64(&cfg, predict64, loglik64, &m, K, 0, &rng, x, logw, &st, ws, bytes,
                        mean, cov, &rep),
        OTC_STATUS_EMPTY_INPUT);
    /* A good step after all that works. */
    RESET();
    CHECK_STATUS(STEP(&cfg, predict64, loglik64, ws, bytes), OTC_STATUS_OK);
    CHECK(st.steps == 5 && rng.state != 1234);
}

int main(void) {
    int t;
    otc_rng r;
    double x = 0.0, e;
    otc_rng_seed(&r, 2024);
    for (t = 0; t < T_STEPS; ++t) {
        otc_rng_normal_f64(&r, &e, 1);
        x = 0.9 * x + e;
        otc_rng_normal_f64(&r, &e, 1);
        ys[t] = x + sqrt(0.5) * e;
    }
    filter_runs();
    filter_f32();
    ot_and_vjp();
    ot_schedule_and_warm_start();
    rng_and_ancestors();
    step_bad_input();
    return check_report("test_pf");
}
