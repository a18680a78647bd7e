/* Sinkhorn on the caller's threads: an OpenMP parallel-for handed to otcore.
 *
 * otcore starts no threads. A program that has a pool (here OpenMP's; pthreads, TBB or
 * a ROS executor work the same way) wraps it in an `otc_parallel_for` and sets
 * `config.parallel`: the solver's passes then split their target rows over it. The
 * cut depends only on the problem size and the tasks' sums are combined in a fixed
 * order, so the answer is bit-identical with and without the pool, whatever the
 * number of threads; the program checks that, and prints the time per solve for both.
 *
 * Usage: parallel_sinkhorn [N]   (N = M points per cloud, default 4096; OMP_NUM_THREADS
 * sets the workers) */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "otcore.h"

enum { D = 2, ITERATIONS = 20 };

/* The parallel-for: every task once, any order, any thread; 0 = all ran. */
static int32_t omp_run(void *pool, size_t tasks, otc_parallel_task task, void *task_ctx) {
    (void)pool;
    long i;
#pragma omp parallel for schedule(dynamic)
    for (i = 0; i < (long)tasks; ++i) task(task_ctx, (size_t)i);
    return 0;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const char *what, int32_t status) {
    fprintf(stderr, "%s: %s (status %d)\n", what, otc_status_str(status), (int)status);
    return 1;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 4096, i, bytes = 0;
    float *x = malloc(n * D * sizeof *x), *y = malloc(n * D * sizeof *y);
    float *a = malloc(n * sizeof *a), *f[2], *g[2];
    void *ws;
    int32_t st;
    unsigned long s = 12345;
    double t[2] = {1e30, 1e30};
    otc_sinkhorn_result_f32 res[2];
    otc_parallel_for pool = {sizeof pool, omp_run, NULL};
    if (n < 1 || x == NULL || y == NULL || a == NULL) return 1;
    for (i = 0; i < n * D; ++i) {
        s = s * 1103515245ul + 12345ul;
        x[i] = (float)((s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
        s = s * 1103515245ul + 12345ul;
        y[i] = 0.5f * (float)((s >> 8) & 0xFFFF) / 32768.0f;
    }
    for (i = 0; i < n; ++i) a[i] = 1.0f / (float)n;
    st = otc_sinkhorn_workspace_size_f32(n, n, D, &bytes);
    if (st != OTC_STATUS_OK) return fail("workspace size", st);
    ws = aligned_alloc(OTC_WORKSPACE_ALIGN, (bytes + OTC_WORKSPACE_ALIGN - 1) /
                                                OTC_WORKSPACE_ALIGN * OTC_WORKSPACE_ALIGN);
    for (int k = 0; k < 2; ++k) {
        f[k] = malloc(n * sizeof *f[k]);
        g[k] = malloc(n * sizeof *g[k]);
    }
    {
        otc_ot_problem_f32 p = {0};
        otc_sinkhorn_config_f32 cfg;
        p.struct_size = sizeof p;
        p.x = x, p.y = y, p.a = a, p.b = a, p.n = n, p.m = n, p.d = D, p.scale = 1.0f;
        otc_sinkhorn_config_default_f32(&cfg);
        cfg.max_iterations = ITERATIONS; /* a fixed budget: equal work in both runs */
        cfg.tolerance = 0.0f;
        /* Alternate rounds, keep each run's best time. */
        for (int round = 0; round < 6; ++round) {
            for (int k = 0; k < 2; ++k) {
                double t0;
                cfg.parallel = k == 0 ? NULL : &pool;
                res[k].struct_size = sizeof res[k];
                t0 = now();
                st = otc_sinkhorn_solve_f32(&p, &cfg, ws, bytes, f[k], n, g[k], n, &res[k]);
                if (st < 0) return fail("solve", st);
                if (now() - t0 < t[k]) t[k] = now() - t0;
            }
        }
    }
    printf("n = m = %zu, d = %d, %d iterations, float, %d OpenMP threads\n", n, D, ITERATIONS,
           omp_get_max_threads());
    printf("  calling thread only: %8.2f ms per solve\n", 1e3 * t[0]);
    printf("  OpenMP pool:         %8.2f ms per solve (%.2fx)\n", 1e3 * t[1], t[0] / t[1]);
    printf("  transport cost %.6f, marginal error %.2e\n", (double)res[1].transport_cost,
           (double)res[1].error);
    if (memcmp(f[0], f[1], n * sizeof *f[0]) != 0 || memcmp(g[0], g[1], n * sizeof *g[0]) != 0 ||
        memcmp(&res[0], &res[1], sizeof res[0]) != 0) {
        fprintf(stderr, "the pool changed the result\n");
        return 1;
    }
    printf("  potentials and report bit-identical with and without the pool\n");
    for (int k = 0; k < 2; ++k) {
        free(f[k]);
        free(g[k]);
    }
    free(ws), free(x), free(y), free(a);
    return 0;
}
