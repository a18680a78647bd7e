/* Sampling a 2-D mixture of 8 Gaussians on a ring through a score callback, with
 * several otcore samplers.
 *
 * The "model" is the exact score of the mixture under the VP process (in a real
 * application, a small network): the callback below calls otc_sde_mixture_score_f32 on
 * the whole batch. Each sampler starts from the same prior draws and prints the number
 * of score evaluations and a sample-quality figure: the sliced 1-Wasserstein distance
 * (32 directions) between its samples and as many exact draws of the mixture, next to
 * the same distance between two independent sets of exact draws (the Monte Carlo
 * floor). With `--svg FILE` it also writes a scatter plot of every sampler's samples
 * over the mixture's components.
 *
 *   diffusion_gmm [--svg ring.svg]
 *
 * No heap inside the library: this program owns every buffer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otcore.h"

enum { N = 4000, D = 2, K = 8, DIRS = 32, MAX_GRID = 1001, SAMPLERS = 6 };

static const float RADIUS = 2.0f, STD = 0.1f;

typedef struct {
    otc_sde_process process;
    float weights[K], means[K * D], variances[K];
    unsigned long calls;
} ring_model;

/* The score callback: the whole batch in one call. */
static int32_t ring_score(void *user, size_t n, size_t d, const float *x, const float *t,
                          float *out) {
    ring_model *m = (ring_model *)user;
    m->calls += 1;
    return otc_sde_mixture_score_f32(&m->process, K, d, m->weights, m->means, m->variances,
                                     OTC_SDE_COVARIANCE_ISOTROPIC, n, x, t, out);
}

static float prior[N * D], x[SAMPLERS][N * D], exact_a[N * D], exact_b[N * D];
static float grid[MAX_GRID];
static double proj_a[N], proj_b[N];
static double ws[6 * N * D + 3 * N + 3 * D]; /* bytes = otc_sde_workspace_size_f32(N, D) */

static int fail(const char *what, int32_t status) {
    fprintf(stderr, "%s: %s (status %d)\n", what, otc_status_str(status), (int)status);
    return 1;
}

static int cmp_double(const void *a, const void *b) {
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

/* Sliced 1-Wasserstein distance between two sets of N points. */
static double sliced_w1(const float *p, const float *q) {
    double total = 0.0;
    int l;
    size_t i;
    for (l = 0; l < DIRS; ++l) {
        double th = 3.14159265358979 * l / DIRS, c = cos(th), s = sin(th), sum = 0.0;
        for (i = 0; i < N; ++i) {
            proj_a[i] = c * p[i * D] + s * p[i * D + 1];
            proj_b[i] = c * q[i * D] + s * q[i * D + 1];
        }
        qsort(proj_a, N, sizeof(double), cmp_double);
        qsort(proj_b, N, sizeof(double), cmp_double);
        for (i = 0; i < N; ++i) sum += fabs(proj_a[i] - proj_b[i]);
        total += sum / N;
    }
    return total / DIRS;
}

/* N exact draws of the mixture: a uniformly random component (xorshift64*), plus
 * standard normals from the library's counter-based prior stream of the VP process,
 * which is N(0, I). */
static int exact_draws(const ring_model *m, uint64_t seed, float *out) {
    size_t i;
    uint64_t r = seed * 0x9E3779B97F4A7C15u + 1u;
    int32_t s = otc_sde_prior_sample_f32(&m->process, seed, 0, N, D, out);
    if (s != OTC_STATUS_OK) return fail("prior", s);
    for (i = 0; i < N; ++i) {
        size_t k;
        r ^= r >> 12;
        r ^= r << 25;
        r ^= r >> 27;
        k = (size_t)(((r * 0x2545F4914F6CDD1Du) >> 32) % K);
        out[i * D] = m->means[k * D] + STD * out[i * D];
        out[i * D + 1] = m->means[k * D + 1] + STD * out[i * D + 1];
    }
    return 0;
}

static void write_svg(const char *path, const ring_model *m, const char *const names[]) {
    FILE *f = fopen(path, "w");
    const int panel = 260;
    int s, k;
    size_t i;
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        return;
    }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n", panel * 3, panel * 2);
    for (s = 0; s < SAMPLERS; ++s) {
        int ox = (s % 3) * panel, oy = (s / 3) * panel;
        fprintf(f, "<g transform=\"translate(%d,%d)\"><rect width=\"%d\" height=\"%d\" "
                   "fill=\"white\" stroke=\"#ccc\"/>\n", ox, oy, panel, panel);
        for (k = 0; k < K; ++k)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"none\" stroke=\"#e33\"/>\n",
                    panel / 2 + 50.0 * m->means[k * D], panel / 2 - 50.0 * m->means[k * D + 1],
                    2.0 * 50.0 * STD);
        for (i = 0; i < N; i += 4) {
            double px = panel / 2 + 50.0 * x[s][i * D], py = panel / 2 - 50.0 * x[s][i * D + 1];
            if (px >= 0 && px <= panel && py >= 0 && py <= panel)
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1\" fill=\"#225\" fill-opacity=\"0.5\"/>\n", px, py);
        }
        fprintf(f, "<text x=\"6\" y=\"14\">%s</text></g>\n", names[s]);
    }
    fprintf(f, "</svg>\n");
    fclose(f);
    printf("wrote %s\n", path);
}

int main(int argc, char **argv) {
    static const char *const names[SAMPLERS] = {
        "Euler-Maruyama, 1000 steps", "PC (reverse diffusion + annealed Langevin), 500 steps",
        "DPM-Solver++(2M), 20 steps", "Heun (EDM), 18 steps", "adaptive (GG + Brownian memory)",
        "adaptive (GG as published)"};
    ring_model m;
    otc_sde_coefs coefs;
    otc_sde_sampler_config cfg;
    otc_sde_adaptive_config acfg;
    otc_sde_adaptive_stats stats;
    unsigned long evals[SAMPLERS];
    uint64_t e = 0;
    size_t ws_bytes = 0, k;
    int32_t s;
    int i;
    const char *svg = NULL;

    for (i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--svg") == 0 && i + 1 < argc) svg = argv[++i];
    }
    if (otc_version() != OTC_VERSION_NUMBER) {
        fprintf(stderr, "header and library versions differ\n");
        return 1;
    }
    memset(&m, 0, sizeof m);
    if ((s = otc_sde_process_default(OTC_SDE_VP, &m.process)) != OTC_STATUS_OK) return fail("process", s);
    for (k = 0; k < K; ++k) {
        double th = 6.283185307179586 * k / K;
        m.weights[k] = 1.0f / K;
        m.means[k * D] = RADIUS * (float)cos(th);
        m.means[k * D + 1] = RADIUS * (float)sin(th);
        m.variances[k] = STD * STD;
    }
    if ((s = otc_sde_workspace_size_f32(N, D, &ws_bytes)) != OTC_STATUS_OK) return fail("workspace", s);
    if (ws_bytes > sizeof ws) return fail("workspace", OTC_STATUS_WORKSPACE_TOO_SMALL);
    coefs.struct_size = sizeof coefs;
    if ((s = otc_sde_process_coefs(&m.process, 1.0, &coefs)) != OTC_STATUS_OK) return fail("coefs", s);
    if ((s = otc_sde_prior_sample_f32(&m.process, 2024, 0, N, D, prior)) != OTC_STATUS_OK) return fail("prior", s);

    for (i = 0; i < SAMPLERS; ++i) {
        memcpy(x[i], prior, sizeof prior);
        m.calls = 0;
        if (i < 4) {
            static const int methods[4] = {OTC_SDE_EULER_MARUYAMA, OTC_SDE_REVERSE_DIFFUSION,
                                           OTC_SDE_DPM_SOLVER_PP_2M, OTC_SDE_HEUN};
            size_t len;
            otc_sde_sampler_config_default(methods[i], &cfg);
            cfg.denoise = true;
            if (i == 0) {
                len = 1001;
                s = otc_sde_grid_f32(&m.process, OTC_SDE_GRID_UNIFORM_TIME, 0.0, 1.0, coefs.t_eps, grid, len);
            } else if (i == 1) {
                len = 501;
                cfg.corrector_steps = 1;
                cfg.corrector = OTC_SDE_CORRECTOR_ANNEALED;
                s = otc_sde_grid_f32(&m.process, OTC_SDE_GRID_UNIFORM_TIME, 0.0, 1.0, coefs.t_eps, grid, len);
            } else if (i == 2) {
                len = 21;
                s = otc_sde_grid_f32(&m.process, OTC_SDE_GRID_UNIFORM_LOG_SNR, 0.0, 1.0, coefs.t_eps, grid, len);
            } else {
                /* EDM: 18 Karras points from T to t_eps, then t = 0 (35 evaluations). */
                len = 19;
                s = otc_sde_grid_f32(&m.process, OTC_SDE_GRID_KARRAS, 7.0, 1.0, coefs.t_eps, grid, 18);
                grid[18] = 0.0f;
            }
            if (s != OTC_STATUS_OK) return fail("grid", s);
            s = otc_sde_sample_f32(&m.process, &cfg, ring_score, &m, OTC_SDE_OUTPUT_SCORE, grid, len,
                                   x[i], N, D, 7, 0, ws, sizeof ws, &e);
            if (s != OTC_STATUS_OK) return fail(names[i], s);
        } else {
            otc_sde_adaptive_config_default(&m.process, &acfg);
            acfg.memory = (i == 4);
            acfg.denoise = true;
            stats.struct_size = sizeof stats;
            s = otc_sde_adaptive_f32(&m.process, &acfg, ring_score, &m, OTC_SDE_OUTPUT_SCORE, x[i], N, D, 7,
                                     0, ws, sizeof ws, &stats);
            if (s != OTC_STATUS_OK) return fail(names[i], s);
            e = stats.evaluations;
        }
        evals[i] = m.calls;
        if (evals[i] != (unsigned long)e) {
            fprintf(stderr, "%s: the library counted %lu evaluations, the callback %lu\n", names[i],
                    (unsigned long)e, evals[i]);
            return 1;
        }
    }
    if (exact_draws(&m, 11, exact_a) || exact_draws(&m, 12, exact_b)) return 1;
    printf("ring of %d Gaussians (radius %.1f, std %.2f), %d samples, VP process\n", K, RADIUS, STD, N);
    printf("Monte Carlo floor (exact vs exact draws): sliced W1 = %.4f\n", sliced_w1(exact_a, exact_b));
    printf("%-55s %12s %10s\n", "sampler", "evaluations", "sliced W1");
    for (i = 0; i < SAMPLERS; ++i) printf("%-55s %12lu %10.4f\n", names[i], evals[i], sliced_w1(x[i], exact_a));
    if (svg) write_svg(svg, &m, names);
    return 0;
}
