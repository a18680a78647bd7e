/* Every bad-input path of every function, for one precision (REAL, SUF): the
 * documented status, and outputs left exactly as they were (canary bytes compared
 * before and after). Included by test_bad_input.c once per precision. */
#include "generic.h"

enum { LOCAL(N) = 5, LOCAL(M) = 4, LOCAL(D) = 2 };
#define BN LOCAL(N)
#define BM LOCAL(M)
#define BD LOCAL(D)

/* A valid call of every function; each case breaks one thing. */
typedef struct {
    REAL x[BN * BD], y[BM * BD], c[BN * BM], a[BN], b[BM];
    TYPE(ot_problem) prob;
    const TYPE(ot_problem) *prob_ptr;
    TYPE(sinkhorn_config) cfg;
    const TYPE(sinkhorn_config) *cfg_ptr;
    double ws_store[512]; /* 8-aligned, larger than needed */
    void *ws;
    size_t ws_bytes;
    REAL f_store[BN + 1], g_store[BM + 1], vec_store[BN * BM + 1], out_store[BN * BM + 1];
    REAL *f, *g, *vec, *out;
    size_t f_len, g_len, vec_len, out_len;
    REAL eps;
    TYPE(sinkhorn_result) res;
    TYPE(sinkhorn_result) *res_ptr;
} LOCAL(fixture);

static LOCAL(fixture) LOCAL(fx);

/* Resets the fixture to a valid point-cloud problem, with canaries in every output. */
static void LOCAL(reset)(void) {
    LOCAL(fixture) *x = &LOCAL(fx);
    size_t i;
    memset(x, 0, sizeof *x);
    for (i = 0; i < BN * BD; ++i) x->x[i] = (REAL)(i % 7) * (REAL)0.125;
    for (i = 0; i < BM * BD; ++i) x->y[i] = (REAL)(i % 5) * (REAL)0.25;
    for (i = 0; i < BN * BM; ++i) x->c[i] = (REAL)(i % 3);
    for (i = 0; i < BN; ++i) x->a[i] = (REAL)1 / BN;
    for (i = 0; i < BM; ++i) x->b[i] = (REAL)1 / BM;
    x->prob.struct_size = sizeof x->prob;
    x->prob.x = x->x;
    x->prob.y = x->y;
    x->prob.a = x->a;
    x->prob.b = x->b;
    x->prob.n = BN;
    x->prob.m = BM;
    x->prob.d = BD;
    x->prob.scale = 1;
    x->prob_ptr = &x->prob;
    FN(sinkhorn_config_default)(&x->cfg);
    x->cfg_ptr = &x->cfg;
    x->ws = x->ws_store;
    x->ws_bytes = sizeof x->ws_store;
    /* Canaries: a recognisable finite value in every output and start array. */
    for (i = 0; i < BN + 1; ++i) x->f_store[i] = (REAL)-7.25;
    for (i = 0; i < BM + 1; ++i) x->g_store[i] = (REAL)3.5;
    for (i = 0; i < BN * BM + 1; ++i) x->vec_store[i] = (REAL)0.5;
    for (i = 0; i < BN * BM + 1; ++i) x->out_store[i] = (REAL)-123.0;
    x->f = x->f_store;
    x->g = x->g_store;
    x->vec = x->vec_store;
    x->out = x->out_store;
    x->f_len = BN;
    x->g_len = BM;
    x->eps = (REAL)0.5;
    memset(&x->res, 0xA5, sizeof x->res);
    x->res.struct_size = sizeof x->res;
    x->res_ptr = &x->res;
}

/* Snapshot of everything a call may write. */
typedef struct {
    REAL f[BN + 1], g[BM + 1], out[BN * BM + 1];
    TYPE(sinkhorn_result) res;
} LOCAL(outputs);

static void LOCAL(snapshot)(LOCAL(outputs) *s) {
    memcpy(s->f, LOCAL(fx).f_store, sizeof s->f);
    memcpy(s->g, LOCAL(fx).g_store, sizeof s->g);
    memcpy(s->out, LOCAL(fx).out_store, sizeof s->out);
    memcpy(&s->res, &LOCAL(fx).res, sizeof s->res);
}

static int LOCAL(untouched)(const LOCAL(outputs) *s) {
    LOCAL(outputs) now;
    LOCAL(snapshot)(&now);
    return memcmp(s, &now, sizeof now) == 0;
}

/* Calls `call` (an expression on fx) and checks the status and the canaries. */
#define EXPECT(call, want)                 \
    do {                                   \
        LOCAL(outputs) before_;            \
        LOCAL(snapshot)(&before_);         \
        CHECK_STATUS(call, want);          \
        CHECK(LOCAL(untouched)(&before_)); \
    } while (0)

#define FX LOCAL(fx)
#define SOLVE()                                                                            \
    FN(sinkhorn_solve)(FX.prob_ptr, FX.cfg_ptr, FX.ws, FX.ws_bytes, FX.f, FX.f_len, FX.g, \
                       FX.g_len, FX.res_ptr)
#define APPLY()                                                                           \
    FN(plan_apply)(FX.prob_ptr, FX.eps, FX.f, FX.f_len, FX.g, FX.g_len, FX.vec, FX.vec_len, \
                   FX.ws, FX.ws_bytes, FX.out, FX.out_len)
#define APPLY_T()                                                                      \
    FN(plan_apply_transpose)(FX.prob_ptr, FX.eps, FX.f, FX.f_len, FX.g, FX.g_len, FX.vec, \
                             FX.vec_len, FX.ws, FX.ws_bytes, FX.out, FX.out_len)
#define BARY()                                                                                 \
    FN(plan_barycentric)(FX.prob_ptr, FX.eps, FX.f, FX.f_len, FX.g, FX.g_len, FX.ws, FX.ws_bytes, \
                         FX.out, FX.out_len)
#define DENSE()                                                                           \
    FN(plan_dense)(FX.prob_ptr, FX.eps, FX.f, FX.f_len, FX.g, FX.g_len, FX.ws, FX.ws_bytes, \
                   FX.out, FX.out_len)
#define COST()                                                                           \
    FN(plan_transport_cost)(FX.prob_ptr, FX.eps, FX.f, FX.f_len, FX.g, FX.g_len, FX.ws, \
                            FX.ws_bytes, FX.out)

/* The problem-level faults, shared by every function taking a problem (`dense_nan`:
 * the status for a NaN in a dense cost matrix). */
#define PROBLEM_FAULTS(reset_call, call, dense_nan)                                                  \
    do {                                                                                  \
        reset_call; FX.prob_ptr = NULL; EXPECT(call, OTC_STATUS_NULL_POINTER);            \
        reset_call; FX.prob.a = NULL; EXPECT(call, OTC_STATUS_NULL_POINTER);              \
        reset_call; FX.prob.b = NULL; EXPECT(call, OTC_STATUS_NULL_POINTER);              \
        reset_call; FX.prob.x = NULL; EXPECT(call, OTC_STATUS_NULL_POINTER);              \
        reset_call; FX.prob.x = NULL; FX.prob.y = NULL;                                   \
        EXPECT(call, OTC_STATUS_NULL_POINTER);                                            \
        reset_call; FX.prob.c = FX.c; EXPECT(call, OTC_STATUS_INVALID_PARAMETER);         \
        reset_call; FX.prob.n = 0; EXPECT(call, OTC_STATUS_EMPTY_INPUT);                  \
        reset_call; FX.prob.m = 0; EXPECT(call, OTC_STATUS_EMPTY_INPUT);                  \
        reset_call; FX.prob.d = 0; EXPECT(call, OTC_STATUS_EMPTY_INPUT);                  \
        reset_call; FX.prob.d = SIZE_MAX / 2; EXPECT(call, OTC_STATUS_LENGTH_MISMATCH);   \
        reset_call; FX.x[3] = (REAL)NAN; EXPECT(call, OTC_STATUS_NON_FINITE_INPUT);       \
        reset_call; FX.y[0] = (REAL)INFINITY; EXPECT(call, OTC_STATUS_NON_FINITE_INPUT);  \
        reset_call; FX.b[1] = (REAL)NAN; EXPECT(call, OTC_STATUS_NON_FINITE_INPUT);       \
        reset_call; FX.a[2] = (REAL)-0.1; EXPECT(call, OTC_STATUS_NEGATIVE_WEIGHT);       \
        reset_call; memset(FX.b, 0, sizeof FX.b); EXPECT(call, OTC_STATUS_ZERO_MASS);     \
        reset_call; FX.prob.scale = 0; EXPECT(call, OTC_STATUS_INVALID_PARAMETER);        \
        reset_call; FX.prob.scale = (REAL)NAN; EXPECT(call, OTC_STATUS_INVALID_PARAMETER); \
        reset_call; FX.prob.a = (const REAL *)((const char *)FX.a + 1);                   \
        EXPECT(call, OTC_STATUS_MISALIGNED);                                              \
        reset_call; FX.ws = NULL; EXPECT(call, OTC_STATUS_NULL_POINTER);                  \
        reset_call; FX.ws = (char *)FX.ws_store + 1; EXPECT(call, OTC_STATUS_MISALIGNED); \
        reset_call; FX.ws = (char *)FX.ws_store + 4; EXPECT(call, OTC_STATUS_MISALIGNED); \
        reset_call; FX.ws_bytes = 0; EXPECT(call, OTC_STATUS_WORKSPACE_TOO_SMALL);        \
        reset_call; FN(sinkhorn_workspace_size)(BN, BM, BD, &FX.ws_bytes);                \
        FX.ws_bytes -= 1; EXPECT(call, OTC_STATUS_WORKSPACE_TOO_SMALL);                   \
        reset_call; FX.prob.x = NULL; FX.prob.y = NULL; FX.prob.c = FX.c;                 \
        FX.c[4] = (REAL)NAN; EXPECT(call, dense_nan);                                     \
    } while (0)

/* Plan-operation faults on f, g, ε and the outputs (`has_vec`: the call takes a
 * vector; `has_len`: its output has a length argument). */
#define PLAN_FAULTS(reset_call, call, has_vec, has_len, dense_nan)                         \
    do {                                                                                   \
        PROBLEM_FAULTS(reset_call, call, dense_nan);                                                  \
        reset_call; FX.f = NULL; EXPECT(call, OTC_STATUS_NULL_POINTER);                    \
        reset_call; FX.g = NULL; EXPECT(call, OTC_STATUS_NULL_POINTER);                    \
        reset_call; FX.out = NULL; EXPECT(call, OTC_STATUS_NULL_POINTER);                  \
        reset_call; FX.f_len = BN - 1; EXPECT(call, OTC_STATUS_LENGTH_MISMATCH);           \
        reset_call; FX.g_len = BM + 1; EXPECT(call, OTC_STATUS_LENGTH_MISMATCH);           \
        reset_call; FX.eps = 0; EXPECT(call, OTC_STATUS_INVALID_EPSILON);                  \
        reset_call; FX.eps = (REAL)-1; EXPECT(call, OTC_STATUS_INVALID_EPSILON);           \
        reset_call; FX.eps = (REAL)NAN; EXPECT(call, OTC_STATUS_INVALID_EPSILON);          \
        reset_call; FX.eps = (REAL)INFINITY; EXPECT(call, OTC_STATUS_INVALID_EPSILON);     \
        reset_call; FX.f[1] = (REAL)NAN; EXPECT(call, OTC_STATUS_NON_FINITE_INPUT);        \
        reset_call; FX.g[0] = (REAL)-INFINITY; EXPECT(call, OTC_STATUS_NON_FINITE_INPUT);  \
        reset_call; FX.out = FX.f_store; EXPECT(call, OTC_STATUS_INVALID_PARAMETER);       \
        reset_call; FX.out = (REAL *)FX.ws_store; EXPECT(call, OTC_STATUS_INVALID_PARAMETER); \
        if (has_vec) {                                                                     \
            reset_call; FX.vec = NULL; EXPECT(call, OTC_STATUS_NULL_POINTER);              \
            reset_call; FX.vec_len += 1; EXPECT(call, OTC_STATUS_LENGTH_MISMATCH);         \
            reset_call; FX.vec[0] = (REAL)NAN; EXPECT(call, OTC_STATUS_NON_FINITE_INPUT);  \
            reset_call; FX.out = FX.vec; EXPECT(call, OTC_STATUS_INVALID_PARAMETER);       \
        }                                                                                  \
        if (has_len) {                                                                     \
            reset_call; FX.out_len += 1; EXPECT(call, OTC_STATUS_LENGTH_MISMATCH);         \
            reset_call; FX.out_len -= 1; EXPECT(call, OTC_STATUS_LENGTH_MISMATCH);         \
        }                                                                                  \
    } while (0)

static void LOCAL(reset_solve)(void) { LOCAL(reset)(); }

static void LOCAL(reset_apply)(void) {
    LOCAL(reset)();
    FX.vec_len = BM;
    FX.out_len = BN;
}

static void LOCAL(reset_apply_t)(void) {
    LOCAL(reset)();
    FX.vec_len = BN;
    FX.out_len = BM;
}

static void LOCAL(reset_bary)(void) {
    LOCAL(reset)();
    FX.out_len = BN * BD;
}

static void LOCAL(reset_dense)(void) {
    LOCAL(reset)();
    FX.out_len = BN * BM;
}

static void LOCAL(reset_cost)(void) {
    LOCAL(reset)();
    FX.out_len = 1;
}

static void LOCAL(run_bad_input)(void) {
    size_t bytes = 77;
    LOCAL(outputs) before;

    /* The fixture is valid: every call succeeds (a control for the faults below). */
    LOCAL(reset_solve)(); CHECK_STATUS(SOLVE(), OTC_STATUS_OK);
    LOCAL(reset_apply)(); CHECK_STATUS(APPLY(), OTC_STATUS_OK);
    LOCAL(reset_apply_t)(); CHECK_STATUS(APPLY_T(), OTC_STATUS_OK);
    LOCAL(reset_bary)(); CHECK_STATUS(BARY(), OTC_STATUS_OK);
    LOCAL(reset_dense)(); CHECK_STATUS(DENSE(), OTC_STATUS_OK);
    LOCAL(reset_cost)(); CHECK_STATUS(COST(), OTC_STATUS_OK);

    /* Sinkhorn solve. */
    PROBLEM_FAULTS(LOCAL(reset_solve)(), SOLVE(), OTC_STATUS_NON_FINITE_INPUT);
    LOCAL(reset_solve)(); FX.cfg_ptr = NULL; EXPECT(SOLVE(), OTC_STATUS_NULL_POINTER);
    LOCAL(reset_solve)(); FX.f = NULL; EXPECT(SOLVE(), OTC_STATUS_NULL_POINTER);
    LOCAL(reset_solve)(); FX.g = NULL; EXPECT(SOLVE(), OTC_STATUS_NULL_POINTER);
    LOCAL(reset_solve)(); FX.res_ptr = NULL; EXPECT(SOLVE(), OTC_STATUS_NULL_POINTER);
    LOCAL(reset_solve)(); FX.f_len = BN - 1; EXPECT(SOLVE(), OTC_STATUS_LENGTH_MISMATCH);
    LOCAL(reset_solve)(); FX.g_len = BM + 1; EXPECT(SOLVE(), OTC_STATUS_LENGTH_MISMATCH);
    LOCAL(reset_solve)(); FX.b[0] *= 2; EXPECT(SOLVE(), OTC_STATUS_MASS_MISMATCH);
    LOCAL(reset_solve)(); FX.cfg.epsilon = 0; EXPECT(SOLVE(), OTC_STATUS_INVALID_EPSILON);
    LOCAL(reset_solve)(); FX.cfg.epsilon = (REAL)-0.1; EXPECT(SOLVE(), OTC_STATUS_INVALID_EPSILON);
    LOCAL(reset_solve)(); FX.cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE; FX.cfg.epsilon = (REAL)NAN;
    EXPECT(SOLVE(), OTC_STATUS_INVALID_EPSILON);
    LOCAL(reset_solve)(); FX.cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE; FX.cfg.epsilon = (REAL)(sizeof(REAL) == 4 ? 1e-44 : 1e-320);
    EXPECT(SOLVE(), OTC_STATUS_INVALID_EPSILON); /* max C/ε overflows */
    LOCAL(reset_solve)(); FX.cfg.tolerance = -1; EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);
    LOCAL(reset_solve)(); FX.cfg.rho_a = 0; EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);
    LOCAL(reset_solve)(); FX.cfg.rho_b = (REAL)NAN; EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);
    LOCAL(reset_solve)(); FX.cfg.epsilon_scaling = 1; EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);
    LOCAL(reset_solve)(); FX.cfg.epsilon_mode = 7; EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);
    LOCAL(reset_solve)(); FX.cfg.init = -1; EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);
    LOCAL(reset_solve)(); FX.cfg.struct_size -= 8; EXPECT(SOLVE(), OTC_STATUS_STRUCT_SIZE);
    LOCAL(reset_solve)(); FX.cfg.reserved[0] = 1; EXPECT(SOLVE(), OTC_STATUS_STRUCT_SIZE);
    LOCAL(reset_solve)(); FX.res.struct_size = 0; EXPECT(SOLVE(), OTC_STATUS_STRUCT_SIZE);
    LOCAL(reset_solve)(); FX.cfg.init = OTC_INIT_POTENTIALS; FX.f[2] = (REAL)NAN;
    EXPECT(SOLVE(), OTC_STATUS_NON_FINITE_INPUT);
    LOCAL(reset_solve)(); FX.cfg.init = OTC_INIT_RESUME; FX.g[3] = (REAL)INFINITY;
    EXPECT(SOLVE(), OTC_STATUS_NON_FINITE_INPUT);
    LOCAL(reset_solve)(); FX.f = (REAL *)(void *)((char *)FX.f_store + 2);
    EXPECT(SOLVE(), OTC_STATUS_MISALIGNED);
    LOCAL(reset_solve)(); FX.g = FX.f_store; EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);
    LOCAL(reset_solve)(); FX.f = (REAL *)FX.ws_store; EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);
    LOCAL(reset_solve)(); FX.res_ptr = (TYPE(sinkhorn_result) *)(void *)FX.ws_store;
    memcpy(FX.ws_store, &FX.res, sizeof FX.res);
    EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);
    LOCAL(reset_solve)(); FX.prob.a = FX.f; EXPECT(SOLVE(), OTC_STATUS_INVALID_PARAMETER);

    /* Plan operations. */
    PLAN_FAULTS(LOCAL(reset_apply)(), APPLY(), 1, 1, OTC_STATUS_NON_FINITE_INPUT);
    PLAN_FAULTS(LOCAL(reset_apply_t)(), APPLY_T(), 1, 1, OTC_STATUS_NON_FINITE_INPUT);
    PLAN_FAULTS(LOCAL(reset_bary)(), BARY(), 0, 1, OTC_STATUS_NEEDS_POINT_CLOUDS);
    PLAN_FAULTS(LOCAL(reset_dense)(), DENSE(), 0, 1, OTC_STATUS_NON_FINITE_INPUT);
    PLAN_FAULTS(LOCAL(reset_cost)(), COST(), 0, 0, OTC_STATUS_NON_FINITE_INPUT);
    LOCAL(reset_bary)(); FX.prob.x = NULL; FX.prob.y = NULL; FX.prob.c = FX.c;
    EXPECT(BARY(), OTC_STATUS_NEEDS_POINT_CLOUDS);
    /* Numerical breakdown: entries of P beyond the float/double range. */
    LOCAL(reset_dense)(); FX.f[0] = (REAL)(sizeof(REAL) == 4 ? 100 : 800); FX.eps = (REAL)0.5;
    EXPECT(DENSE(), OTC_STATUS_NON_FINITE);
    LOCAL(reset_apply)(); FX.f[0] = (REAL)(sizeof(REAL) == 4 ? 100 : 800); FX.eps = (REAL)0.5;
    EXPECT(APPLY(), OTC_STATUS_NON_FINITE);

    /* Workspace size and config initializer. */
    CHECK_STATUS(FN(sinkhorn_workspace_size)(BN, BM, BD, NULL), OTC_STATUS_NULL_POINTER);
    CHECK_STATUS(FN(sinkhorn_workspace_size)(SIZE_MAX, 1, 1, &bytes), OTC_STATUS_LENGTH_MISMATCH);
    CHECK_STATUS(FN(sinkhorn_workspace_size)(SIZE_MAX / 8, SIZE_MAX / 8, 3, &bytes),
                 OTC_STATUS_LENGTH_MISMATCH); /* elements overflow */
    CHECK_STATUS(FN(sinkhorn_workspace_size)(SIZE_MAX / 16, 1, 1, &bytes),
                 OTC_STATUS_LENGTH_MISMATCH); /* bytes overflow */
    CHECK(bytes == 77);
    CHECK_STATUS(FN(sinkhorn_config_default)(NULL), OTC_STATUS_NULL_POINTER);
    LOCAL(reset)();
    LOCAL(snapshot)(&before);
    CHECK_STATUS(FN(sinkhorn_config_default)((TYPE(sinkhorn_config) *)(void *)((char *)FX.ws_store + 4)),
                 OTC_STATUS_MISALIGNED);
    CHECK(LOCAL(untouched)(&before));
}

#undef BN
#undef BM
#undef BD
