/* Monte Carlo localisation as AMCL runs it, from C, with otcore — beside today's
 * plain filter and the textbook KLD-sampling MCL.
 *
 * A robot (x, y, heading) drives circles in a 10 m room for 1000 ticks at 10 Hz
 * (0.5 m/s, about 0.25 rad/s: the heading wraps at ±π every 25 s). Each tick it
 * measures range (σ 0.1 m) and bearing (σ 0.05 rad) to three landmarks; odometry
 * (v, ω) is known up to noise. The filter starts knowing nothing (particles uniform
 * over the room and all headings). At tick 500 the robot is kidnapped: moved 4 m
 * and turned, without telling the filter.
 *
 * Every run sees the same truth and measurements, and reports over ticks 100..499
 * (after global localisation, before the kidnapping) the position and heading RMSE
 * of its estimate, its mean particle count and the median time per tick (motion,
 * weighting, estimate, resampling), and how many ticks after the kidnapping its
 * estimate needs to be back within 0.5 m and 0.2 rad for 10 ticks in a row.
 *
 *  1. today's filter: otc_pf_step_f32, heading as a plain coordinate, linear mean,
 *     systematic and OT resampling (ESS < N/2), fixed N;
 *  2. otc_mcl_resample_f32 with the state description (heading periodic), circular
 *     mean (otc_state_moments_f32), resampling every tick as AMCL: systematic and OT
 *     per the description at fixed N, and systematic at fixed N = 100..2000;
 *  3. KLD-sampling (ε = 0.05, q = 0.99, bins 0.5 m × 0.5 m × 10°, 100..5000
 *     particles), without and with recovery (α_slow 0.001, α_fast 0.1, injection
 *     uniform over the room); the published pose is the largest cluster's mean
 *     (otc_largest_cluster_f32), as AMCL's;
 *  4. the textbook KLD-sampling MCL (Probabilistic Robotics, table 8.4) written
 *     plainly below, with a low-variance draw: the same motion and measurement code,
 *     the same bins and bounds, no otcore call in its loop.
 *
 * Static buffers only (no malloc anywhere): usage `amcl_localization [--quick]`
 * (--quick: fewer runs, for the CMake smoke test). */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otcore.h"

enum { CAP = 5000, D = 3, TICKS = 1000, MARKS = 3, KIDNAP = 500, FROM = 100 };

static const float PI = 3.14159265358979f;
static const float DT = 0.1f;             /* s (10 Hz) */
static const float ROOM = 10.0f;          /* m */
static const float SIGMA_V = 0.05f;       /* m/s, odometry speed noise */
static const float SIGMA_W = 0.05f;       /* rad/s, odometry turn-rate noise */
static const float SIGMA_RANGE = 0.1f;    /* m */
static const float SIGMA_BEARING = 0.05f; /* rad */
static const float MARK[MARKS][2] = {{1, 1}, {9, 2}, {5, 9}};

/* Ground truth, odometry and measurements, shared by every run. */
static float truth[TICKS][D];
static float odo[TICKS][2];
static float meas[TICKS][MARKS][2];

/* Particle sets (two, swapped by MCL), weights, workspace: static. */
static float xa[CAP * D], xb[CAP * D], logw[CAP], lam[CAP];
static _Alignas(64) unsigned char ws[2 * 1024 * 1024];
static double tick_us[TICKS];

static float wrap(float a) { return a - 2.0f * PI * floorf((a + PI) / (2.0f * PI)); }

static int fail(const char *what, int32_t s) {
    fprintf(stderr, "%s: %s\n", what, otc_status_str(s));
    return 1;
}

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e6 * (double)t.tv_sec + 1e-3 * (double)t.tv_nsec;
}

/* Truth: circles around the room's centre, kidnapped at tick KIDNAP. */
static void simulate(void) {
    otc_rng rng;
    float s[D] = {5.0f, 3.0f, 0.0f}, z[4];
    int t, k;
    otc_rng_seed(&rng, 7);
    for (t = 0; t < TICKS; ++t) {
        float v = 0.5f, w = 0.25f + 0.1f * sinf(0.01f * (float)t);
        if (t == KIDNAP) {
            s[0] -= 4.0f;
            s[2] = wrap(s[2] + 2.0f);
        }
        otc_rng_normal_f32(&rng, z, 4);
        odo[t][0] = v + SIGMA_V * z[0];
        odo[t][1] = w + SIGMA_W * z[1];
        s[0] += v * DT * cosf(s[2]);
        s[1] += v * DT * sinf(s[2]);
        s[2] = wrap(s[2] + w * DT);
        memcpy(truth[t], s, sizeof s);
        for (k = 0; k < MARKS; ++k) {
            float dx = MARK[k][0] - s[0], dy = MARK[k][1] - s[1];
            otc_rng_normal_f32(&rng, z, 2);
            meas[t][k][0] = sqrtf(dx * dx + dy * dy) + SIGMA_RANGE * z[0];
            meas[t][k][1] = wrap(atan2f(dy, dx) - s[2] + SIGMA_BEARING * z[1]);
        }
    }
}

/* Motion model (odometry plus noise) for n particles in place. */
static int move(int t, float *x, size_t n, otc_rng *rng) {
    float z[2];
    size_t i;
    for (i = 0; i < n; ++i) {
        float *p = x + i * D, v, w;
        if (otc_rng_normal_f32(rng, z, 2) != OTC_STATUS_OK) return 1;
        v = odo[t][0] + 2.0f * SIGMA_V * z[0];
        w = odo[t][1] + 2.0f * SIGMA_W * z[1];
        p[0] += v * DT * cosf(p[2]);
        p[1] += v * DT * sinf(p[2]);
        p[2] = wrap(p[2] + w * DT);
    }
    return 0;
}

/* Measurement model: range and bearing, Gaussian; the bearing error is wrapped. */
static float loglik_one(int t, const float *p) {
    float l = 0.0f;
    int k;
    for (k = 0; k < MARKS; ++k) {
        float dx = MARK[k][0] - p[0], dy = MARK[k][1] - p[1];
        float er = meas[t][k][0] - sqrtf(dx * dx + dy * dy);
        float eb = wrap(meas[t][k][1] - (atan2f(dy, dx) - p[2]));
        l -= 0.5f * er * er / (SIGMA_RANGE * SIGMA_RANGE) +
             0.5f * eb * eb / (SIGMA_BEARING * SIGMA_BEARING);
    }
    return l;
}

/* Uniform over the room and all headings (the initial belief, and the recovery
 * sampler). */
static int32_t uniform_pose(void *user, size_t count, size_t d, float *out, otc_rng *rng) {
    size_t i;
    (void)user;
    if (otc_rng_uniform_f32(rng, out, count * d) != OTC_STATUS_OK) return 1;
    for (i = 0; i < count; ++i) {
        out[i * d] *= ROOM;
        out[i * d + 1] *= ROOM;
        out[i * d + 2] = (2.0f * out[i * d + 2] - 1.0f) * PI;
    }
    return 0;
}

/* What one run measured. */
typedef struct {
    double rmse_xy, rmse_th, mean_n, median_us;
    int recover; /* ticks after the kidnapping to be back for 10 ticks; −1: never */
} result;

static int cmp_double(const void *a, const void *b) {
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

/* Scores the estimates est[t] (x, y, heading) and the counts. */
static result score(float (*est)[D], const double *count) {
    result r = {0, 0, 0, 0, -1};
    double sx = 0, sh = 0, sn = 0;
    int t, ok = 0;
    for (t = FROM; t < KIDNAP; ++t) {
        double ex = est[t][0] - truth[t][0], ey = est[t][1] - truth[t][1];
        double eh = wrap(est[t][2] - truth[t][2]);
        sx += ex * ex + ey * ey;
        sh += eh * eh;
        sn += count[t];
    }
    r.rmse_xy = sqrt(sx / (KIDNAP - FROM));
    r.rmse_th = sqrt(sh / (KIDNAP - FROM));
    r.mean_n = sn / (KIDNAP - FROM);
    for (t = KIDNAP; t < TICKS && r.recover < 0; ++t) {
        float ex = est[t][0] - truth[t][0], ey = est[t][1] - truth[t][1];
        int good = sqrtf(ex * ex + ey * ey) < 0.5f && fabsf(wrap(est[t][2] - truth[t][2])) < 0.2f;
        ok = good ? ok + 1 : 0;
        if (ok == 10) r.recover = t - 9 - KIDNAP;
    }
    qsort(tick_us, TICKS, sizeof tick_us[0], cmp_double);
    r.median_us = tick_us[TICKS / 2];
    return r;
}

static float est[TICKS][D];
static double count[TICKS];

/* ---- 1. Today's filter: otc_pf_step_f32, heading a plain coordinate. ---------- */

typedef struct {
    int t;
} step_ctx;

static int32_t step_predict(void *user, size_t n, size_t d, const float *prev, float *next,
                            otc_rng *rng) {
    const step_ctx *c = (const step_ctx *)user;
    (void)d;
    memcpy(next, prev, n * D * sizeof *next);
    return move(c->t, next, n, rng);
}

static int32_t step_loglik(void *user, size_t n, size_t d, const float *x, float *out) {
    const step_ctx *c = (const step_ctx *)user;
    size_t i;
    for (i = 0; i < n; ++i) out[i] = loglik_one(c->t, x + i * d);
    return 0;
}

static int run_today(int optimal, size_t n, result *out) {
    otc_pf_config_f32 cfg;
    otc_pf_state_f32 state = {sizeof state, 0, 0, 0};
    otc_pf_report_f32 rep = {sizeof rep, 0, 0, 0, 0, 0};
    otc_rng rng;
    step_ctx ctx;
    float mean[D], cov[D * D];
    size_t bytes;
    int32_t s;
    int t;
    otc_pf_config_default_f32(&cfg);
    if (optimal) {
        cfg.resampler = OTC_RESAMPLE_OPTIMAL;
        cfg.ot.epsilon = 0.05f;
    }
    s = otc_pf_workspace_size_f32(n, D, cfg.resampler, &bytes);
    if (s != OTC_STATUS_OK || bytes > sizeof ws) return fail("otc_pf_workspace_size_f32", s);
    otc_rng_seed(&rng, 99);
    uniform_pose(NULL, n, D, xa, &rng);
    otc_pf_init_f32(logw, n, &state);
    for (t = 0; t < TICKS; ++t) {
        double t0 = now_us();
        ctx.t = t;
        s = otc_pf_step_f32(&cfg, step_predict, step_loglik, &ctx, n, D, &rng, xa, logw, &state,
                            ws, sizeof ws, mean, cov, &rep);
        tick_us[t] = now_us() - t0;
        if (s < 0) return fail("otc_pf_step_f32", s);
        memcpy(est[t], mean, sizeof mean);
        count[t] = (double)n;
    }
    *out = score(est, count);
    return 0;
}

/* ---- 2, 3. MCL with otcore: state description, KLD, recovery, clusters. ------- */

typedef struct {
    int32_t resampler; /* OTC_RESAMPLE_* */
    int adaptive;      /* KLD-sampling */
    int recovery;      /* augmented MCL */
    int cluster;       /* publish the largest cluster's mean (else the mean) */
    size_t n;          /* fixed count, or the initial count with KLD */
} mcl_setup;

static int run_mcl(const mcl_setup *m, result *out) {
    const otc_coord_f32 coords[D] = {
        {OTC_COORD_LINEAR, 0, 0.0f, 1.0f, 0.5f},
        {OTC_COORD_LINEAR, 0, 0.0f, 1.0f, 0.5f},
        {OTC_COORD_PERIODIC, 0, 2.0f * PI, 1.0f, 10.0f * PI / 180.0f},
    };
    otc_mcl_config_f32 cfg;
    otc_mcl_report_f32 rep = {sizeof rep, 0, 0, 0, 0, 0, {0, 0, 0, 0, 0, 0, 0}};
    otc_recovery_f32 rec;
    otc_rng rng;
    float *x = xa, *y = xb, mean[D], cov[D * D], p = 0.0f, lse, ess, weight;
    size_t n = m->n, bytes, cbytes, clusters, i;
    int32_t s;
    int t;
    otc_mcl_config_default_f32(&cfg);
    cfg.resampler = m->resampler;
    cfg.ot.epsilon = 0.05f;
    cfg.adaptive = m->adaptive;
    cfg.kld.min_particles = 100;
    s = otc_mcl_workspace_size_f32(&cfg, coords, D, CAP, CAP, &bytes);
    if (s != OTC_STATUS_OK || bytes > sizeof ws) return fail("otc_mcl_workspace_size_f32", s);
    s = otc_cluster_workspace_size_f32(CAP, &cbytes);
    if (s != OTC_STATUS_OK || cbytes > sizeof ws) return fail("otc_cluster_workspace_size_f32", s);
    s = otc_recovery_init_f32(m->recovery ? 0.001f : 0.0f, m->recovery ? 0.1f : 0.0f, &rec);
    if (s != OTC_STATUS_OK) return fail("otc_recovery_init_f32", s);
    otc_rng_seed(&rng, 99);
    uniform_pose(NULL, n, D, x, &rng);
    for (t = 0; t < TICKS; ++t) {
        double t0 = now_us();
        float *tmp;
        if (move(t, x, n, &rng)) return fail("move", OTC_STATUS_CALLBACK_FAILED);
        /* The weights are uniform after every resampling: ℓ_i = −ln n + λ_i. */
        for (i = 0; i < n; ++i) logw[i] = loglik_one(t, x + i * D) - logf((float)n);
        s = otc_log_weights_normalise_f32(logw, n, &lse, &ess);
        if (s != OTC_STATUS_OK) return fail("otc_log_weights_normalise_f32", s);
        if (m->cluster)
            s = otc_largest_cluster_f32(coords, D, x, logw, n, ws, sizeof ws, mean, cov, &weight,
                                        &clusters);
        else
            s = otc_state_moments_f32(coords, D, x, logw, n, mean, cov);
        if (s != OTC_STATUS_OK) return fail("estimate", s);
        s = otc_recovery_update_f32(&rec, lse, &p);
        if (s != OTC_STATUS_OK) return fail("otc_recovery_update_f32", s);
        s = otc_mcl_resample_f32(&cfg, coords, D, x, logw, n, p, uniform_pose, NULL, &rng, ws,
                                 sizeof ws, y, CAP, &rep);
        if (s < 0) return fail("otc_mcl_resample_f32", s);
        tick_us[t] = now_us() - t0;
        memcpy(est[t], mean, sizeof mean);
        count[t] = (double)n;
        n = rep.count;
        tmp = x;
        x = y;
        y = tmp;
    }
    *out = score(est, count);
    return 0;
}

/* ---- 4. Textbook KLD-sampling MCL (Probabilistic Robotics, table 8.4). --------- */

/* Bins: a plain open-addressing set of bin index triples (the book's histogram H). */
enum { HSLOTS = 4 * CAP };
static long long hkey[HSLOTS][3];
static unsigned char hused[HSLOTS];
static float wprev[CAP], cdf[CAP];

/* Inserts the bin of pose p; returns 1 if the bin was empty. */
static int bin_insert(const float *p) {
    long long b[3];
    unsigned long long h;
    size_t s;
    b[0] = (long long)floorf(p[0] / 0.5f);
    b[1] = (long long)floorf(p[1] / 0.5f);
    b[2] = (long long)floorf((p[2] + PI) / (10.0f * PI / 180.0f));
    h = (unsigned long long)(b[0] * 73856093LL ^ b[1] * 19349663LL ^ b[2] * 83492791LL);
    for (s = (size_t)(h % HSLOTS);; s = (s + 1) % HSLOTS) {
        if (!hused[s]) {
            hused[s] = 1;
            memcpy(hkey[s], b, sizeof b);
            return 1;
        }
        if (!memcmp(hkey[s], b, sizeof b)) return 0;
    }
}

static int run_textbook(result *out) {
    const double z = 2.326348; /* z_{1−δ}, the standard normal quantile of 0.99 */
    const double eps = 0.05;
    const size_t m_min = 100;
    size_t nprev = CAP, m, k, i, j;
    float *x = xa, *y = xb, *tmp, u, total, pose[D];
    otc_rng rng;
    int t;
    otc_rng_seed(&rng, 99);
    uniform_pose(NULL, nprev, D, x, &rng);
    for (i = 0; i < nprev; ++i) wprev[i] = 1.0f;
    for (t = 0; t < TICKS; ++t) {
        double t0 = now_us(), m_chi = 0.0, sx = 0, sy = 0, sc = 0, ss = 0, wsum = 0;
        /* Cumulative weights of the previous set for the draws. */
        total = 0.0f;
        for (i = 0; i < nprev; ++i) cdf[i] = (total += wprev[i]);
        memset(hused, 0, sizeof hused);
        otc_rng_uniform_f32(&rng, &u, 1);
        m = 0;
        k = 0;
        do {
            /* Low-variance draw: position frac(u + m·φ⁻¹) on the weight wheel (a
             * golden-ratio comb: every prefix spreads evenly over the weights, as
             * table 4.4's comb does, without knowing the final count). */
            float r = (u + (float)fmod((double)m * 0.6180339887498949, 1.0));
            if (r >= 1.0f) r -= 1.0f;
            r *= total;
            for (i = 0, j = nprev; i < j;) { /* first cdf > r */
                size_t mid = (i + j) / 2;
                if (cdf[mid] > r) j = mid;
                else i = mid + 1;
            }
            if (i >= nprev) i = nprev - 1;
            memcpy(pose, x + i * D, sizeof pose);
            move(t, pose, 1, &rng);                      /* sample_motion_model */
            memcpy(y + m * D, pose, sizeof pose);
            lam[m] = loglik_one(t, pose);                 /* measurement_model */
            if (bin_insert(pose)) {
                ++k;
                if (k > 1) {
                    double a = 2.0 / (9.0 * (double)(k - 1));
                    double c = 1.0 - a + sqrt(a) * z;
                    m_chi = (double)(k - 1) / (2.0 * eps) * c * c * c;
                }
            }
            ++m;
        } while ((m < m_chi || m < m_min) && m < CAP);
        /* Weights (shifted by the largest log-likelihood) and the circular mean. */
        {
            float top = lam[0];
            for (i = 1; i < m; ++i) top = lam[i] > top ? lam[i] : top;
            for (i = 0; i < m; ++i) {
                float w = expf(lam[i] - top);
                wprev[i] = w;
                wsum += w;
                sx += w * y[i * D];
                sy += w * y[i * D + 1];
                sc += w * cosf(y[i * D + 2]);
                ss += w * sinf(y[i * D + 2]);
            }
        }
        tick_us[t] = now_us() - t0;
        est[t][0] = (float)(sx / wsum);
        est[t][1] = (float)(sy / wsum);
        est[t][2] = (float)atan2(ss, sc);
        count[t] = (double)m;
        nprev = m;
        tmp = x;
        x = y;
        y = tmp;
    }
    *out = score(est, count);
    return 0;
}

static void print(const char *name, const result *r) {
    char rec[32];
    if (r->recover >= 0) snprintf(rec, sizeof rec, "%d", r->recover);
    else snprintf(rec, sizeof rec, "never");
    printf("%-52s %7.3f %8.3f %8.0f %9.0f %8s\n", name, r->rmse_xy, r->rmse_th, r->mean_n,
           r->median_us, rec);
}

/* The particle count of the last run at a few ticks. */
static void print_counts(const char *label) {
    static const int at[] = {0, 1, 2, 3, 5, 10, 20, 100, 499, 500, 501, 502, 505, 510, 520, 999};
    size_t i;
    printf("%s", label);
    for (i = 0; i < sizeof at / sizeof at[0]; ++i) printf(" %d:%.0f", at[i], count[at[i]]);
    printf("\n");
}

int main(int argc, char **argv) {
    const int quick = argc > 1 && !strcmp(argv[1], "--quick");
    static const size_t fixed[] = {100, 500, 1000, 2000};
    char name[64];
    result r;
    size_t f;
    simulate();
    printf("%d ticks at 10 Hz, 3 landmarks (range + bearing), global start, kidnapped at "
           "tick %d\nRMSE and mean N over ticks %d..%d; recovery: ticks after the kidnapping "
           "to be within 0.5 m / 0.2 rad for 10 ticks\n\n",
           TICKS, KIDNAP, FROM, KIDNAP - 1);
    printf("%-52s %7s %8s %8s %9s %8s\n", "run", "xy (m)", "th (rad)", "mean N", "us/tick",
           "recover");
    /* Systematic against OT at N = 200 (OT costs O(N²) per iteration). */
    if (run_today(0, 200, &r)) return 1;
    print("today: pf_step systematic, N = 200", &r);
    if (!quick) {
        if (run_today(1, 200, &r)) return 1;
        print("today: pf_step OT (eps 0.05), N = 200", &r);
    }
    {
        mcl_setup m = {OTC_RESAMPLE_SYSTEMATIC, 0, 0, 0, 200};
        if (run_mcl(&m, &r)) return 1;
        print("mcl: systematic, N = 200", &r);
    }
    if (!quick) {
        mcl_setup m = {OTC_RESAMPLE_OPTIMAL, 0, 0, 0, 200};
        if (run_mcl(&m, &r)) return 1;
        print("mcl: OT per state description (eps 0.05), N = 200", &r);
        for (f = 0; f < sizeof fixed / sizeof fixed[0]; ++f) {
            mcl_setup q = {OTC_RESAMPLE_SYSTEMATIC, 0, 0, 0, fixed[f]};
            snprintf(name, sizeof name, "mcl: systematic, N = %zu", fixed[f]);
            if (run_mcl(&q, &r)) return 1;
            print(name, &r);
        }
        {
            mcl_setup q = {OTC_RESAMPLE_SYSTEMATIC, 0, 1, 0, 500};
            if (run_mcl(&q, &r)) return 1;
            print("mcl: systematic, N = 500, recovery", &r);
        }
    }
    {
        mcl_setup m = {OTC_RESAMPLE_SYSTEMATIC, 1, 0, 1, CAP};
        if (run_mcl(&m, &r)) return 1;
        print("mcl: KLD 100..5000, largest cluster", &r);
        m.recovery = 1;
        if (run_mcl(&m, &r)) return 1;
        print("mcl: KLD 100..5000, largest cluster, recovery", &r);
        print_counts("  its particle count at tick");
    }
    if (run_textbook(&r)) return 1;
    print("textbook KLD-MCL (table 8.4), 100..5000", &r);
    print_counts("  its particle count at tick");
    return 0;
}
