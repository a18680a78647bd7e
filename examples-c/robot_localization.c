/* Range-only robot localisation with a particle filter, from C, with otcore.
 *
 * A robot (x, y, heading) drives through a 10 m × 10 m room for 1000 ticks at 100 Hz
 * (v = 1 m/s, turning rate varying slowly). Each tick it measures its distance to four
 * beacons in the corners (noise σ = 0.1 m). The same scenario (same truth, same
 * measurements, same filter seed) runs twice: with systematic resampling and with
 * optimal-transport resampling (ε = 0.5), both when ESS < N/2. For each the program
 * prints the position RMSE of the filter mean against the truth, how many ticks
 * resampled, the final log-likelihood, and the median and worst latency of one filter
 * tick (otc_pf_step_f32: predict + weight + resample).
 *
 * Static buffers only (no malloc anywhere): usage `robot_localization [N]`, N ≤ 1024
 * (default 256). */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "otcore.h"

enum { MAX_N = 1024, D = 3, TICKS = 1000, BEACONS = 4 };

static const float DT = 0.01f;          /* s (100 Hz) */
static const float SPEED = 1.0f;        /* m/s */
static const float SIGMA_V = 0.1f;      /* m/s, speed noise of the motion model */
static const float SIGMA_W = 0.2f;      /* rad/s, turn-rate noise */
static const float SIGMA_XY = 0.003f;   /* m per tick, extra position jitter */
static const float SIGMA_RANGE = 0.1f;  /* m */
static const float BEACON[BEACONS][2] = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};

/* Ground truth and data, shared by both runs. */
static float truth[TICKS][D];
static float turn[TICKS];   /* the commanded turn rate, known to the filter */
static float ranges[TICKS][BEACONS];

/* Filter state (static: no heap). */
static float x[MAX_N * D], logw[MAX_N], mean[D], cov[D * D];
static _Alignas(16) unsigned char ws[(MAX_N * (D + 1) + (2 * D + 7) * MAX_N) * sizeof(float)];
static double latency_us[TICKS];

typedef struct {
    int tick;
} context;

/* Motion model: unicycle with noisy speed and turn rate, plus a little jitter. */
static int32_t predict(void *user, size_t n, size_t d, const float *prev, float *next,
                       otc_rng *rng) {
    const context *c = (const context *)user;
    float noise[4];
    size_t i;
    for (i = 0; i < n; ++i) {
        const float *p = prev + i * d;
        float *q = next + i * d;
        float v, w;
        if (otc_rng_normal_f32(rng, noise, 4) != OTC_STATUS_OK) return 1;
        v = SPEED + SIGMA_V * noise[0];
        w = turn[c->tick] + SIGMA_W * noise[1];
        q[0] = p[0] + v * DT * cosf(p[2]) + SIGMA_XY * noise[2];
        q[1] = p[1] + v * DT * sinf(p[2]) + SIGMA_XY * noise[3];
        q[2] = p[2] + w * DT;
    }
    return 0;
}

/* Range likelihood: independent Gaussian errors to each beacon. */
static int32_t loglik(void *user, size_t n, size_t d, const float *xs, float *out) {
    const context *c = (const context *)user;
    size_t i;
    int b;
    for (i = 0; i < n; ++i) {
        float l = 0.0f;
        for (b = 0; b < BEACONS; ++b) {
            float dx = xs[i * d] - BEACON[b][0], dy = xs[i * d + 1] - BEACON[b][1];
            float e = ranges[c->tick][b] - sqrtf(dx * dx + dy * dy);
            l -= 0.5f * e * e / (SIGMA_RANGE * SIGMA_RANGE);
        }
        out[i] = l;
    }
    return 0;
}

static void simulate(void) {
    otc_rng rng;
    float s[D] = {2.0f, 5.0f, 0.0f}, z[3];
    int t, b;
    otc_rng_seed(&rng, 2024);
    for (t = 0; t < TICKS; ++t) {
        turn[t] = 0.6f * sinf(0.004f * (float)t) + 0.3f;
        otc_rng_normal_f32(&rng, z, 3);
        s[0] += (SPEED + 0.05f * z[0]) * DT * cosf(s[2]);
        s[1] += (SPEED + 0.05f * z[0]) * DT * sinf(s[2]);
        s[2] += (turn[t] + 0.1f * z[1]) * DT;
        truth[t][0] = s[0];
        truth[t][1] = s[1];
        truth[t][2] = s[2];
        for (b = 0; b < BEACONS; ++b) {
            float dx = s[0] - BEACON[b][0], dy = s[1] - BEACON[b][1];
            otc_rng_normal_f32(&rng, z, 1);
            ranges[t][b] = sqrtf(dx * dx + dy * dy) + SIGMA_RANGE * z[0];
        }
    }
}

static int cmp_double(const void *a, const void *b) {
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

static int fail(const char *what, int32_t status) {
    fprintf(stderr, "%s: %s (status %d)\n", what, otc_status_str(status), (int)status);
    return 1;
}

static int run(const char *name, int resampler, size_t n) {
    otc_pf_config_f32 cfg;
    otc_pf_state_f32 state = {sizeof state, 0, 0, 0};
    otc_pf_report_f32 report = {sizeof report, 0, 0, 0, 0, 0};
    otc_rng rng;
    context ctx = {0};
    size_t bytes, i;
    double sq = 0.0;
    int32_t s;
    otc_pf_config_default_f32(&cfg);
    cfg.resampler = resampler;
    cfg.ot.epsilon = 0.5f; /* used by OTC_RESAMPLE_OPTIMAL only */
    s = otc_pf_workspace_size_f32(n, D, resampler, &bytes);
    if (s != OTC_STATUS_OK) return fail("otc_pf_workspace_size_f32", s);
    if (bytes > sizeof ws) return fail("workspace", OTC_STATUS_WORKSPACE_TOO_SMALL);
    /* Initial belief: around the start pose with 0.3 m / 0.2 rad spread. */
    otc_rng_seed(&rng, 7);
    for (i = 0; i < n; ++i) {
        float z[3];
        otc_rng_normal_f32(&rng, z, 3);
        x[i * D] = 2.0f + 0.3f * z[0];
        x[i * D + 1] = 5.0f + 0.3f * z[1];
        x[i * D + 2] = 0.2f * z[2];
    }
    s = otc_pf_init_f32(logw, n, &state);
    if (s != OTC_STATUS_OK) return fail("otc_pf_init_f32", s);
    for (ctx.tick = 0; ctx.tick < TICKS; ++ctx.tick) {
        struct timespec t0, t1;
        float ex, ey;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        s = otc_pf_step_f32(&cfg, predict, loglik, &ctx, n, D, &rng, x, logw, &state, ws,
                            bytes, mean, cov, &report);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (s != OTC_STATUS_OK) return fail("otc_pf_step_f32", s);
        latency_us[ctx.tick] =
            (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
        ex = mean[0] - truth[ctx.tick][0];
        ey = mean[1] - truth[ctx.tick][1];
        sq += (double)(ex * ex + ey * ey);
    }
    qsort(latency_us, TICKS, sizeof latency_us[0], cmp_double);
    printf("%-11s N=%4zu  position RMSE %.4f m  resampled %4llu/%d ticks  "
           "log-lik %9.1f  tick latency median %7.1f us  worst %7.1f us\n",
           name, n, sqrt(sq / TICKS), (unsigned long long)state.resamples, TICKS,
           (double)state.log_likelihood, latency_us[TICKS / 2], latency_us[TICKS - 1]);
    return 0;
}

int main(int argc, char **argv) {
    size_t n = 256;
    if (argc > 1) {
        long v = strtol(argv[1], NULL, 10);
        if (v < 1 || v > MAX_N) {
            fprintf(stderr, "usage: %s [N], 1 <= N <= %d\n", argv[0], MAX_N);
            return 2;
        }
        n = (size_t)v;
    }
    simulate();
    printf("robot localisation: %d ticks at 100 Hz, %d range beacons (sigma %.2f m), "
           "state (x, y, heading), float\n",
           TICKS, BEACONS, (double)SIGMA_RANGE);
    if (run("systematic", OTC_RESAMPLE_SYSTEMATIC, n)) return 1;
    if (run("OT eps=0.5", OTC_RESAMPLE_OPTIMAL, n)) return 1;
    return 0;
}
