/* Precision-generic body of test_init.c (included by each_precision.h with REAL and
 * SUF set): the initializers, the acceleration and the soft c-transform through the C
 * ABI, with the workspace formulas and bad input. */
#include "generic.h"

#define LN 48 /* points per cloud */
#define LD 2  /* dimension */

/* Tolerances. Potentials are compared up to the balanced additive constant, relative
 * to |f| + ε. A solve stopped at an L1 marginal error δ (default: 1e-4 float, 1e-7
 * double) has potentials within about ε·δ/min(w) = ε·δ·n of the fixed point, times
 * the conditioning of the Sinkhorn map at ε = 0.01 × mean cost; two solves: 4·δ·n
 * (measured worst: 0.56 of it, the subsample start in double). The c-transform is the solver's own
 * f-update, so it agrees to rounding: relative to |f| + mean cost, a few ulps of the
 * kernel's exponents (costs up to ~100 ε): 1e-5 (float), 1e-12 (double). */
#define LOCAL_POT_TOL ((REAL)(4 * LN * (sizeof(REAL) == 8 ? 1e-7 : 1e-4)))
#define LOCAL_CT_TOL ((REAL)(sizeof(REAL) == 8 ? 1e-12 : 1e-5))

static REAL LOCAL(x)[LN * LD], LOCAL(y)[LN * LD], LOCAL(w)[LN];
static REAL LOCAL(x1)[LN], LOCAL(y1)[LN];
static double LOCAL(ws)[40000];

static void LOCAL(fill)(void) {
    int i;
    for (i = 0; i < LN * LD; ++i) {
        LOCAL(x)[i] = (REAL)(2.0 * uniform() - 1.0);
        LOCAL(y)[i] = (REAL)(1.5 * uniform() - 0.2);
    }
    for (i = 0; i < LN; ++i) {
        LOCAL(w)[i] = (REAL)1 / LN;
        LOCAL(x1)[i] = (REAL)uniform();
        LOCAL(y1)[i] = (REAL)(0.5 * uniform() + 0.7);
    }
}

static TYPE(ot_problem) LOCAL(problem)(int one_d) {
    TYPE(ot_problem) p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.x = one_d ? LOCAL(x1) : LOCAL(x);
    p.y = one_d ? LOCAL(y1) : LOCAL(y);
    p.a = LOCAL(w);
    p.b = LOCAL(w);
    p.n = LN;
    p.m = LN;
    p.d = one_d ? 1 : LD;
    p.scale = 1;
    return p;
}

/* Solves from `init` (acceleration from `accel`, 0 = off) into f, g; returns the
 * status and the iterations through *iters. */
static int32_t LOCAL(solve)(const TYPE(ot_problem) *p, int32_t init, uint32_t accel, REAL *f,
                            REAL *g, uint32_t *iters, REAL *eps) {
    TYPE(sinkhorn_config) cfg;
    TYPE(sinkhorn_result) res;
    size_t bytes = 0;
    int32_t s;
    FN(sinkhorn_config_default)(&cfg);
    cfg.init = init;
    cfg.subsample_size = 12;
    cfg.acceleration_start = accel;
    cfg.epsilon = (REAL)0.01;
    cfg.max_iterations = 100000;
    CHECK_STATUS(FN(sinkhorn_workspace_size_for)(p->n, p->m, p->d, &cfg, &bytes), OTC_STATUS_OK);
    CHECK(bytes <= sizeof LOCAL(ws));
    memset(&res, 0, sizeof res);
    res.struct_size = sizeof res;
    s = FN(sinkhorn_solve)(p, &cfg, LOCAL(ws), bytes, f, p->n, g, p->m, &res);
    if (s >= 0) {
        *iters = res.iterations;
        *eps = res.epsilon;
    }
    return s;
}

/* max_i |f_i − f0_i − k| / (|f0_i| + ε), k the mean difference (balanced potentials
 * are defined up to (f + k, g − k)). */
static REAL LOCAL(pot_diff)(const REAL *f, const REAL *f0, REAL eps) {
    double k = 0, worst = 0;
    int i;
    for (i = 0; i < LN; ++i) k += (double)f[i] - (double)f0[i];
    k /= LN;
    for (i = 0; i < LN; ++i) {
        double d = fabs((double)f[i] - (double)f0[i] - k) / (fabs((double)f0[i]) + (double)eps);
        if (d > worst) worst = d;
    }
    return (REAL)worst;
}

static void LOCAL(initializers)(void) {
    static const int32_t inits[] = {OTC_INIT_GAUSSIAN, OTC_INIT_SUBSAMPLE, OTC_INIT_SORTED};
    int one_d, k;
    for (one_d = 0; one_d <= 1; ++one_d) {
        TYPE(ot_problem) p = LOCAL(problem)(one_d);
        REAL f0[LN], g0[LN], eps = 0;
        uint32_t it0 = 0;
        CHECK_STATUS(LOCAL(solve)(&p, OTC_INIT_ZERO, 0, f0, g0, &it0, &eps), OTC_STATUS_OK);
        for (k = 0; k < 4; ++k) {
            REAL f[LN], g[LN], e = 0;
            uint32_t it = 0;
            int32_t init = k < 3 ? inits[k] : OTC_INIT_ZERO;
            if (init == OTC_INIT_SORTED && !one_d) continue;
            CHECK_STATUS(LOCAL(solve)(&p, init, k == 3 ? 5 : 0, f, g, &it, &e), OTC_STATUS_OK);
            CHECK(LOCAL(pot_diff)(f, f0, eps) <= LOCAL_POT_TOL);
            CHECK(LOCAL(pot_diff)(g, g0, eps) <= LOCAL_POT_TOL);
            /* The exact 1-D start is (nearly) the answer. */
            if (init == OTC_INIT_SORTED) CHECK(it < it0);
        }
    }
}

static void LOCAL(c_transform)(void) {
    TYPE(ot_problem) p = LOCAL(problem)(0);
    TYPE(dual_potential) pot;
    otc_points_layout rows = {0, 0};
    REAL f[LN], g[LN], out[LN], eps = 0;
    uint32_t it = 0;
    size_t bytes = 0;
    int i;
    CHECK_STATUS(LOCAL(solve)(&p, OTC_INIT_ZERO, 0, f, g, &it, &eps), OTC_STATUS_OK);
    memset(&pot, 0, sizeof pot);
    pot.struct_size = sizeof pot;
    pot.points = LOCAL(y);
    pot.values = g;
    pot.m = LN;
    pot.d = LD;
    pot.scale = 1;
    pot.epsilon = eps;
    CHECK_STATUS(FN(c_transform_workspace_size)(LN, LN, LD, &bytes), OTC_STATUS_OK);
    /* The documented formula: sizeof(REAL)·((d + 1)·m̂ + n), m̂ = 48 (a multiple of 16
     * and of 4). */
    CHECK(bytes == sizeof(REAL) * ((LD + 1) * 48 + LN));
    CHECK_STATUS(FN(c_transform)(&pot, LOCAL(x), rows, LOCAL(w), LN, (REAL)INFINITY, LOCAL(ws),
                                 bytes, out, LN),
                 OTC_STATUS_OK);
    /* Relative to |f| + mean cost (ε = 0.01 × mean cost). */
    for (i = 0; i < LN; ++i)
        CHECK(fabs((double)(out[i] - f[i])) <= LOCAL_CT_TOL * (fabs((double)f[i]) + 100 * eps));

    /* Bad input: nothing written. */
    for (i = 0; i < LN; ++i) out[i] = 7;
#define LOCAL_CT(potp, xp, wp, n, rho, wsb, o, olen, want)                                    \
    CHECK_STATUS(FN(c_transform)(potp, xp, rows, wp, n, rho, LOCAL(ws), wsb, o, olen), want); \
    CHECK(out[0] == 7 && out[LN - 1] == 7)
    LOCAL_CT(NULL, LOCAL(x), LOCAL(w), LN, (REAL)INFINITY, bytes, out, LN, OTC_STATUS_NULL_POINTER);
    LOCAL_CT(&pot, NULL, LOCAL(w), LN, (REAL)INFINITY, bytes, out, LN, OTC_STATUS_NULL_POINTER);
    LOCAL_CT(&pot, LOCAL(x), LOCAL(w), LN, (REAL)INFINITY, bytes - 1, out, LN,
             OTC_STATUS_WORKSPACE_TOO_SMALL);
    LOCAL_CT(&pot, LOCAL(x), LOCAL(w), LN, (REAL)INFINITY, bytes, out, LN - 1,
             OTC_STATUS_LENGTH_MISMATCH);
    LOCAL_CT(&pot, LOCAL(x), LOCAL(w), LN, (REAL)0, bytes, out, LN, OTC_STATUS_INVALID_PARAMETER);
    LOCAL_CT(&pot, LOCAL(x), LOCAL(w), 0, (REAL)INFINITY, bytes, out, 0, OTC_STATUS_EMPTY_INPUT);
    /* The output overlapping an input. */
    LOCAL_CT(&pot, LOCAL(x), LOCAL(w), LN, (REAL)INFINITY, bytes, (REAL *)(void *)LOCAL(ws), LN,
             OTC_STATUS_INVALID_PARAMETER);
    pot.struct_size = sizeof pot - 1;
    LOCAL_CT(&pot, LOCAL(x), LOCAL(w), LN, (REAL)INFINITY, bytes, out, LN, OTC_STATUS_STRUCT_SIZE);
    pot.struct_size = sizeof pot;
    pot.epsilon = 0;
    LOCAL_CT(&pot, LOCAL(x), LOCAL(w), LN, (REAL)INFINITY, bytes, out, LN, OTC_STATUS_INVALID_EPSILON);
    pot.epsilon = eps;
    g[3] = (REAL)NAN;
    LOCAL_CT(&pot, LOCAL(x), LOCAL(w), LN, (REAL)INFINITY, bytes, out, LN, OTC_STATUS_NON_FINITE_INPUT);
#undef LOCAL_CT
    CHECK_STATUS(FN(c_transform_workspace_size)(LN, LN, LD, NULL), OTC_STATUS_NULL_POINTER);
}

static void LOCAL(bad_input)(void) {
    TYPE(ot_problem) p = LOCAL(problem)(0), line = LOCAL(problem)(0), dense;
    TYPE(sinkhorn_config) cfg;
    TYPE(sinkhorn_result) res;
    REAL f[LN], g[LN], c[LN * LN], xl[LN * LD], eps = 0;
    uint32_t it = 0;
    size_t bytes = 0, base = 0, np = 48;
    int i;
    FN(sinkhorn_config_default)(&cfg);
    cfg.init = OTC_INIT_GAUSSIAN;

    /* The workspace formulas of the header (n̂ = m̂ = 48: a multiple of 16 and of 4). */
    CHECK_STATUS(FN(sinkhorn_workspace_size)(LN, LN, LD, &base), OTC_STATUS_OK);
    CHECK_STATUS(FN(sinkhorn_workspace_size_for)(LN, LN, LD, &cfg, &bytes), OTC_STATUS_OK);
    CHECK(bytes == base + sizeof(REAL) * (2 * LN + 6 * LD * LD + 3 * LD));
    cfg.init = OTC_INIT_SORTED;
    CHECK_STATUS(FN(sinkhorn_workspace_size_for)(LN, LN, 1, &cfg, &bytes), OTC_STATUS_OK);
    CHECK_STATUS(FN(sinkhorn_workspace_size)(LN, LN, 1, &base), OTC_STATUS_OK);
    CHECK(bytes == base + sizeof(REAL) * (2 * LN + 4 * LN)); /* n + m + max(n + m, 2n + 2n̂) */
    cfg.init = OTC_INIT_SUBSAMPLE;
    cfg.subsample_size = 10; /* k̂ = 16 on every target */
    CHECK_STATUS(FN(sinkhorn_workspace_size_for)(LN, LN, LD, &cfg, &bytes), OTC_STATUS_OK);
    CHECK_STATUS(FN(sinkhorn_workspace_size)(LN, LN, LD, &base), OTC_STATUS_OK);
    CHECK(bytes == base + sizeof(REAL) * (2 * LN + (LD + 2) * 20 + (LD + 2) * 32 + 2 * 16));
    cfg.init = OTC_INIT_ZERO;
    CHECK_STATUS(FN(sinkhorn_workspace_size_for)(LN, LN, LD, &cfg, &bytes), OTC_STATUS_OK);
    CHECK(bytes == base && base == sizeof(REAL) * ((LD + 2) * 2 * np + 2 * np));
    cfg.init = 99;
    CHECK_STATUS(FN(sinkhorn_workspace_size_for)(LN, LN, LD, &cfg, &bytes), OTC_STATUS_INVALID_PARAMETER);
    CHECK_STATUS(FN(sinkhorn_workspace_size_for)(LN, LN, LD, NULL, &bytes), OTC_STATUS_NULL_POINTER);
    CHECK_STATUS(FN(sinkhorn_workspace_size_for)(LN, LN, LD, &cfg, NULL), OTC_STATUS_NULL_POINTER);

    /* A singular covariance (collinear points) is not an error: the Gaussian start has a
     * defined fallback and reaches the zero start's answer. */
    for (i = 0; i < LN; ++i) {
        xl[2 * i] = (REAL)i / LN;
        xl[2 * i + 1] = 2 * xl[2 * i];
    }
    line.x = xl;
    {
        REAL f0[LN], g0[LN], e0 = 0;
        CHECK_STATUS(LOCAL(solve)(&line, OTC_INIT_ZERO, 0, f0, g0, &it, &e0), OTC_STATUS_OK);
        CHECK_STATUS(LOCAL(solve)(&line, OTC_INIT_GAUSSIAN, 0, f, g, &it, &eps), OTC_STATUS_OK);
        CHECK(LOCAL(pot_diff)(f, f0, eps) <= LOCAL_POT_TOL);
    }

    /* Refused, nothing written. */
    for (i = 0; i < LN; ++i) f[i] = g[i] = 7;
#define LOCAL_SOLVE(prob, wsb, want)                                                          \
    do {                                                                                      \
        memset(&res, 0, sizeof res);                                                          \
        res.struct_size = sizeof res;                                                         \
        CHECK_STATUS(FN(sinkhorn_solve)(prob, &cfg, LOCAL(ws), wsb, f, LN, g, LN, &res), want); \
        CHECK(f[0] == 7 && g[LN - 1] == 7 && res.iterations == 0);                            \
    } while (0)
    /* d mismatch: the 1-D initializer on 2-D clouds. */
    cfg.init = OTC_INIT_SORTED;
    LOCAL_SOLVE(&p, sizeof LOCAL(ws), OTC_STATUS_INVALID_PARAMETER);
    /* Buffers too small: one element short of the formula. */
    cfg.init = OTC_INIT_GAUSSIAN;
    FN(sinkhorn_workspace_size_for)(LN, LN, LD, &cfg, &bytes);
    LOCAL_SOLVE(&p, bytes - sizeof(REAL), OTC_STATUS_WORKSPACE_TOO_SMALL);
    cfg.init = OTC_INIT_SUBSAMPLE;
    cfg.subsample_size = 12;
    FN(sinkhorn_workspace_size_for)(LN, LN, LD, &cfg, &bytes);
    LOCAL_SOLVE(&p, bytes - sizeof(REAL), OTC_STATUS_WORKSPACE_TOO_SMALL);
    cfg.subsample_size = 0;
    LOCAL_SOLVE(&p, sizeof LOCAL(ws), OTC_STATUS_INVALID_PARAMETER);
    /* A dense cost has no points to fit. */
    for (i = 0; i < LN * LN; ++i) c[i] = (REAL)(i % 7);
    dense = p;
    dense.x = dense.y = NULL;
    dense.c = c;
    cfg.init = OTC_INIT_GAUSSIAN;
    LOCAL_SOLVE(&dense, sizeof LOCAL(ws), OTC_STATUS_NEEDS_POINT_CLOUDS);
    /* Acceleration starting at iteration 1; a non-zero reserved field. */
    cfg.init = OTC_INIT_ZERO;
    cfg.acceleration_start = 1;
    LOCAL_SOLVE(&p, sizeof LOCAL(ws), OTC_STATUS_INVALID_PARAMETER);
    cfg.acceleration_start = 0;
    cfg.reserved[0] = 1;
    LOCAL_SOLVE(&p, sizeof LOCAL(ws), OTC_STATUS_STRUCT_SIZE);
#undef LOCAL_SOLVE
}

static void LOCAL(run_init)(void) {
    LOCAL(fill)();
    LOCAL(initializers)();
    LOCAL(c_transform)();
    LOCAL(bad_input)();
}

#undef LN
#undef LD
#undef LOCAL_POT_TOL
#undef LOCAL_CT_TOL
