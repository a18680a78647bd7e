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
 * With `--svg FILE` it also draws both runs side by side: the room and its beacons,
 * the true path, the filter's estimate and the particle cloud at a few ticks.
 *
 * Static buffers only (no malloc anywhere): usage
 * `robot_localization [N] [--svg FILE]`, N ≤ 1024 (default 256). */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* What the picture shows, per run: the estimate every tick, the cloud at a few ticks. */
enum { RUNS = 2, SNAPS = 5 };
static const int SNAP_TICK[SNAPS] = {0, 150, 400, 650, TICKS - 1};
static float estimate[RUNS][TICKS][2];
static float cloud[RUNS][SNAPS][MAX_N][2];
static const char *run_name[RUNS];

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

static int run(int r, const char *name, int resampler, size_t n) {
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
        estimate[r][ctx.tick][0] = mean[0];
        estimate[r][ctx.tick][1] = mean[1];
        for (i = 0; i < SNAPS; ++i) {
            size_t k;
            if (SNAP_TICK[i] != ctx.tick) continue;
            for (k = 0; k < n; ++k) {
                cloud[r][i][k][0] = x[k * D];
                cloud[r][i][k][1] = x[k * D + 1];
            }
        }
        ex = mean[0] - truth[ctx.tick][0];
        ey = mean[1] - truth[ctx.tick][1];
        sq += (double)(ex * ex + ey * ey);
    }
    run_name[r] = name;
    qsort(latency_us, TICKS, sizeof latency_us[0], cmp_double);
    printf("%-11s N=%4zu  position RMSE %.4f m  resampled %4llu/%d ticks  "
           "log-lik %9.1f  tick latency median %7.1f us  worst %7.1f us\n",
           name, n, sqrt(sq / TICKS), (unsigned long long)state.resamples, TICKS,
           (double)state.log_likelihood, latency_us[TICKS / 2], latency_us[TICKS - 1]);
    return 0;
}

/* Half-width (m) of the zoomed view of snapshot i: 3× the RMS distance of the particles
 * from the true position, the larger of the two runs, so both panels share one scale. */
static float zoom_half_width(int i, size_t n) {
    float w = 0.01f;
    int r;
    size_t k;
    for (r = 0; r < RUNS; ++r) {
        double sq = 0.0;
        for (k = 0; k < n; ++k) {
            const double dx = cloud[r][i][k][0] - truth[SNAP_TICK[i]][0];
            const double dy = cloud[r][i][k][1] - truth[SNAP_TICK[i]][1];
            sq += dx * dx + dy * dy;
        }
        if (3.0 * sqrt(sq / (double)n) > w) w = (float)(3.0 * sqrt(sq / (double)n));
    }
    return w;
}

/* An SVG of both runs side by side (plain text, no dependencies). Per run: the
 * 10 m × 10 m room with its beacons, the true path (black) and the estimate (colour,
 * dashed); below it, the particle cloud at the ticks of SNAP_TICK, zoomed around the
 * true position (black cross; the estimate is the ring), with the same zoom in both
 * runs. */
static int write_svg(const char *path, size_t n) {
    enum { PANEL = 420, PAD = 20, TOP = 36, ROOM = 260, INSET = 72, GAP = 4 };
    const float scale = ROOM / 10.0f; /* px per m in the room view */
    const char *colour[RUNS] = {"#1f77b4", "#d62728"};
    const int inset_y = TOP + ROOM + 34;
    FILE *f = fopen(path, "w");
    int r, t, i, b;
    size_t k;
    if (f == NULL) {
        perror(path);
        return 1;
    }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n",
            RUNS * PANEL, inset_y + INSET + 50);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    for (r = 0; r < RUNS; ++r) {
        const int ox = r * PANEL + PAD + (PANEL - 2 * PAD - ROOM) / 2, oy = TOP;
#define PX(v) (ox + scale * (v))
#define PY(v) (oy + scale * (10.0f - (v)))
        fprintf(f, "<text x=\"%d\" y=\"22\" font-size=\"15\">%s resampling, N = %zu</text>\n",
                r * PANEL + PAD, run_name[r], n);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                   "stroke=\"#999\"/>\n", ox, oy, ROOM, ROOM);
        for (b = 0; b < BEACONS; ++b)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"#2ca02c\"/>\n",
                    (double)PX(BEACON[b][0]) - 4, (double)PY(BEACON[b][1]) - 4);
        fprintf(f, "<polyline fill=\"none\" stroke=\"black\" stroke-width=\"1.5\" points=\"");
        for (t = 0; t < TICKS; t += 5)
            fprintf(f, "%.1f,%.1f ", (double)PX(truth[t][0]), (double)PY(truth[t][1]));
        fprintf(f, "\"/>\n<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                   "stroke-dasharray=\"5 3\" points=\"", colour[r]);
        for (t = 0; t < TICKS; t += 5)
            fprintf(f, "%.1f,%.1f ", (double)PX(estimate[r][t][0]), (double)PY(estimate[r][t][1]));
        fprintf(f, "\"/>\n");
        for (i = 0; i < SNAPS; ++i) {
            const float *p = truth[SNAP_TICK[i]];
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"black\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" fill=\"#555\" font-size=\"11\">%c</text>\n",
                    (double)PX(p[0]), (double)PY(p[1]), (double)PX(p[0]) + 5,
                    (double)PY(p[1]) - 5, 'A' + i);
        }
#undef PX
#undef PY
        /* The zoomed clouds. */
        for (i = 0; i < SNAPS; ++i) {
            const float *p = truth[SNAP_TICK[i]];
            const float hw = zoom_half_width(i, n), zs = (INSET / 2) / hw;
            const int ix = r * PANEL + PAD + i * (INSET + GAP);
            const double cx = ix + INSET / 2.0, cy = inset_y + INSET / 2.0;
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
                       "stroke=\"#bbb\"/>\n<g fill=\"%s\" fill-opacity=\"0.35\">\n",
                    ix, inset_y, INSET, INSET, colour[r]);
            for (k = 0; k < n; ++k) {
                const double u = cx + zs * (cloud[r][i][k][0] - p[0]);
                const double v = cy - zs * (cloud[r][i][k][1] - p[1]);
                if (u < ix || u > ix + INSET || v < inset_y || v > inset_y + INSET) continue;
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\"/>\n", u, v);
            }
            fprintf(f, "</g>\n<path d=\"M%.1f %.1fh10M%.1f %.1fv10\" stroke=\"black\"/>\n",
                    cx - 5, cy, cx, cy - 5);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"none\" stroke=\"%s\" "
                       "stroke-width=\"1.5\"/>\n",
                    cx + zs * (estimate[r][SNAP_TICK[i]][0] - p[0]),
                    cy - zs * (estimate[r][SNAP_TICK[i]][1] - p[1]), colour[r]);
            fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%c: %.1f s</text>"
                       "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#555\">%.0f cm wide</text>\n",
                    ix + 2, inset_y + INSET + 13, 'A' + i, SNAP_TICK[i] * (double)DT, ix + 2,
                    inset_y + INSET + 25, 200.0 * (double)hw);
        }
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#555\">Top: true path (black), "
               "estimate (dashed), beacons (green). Below: particles at A-E around the true "
               "position (+); the ring is the estimate.</text>\n",
            PAD, inset_y + INSET + 44);
    fprintf(f, "</svg>\n");
    return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    size_t n = 256;
    const char *svg = NULL;
    int i;
    for (i = 1; i < argc; ++i) {
        long v;
        if (strcmp(argv[i], "--svg") == 0 && i + 1 < argc) {
            svg = argv[++i];
            continue;
        }
        v = strtol(argv[i], NULL, 10);
        if (v < 1 || v > MAX_N) {
            fprintf(stderr, "usage: %s [N] [--svg FILE], 1 <= N <= %d\n", argv[0], MAX_N);
            return 2;
        }
        n = (size_t)v;
    }
    simulate();
    printf("robot localisation: %d ticks at 100 Hz, %d range beacons (sigma %.2f m), "
           "state (x, y, heading), float\n",
           TICKS, BEACONS, (double)SIGMA_RANGE);
    if (run(0, "systematic", OTC_RESAMPLE_SYSTEMATIC, n)) return 1;
    if (run(1, "OT eps=0.5", OTC_RESAMPLE_OPTIMAL, n)) return 1;
    if (svg != NULL) {
        if (write_svg(svg, n)) return 1;
        printf("wrote %s\n", svg);
    }
    return 0;
}
