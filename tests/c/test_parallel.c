/* otc_sinkhorn_solve, the plan operations (otc_plan_*_parallel) and
 * otc_ot_resample(_warm) on a caller's parallel-for (otc_parallel_for): the same bits as
 * without a pool with 1-4 pthreads workers and with tasks run last-first; a pool that
 * fails, returns before running a task, has a wrong struct_size or a NULL run gets its
 * status with the outputs untouched. */
#include <math.h>
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

/* ---- OT resampling of the N points of x (f64) with the weights a ---- */
typedef struct {
    int32_t status;
    double x_out[N * D];
    double state[(D + 1) * (N + 16) + 2];
    otc_ot_resample_report_f64 rep;
} resample_f64;

static void resample(const otc_parallel_for *pool, int warm, resample_f64 *out) {
    static double logw[N];
    for (int i = 0; i < N; ++i) logw[i] = log(a[i]);
    otc_ot_resample_config_f64 cfg;
    otc_ot_resample_config_default_f64(&cfg);
    cfg.epsilon = 0.2;
    cfg.parallel = pool;
    size_t bytes = 0, state_len = 0;
    otc_ot_resample_workspace_size_f64(N, D, &bytes);
    otc_ot_resample_warm_len(N, D, &state_len);
    CHECK(state_len <= sizeof out->state / sizeof out->state[0]);
    void *w = aligned_alloc(OTC_WORKSPACE_ALIGN, bytes);
    memset(out->x_out, 0x5a, sizeof out->x_out);
    memset(&out->rep, 0x5a, sizeof out->rep);
    out->rep.struct_size = sizeof out->rep;
    if (!warm) memset(out->state, 0, sizeof out->state); /* not used */
    if (warm)
        out->status = otc_ot_resample_warm_f64(&cfg, x, logw, N, D, w, bytes, out->state,
                                               state_len, out->x_out, &out->rep);
    else
        out->status = otc_ot_resample_f64(&cfg, x, logw, N, D, w, bytes, out->x_out, &out->rep);
    free(w);
}

/* Cold and warm resampling: the bits of the pool-less calls whatever the pool; a
 * failing or early pool leaves x_out, the report and the state untouched. */
static void check_resampling(void) {
    static resample_f64 serial, serial_warm, got, untouched;
    resample(NULL, 0, &serial);
    CHECK_STATUS(serial.status, OTC_STATUS_OK);
    resample(NULL, 1, &serial_warm); /* from an empty state */
    CHECK_STATUS(serial_warm.status, OTC_STATUS_OK);
    for (int workers = 1; workers <= 4; ++workers) {
        pool_cfg pc = {workers, 0, -1, -1};
        otc_parallel_for pool = {.struct_size = sizeof pool, .run = threads_run, .pool = &pc};
        resample(&pool, 0, &got);
        CHECK(memcmp(&got, &serial, sizeof got) == 0);
        CHECK(pc.calls > 0);
        memset(got.state, 0, sizeof got.state);
        resample(&pool, 1, &got); /* from an empty state */
        CHECK(memcmp(&got, &serial_warm, sizeof got) == 0);
    }
    otc_parallel_for rev = {.struct_size = sizeof rev, .run = reversed_run, .pool = NULL};
    resample(&rev, 0, &got);
    CHECK(memcmp(&got, &serial, sizeof got) == 0);
    memset(untouched.x_out, 0x5a, sizeof untouched.x_out);
    memset(&untouched.rep, 0x5a, sizeof untouched.rep);
    untouched.rep.struct_size = sizeof untouched.rep;
    for (int call = 0; call < 3; call += 2) {
        for (int warm = 0; warm <= 1; ++warm) {
            pool_cfg fail = {2, 0, call, -1}, skip = {2, 0, -1, call};
            otc_parallel_for pf = {.struct_size = sizeof pf, .run = threads_run, .pool = &fail};
            otc_parallel_for ps = {.struct_size = sizeof ps, .run = threads_run, .pool = &skip};
            /* warm: from the state of the serial warm call */
            memcpy(got.state, serial_warm.state, sizeof got.state);
            resample(&pf, warm, &got);
            CHECK_STATUS(got.status, OTC_STATUS_CALLBACK_FAILED);
            CHECK(memcmp(got.x_out, untouched.x_out, sizeof got.x_out) == 0);
            CHECK(memcmp(&got.rep, &untouched.rep, sizeof got.rep) == 0);
            CHECK(!warm || memcmp(got.state, serial_warm.state, sizeof got.state) == 0);
            memcpy(got.state, serial_warm.state, sizeof got.state);
            resample(&ps, warm, &got);
            CHECK_STATUS(got.status, OTC_STATUS_CALLBACK_FAILED);
            CHECK(memcmp(got.x_out, untouched.x_out, sizeof got.x_out) == 0);
            CHECK(!warm || memcmp(got.state, serial_warm.state, sizeof got.state) == 0);
        }
    }
}

/* ---- the plan operations at the f64 solution: P·v, Pᵀ·u, the barycentric map, ⟨C, P⟩ ---- */
typedef struct {
    int32_t status[4];
    double pv[N], ptu[M], bary[N * D], cost;
} plan_f64;

/* Operation k (0: P·v, 1: Pᵀ·u, 2: barycentric, 3: ⟨C, P⟩) of the plan of `sol` on `pool`. */
static void plan_op(int k, const otc_parallel_for *pool, const run_f64 *sol, plan_f64 *out) {
    static double v[M], u[N];
    for (int j = 0; j < M; ++j) v[j] = y[j * D] - 0.5 * y[j * D + 1];
    for (int i = 0; i < N; ++i) u[i] = x[i * D + 1];
    otc_ot_problem_f64 p = {.struct_size = sizeof p, .x = x, .y = y, .a = a, .b = b,
                            .n = N, .m = M, .d = D, .scale = 1.0};
    double eps = sol->res.epsilon;
    size_t bytes = 0;
    otc_sinkhorn_workspace_size_f64(N, M, D, &bytes);
    const double *f = sol->f, *g = sol->g;
    switch (k) {
    case 0:
        out->status[0] =
            otc_plan_apply_parallel_f64(&p, eps, f, N, g, M, v, M, ws, bytes, out->pv, N, pool);
        break;
    case 1:
        out->status[1] = otc_plan_apply_transpose_parallel_f64(&p, eps, f, N, g, M, u, N, ws,
                                                               bytes, out->ptu, M, pool);
        break;
    case 2:
        out->status[2] = otc_plan_barycentric_parallel_f64(&p, eps, f, N, g, M, ws, bytes,
                                                           out->bary, N * D, pool);
        break;
    default:
        out->status[3] =
            otc_plan_transport_cost_parallel_f64(&p, eps, f, N, g, M, ws, bytes, &out->cost, pool);
    }
}

static void plan_ops(const otc_parallel_for *pool, const run_f64 *sol, plan_f64 *out) {
    memset(out, 0x5a, sizeof *out);
    for (int k = 0; k < 4; ++k) plan_op(k, pool, sol, out);
}

/* The plan operations on a pool give the bits of the calls without one (the plain
 * functions are the _parallel ones with NULL); a pool that fails or skips a task leaves
 * the output untouched; f32 through the same code (P·v). */
static void check_plan(const run_f64 *sol, const run_f32 *sol32) {
    static plan_f64 serial, got, untouched;
    plan_ops(NULL, sol, &serial);
    for (int k = 0; k < 4; ++k) CHECK_STATUS(serial.status[k], OTC_STATUS_OK);
    otc_ot_problem_f64 p = {.struct_size = sizeof p, .x = x, .y = y, .a = a, .b = b,
                            .n = N, .m = M, .d = D, .scale = 1.0};
    size_t bytes = 0;
    otc_sinkhorn_workspace_size_f64(N, M, D, &bytes);
    double cost = 0;
    CHECK_STATUS(otc_plan_transport_cost_f64(&p, sol->res.epsilon, sol->f, N, sol->g, M, ws,
                                             bytes, &cost),
                 OTC_STATUS_OK);
    CHECK(memcmp(&cost, &serial.cost, sizeof cost) == 0);
    for (int workers = 1; workers <= 4; ++workers) {
        pool_cfg pc = {workers, 0, -1, -1};
        otc_parallel_for pool = {.struct_size = sizeof pool, .run = threads_run, .pool = &pc};
        plan_ops(&pool, sol, &got);
        CHECK(memcmp(&got, &serial, sizeof got) == 0);
        CHECK(pc.calls >= 4); /* every operation used the pool */
    }
    otc_parallel_for rev = {.struct_size = sizeof rev, .run = reversed_run, .pool = NULL};
    plan_ops(&rev, sol, &got);
    CHECK(memcmp(&got, &serial, sizeof got) == 0);
    memset(&untouched, 0x5a, sizeof untouched);
    for (int k = 0; k < 4; ++k) {
        pool_cfg fail = {2, 0, 0, -1}, skip = {2, 0, -1, 0};
        otc_parallel_for pf = {.struct_size = sizeof pf, .run = threads_run, .pool = &fail};
        otc_parallel_for ps = {.struct_size = sizeof ps, .run = threads_run, .pool = &skip};
        for (int s = 0; s < 2; ++s) {
            memset(&got, 0x5a, sizeof got);
            plan_op(k, s ? &ps : &pf, sol, &got);
            CHECK_STATUS(got.status[k], OTC_STATUS_CALLBACK_FAILED);
            got.status[k] = untouched.status[k];
            CHECK(memcmp(&got, &untouched, sizeof got) == 0);
        }
    }
    pool_cfg never = {2, 0, -1, -1};
    otc_parallel_for bad_size = {.struct_size = 0, .run = threads_run, .pool = &never};
    otc_parallel_for no_run = {.struct_size = sizeof no_run, .run = NULL, .pool = &never};
    plan_ops(&bad_size, sol, &got);
    for (int k = 0; k < 4; ++k) CHECK_STATUS(got.status[k], OTC_STATUS_STRUCT_SIZE);
    plan_ops(&no_run, sol, &got);
    for (int k = 0; k < 4; ++k) CHECK_STATUS(got.status[k], OTC_STATUS_NULL_POINTER);
    CHECK(never.calls == 0);
    for (int k = 0; k < 4; ++k) got.status[k] = untouched.status[k];
    CHECK(memcmp(&got, &untouched, sizeof got) == 0);

    /* f32: P·v on a pool, the bits of the plain call. */
    otc_ot_problem_f32 p32 = {.struct_size = sizeof p32, .x = xf, .y = yf, .a = af, .b = bf,
                              .n = N, .m = M, .d = D, .scale = 1.0f};
    static float v32[M], plain[N], pooled[N];
    for (int j = 0; j < M; ++j) v32[j] = (float)(y[j * D] - 0.5 * y[j * D + 1]);
    otc_sinkhorn_workspace_size_f32(N, M, D, &bytes);
    float eps32 = sol32->res.epsilon;
    CHECK_STATUS(otc_plan_apply_f32(&p32, eps32, sol32->f, N, sol32->g, M, v32, M, ws, bytes,
                                    plain, N),
                 OTC_STATUS_OK);
    pool_cfg pc = {3, 0, -1, -1};
    otc_parallel_for pool = {.struct_size = sizeof pool, .run = threads_run, .pool = &pc};
    CHECK_STATUS(otc_plan_apply_parallel_f32(&p32, eps32, sol32->f, N, sol32->g, M, v32, M, ws,
                                             bytes, pooled, N, &pool),
                 OTC_STATUS_OK);
    CHECK(pc.calls > 0);
    CHECK(memcmp(plain, pooled, sizeof plain) == 0);
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

    check_plan(&serial, &serial32);
    check_resampling();
    free(ws);
    return check_report("test_parallel");
}
