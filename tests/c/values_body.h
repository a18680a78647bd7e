/* Every exported function on real data, for one precision (REAL, SUF): sanity checks
 * here, and a dump of every input and output as raw bits, which
 * ffi/tests/c_bit_exact.rs recomputes with the Rust API and compares bit for bit.
 * Included by test_values.c once per precision. */
#include "generic.h"

typedef TYPE(ot_problem) LOCAL(problem);
typedef TYPE(sinkhorn_config) LOCAL(config);
typedef TYPE(sinkhorn_result) LOCAL(result);

/* `key len bits...`: an array as raw IEEE bits in hex. */
static void LOCAL(dump_array)(FILE *out, const char *key, const REAL *v, size_t len) {
    size_t i;
    fprintf(out, "%s %zu", key, len);
    for (i = 0; i < len; ++i) {
        if (sizeof(REAL) == 4) {
            uint32_t bits;
            memcpy(&bits, &v[i], sizeof bits);
            fprintf(out, " %08" PRIx32, bits);
        } else {
            uint64_t bits;
            memcpy(&bits, &v[i], sizeof bits);
            fprintf(out, " %016" PRIx64, bits);
        }
    }
    fprintf(out, "\n");
}

static void LOCAL(dump_scalar)(FILE *out, const char *key, REAL v) {
    LOCAL(dump_array)(out, key, &v, 1);
}

static void LOCAL(dump_problem)(FILE *out, const LOCAL(problem) *p) {
    fprintf(out, "n %zu\nm %zu\nd %zu\n", p->n, p->m, p->d);
    LOCAL(dump_scalar)(out, "scale", p->scale);
    if (p->c != NULL) {
        LOCAL(dump_array)(out, "c", p->c, p->n * p->m);
    } else {
        LOCAL(dump_array)(out, "x", p->x, p->n * p->d);
        LOCAL(dump_array)(out, "y", p->y, p->m * p->d);
    }
    LOCAL(dump_array)(out, "a", p->a, p->n);
    LOCAL(dump_array)(out, "b", p->b, p->m);
}

static void LOCAL(dump_config)(FILE *out, const LOCAL(config) *cfg) {
    fprintf(out, "epsilon_mode %d\ninit %d\nmax_iterations %u\n", (int)cfg->epsilon_mode,
            (int)cfg->init, (unsigned)cfg->max_iterations);
    LOCAL(dump_scalar)(out, "config_epsilon", cfg->epsilon);
    LOCAL(dump_scalar)(out, "rho_a", cfg->rho_a);
    LOCAL(dump_scalar)(out, "rho_b", cfg->rho_b);
    LOCAL(dump_scalar)(out, "tolerance", cfg->tolerance);
    LOCAL(dump_scalar)(out, "epsilon_scaling", cfg->epsilon_scaling);
}

/* Solves from the given start (f, g are read for warm starts), dumps everything,
 * returns the status. */
static int32_t LOCAL(solve_and_dump)(FILE *out, const LOCAL(problem) *p, const LOCAL(config) *cfg,
                                     void *ws, size_t ws_bytes, REAL *f, REAL *g,
                                     LOCAL(result) *res) {
    int32_t status;
    fprintf(out, "record solve %s\n", sizeof(REAL) == 4 ? "f32" : "f64");
    LOCAL(dump_problem)(out, p);
    LOCAL(dump_config)(out, cfg);
    LOCAL(dump_array)(out, "f_in", f, p->n);
    LOCAL(dump_array)(out, "g_in", g, p->m);
    res->struct_size = sizeof *res;
    status = FN(sinkhorn_solve)(p, cfg, ws, ws_bytes, f, p->n, g, p->m, res);
    fprintf(out, "status %d\n", (int)status);
    if (status >= 0) {
        CHECK(res->status == status);
        LOCAL(dump_array)(out, "f", f, p->n);
        LOCAL(dump_array)(out, "g", g, p->m);
        fprintf(out, "iterations %u\n", (unsigned)res->iterations);
        LOCAL(dump_scalar)(out, "error", res->error);
        LOCAL(dump_scalar)(out, "epsilon", res->epsilon);
        LOCAL(dump_scalar)(out, "reg_ot_cost", res->reg_ot_cost);
        LOCAL(dump_scalar)(out, "transport_cost", res->transport_cost);
        LOCAL(dump_scalar)(out, "plan_mass", res->plan_mass);
    }
    fprintf(out, "end\n");
    return status;
}

/* Runs every plan operation on the plan (p, eps, f, g) and dumps it; checks the
 * outputs against each other where the math says they must agree. */
static void LOCAL(plan_ops)(FILE *out, const LOCAL(problem) *p, REAL eps, const REAL *f,
                            const REAL *g, void *ws, size_t ws_bytes) {
    const char *prec = sizeof(REAL) == 4 ? "f32" : "f64";
    size_t n = p->n, m = p->m, i, j;
    REAL *u = malloc(n * sizeof *u), *v = malloc(m * sizeof *v);
    REAL *pv = malloc(n * sizeof *pv), *ptu = malloc(m * sizeof *ptu);
    REAL *dense = malloc(n * m * sizeof *dense);
    REAL *bary = malloc(n * (p->d ? p->d : 1) * sizeof *bary);
    REAL cost = 0;
    double max_gap = 0;
    for (i = 0; i < n; ++i) u[i] = (REAL)uniform();
    for (j = 0; j < m; ++j) v[j] = (REAL)(uniform() - 0.5);

#define PLAN_HEAD(op)                                                          \
    fprintf(out, "record %s %s\n", op, prec);                                  \
    LOCAL(dump_problem)(out, p);                                               \
    LOCAL(dump_scalar)(out, "epsilon", eps);                                   \
    LOCAL(dump_array)(out, "f", f, n);                                         \
    LOCAL(dump_array)(out, "g", g, m)

    PLAN_HEAD("apply");
    LOCAL(dump_array)(out, "vec", v, m);
    CHECK_STATUS(FN(plan_apply)(p, eps, f, n, g, m, v, m, ws, ws_bytes, pv, n), OTC_STATUS_OK);
    LOCAL(dump_array)(out, "out", pv, n);
    fprintf(out, "end\n");

    PLAN_HEAD("apply_transpose");
    LOCAL(dump_array)(out, "vec", u, n);
    CHECK_STATUS(FN(plan_apply_transpose)(p, eps, f, n, g, m, u, n, ws, ws_bytes, ptu, m),
                 OTC_STATUS_OK);
    LOCAL(dump_array)(out, "out", ptu, m);
    fprintf(out, "end\n");

    PLAN_HEAD("transport_cost");
    CHECK_STATUS(FN(plan_transport_cost)(p, eps, f, n, g, m, ws, ws_bytes, &cost), OTC_STATUS_OK);
    LOCAL(dump_array)(out, "out", &cost, 1);
    fprintf(out, "end\n");
    CHECK(cost > 0);

    PLAN_HEAD("dense");
    CHECK_STATUS(FN(plan_dense)(p, eps, f, n, g, m, ws, ws_bytes, dense, n * m), OTC_STATUS_OK);
    LOCAL(dump_array)(out, "out", dense, n * m);
    fprintf(out, "end\n");
    /* The streamed P·v agrees with the dense plan times v (to rounding). */
    for (i = 0; i < n; ++i) {
        double s = 0;
        for (j = 0; j < m; ++j) s += (double)dense[i * m + j] * (double)v[j];
        if (fabs(s - (double)pv[i]) > max_gap) max_gap = fabs(s - (double)pv[i]);
    }
    CHECK(max_gap < (sizeof(REAL) == 4 ? 1e-5 : 1e-12));

    if (p->c == NULL) {
        PLAN_HEAD("barycentric");
        CHECK_STATUS(FN(plan_barycentric)(p, eps, f, n, g, m, ws, ws_bytes, bary, n * p->d),
                     OTC_STATUS_OK);
        LOCAL(dump_array)(out, "out", bary, n * p->d);
        fprintf(out, "end\n");
    }
#undef PLAN_HEAD
    free(u);
    free(v);
    free(pv);
    free(ptu);
    free(dense);
    free(bary);
}

static void LOCAL(normalise)(REAL *w, size_t len) {
    double s = 0;
    size_t i;
    for (i = 0; i < len; ++i) s += (double)w[i];
    for (i = 0; i < len; ++i) w[i] = (REAL)((double)w[i] / s);
}

static void LOCAL(run_values)(FILE *out) {
    enum { N = 23, M = 17, D = 2, ND = 9, MD = 12 };
    REAL x[N * D], y[M * D], y2[M * D], a[N], b[M], c[ND * MD], ad[ND], bd[MD];
    REAL f[N], g[M], f0[N], g0[M], fd[ND], gd[MD];
    size_t ws_bytes, i, sizes[4][3] = {{1, 1, 1}, {23, 17, 2}, {100, 3, 0}, {16, 33, 7}};
    void *ws;
    LOCAL(problem) clouds, dense;
    LOCAL(config) cfg;
    LOCAL(result) res, res2;

    for (i = 0; i < N * D; ++i) x[i] = (REAL)uniform();
    for (i = 0; i < M * D; ++i) y[i] = (REAL)(uniform() + 0.3);
    for (i = 0; i < M * D; ++i) y2[i] = y[i] + (REAL)0.05;
    for (i = 0; i < N; ++i) a[i] = (REAL)(0.5 + uniform());
    for (i = 0; i < M; ++i) b[i] = (REAL)(0.5 + uniform());
    a[3] = 0; /* a zero-weight point: potential -inf, no mass */
    LOCAL(normalise)(a, N);
    LOCAL(normalise)(b, M);
    for (i = 0; i < ND * MD; ++i) c[i] = (REAL)(2.0 * uniform());
    for (i = 0; i < ND; ++i) ad[i] = (REAL)(0.2 + uniform());
    for (i = 0; i < MD; ++i) bd[i] = (REAL)(0.2 + uniform());

    memset(&clouds, 0, sizeof clouds);
    clouds.struct_size = sizeof clouds;
    clouds.x = x;
    clouds.y = y;
    clouds.a = a;
    clouds.b = b;
    clouds.n = N;
    clouds.m = M;
    clouds.d = D;
    clouds.scale = 1;
    memset(&dense, 0, sizeof dense);
    dense.struct_size = sizeof dense;
    dense.c = c;
    dense.a = ad;
    dense.b = bd;
    dense.n = ND;
    dense.m = MD;

    /* The workspace query, against the documented formula. */
    for (i = 0; i < 4; ++i) {
        size_t n = sizes[i][0], m = sizes[i][1], d = sizes[i][2], bytes = 0;
        size_t nh = (n + 15) / 16 * 16, mh = (m + 15) / 16 * 16;
        CHECK_STATUS(FN(sinkhorn_workspace_size)(n, m, d, &bytes), OTC_STATUS_OK);
        CHECK(bytes == sizeof(REAL) * ((d + 2) * (nh + mh) + 2 * (nh > mh ? nh : mh)));
        fprintf(out, "record workspace_size %s\nn %zu\nm %zu\nd %zu\nbytes %zu\nend\n",
                sizeof(REAL) == 4 ? "f32" : "f64", n, m, d, bytes);
    }
    CHECK_STATUS(FN(sinkhorn_workspace_size)(N, M, D, &ws_bytes), OTC_STATUS_OK);
    ws = malloc(ws_bytes);

    /* Defaults. */
    CHECK_STATUS(FN(sinkhorn_config_default)(&cfg), OTC_STATUS_OK);
    CHECK(cfg.struct_size == sizeof cfg);
    CHECK(cfg.epsilon_mode == OTC_EPSILON_RELATIVE && cfg.init == OTC_INIT_ZERO);
    CHECK(isinf(cfg.rho_a) && isinf(cfg.rho_b) && cfg.max_iterations == 1000);
    fprintf(out, "record config_default %s\n", sizeof(REAL) == 4 ? "f32" : "f64");
    LOCAL(dump_config)(out, &cfg);
    fprintf(out, "end\n");

    /* A: point clouds, default settings, then every plan operation. */
    for (i = 0; i < N; ++i) f[i] = 0;
    for (i = 0; i < M; ++i) g[i] = 0;
    CHECK_STATUS(LOCAL(solve_and_dump)(out, &clouds, &cfg, ws, ws_bytes, f, g, &res), OTC_STATUS_OK);
    CHECK(res.iterations > 0 && res.error <= cfg.tolerance);
    CHECK(fabs((double)res.plan_mass - 1.0) < 1e-3 && res.transport_cost > 0);
    CHECK(isinf(f[3]) && f[3] < 0);
    LOCAL(plan_ops)(out, &clouds, res.epsilon, f, g, ws, ws_bytes);
    memcpy(f0, f, sizeof f);
    memcpy(g0, g, sizeof g);

    /* B: the next frame (targets moved), warm-started from A's potentials. */
    clouds.y = y2;
    cfg.init = OTC_INIT_POTENTIALS;
    CHECK_STATUS(LOCAL(solve_and_dump)(out, &clouds, &cfg, ws, ws_bytes, f, g, &res2), OTC_STATUS_OK);
    clouds.y = y;

    /* C: a budget of 2 iterations, then resumed to convergence. */
    memcpy(f, f0, sizeof f);
    memcpy(g, g0, sizeof g);
    cfg.init = OTC_INIT_ZERO;
    cfg.max_iterations = 2;
    CHECK_STATUS(LOCAL(solve_and_dump)(out, &clouds, &cfg, ws, ws_bytes, f, g, &res2),
                 OTC_STATUS_MAX_ITERATIONS);
    CHECK(res2.iterations == 2 && res2.error > cfg.tolerance);
    cfg.init = OTC_INIT_RESUME;
    cfg.max_iterations = 1000;
    CHECK_STATUS(LOCAL(solve_and_dump)(out, &clouds, &cfg, ws, ws_bytes, f, g, &res2), OTC_STATUS_OK);

    /* D: small epsilon with epsilon-scaling, absolute epsilon and cost scale 1/2. */
    CHECK_STATUS(FN(sinkhorn_config_default)(&cfg), OTC_STATUS_OK);
    cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE;
    cfg.epsilon = (REAL)0.01;
    cfg.epsilon_scaling = (REAL)0.5;
    cfg.max_iterations = 5000;
    clouds.scale = (REAL)0.5;
    (void)LOCAL(solve_and_dump)(out, &clouds, &cfg, ws, ws_bytes, f, g, &res2);
    clouds.scale = 1;

    /* E: a dense cost with both marginals relaxed, then the plan operations. */
    CHECK_STATUS(FN(sinkhorn_config_default)(&cfg), OTC_STATUS_OK);
    cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE;
    cfg.epsilon = (REAL)0.1;
    cfg.rho_a = 1;
    cfg.rho_b = 2;
    CHECK_STATUS(LOCAL(solve_and_dump)(out, &dense, &cfg, ws, ws_bytes, fd, gd, &res2), OTC_STATUS_OK);
    LOCAL(plan_ops)(out, &dense, res2.epsilon, fd, gd, ws, ws_bytes);

    free(ws);
}
