/* A Sinkhorn-divergence gradient flow with otcore, from C.
 *
 * 256 points start as a small Gaussian blob and flow onto 256 target points on a
 * crescent by gradient descent on the debiased Sinkhorn divergence S_ε (cost
 * ½‖x − y‖², ε = 0.01, GeomLoss's `SamplesLoss("sinkhorn", p=2, blur=0.1)`):
 * x_i ← x_i − τ ∇_{x_i} S_ε / a_i, the Lagrangian step of GeomLoss's gradient-flow
 * tutorial. Each step warm-starts the three Sinkhorn solves from the previous step's
 * potentials. The program prints S_ε per step and, with `--svg FILE`, draws the start
 * (grey), the target (orange) and the end (blue). No heap inside the library.
 *
 * Usage: gradient_flow [--svg FILE] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otcore.h"

enum { N = 256, M = 256, D = 2, STEPS = 60 };

static float x[N * D], start[N * D], y[M * D], a[N], b[M];
static float f_xy[N], g_xy[M], f_xx[N], g_yy[M], gx[N * D], gy[M * D], ga[N], gb[M];
/* OTC_DIVERGENCE_WORKSPACE_SIZE_F32(N, M, D) bytes, aligned to OTC_WORKSPACE_ALIGN. */
static float ws[OTC_DIVERGENCE_WORKSPACE_SIZE_F32(N, M, D) / sizeof(float)]
    __attribute__((aligned(OTC_WORKSPACE_ALIGN)));

/* A reproducible uniform number in [0, 1). */
static float uniform(void) {
    static unsigned long s = 2024;
    s = s * 1103515245ul + 12345ul;
    return (float)((s >> 8) & 0xFFFF) / 65536.0f;
}

static float gauss(void) {
    float u = uniform() + 1e-6f, v = uniform();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

static int fail(const char *what, int32_t status) {
    fprintf(stderr, "%s: %s (status %d)\n", what, otc_status_str(status), (int)status);
    return 1;
}

static void dots(FILE *f, const float *p, size_t n, const char *colour) {
    size_t i;
    for (i = 0; i < n; ++i)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"%s\"/>\n",
                250.0f + 160.0f * p[2 * i], 250.0f - 160.0f * p[2 * i + 1], colour);
}

static int write_svg(const char *path) {
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"520\" "
               "viewBox=\"0 0 500 520\">\n<rect width=\"500\" height=\"520\" fill=\"white\"/>\n");
    dots(f, start, N, "#9e9e9e");
    dots(f, y, M, "#f28e2b");
    dots(f, x, N, "#4e79a7");
    fprintf(f, "<text x=\"10\" y=\"505\" font-family=\"sans-serif\" font-size=\"13\">"
               "Sinkhorn-divergence flow, %d steps: start (grey), target (orange), end (blue)."
               "</text>\n</svg>\n", STEPS);
    return fclose(f) != 0;
}

int main(int argc, char **argv) {
    const char *svg = NULL;
    otc_ot_problem_f32 problem;
    otc_sinkhorn_config_f32 config;
    otc_divergence_result_f32 result;
    size_t bytes, i, k;
    int step;
    int32_t s;
    const float tau = 0.5f;

    if (argc == 3 && strcmp(argv[1], "--svg") == 0) {
        svg = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--svg FILE]\n", argv[0]);
        return 2;
    }
    for (i = 0; i < N; ++i) {
        x[2 * i] = -0.6f + 0.12f * gauss();
        x[2 * i + 1] = 0.4f + 0.12f * gauss();
        a[i] = 1.0f / N;
    }
    memcpy(start, x, sizeof x);
    for (i = 0; i < M; ++i) { /* a crescent: an arc of radius 0.8 with some thickness */
        float t = 3.14159265f * (0.1f + 0.8f * uniform()), r = 0.8f + 0.08f * gauss();
        y[2 * i] = 0.3f + r * cosf(t);
        y[2 * i + 1] = -0.6f + r * sinf(t);
        b[i] = 1.0f / M;
    }
    s = otc_divergence_workspace_size_f32(N, M, D, &bytes);
    if (s != OTC_STATUS_OK) return fail("workspace size", s);
    if (bytes != sizeof ws) return fail("workspace macro", OTC_STATUS_WORKSPACE_TOO_SMALL);

    memset(&problem, 0, sizeof problem);
    problem.struct_size = sizeof problem;
    problem.x = x;
    problem.y = y;
    problem.a = a;
    problem.b = b;
    problem.n = N;
    problem.m = M;
    problem.d = D;
    problem.scale = 0.5f;
    otc_sinkhorn_config_default_f32(&config);
    config.epsilon_mode = OTC_EPSILON_ABSOLUTE;
    config.epsilon = 0.01f;
    config.tolerance = 1e-4f;
    config.max_iterations = 5000;
    result.struct_size = sizeof result;

    for (step = 0; step <= STEPS; ++step) {
        s = otc_divergence_f32(&problem, &config, ws, bytes, f_xy, N, g_xy, M, f_xx, N, g_yy, M,
                               &result);
        if (s < 0) return fail("divergence", s);
        if (step % 5 == 0)
            printf("step %2d  S_eps %.6f  iterations %4u %4u %4u%s\n", step, (double)result.value,
                   result.iterations[0], result.iterations[1], result.iterations[2],
                   s == OTC_STATUS_MAX_ITERATIONS ? "  (budget)" : "");
        if (step == STEPS) break;
        s = otc_divergence_gradient_f32(&problem, &config, result.epsilon, f_xy, N, g_xy, M, f_xx,
                                        N, g_yy, M, ws, bytes, gx, N * D, gy, M * D, ga, N, gb, M);
        if (s < 0) return fail("gradient", s);
        for (i = 0; i < N; ++i)
            for (k = 0; k < D; ++k) x[i * D + k] -= tau * gx[i * D + k] / a[i];
        config.init = OTC_INIT_POTENTIALS; /* warm start from this step's potentials */
    }
    if (svg != NULL && write_svg(svg) != 0) return 1;
    return 0;
}
