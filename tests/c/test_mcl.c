/* The localisation part of the C ABI: circular moments, OT per the state description
 * to another count, KLD-sampling, recovery, the MCL resampling step and the largest
 * cluster, in both precisions where the code differs only by type; bad input with
 * canary-filled outputs and an RNG that must stay untouched. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

#define N 32
#define CAP 64
#define PI_F 3.14159265f

static _Alignas(64) unsigned char ws[1 << 20];

static int32_t sampler_ok(void *user, size_t count, size_t d, float *out, otc_rng *rng) {
    size_t i;
    (void)user;
    (void)rng;
    for (i = 0; i < count * d; ++i) out[i] = 100.0f;
    return 0;
}

static int32_t sampler_fails(void *user, size_t count, size_t d, float *out, otc_rng *rng) {
    float u;
    (void)user;
    (void)count;
    (void)d;
    (void)out;
    otc_rng_uniform_f32(rng, &u, 1); /* uses the stream, then fails */
    return 5;
}

/* Headings ±(π − 0.1), equal weights: circular mean π, tangent variance 0.01. */
static void test_moments(void) {
    const otc_coord_f32 c32[1] = {{OTC_COORD_PERIODIC, 0, 2 * PI_F, 1, 0.1f}};
    const otc_coord_f64 c64[1] = {{OTC_COORD_PERIODIC, 0, 2 * 3.14159265358979323846, 1, 0.1}};
    const float x32[2] = {PI_F - 0.1f, -PI_F + 0.1f}, l32[2] = {0, 0};
    const double x64[2] = {3.04159265358979323846, -3.04159265358979323846}, l64[2] = {0, 0};
    float m32, v32;
    double m64, v64;
    otc_coord_f32 bad[1] = {{OTC_COORD_PERIODIC, 0, 0.0f, 1, 0.1f}};
    CHECK_STATUS(otc_state_moments_f32(c32, 1, x32, l32, 2, &m32, &v32), OTC_STATUS_OK);
    /* float: a few ulps of π (the mean is wrapped to either end of the circle). */
    CHECK(fabsf(fabsf(m32) - PI_F) < 1e-5f && fabsf(v32 - 0.01f) < 1e-5f);
    CHECK_STATUS(otc_state_moments_f64(c64, 1, x64, l64, 2, &m64, &v64), OTC_STATUS_OK);
    CHECK(fabs(fabs(m64) - 3.14159265358979323846) < 1e-12 && fabs(v64 - 0.01) < 1e-12);
    /* Period ≤ 0, an unknown kind, reserved ≠ 0: refused, outputs untouched. */
    m32 = v32 = 7.0f;
    CHECK_STATUS(otc_state_moments_f32(bad, 1, x32, l32, 2, &m32, &v32),
                 OTC_STATUS_INVALID_PARAMETER);
    bad[0].period = -1.0f;
    CHECK_STATUS(otc_state_moments_f32(bad, 1, x32, l32, 2, &m32, &v32),
                 OTC_STATUS_INVALID_PARAMETER);
    bad[0].period = 1.0f;
    bad[0].kind = 9;
    CHECK_STATUS(otc_state_moments_f32(bad, 1, x32, l32, 2, &m32, &v32),
                 OTC_STATUS_INVALID_PARAMETER);
    bad[0].kind = OTC_COORD_PERIODIC;
    bad[0].reserved = 1;
    CHECK_STATUS(otc_state_moments_f32(bad, 1, x32, l32, 2, &m32, &v32),
                 OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_state_moments_f32(NULL, 1, x32, l32, 2, &m32, &v32),
                 OTC_STATUS_NULL_POINTER);
    CHECK(m32 == 7.0f && v32 == 7.0f);
}

/* An (x, y, θ) cloud around (1.25, 2.25, π). */
static const otc_coord_f32 COORDS[3] = {
    {OTC_COORD_LINEAR, 0, 0, 1, 0.5f},
    {OTC_COORD_LINEAR, 0, 0, 1, 0.5f},
    {OTC_COORD_PERIODIC, 0, 2 * PI_F, 1, 0.2f},
};
static float X[N * 3], LOGW[N];

static void make_cloud(void) {
    int i;
    for (i = 0; i < N; ++i) {
        float th = PI_F + 0.3f * (float)(uniform() - 0.5);
        X[3 * i] = 1.25f + 0.2f * (float)(uniform() - 0.5);
        X[3 * i + 1] = 2.25f + 0.2f * (float)(uniform() - 0.5);
        X[3 * i + 2] = th > PI_F ? th - 2 * PI_F : th;
        LOGW[i] = (float)(-2.0 * uniform()) - logf((float)N);
    }
}

static void test_ot_state(void) {
    otc_ot_resample_config_f32 cfg;
    otc_ot_resample_report_f32 rep = {sizeof rep, 0, 0, 0, 0, 0, 0};
    otc_rng rng = {3}, saved;
    otc_coord_f32 bad[3];
    float out[CAP * 3], m0[3], c0[9], m1[3], c1[9], ones[CAP];
    size_t bytes, i;
    otc_ot_resample_config_default_f32(&cfg);
    cfg.epsilon = 0.05f;
    CHECK_STATUS(otc_ot_resample_state_workspace_size_f32(COORDS, 3, N, &bytes), OTC_STATUS_OK);
    /* 2·N·d' + (2d' + 7)·N̂ floats, d' = 4 (one periodic coordinate). */
    CHECK(bytes >= sizeof(float) * (2 * N * 4 + 15 * N) && bytes <= sizeof ws);
    CHECK_STATUS(otc_ot_resample_state_f32(&cfg, COORDS, 3, X, LOGW, N, &rng, ws, bytes, out, N,
                                           &rep),
                 OTC_STATUS_OK);
    for (i = 0; i < N; ++i) ones[i] = 0.0f;
    otc_state_moments_f32(COORDS, 3, X, LOGW, N, m0, c0);
    otc_state_moments_f32(COORDS, 3, out, ones, N, m1, c1);
    /* The heading mean survives the ±π straddle (plain OT would move it by ~π/2);
     * float rounding of the chordal mean is far below the 0.01 rad allowed. */
    CHECK(fabsf(m1[2] - m0[2]) < 0.01f || fabsf(fabsf(m1[2] - m0[2]) - 2 * PI_F) < 0.01f);
    CHECK(fabsf(m1[0] - m0[0]) < 1e-4f);
    /* Another count: M = 50 rows written. */
    CHECK_STATUS(otc_ot_resample_state_f32(&cfg, COORDS, 3, X, LOGW, N, &rng, ws, bytes, out, 50,
                                           &rep),
                 OTC_STATUS_OK);
    /* Bad input: period ≤ 0, workspace too small; RNG and output untouched. */
    memcpy(bad, COORDS, sizeof bad);
    bad[2].period = 0.0f;
    for (i = 0; i < CAP * 3; ++i) out[i] = 7.0f;
    saved = rng;
    CHECK_STATUS(otc_ot_resample_state_f32(&cfg, bad, 3, X, LOGW, N, &rng, ws, bytes, out, 50,
                                           &rep),
                 OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_ot_resample_state_f32(&cfg, COORDS, 3, X, LOGW, N, &rng, ws, bytes / 2, out,
                                           50, &rep),
                 OTC_STATUS_WORKSPACE_TOO_SMALL);
    CHECK(rng.state == saved.state);
    for (i = 0; i < CAP * 3; ++i) CHECK(out[i] == 7.0f);
    /* Classical resampling to another count, and a bad resampler value. */
    CHECK_STATUS(otc_resample_to_f32(OTC_RESAMPLE_SYSTEMATIC, LOGW, N, &rng, X, 3, out, 50),
                 OTC_STATUS_OK);
    saved = rng;
    CHECK_STATUS(otc_resample_to_f32(OTC_RESAMPLE_OPTIMAL, LOGW, N, &rng, X, 3, out, 50),
                 OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_resample_to_f32(OTC_RESAMPLE_SYSTEMATIC, LOGW, N, &rng, X, 3, out, 0),
                 OTC_STATUS_LENGTH_MISMATCH);
    CHECK(rng.state == saved.state);
}

static void test_kld(void) {
    otc_kld_config_f32 cfg;
    otc_kld_config_f64 c64;
    otc_coord_f32 bad[3];
    uint64_t table[2 * N];
    size_t len, bins = 77, count = 77;
    CHECK_STATUS(otc_kld_config_default_f32(&cfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_kld_config_default_f64(&c64), OTC_STATUS_OK);
    CHECK(cfg.min_particles == 500 && fabsf(cfg.kl_bound - 0.05f) < 1e-7f &&
          c64.confidence == 0.99);
    CHECK_STATUS(otc_kld_table_len(N, &len), OTC_STATUS_OK);
    CHECK(len == 2 * N);
    cfg.min_particles = 10;
    /* The cloud lies in one 0.5 m bin in x and y ([1.15, 1.35] and [2.15, 2.35]); its
     * headings, wrapped into [0, 2π), span [π − 0.15, π + 0.15]: bins 14 (only its
     * last 0.008 rad), 15 and 16 of 0.2 rad — 2 or 3 bins. */
    CHECK_STATUS(otc_kld_count_f32(&cfg, COORDS, 3, X, LOGW, N, 1000, table, len, &bins, &count),
                 OTC_STATUS_OK);
    CHECK(bins == 2 || bins == 3);
    CHECK(count >= 10 && count <= 1000);
    /* Bin ≤ 0, minimum > capacity, a table too short: refused, outputs untouched. */
    memcpy(bad, COORDS, sizeof bad);
    bad[1].bin = 0.0f;
    bins = count = 77;
    CHECK_STATUS(otc_kld_count_f32(&cfg, bad, 3, X, LOGW, N, 1000, table, len, &bins, &count),
                 OTC_STATUS_INVALID_PARAMETER);
    bad[1].bin = -1.0f;
    CHECK_STATUS(otc_kld_count_f32(&cfg, bad, 3, X, LOGW, N, 1000, table, len, &bins, &count),
                 OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_kld_count_f32(&cfg, COORDS, 3, X, LOGW, N, 9, table, len, &bins, &count),
                 OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_kld_count_f32(&cfg, COORDS, 3, X, LOGW, N, 1000, table, N, &bins, &count),
                 OTC_STATUS_WORKSPACE_TOO_SMALL);
    CHECK(bins == 77 && count == 77);
}

static void test_recovery(void) {
    otc_recovery_f32 rec;
    otc_recovery_f64 r64;
    float p = 7.0f;
    double p64;
    int t;
    CHECK_STATUS(otc_recovery_init_f32(0.1f, 0.001f, &rec), OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(otc_recovery_init_f32(0.001f, 0.1f, &rec), OTC_STATUS_OK);
    CHECK(rec.struct_size == sizeof rec && isinf(rec.log_slow) && rec.log_slow < 0);
    /* 5000 ticks at e^{−200} (w_slow reaches 1 − 0.999^5000 = 99.3 % of it), then a
     * drop by e^{−5} for 5 ticks: w_fast ≈ 0.9^5 = 0.59 of the old level, w_slow
     * ≈ 0.99, so p ≈ 1 − 0.59/0.99 = 0.41. */
    for (t = 0; t < 5000; ++t) otc_recovery_update_f32(&rec, -200.0f, &p);
    CHECK(p == 0.0f);
    for (t = 0; t < 5; ++t) CHECK_STATUS(otc_recovery_update_f32(&rec, -205.0f, &p), OTC_STATUS_OK);
    CHECK(p > 0.38f && p < 0.44f);
    CHECK_STATUS(otc_recovery_update_f32(&rec, NAN, &p), OTC_STATUS_NON_FINITE_INPUT);
    CHECK_STATUS(otc_recovery_init_f64(0.0, 0.0, &r64), OTC_STATUS_OK);
    CHECK_STATUS(otc_recovery_update_f64(&r64, -1.0, &p64), OTC_STATUS_OK);
    CHECK(p64 == 0.0);
}

static void test_mcl(void) {
    otc_mcl_config_f32 cfg;
    otc_mcl_report_f32 rep;
    otc_rng rng = {9}, saved;
    float out[CAP * 3];
    size_t bytes, i;
    otc_mcl_config_default_f32(&cfg);
    cfg.adaptive = 1;
    cfg.kld.min_particles = 8;
    CHECK_STATUS(otc_mcl_workspace_size_f32(&cfg, COORDS, 3, N, CAP, &bytes), OTC_STATUS_OK);
    CHECK(bytes <= sizeof ws);
    memset(&rep, 0, sizeof rep);
    rep.struct_size = sizeof rep;
    CHECK_STATUS(otc_mcl_resample_f32(&cfg, COORDS, 3, X, LOGW, N, 0.5f, sampler_ok, NULL, &rng,
                                      ws, bytes, out, CAP, &rep),
                 OTC_STATUS_OK);
    CHECK(rep.count >= 8 && rep.count <= CAP && rep.injected <= rep.count && rep.ot_ran == 0);
    for (i = rep.count - rep.injected; i < rep.count; ++i) CHECK(out[3 * i] == 100.0f);
    /* A failing sampler, a NULL sampler when one is needed, minimum > capacity: RNG and
     * output untouched. */
    for (i = 0; i < CAP * 3; ++i) out[i] = 7.0f;
    saved = rng;
    CHECK_STATUS(otc_mcl_resample_f32(&cfg, COORDS, 3, X, LOGW, N, 0.5f, sampler_fails, NULL,
                                      &rng, ws, bytes, out, CAP, &rep),
                 OTC_STATUS_CALLBACK_FAILED);
    CHECK_STATUS(otc_mcl_resample_f32(&cfg, COORDS, 3, X, LOGW, N, 0.5f, NULL, NULL, &rng, ws,
                                      bytes, out, CAP, &rep),
                 OTC_STATUS_CALLBACK_FAILED);
    cfg.kld.min_particles = CAP + 1;
    CHECK_STATUS(otc_mcl_resample_f32(&cfg, COORDS, 3, X, LOGW, N, 0.5f, sampler_ok, NULL, &rng,
                                      ws, bytes, out, CAP, &rep),
                 OTC_STATUS_INVALID_PARAMETER);
    cfg.kld.min_particles = 8;
    CHECK_STATUS(otc_mcl_resample_f32(&cfg, COORDS, 3, X, LOGW, N, 1.5f, sampler_ok, NULL, &rng,
                                      ws, bytes, out, CAP, &rep),
                 OTC_STATUS_INVALID_PARAMETER);
    CHECK(rng.state == saved.state);
    for (i = 0; i < CAP * 3; ++i) CHECK(out[i] == 7.0f);
}

static void test_cluster(void) {
    float x[2 * N * 3], logw[2 * N], mean[3], cov[9], weight;
    size_t bytes, clusters, i;
    /* Blob A (24 particles) at (0, 0, π), straddling ±π; blob B (40) at (5, 5, 0):
     * B is heavier, A's two sides join across the period. */
    for (i = 0; i < 2 * N; ++i) {
        int b = i >= 24;
        float th = PI_F + 0.1f * (float)(uniform() - 0.5);
        x[3 * i] = (b ? 5.0f : 0.0f) + 0.1f * (float)(uniform() - 0.5);
        x[3 * i + 1] = (b ? 5.0f : 0.0f) + 0.1f * (float)(uniform() - 0.5);
        x[3 * i + 2] = b ? 0.0f : (th > PI_F ? th - 2 * PI_F : th);
        logw[i] = 0.0f;
    }
    CHECK_STATUS(otc_cluster_workspace_size_f32(2 * N, &bytes), OTC_STATUS_OK);
    CHECK_STATUS(otc_largest_cluster_f32(COORDS, 3, x, logw, 2 * N, ws, bytes, mean, cov, &weight,
                                         &clusters),
                 OTC_STATUS_OK);
    CHECK(clusters == 2);
    CHECK(fabsf(weight - 40.0f / 64.0f) < 1e-5f);
    CHECK(fabsf(mean[0] - 5.0f) < 0.1f && fabsf(mean[2]) < 1e-6f);
    CHECK_STATUS(otc_largest_cluster_f32(COORDS, 3, x, logw, 2 * N, ws, bytes / 2, mean, cov,
                                         &weight, &clusters),
                 OTC_STATUS_WORKSPACE_TOO_SMALL);
}

int main(void) {
    CHECK(sizeof(otc_coord_f32) == 20 && sizeof(otc_coord_f64) == 32);
    make_cloud();
    test_moments();
    test_ot_state();
    test_kld();
    test_recovery();
    test_mcl();
    test_cluster();
    return check_report("test_mcl");
}
