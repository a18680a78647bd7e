/* otc_sinkhorn_solve on a caller's parallel-for (otc_parallel_for): the same bits as
 * without a pool with 1-4 pthreads workers and with tasks run last-first; a pool that
 * fails, returns before running a task, has a wrong struct_size or a NULL run gets its
 * status with f, g and the result untouched. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "otcore.h"

enum { N = 1100, M = 700, D = 2 };

/* ---- a pthreads pool: workers take task indices from a shared counter ---- */
typedef struct {
    otc_parallel_task task;
    void *task_ctx;
    size_t tasks;
    atomic_size_t next;
} job;

static void *worker(void *arg) {
    job *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->tasks) return NULL;
        j->task(j->task_ctx, i);
    }
}

typedef struct {
    int workers;
    int calls;
    int fail_on; /* -1: never */
    int skip_on; /* -1: never; else leave the last task out on this call */
} pool_cfg;

static int32_t threads_run(void *pool, size_t tasks, otc_parallel_task task, void *task_ctx) {
    pool_cfg *p = pool;
    int call = p->calls++;
    job j = {task, task_ctx, tasks, 0};
    if (call == p->skip_on) j.tasks = tasks - 1;
    pthread_t t[8];
    for (int k = 1; k < p->workers; ++k) pthread_create(&t[k], NULL, worker, &j);
    worker(&j);
    for (int k = 1; k < p->workers; ++k) pthread_join(t[k], NULL);
    return call == p->fail_on ? 1 : 0;
}

static int32_t reversed_run(void *pool, size_t tasks, otc_parallel_task task, void *task_ctx) {
    (void)pool;
    for (size_t i = tasks; i-- > 0;) task(task_ctx, i);
    return 0;
}

/* ---- the problem: 1100 × 700 points (5 and 3 tasks), uneven weights ---- */
static double x[N * D], y[M * D], a[N], b[M];

static void make_problem(void) {
    double sa = 0, sb = 0;
    for (int i = 0; i < N * D; ++i) x[i] = 2.0 * uniform() - 1.0;
    for (int j = 0; j < M * D; ++j) y[j] = 1.5 * uniform() - 0.25;
    for (int i = 0; i < N; ++i) sa += a[i] = 0.1 + uniform();
    for (int j = 0; j < M; ++j) sb += b[j] = 0.1 + uniform();
    for (int i = 0; i < N; ++i) a[i] /= sa;
    for (int j = 0; j < M; ++j) b[j] /= sb;
}

typedef struct {
    int32_t status;
    double f[N], g[M];
    otc_sinkhorn_result_f64 res;
} run_f64;

typedef struct {
    int32_t status;
    float f[N], g[M];
    otc_sinkhorn_result_f32 res;
} run_f32;

static void *ws;
static float xf[N * D], yf[M * D], af[N], bf[M];

static void solve_f64(const otc_parallel_for *pool, run_f64 *out) {
    otc_ot_problem_f64 p = {.struct_size = sizeof p, .x = x, .y = y, .a = a, .b = b,
                            .n = N, .m = M, .d = D, .scale = 1.0};
    otc_sinkhorn_config_f64 cfg;
    otc_sinkhorn_config_default_f64(&cfg);
    cfg.max_iterations = 200;
    cfg.parallel = pool;
    size_t bytes = 0;
    otc_sinkhorn_workspace_size_f64(N, M, D, &bytes);
    memset(out, 0x5a, sizeof *out);
    out->res.struct_size = sizeof out->res;
    out->status = otc_sinkhorn_solve_f64(&p, &cfg, ws, bytes, out->f, N, out->g, M, &out->res);
}

static void solve_f32(const otc_parallel_for *pool, run_f32 *out) {
    otc_ot_problem_f32 p = {.struct_size = sizeof p, .x = xf, .y = yf, .a = af, .b = bf,
                            .n = N, .m = M, .d = D, .scale = 1.0f};
    otc_sinkhorn_config_f32 cfg;
    otc_sinkhorn_config_default_f32(&cfg);
    cfg.max_iterations = 200;
    cfg.rho_a = 0.5f; /* a relaxed side through the same passes */
    cfg.parallel = pool;
    size_t bytes = 0;
    otc_sinkhorn_workspace_size_f32(N, M, D, &bytes);
    memset(out, 0x5a, sizeof *out);
    out->res.struct_size = sizeof out->res;
    out->status = otc_sinkhorn_solve_f32(&p, &cfg, ws, bytes, out->f, N, out->g, M, &out->res);
}

int main(void) {
    make_problem();
    for (int i = 0; i < N * D; ++i) xf[i] = (float)x[i];
    for (int j = 0; j < M * D; ++j) yf[j] = (float)y[j];
    for (int i = 0; i < N; ++i) af[i] = (float)a[i];
    for (int j = 0; j < M; ++j) bf[j] = (float)b[j];
    size_t bytes = 0;
    otc_sinkhorn_workspace_size_f64(N, M, D, &bytes);
    ws = aligned_alloc(OTC_WORKSPACE_ALIGN, bytes);
    static run_f64 serial, got;
    static run_f32 serial32, got32;
    solve_f64(NULL, &serial);
    solve_f32(NULL, &serial32);
    CHECK(serial.status >= 0 && serial.res.iterations > 1);
    CHECK(serial32.status >= 0 && serial32.res.iterations > 1);

    /* Same bits with 1-4 workers and last-first order. */
    for (int workers = 1; workers <= 4; ++workers) {
        pool_cfg pc = {workers, 0, -1, -1};
        otc_parallel_for pool = {.struct_size = sizeof pool, .run = threads_run, .pool = &pc};
        solve_f64(&pool, &got);
        CHECK(memcmp(&got, &serial, sizeof got) == 0);
        CHECK(pc.calls > 0); /* the pool was used */
        solve_f32(&pool, &got32);
        CHECK(memcmp(&got32, &serial32, sizeof got32) == 0);
    }
    otc_parallel_for rev = {.struct_size = sizeof rev, .run = reversed_run, .pool = NULL};
    solve_f64(&rev, &got);
    CHECK(memcmp(&got, &serial, sizeof got) == 0);

    /* A pool that fails or skips a task, at the first pass and later: nothing written. */
    static run_f64 untouched;
    memset(&untouched, 0x5a, sizeof untouched);
    untouched.res.struct_size = sizeof untouched.res;
    for (int call = 0; call < 3; call += 2) {
        pool_cfg fail = {2, 0, call, -1}, skip = {2, 0, -1, call};
        otc_parallel_for pf = {.struct_size = sizeof pf, .run = threads_run, .pool = &fail};
        otc_parallel_for ps = {.struct_size = sizeof ps, .run = threads_run, .pool = &skip};
        solve_f64(&pf, &got);
        CHECK_STATUS(got.status, OTC_STATUS_CALLBACK_FAILED);
        CHECK(memcmp(got.f, untouched.f, sizeof got.f) == 0);
        CHECK(memcmp(&got.res, &untouched.res, sizeof got.res) == 0);
        solve_f64(&ps, &got);
        CHECK_STATUS(got.status, OTC_STATUS_CALLBACK_FAILED);
        CHECK(memcmp(got.g, untouched.g, sizeof got.g) == 0);
    }
    /* A malformed pool: refused before any work. */
    pool_cfg never = {2, 0, -1, -1};
    otc_parallel_for bad_size = {.struct_size = 0, .run = threads_run, .pool = &never};
    otc_parallel_for no_run = {.struct_size = sizeof no_run, .run = NULL, .pool = &never};
    solve_f64(&bad_size, &got);
    CHECK_STATUS(got.status, OTC_STATUS_STRUCT_SIZE);
    solve_f64(&no_run, &got);
    CHECK_STATUS(got.status, OTC_STATUS_NULL_POINTER);
    CHECK(never.calls == 0);
    CHECK(memcmp(got.f, untouched.f, sizeof got.f) == 0);

    free(ws);
    return check_report("test_parallel");
}
