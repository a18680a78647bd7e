/* Entropic optimal transport between two point clouds with otcore, from C.
 *
 * 200 source points on a noisy circle are matched to 150 target points on a shifted,
 * stretched ellipse. The program solves the entropic OT problem (ε = 0.05 × mean cost),
 * prints the transport cost, the marginal error and the iteration count, and then the
 * barycentric map T(x_i) = Σ_j P_ij y_j / Σ_j P_ij of a few source points: where the
 * plan sends them. With `--svg FILE` it also draws the two clouds and an arrow from
 * every source point to its barycentric image. No heap inside the library: this
 * program owns every buffer.
 *
 * Usage: sinkhorn_point_clouds [--svg FILE] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otcore.h"

enum { N = 200, M = 150, D = 2 };

static float x[N * D], y[M * D], a[N], b[M], f[N], g[M], map[N * D];

/* A reproducible uniform number in [-1, 1). */
static float noise(void) {
    static unsigned long s = 12345;
    s = s * 1103515245ul + 12345ul;
    return (float)((s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static int fail(const char *what, int32_t status) {
    fprintf(stderr, "%s: %s (status %d)\n", what, otc_status_str(status), (int)status);
    return 1;
}

/* The picture: sources (blue), targets (orange), arrows x_i -> T(x_i) (grey). */
static int write_svg(const char *path, const otc_sinkhorn_result_f32 *r) {
    const float x0 = -1.4f, x1 = 3.8f, y0 = -1.4f, y1 = 1.6f, px = 130.0f; /* px per unit */
    const int w = (int)((x1 - x0) * px), h = (int)((y1 - y0) * px) + 40;
    FILE *f = fopen(path, "w");
    size_t i;
    if (f == NULL) {
        perror(path);
        return 1;
    }
#define SX(v) ((double)(((v) - x0) * px))
#define SY(v) ((double)((y1 - (v)) * px))
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\" font-size=\"13\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<defs><marker id=\"a\" viewBox=\"0 0 6 6\" refX=\"6\" refY=\"3\" "
               "markerWidth=\"5\" markerHeight=\"5\" orient=\"auto\">"
               "<path d=\"M0 0L6 3L0 6z\" fill=\"#888\"/></marker></defs>\n",
            w, h);
    fprintf(f, "<g stroke=\"#888\" stroke-width=\"0.8\" marker-end=\"url(#a)\">\n");
    for (i = 0; i < N; i += 2)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", SX(x[i * D]),
                SY(x[i * D + 1]), SX(map[i * D]), SY(map[i * D + 1]));
    fprintf(f, "</g>\n<g fill=\"#ff7f0e\">\n");
    for (i = 0; i < M; ++i)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", SX(y[i * D]),
                SY(y[i * D + 1]));
    fprintf(f, "</g>\n<g fill=\"#1f77b4\">\n");
    for (i = 0; i < N; ++i)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", SX(x[i * D]),
                SY(x[i * D + 1]));
    fprintf(f, "</g>\n<text x=\"10\" y=\"%d\">%d source points (blue), %d target points "
               "(orange), eps = %.3f (%u iterations).</text>\n<text x=\"10\" y=\"%d\">"
               "Arrows: x_i to its barycentric image T(x_i), every second point.</text>\n</svg>\n",
            h - 26, N, M, (double)r->epsilon, (unsigned)r->iterations, h - 8);
#undef SX
#undef SY
    return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    const char *svg = NULL;
    const float two_pi = 6.2831853f;
    otc_ot_problem_f32 problem = {.struct_size = sizeof problem};
    otc_sinkhorn_config_f32 config;
    otc_sinkhorn_result_f32 result = {0};
    size_t ws_bytes = 0, i;
    void *ws;
    int32_t status;

    if (argc == 3 && strcmp(argv[1], "--svg") == 0) {
        svg = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--svg FILE]\n", argv[0]);
        return 2;
    }
    if (otc_version() != OTC_VERSION_NUMBER) {
        fprintf(stderr, "header and library versions differ\n");
        return 1;
    }
    for (i = 0; i < N; ++i) {
        float t = two_pi * (float)i / N;
        x[i * D] = cosf(t) + 0.05f * noise();
        x[i * D + 1] = sinf(t) + 0.05f * noise();
        a[i] = 1.0f / N;
    }
    for (i = 0; i < M; ++i) {
        float t = two_pi * (float)i / M;
        y[i * D] = 2.0f + 1.5f * cosf(t);
        y[i * D + 1] = 0.5f + 0.75f * sinf(t);
        b[i] = 1.0f / M;
    }

    /* The problem: two point clouds, cost C_ij = ‖x_i − y_j‖² (scale 1). */
    problem.x = x;
    problem.y = y;
    problem.a = a;
    problem.b = b;
    problem.n = N;
    problem.m = M;
    problem.d = D;
    problem.scale = 1.0f;

    /* Default settings: ε = 0.05 × mean cost, hard marginals, tolerance 1e-4. */
    status = otc_sinkhorn_config_default_f32(&config);
    if (status != OTC_STATUS_OK) return fail("config", status);

    /* The caller owns the workspace: O(n + m) floats, no n×m matrix. */
    status = otc_sinkhorn_workspace_size_f32(N, M, D, &ws_bytes);
    if (status != OTC_STATUS_OK) return fail("workspace size", status);
    ws = malloc(ws_bytes); /* malloc's alignment satisfies OTC_WORKSPACE_ALIGN */
    if (ws == NULL) return 1;

    result.struct_size = sizeof result;
    status = otc_sinkhorn_solve_f32(&problem, &config, ws, ws_bytes, f, N, g, M, &result);
    if (status < 0) return fail("solve", status);
    printf("sinkhorn: %s after %u iterations (workspace %zu bytes)\n", otc_status_str(status),
           (unsigned)result.iterations, ws_bytes);
    printf("  epsilon          %.6f (cost units)\n", (double)result.epsilon);
    printf("  transport cost   %.6f\n", (double)result.transport_cost);
    printf("  reg. OT cost     %.6f\n", (double)result.reg_ot_cost);
    printf("  marginal error   %.3e (L1, tolerance %.0e)\n", (double)result.error,
           (double)config.tolerance);

    /* Where the plan sends a few source points. */
    status = otc_plan_barycentric_f32(&problem, result.epsilon, f, N, g, M, ws, ws_bytes, map,
                                      N * D);
    if (status != OTC_STATUS_OK) return fail("barycentric map", status);
    printf("  barycentric map T(x_i):\n");
    for (i = 0; i < N; i += N / 4) {
        printf("    x[%3zu] = (% .3f, % .3f)  ->  (% .3f, % .3f)\n", i, (double)x[i * D],
               (double)x[i * D + 1], (double)map[i * D], (double)map[i * D + 1]);
    }
    free(ws);
    if (svg != NULL) {
        if (write_svg(svg, &result)) return 1;
        printf("wrote %s\n", svg);
    }
    return 0;
}
