/* The differentiable particle filter through the C ABI: size macros against the
 * queries, forward-mode runs in double (classical and OT resampling) whose gradients
 * match central finite differences of the same run (same seed), the float run near the double one, and bad
 * input that must change nothing (particles, weights, tangents, totals, gradient,
 * RNG). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

#define N 32
#define P 2
#define T_STEPS 15

/* x' = a·x + 0.5·ξ, y = x + c + N(0, 0.4²); θ = (a, c). */
static double ys[T_STEPS];

typedef struct {
    int t;
    int fail;
    int nan_grad;
} model;

/* When set, the transition takes its noise from this table (drawn once in double) and
 * the model asks the library for none: float and double runs then see the same noise,
 * which the library's own draws do not give (a float normal uses one 64-bit word, a
 * double normal two). */
static int use_table;
static double noise[T_STEPS][N];

#define DEFINE_MODEL(T, SFX)                                                              \
    static int32_t transition_##SFX(void *u, size_t n, size_t d, size_t p, const T *th,    \
                                    const T *x, const T *xi, T *out) {                     \
        size_t i;                                                                          \
        (void)d;                                                                           \
        (void)p;                                                                           \
        if (((model *)u)->fail) return 5;                                                  \
        for (i = 0; i < n; ++i)                                                            \
            out[i] = th[0] * x[i] +                                                        \
                     (T)0.5 * (use_table ? (T)noise[((model *)u)->t][i] : xi[i]);          \
        return 0;                                                                          \
    }                                                                                      \
    static int32_t jvp_##SFX(void *u, size_t n, size_t d, size_t p, const T *th,           \
                             const T *x, const T *xi, const T *next, const T *dx, T *dout) { \
        size_t i;                                                                          \
        (void)u;                                                                           \
        (void)d;                                                                           \
        (void)xi;                                                                          \
        (void)next;                                                                        \
        for (i = 0; i < n; ++i) {                                                          \
            dout[i * p] = th[0] * dx[i * p] + x[i];                                        \
            dout[i * p + 1] = th[0] * dx[i * p + 1];                                       \
        }                                                                                  \
        return 0;                                                                          \
    }                                                                                      \
    static int32_t score_##SFX(void *u, size_t n, size_t d, size_t p, const T *th,         \
                               const T *x, const T *next, T *score) {                      \
        size_t i;                                                                          \
        (void)u;                                                                           \
        (void)d;                                                                           \
        for (i = 0; i < n; ++i) {                                                          \
            score[i * p] = (next[i] - th[0] * x[i]) * x[i] / (T)0.25;                      \
            score[i * p + 1] = 0;                                                          \
        }                                                                                  \
        return 0;                                                                          \
    }                                                                                      \
    static int32_t loglik_##SFX(void *u, size_t n, size_t d, size_t p, const T *th,        \
                                const T *x, T *out) {                                      \
        size_t i;                                                                          \
        T y = (T)ys[((model *)u)->t];                                                      \
        (void)d;                                                                           \
        (void)p;                                                                           \
        for (i = 0; i < n; ++i) {                                                          \
            T e = (y - x[i] - th[1]) / (T)0.4;                                             \
            out[i] = (T)-0.5 * e * e;                                                      \
        }                                                                                  \
        return 0;                                                                          \
    }                                                                                      \
    static int32_t grad_##SFX(void *u, size_t n, size_t d, size_t p, const T *th,          \
                              const T *x, T *gx, T *gth) {                                 \
        size_t i;                                                                          \
        model *m = (model *)u;                                                             \
        T y = (T)ys[m->t];                                                                 \
        (void)d;                                                                           \
        for (i = 0; i < n; ++i) {                                                          \
            T e = (y - x[i] - th[1]) / (T)0.16;                                            \
            gx[i] = e;                                                                     \
            gth[i * p] = 0;                                                                \
            gth[i * p + 1] = m->nan_grad ? (T)NAN : e;                                     \
        }                                                                                  \
        return 0;                                                                          \
    }                                                                                      \
    static int32_t vjp_##SFX(void *u, size_t n, size_t d, size_t p, const T *th,           \
                             const T *x, const T *xi, const T *next, const T *next_bar,    \
                             T *x_bar, T *th_bar) {                                        \
        size_t i;                                                                          \
        (void)u;                                                                           \
        (void)d;                                                                           \
        (void)xi;                                                                          \
        (void)next;                                                                        \
        for (i = 0; i < n; ++i) {                                                          \
            x_bar[i] = th[0] * next_bar[i];                                                \
            th_bar[i * p] = x[i] * next_bar[i];                                            \
            th_bar[i * p + 1] = 0;                                                         \
        }                                                                                  \
        return 0;                                                                          \
    }

DEFINE_MODEL(double, f64)
DEFINE_MODEL(float, f32)

/* Reverse mode: the tick's observation (either precision). */
static int32_t seek(void *u, size_t tick) {
    ((model *)u)->t = (int)tick;
    return 0;
}

static _Alignas(8) double ws64[OTC_DPF_WORKSPACE_SIZE_F64(N, 1, P, 1) / sizeof(double)];
static _Alignas(8) float ws32[OTC_DPF_WORKSPACE_SIZE_F32(N, 1, P, 1) / sizeof(float)];
static _Alignas(8) double ws64ot[OTC_DPF_OT_WORKSPACE_SIZE_F64(N, 1, P, 1) / sizeof(double)];

/* OT settings for the OT step, or NULL for the classical one (run64). */
static const otc_dpf_ot_config_f64 *run_ot;

/* Runs T_STEPS in double at θ from seed 11; returns the last status; writes ℓ̂ and ∇ℓ̂. */
static int32_t run64(const otc_dpf_config_f64 *cfg, const double th[P], double *ll,
                     double dll[P]) {
    int score = cfg->gradient == OTC_DPF_SCORE;
    model m = {0, 0, 0};
    otc_dpf_model_f64 mod;
    otc_rng rng;
    double x[N], logw[N], tangent[OTC_DPF_TANGENT_ELEMS(N, 1, P)], mean[1], dmean[P];
    otc_pf_state_f64 st = {sizeof st, 0, 0, 0};
    otc_pf_report_f64 rep;
    int32_t s = OTC_STATUS_OK;
    memset(&mod, 0, sizeof mod);
    mod.struct_size = sizeof mod;
    mod.user = &m;
    mod.noise_dim = use_table ? 0 : 1;
    mod.transition = transition_f64;
    mod.transition_jvp = score ? NULL : jvp_f64; /* the score mode needs no JVP */
    mod.transition_score = score || run_ot ? score_f64 : NULL;
    mod.loglik = loglik_f64;
    mod.loglik_grad = grad_f64;
    otc_rng_seed(&rng, 11);
    otc_rng_normal_f64(&rng, x, N);
    CHECK_STATUS(otc_dpf_init_f64(N, 1, P, logw, tangent, &st, dll), OTC_STATUS_OK);
    rep.struct_size = sizeof rep;
    for (m.t = 0; m.t < T_STEPS && s == OTC_STATUS_OK; ++m.t)
        s = run_ot ? otc_dpf_step_ot_f64(cfg, run_ot, &mod, th, P, N, 1, &rng, x, logw, tangent,
                                         &st, dll, ws64ot, sizeof ws64ot, mean, dmean, &rep)
                   : otc_dpf_step_f64(cfg, &mod, th, P, N, 1, &rng, x, logw, tangent, &st, dll,
                                      ws64, sizeof ws64, mean, dmean, &rep);
    *ll = st.log_likelihood;
    return s;
}

static void sizes(void) {
    size_t b = 0, len = 0;
    CHECK_STATUS(otc_dpf_workspace_size_f64(N, 1, P, 1, &b), OTC_STATUS_OK);
    CHECK(b == OTC_DPF_WORKSPACE_SIZE_F64(N, 1, P, 1));
    CHECK_STATUS(otc_dpf_workspace_size_f32(100, 3, 4, 2, &b), OTC_STATUS_OK);
    CHECK(b == OTC_DPF_WORKSPACE_SIZE_F32(100, 3, 4, 2));
    CHECK_STATUS(otc_dpf_tangent_len(100, 3, 4, &len), OTC_STATUS_OK);
    CHECK(len == OTC_DPF_TANGENT_ELEMS(100, 3, 4) && len == 1600);
    CHECK_STATUS(otc_dpf_tangent_len(SIZE_MAX, 2, 2, &len), OTC_STATUS_LENGTH_MISMATCH);
    CHECK_STATUS(otc_dpf_tangent_len(1, 1, 1, NULL), OTC_STATUS_NULL_POINTER);
    /* Values and layouts are frozen (64-bit targets for the layouts). */
    CHECK_STATUS(otc_dpf_ot_workspace_size_f64(N, 1, P, 1, &b), OTC_STATUS_OK);
    CHECK(b == OTC_DPF_OT_WORKSPACE_SIZE_F64(N, 1, P, 1) && b == sizeof ws64ot);
    CHECK_STATUS(otc_dpf_ot_workspace_size_f32(100, 3, 4, 2, &b), OTC_STATUS_OK);
    CHECK(b == OTC_DPF_OT_WORKSPACE_SIZE_F32(100, 3, 4, 2));
    CHECK_STATUS(otc_dpf_ot_workspace_size_f64(SIZE_MAX / 2, 2, 2, 1, &b),
                 OTC_STATUS_LENGTH_MISMATCH);
    CHECK(OTC_DPF_DETACH == 0 && OTC_DPF_STOP_GRADIENT == 1 && OTC_DPF_SCORE == 2);
    if (sizeof(size_t) == 8) {
        CHECK(sizeof(otc_dpf_config_f32) == 32 && sizeof(otc_dpf_config_f64) == 32);
        CHECK(offsetof(otc_dpf_config_f64, threshold) == 24);
        CHECK(sizeof(otc_dpf_model_f32) == 88 && sizeof(otc_dpf_model_f64) == 88);
        CHECK(offsetof(otc_dpf_model_f64, transition) == 24);
        CHECK(offsetof(otc_dpf_model_f64, transition_score) == 40);
        CHECK(offsetof(otc_dpf_model_f64, transition_vjp) == 64);
        CHECK(offsetof(otc_dpf_model_f64, seek) == 72);
        CHECK(offsetof(otc_dpf_model_f64, reserved) == 80);
        CHECK(sizeof(otc_dpf_tape_f32) == 64 && sizeof(otc_dpf_tape_f64) == 64);
        CHECK(sizeof(otc_dpf_ot_config_f32) == 72 && sizeof(otc_dpf_ot_config_f64) == 88);
    }
}

/* The OT step (resampling every tick by the entropic OT map, its normalisation scale
 * held at 1 and solved to 1e-13, the JVP's CG to 1e-13): its gradient is exact for
 * that map, so it matches central finite differences of the same run; OT draws no
 * random numbers, and the map is smooth, so no ancestor can flip. The tolerance is the
 * classical test's: rounding of ℓ̂ over 2h. */
static void ot_gradient_matches_finite_differences(void) {
    otc_dpf_config_f64 cfg;
    otc_dpf_ot_config_f64 ot;
    double th[P] = {0.8, 0.3}, ll, dll[P], up, dn, tmp[P], ll_sys, dll_sys[P];
    const double h = 1e-6;
    int j;
    CHECK_STATUS(otc_dpf_config_default_f64(&cfg), OTC_STATUS_OK);
    CHECK_STATUS(otc_dpf_ot_config_default_f64(&ot), OTC_STATUS_OK);
    cfg.resampler = OTC_RESAMPLE_OPTIMAL;
    cfg.trigger = OTC_TRIGGER_ALWAYS;
    ot.resample.epsilon = 0.5;
    ot.resample.scale = 1.0;
    ot.resample.tolerance = 1e-13;
    ot.resample.max_iterations = 2000;
    ot.cg_tolerance = 1e-13;
    ot.cg_max_iterations = 2000;
    run_ot = &ot;
    CHECK_STATUS(run64(&cfg, th, &ll, dll), OTC_STATUS_OK);
    for (j = 0; j < P; ++j) {
        double t2[P] = {th[0], th[1]}, fd;
        t2[j] = th[j] + h;
        CHECK_STATUS(run64(&cfg, t2, &up, tmp), OTC_STATUS_OK);
        t2[j] = th[j] - h;
        CHECK_STATUS(run64(&cfg, t2, &dn, tmp), OTC_STATUS_OK);
        fd = (up - dn) / (2 * h);
        CHECK(fabs(fd - dll[j]) <= 1e-6 * (fabs(fd) > 0.1 ? fabs(fd) : 0.1));
    }
    run_ot = NULL;
    /* It is not the classical filter: systematic resampling every tick gives another ℓ̂. */
    cfg.resampler = OTC_RESAMPLE_SYSTEMATIC;
    CHECK_STATUS(run64(&cfg, th, &ll_sys, dll_sys), OTC_STATUS_OK);
    CHECK(fabs(ll - ll_sys) > 1e-6 && isfinite(ll_sys));
}

static void gradient_matches_finite_differences(void) {
    otc_dpf_config_f64 cfg;
    double th[P] = {0.8, 0.3}, ll, dll[P], up, dn, tmp[P];
    const double h = 1e-6;
    int j;
    CHECK_STATUS(otc_dpf_config_default_f64(&cfg), OTC_STATUS_OK);
    cfg.gradient = OTC_DPF_DETACH;
    CHECK_STATUS(run64(&cfg, th, &ll, dll), OTC_STATUS_OK);
    for (j = 0; j < P; ++j) {
        double t2[P] = {th[0], th[1]}, fd;
        t2[j] = th[j] + h;
        run64(&cfg, t2, &up, tmp);
        t2[j] = th[j] - h;
        run64(&cfg, t2, &dn, tmp);
        fd = (up - dn) / (2 * h);
        /* Same seed: same ξ and resampling uniforms; no ancestor flips at 1e-6. The
         * rounding of ℓ̂ over 2h bounds the agreement near 1e-8 absolute. */
        CHECK(fabs(fd - dll[j]) <= 1e-6 * (fabs(fd) > 0.1 ? fabs(fd) : 0.1));
    }
}

/* Without resampling, the score mode's bias component (observation only: no path
 * term) is the pathwise one, and both run through the C ABI. */
static void score_mode_runs(void) {
    otc_dpf_config_f64 cfg;
    double th[P] = {0.8, 0.3}, ll_s, ll_d, dll_s[P], dll_d[P];
    otc_dpf_config_default_f64(&cfg);
    cfg.trigger = OTC_TRIGGER_NEVER;
    cfg.gradient = OTC_DPF_SCORE;
    CHECK_STATUS(run64(&cfg, th, &ll_s, dll_s), OTC_STATUS_OK);
    cfg.gradient = OTC_DPF_DETACH;
    CHECK_STATUS(run64(&cfg, th, &ll_d, dll_d), OTC_STATUS_OK);
    CHECK(ll_s == ll_d); /* the mode changes gradients only */
    CHECK(fabs(dll_s[1] - dll_d[1]) <= 1e-12 * (fabs(dll_d[1]) + 1));
    CHECK(isfinite(dll_s[0]) && dll_s[0] != dll_d[0]);
}

static void float_run_follows_double(void) {
    otc_dpf_config_f32 cfg;
    otc_dpf_config_f64 cfg64;
    model m = {0, 0, 0};
    otc_dpf_model_f32 mod;
    otc_rng rng;
    float th[P] = {0.8f, 0.3f}, x[N], logw[N], tangent[OTC_DPF_TANGENT_ELEMS(N, 1, P)],
          dll[P], mean[1], dmean[P];
    double th64[P] = {0.8, 0.3}, ll64, dll64[P];
    otc_pf_state_f32 st = {sizeof st, 0, 0, 0};
    otc_pf_report_f32 rep;
    double x64[N];
    int i, j;
    /* The table's noise, and the initial particles run64 draws (seed 11), in double. */
    otc_rng_seed(&rng, 99);
    for (m.t = 0; m.t < T_STEPS; ++m.t) otc_rng_normal_f64(&rng, noise[m.t], N);
    otc_rng_seed(&rng, 11);
    otc_rng_normal_f64(&rng, x64, N);
    for (i = 0; i < N; ++i) x[i] = (float)x64[i];
    use_table = 1;
    memset(&mod, 0, sizeof mod);
    mod.struct_size = sizeof mod;
    mod.user = &m;
    mod.noise_dim = 0;
    mod.transition = transition_f32;
    mod.transition_jvp = jvp_f32;
    mod.transition_score = score_f32; /* set but not needed by OTC_DPF_STOP_GRADIENT */
    mod.transition_vjp = vjp_f32;     /* reverse mode's, ignored by the forward step */
    mod.loglik = loglik_f32;
    mod.loglik_grad = grad_f32;
    CHECK_STATUS(otc_dpf_config_default_f32(&cfg), OTC_STATUS_OK);
    cfg.trigger = OTC_TRIGGER_NEVER; /* no resampling: the f32 and f64 runs stay aligned */
    CHECK_STATUS(otc_dpf_init_f32(N, 1, P, logw, tangent, &st, dll), OTC_STATUS_OK);
    rep.struct_size = sizeof rep;
    for (m.t = 0; m.t < T_STEPS; ++m.t)
        CHECK_STATUS(otc_dpf_step_f32(&cfg, &mod, th, P, N, 1, &rng, x, logw, tangent, &st,
                                      dll, ws32, sizeof ws32, mean, dmean, &rep),
                     OTC_STATUS_OK);
    CHECK(st.steps == T_STEPS && st.resamples == 0);
    otc_dpf_config_default_f64(&cfg64);
    cfg64.trigger = OTC_TRIGGER_NEVER;
    CHECK_STATUS(run64(&cfg64, th64, &ll64, dll64), OTC_STATUS_OK);
    use_table = 0;
    /* Same noise and initial particles (double values rounded to float); f32 rounding
     * over 15 steps of 32 particles: 1e-3 relative is far above it and far below any
     * real difference (a different noise draw moves ℓ̂ by several percent). */
    CHECK(fabs(st.log_likelihood - ll64) <= 1e-3 * fabs(ll64));
    for (j = 0; j < P; ++j) CHECK(fabs(dll[j] - dll64[j]) <= 1e-3 * (fabs(dll64[j]) + 1));
}

static void bad_input_changes_nothing(void) {
    otc_dpf_config_f64 cfg, bad_cfg;
    model m = {0, 0, 0};
    otc_dpf_model_f64 mod, bad_mod;
    otc_rng rng, rng0;
    double th[P] = {0.8, 0.3}, x[N], logw[N], tangent[OTC_DPF_TANGENT_ELEMS(N, 1, P)], dll[P];
    double x0[N], logw0[N], tangent0[OTC_DPF_TANGENT_ELEMS(N, 1, P)], dll0[P];
    double mean[1] = {-7}, dmean[P] = {-7, -7};
    otc_pf_state_f64 st = {sizeof st, 0, 0, 0}, st0;
    otc_pf_report_f64 rep;
    int k;
    memset(&mod, 0, sizeof mod);
    mod.struct_size = sizeof mod;
    mod.user = &m;
    mod.noise_dim = use_table ? 0 : 1;
    mod.transition = transition_f64;
    mod.transition_jvp = jvp_f64;
    mod.loglik = loglik_f64;
    mod.loglik_grad = grad_f64;
    otc_dpf_config_default_f64(&cfg);
    otc_rng_seed(&rng, 3);
    otc_rng_normal_f64(&rng, x, N);
    otc_dpf_init_f64(N, 1, P, logw, tangent, &st, dll);
    for (k = 0; k < (int)OTC_DPF_TANGENT_ELEMS(N, 1, P); ++k) tangent[k] = 0.01 * k;
    dll[0] = 0.5;
    dll[1] = -0.5;
    memcpy(x0, x, sizeof x);
    memcpy(logw0, logw, sizeof logw);
    memcpy(tangent0, tangent, sizeof tangent);
    memcpy(dll0, dll, sizeof dll);
    st0 = st;
    rng0 = rng;
    rep.struct_size = sizeof rep;
#define STEP(c, md, thp, p, wsb) \
    otc_dpf_step_f64((c), (md), (thp), (p), N, 1, &rng, x, logw, tangent, &st, dll, ws64, (wsb), mean, dmean, &rep)
#define UNCHANGED()                                                                      \
    CHECK(memcmp(x, x0, sizeof x) == 0 && memcmp(logw, logw0, sizeof logw) == 0 &&       \
          memcmp(tangent, tangent0, sizeof tangent) == 0 &&                              \
          memcmp(dll, dll0, sizeof dll) == 0 && st.log_likelihood == st0.log_likelihood && \
          st.steps == st0.steps && rng.state == rng0.state && mean[0] == -7 && dmean[0] == -7)
    CHECK_STATUS(STEP(NULL, &mod, th, P, sizeof ws64), OTC_STATUS_NULL_POINTER);
    UNCHANGED();
    bad_mod = mod;
    bad_mod.loglik_grad = NULL;
    CHECK_STATUS(STEP(&cfg, &bad_mod, th, P, sizeof ws64), OTC_STATUS_NULL_POINTER);
    UNCHANGED();
    bad_cfg = cfg;
    bad_cfg.gradient = OTC_DPF_SCORE; /* needs transition_score, which is NULL */
    CHECK_STATUS(STEP(&bad_cfg, &mod, th, P, sizeof ws64), OTC_STATUS_NULL_POINTER);
    UNCHANGED();
    bad_mod = mod;
    bad_mod.transition_jvp = NULL;
    CHECK_STATUS(STEP(&cfg, &bad_mod, th, P, sizeof ws64), OTC_STATUS_NULL_POINTER);
    UNCHANGED();
    bad_mod = mod;
    bad_mod.reserved[0] = &m;
    CHECK_STATUS(STEP(&cfg, &bad_mod, th, P, sizeof ws64), OTC_STATUS_STRUCT_SIZE);
    UNCHANGED();
    bad_cfg = cfg;
    bad_cfg.resampler = OTC_RESAMPLE_OPTIMAL;
    CHECK_STATUS(STEP(&bad_cfg, &mod, th, P, sizeof ws64), OTC_STATUS_INVALID_PARAMETER);
    UNCHANGED();
    bad_cfg = cfg;
    bad_cfg.gradient = 9;
    CHECK_STATUS(STEP(&bad_cfg, &mod, th, P, sizeof ws64), OTC_STATUS_INVALID_PARAMETER);
    UNCHANGED();
    CHECK_STATUS(STEP(&cfg, &mod, th, 0, sizeof ws64), OTC_STATUS_EMPTY_INPUT);
    UNCHANGED();
    CHECK_STATUS(STEP(&cfg, &mod, th, P, sizeof ws64 - 8), OTC_STATUS_WORKSPACE_TOO_SMALL);
    UNCHANGED();
    m.fail = 1;
    CHECK_STATUS(STEP(&cfg, &mod, th, P, sizeof ws64), OTC_STATUS_CALLBACK_FAILED);
    UNCHANGED();
    m.fail = 0;
    m.nan_grad = 1;
    CHECK_STATUS(STEP(&cfg, &mod, th, P, sizeof ws64), OTC_STATUS_NON_FINITE);
    UNCHANGED();
    m.nan_grad = 0;
    th[0] = NAN;
    CHECK_STATUS(STEP(&cfg, &mod, th, P, sizeof ws64), OTC_STATUS_NON_FINITE_INPUT);
    UNCHANGED();
    th[0] = 0.8;
    {
        otc_dpf_ot_config_f64 ot, bad_ot;
        otc_dpf_config_f64 ot_cfg = cfg;
        otc_dpf_ot_config_default_f64(&ot);
        ot.resample.epsilon = 0.5;
        ot_cfg.resampler = OTC_RESAMPLE_OPTIMAL;
#define STEP_OT(c, o, md, wsb) \
    otc_dpf_step_ot_f64((c), (o), (md), th, P, N, 1, &rng, x, logw, tangent, &st, dll, ws64ot, (wsb), mean, dmean, &rep)
        CHECK_STATUS(STEP_OT(&ot_cfg, NULL, &mod, sizeof ws64ot), OTC_STATUS_NULL_POINTER);
        UNCHANGED();
        CHECK_STATUS(STEP_OT(&cfg, &ot, &mod, sizeof ws64ot), OTC_STATUS_INVALID_PARAMETER);
        UNCHANGED(); /* a classical resampler in the OT step */
        bad_cfg = ot_cfg;
        bad_cfg.gradient = OTC_DPF_SCORE;
        bad_mod = mod;
        bad_mod.transition_score = score_f64;
        CHECK_STATUS(STEP_OT(&bad_cfg, &ot, &bad_mod, sizeof ws64ot), OTC_STATUS_INVALID_PARAMETER);
        UNCHANGED();
        bad_ot = ot;
        bad_ot.resample.epsilon = 0;
        CHECK_STATUS(STEP_OT(&ot_cfg, &bad_ot, &mod, sizeof ws64ot), OTC_STATUS_INVALID_EPSILON);
        UNCHANGED();
        bad_ot = ot;
        bad_ot.cg_tolerance = -1;
        CHECK_STATUS(STEP_OT(&ot_cfg, &bad_ot, &mod, sizeof ws64ot), OTC_STATUS_INVALID_PARAMETER);
        UNCHANGED();
        bad_ot = ot;
        bad_ot.reserved = 1;
        CHECK_STATUS(STEP_OT(&ot_cfg, &bad_ot, &mod, sizeof ws64ot), OTC_STATUS_STRUCT_SIZE);
        UNCHANGED();
        CHECK_STATUS(STEP_OT(&ot_cfg, &ot, &mod, sizeof ws64), OTC_STATUS_WORKSPACE_TOO_SMALL);
        UNCHANGED(); /* the classical step's workspace */
        m.fail = 1;
        CHECK_STATUS(STEP_OT(&ot_cfg, &ot, &mod, sizeof ws64ot), OTC_STATUS_CALLBACK_FAILED);
        UNCHANGED();
        m.fail = 0;
#undef STEP_OT
    }
    CHECK_STATUS(STEP(&cfg, &mod, th, P, sizeof ws64), OTC_STATUS_OK);
    CHECK(st.steps == 1 && rng.state != rng0.state && isfinite(dll[0]) && isfinite(dll[1]));
#undef STEP
#undef UNCHANGED
}

static _Alignas(8) double tape64[OTC_DPF_TAPE_ELEMS(N, 1, 1, T_STEPS)];
static _Alignas(8) double wstape[OTC_DPF_TAPE_WORKSPACE_SIZE_F64(N, 1, P, 1, 1) / sizeof(double)];

static void tape_sizes(void) {
    size_t b = 0, len = 0;
    int ot;
    CHECK_STATUS(otc_dpf_tape_len(N, 1, 1, T_STEPS, &len), OTC_STATUS_OK);
    CHECK(len == OTC_DPF_TAPE_ELEMS(N, 1, 1, T_STEPS) && len == T_STEPS * (N * 5 + 1));
    CHECK_STATUS(otc_dpf_tape_len(SIZE_MAX / 2, 3, 1, 2, &len), OTC_STATUS_LENGTH_MISMATCH);
    for (ot = 0; ot < 2; ++ot) {
        CHECK_STATUS(otc_dpf_tape_workspace_size_f64(N, 1, P, 1, ot, &b), OTC_STATUS_OK);
        CHECK(b == OTC_DPF_TAPE_WORKSPACE_SIZE_F64(N, 1, P, 1, ot));
        CHECK_STATUS(otc_dpf_tape_workspace_size_f32(100, 3, 9, 2, ot, &b), OTC_STATUS_OK);
        CHECK(b == OTC_DPF_TAPE_WORKSPACE_SIZE_F32(100, 3, 9, 2, ot));
        CHECK_STATUS(otc_dpf_tape_workspace_size_f32(100, 3, 0, 20, ot, &b), OTC_STATUS_OK);
        CHECK(b == OTC_DPF_TAPE_WORKSPACE_SIZE_F32(100, 3, 0, 20, ot));
    }
}

/* Records T_STEPS in double at θ from seed 11 (the particles run64 starts from) on the
 * tape, then takes ∂ℓ̂/∂θ by the backward pass. */
static int32_t tape64_run(const otc_dpf_config_f64 *cfg, const otc_dpf_ot_config_f64 *ot,
                          const double th[P], double *ll, double dll[P], otc_dpf_tape_f64 *tape) {
    model m = {0, 0, 0};
    otc_dpf_model_f64 mod;
    otc_rng rng;
    double x[N], logw[N], mean[1];
    otc_pf_state_f64 st = {sizeof st, 0, 0, 0};
    otc_pf_report_f64 rep;
    int32_t s = OTC_STATUS_OK;
    memset(&mod, 0, sizeof mod);
    mod.struct_size = sizeof mod;
    mod.user = &m;
    mod.noise_dim = 1;
    mod.transition = transition_f64;
    mod.loglik = loglik_f64;
    mod.loglik_grad = grad_f64;
    mod.transition_vjp = vjp_f64;
    mod.seek = seek;
    otc_rng_seed(&rng, 11);
    otc_rng_normal_f64(&rng, x, N);
    for (m.t = 0; m.t < N; ++m.t) logw[m.t] = -log((double)N);
    rep.struct_size = sizeof rep;
    tape->struct_size = sizeof *tape;
    CHECK_STATUS(otc_dpf_tape_init_f64(tape64, sizeof tape64 / sizeof(double), N, 1, 1, T_STEPS,
                                       tape),
                 OTC_STATUS_OK);
    for (m.t = 0; m.t < T_STEPS && s == OTC_STATUS_OK; ++m.t)
        s = otc_dpf_tape_step_f64(cfg, ot, &mod, th, P, N, 1, &rng, x, logw, &st, tape, wstape,
                                  sizeof wstape, mean, &rep);
    *ll = st.log_likelihood;
    if (s != OTC_STATUS_OK) return s;
    return otc_dpf_tape_gradient_f64(cfg, ot, &mod, th, P, tape, 1.0, NULL, wstape,
                                     sizeof wstape, dll, NULL, NULL);
}

/* Reverse mode through the C ABI records the forward-mode filter bit for bit and gives
 * its gradient: classical (detach and stop-gradient, resampling when ESS < N/2) and OT. */
static void tape_matches_forward_mode(void) {
    otc_dpf_config_f64 cfg;
    otc_dpf_ot_config_f64 ot;
    otc_dpf_tape_f64 tape;
    double th[P] = {0.8, 0.3}, ll, dll[P], ll_t, dll_t[P];
    int g, j;
    CHECK_STATUS(otc_dpf_config_default_f64(&cfg), OTC_STATUS_OK);
    for (g = 0; g < 2; ++g) {
        cfg.gradient = g ? OTC_DPF_STOP_GRADIENT : OTC_DPF_DETACH;
        CHECK_STATUS(run64(&cfg, th, &ll, dll), OTC_STATUS_OK);
        CHECK_STATUS(tape64_run(&cfg, NULL, th, &ll_t, dll_t, &tape), OTC_STATUS_OK);
        CHECK(ll == ll_t && tape.ticks == T_STEPS);
        /* Transposed products summed in another order: rounding, ~1e-14 relative. */
        for (j = 0; j < P; ++j) CHECK(fabs(dll[j] - dll_t[j]) <= 1e-10 * (fabs(dll[j]) + 1));
    }
    otc_dpf_ot_config_default_f64(&ot);
    cfg.resampler = OTC_RESAMPLE_OPTIMAL;
    cfg.trigger = OTC_TRIGGER_ALWAYS;
    ot.resample.epsilon = 0.5;
    ot.resample.scale = 1.0;
    ot.resample.tolerance = 1e-13;
    ot.resample.max_iterations = 2000;
    ot.cg_tolerance = 1e-13;
    ot.cg_max_iterations = 2000;
    run_ot = &ot;
    CHECK_STATUS(run64(&cfg, th, &ll, dll), OTC_STATUS_OK);
    run_ot = NULL;
    CHECK_STATUS(tape64_run(&cfg, &ot, th, &ll_t, dll_t, &tape), OTC_STATUS_OK);
    CHECK(ll == ll_t);
    /* Forward JVP and reverse VJP CG solves, each to 1e-13 relative residual. */
    for (j = 0; j < P; ++j) CHECK(fabs(dll[j] - dll_t[j]) <= 1e-8 * (fabs(dll[j]) + 1));
}

static void tape_bad_input_changes_nothing(void) {
    otc_dpf_config_f64 cfg;
    otc_dpf_tape_f64 tape, tape0;
    model m = {0, 0, 0};
    otc_dpf_model_f64 mod, bad_mod;
    otc_rng rng, rng0;
    double th[P] = {0.8, 0.3}, ll, dll[P], x[N], logw[N], mean[1] = {-7};
    double x0[N], logw0[N], g[P] = {-7, -7}, mb[T_STEPS];
    otc_pf_state_f64 st = {sizeof st, 0, 0, 0};
    otc_pf_report_f64 rep;
    rep.struct_size = sizeof rep;
    otc_dpf_config_default_f64(&cfg);
    /* A full tape: the next tick is refused with nothing changed. */
    CHECK_STATUS(tape64_run(&cfg, NULL, th, &ll, dll, &tape), OTC_STATUS_OK);
    tape0 = tape;
    memset(&mod, 0, sizeof mod);
    mod.struct_size = sizeof mod;
    mod.user = &m;
    mod.noise_dim = 1;
    mod.transition = transition_f64;
    mod.loglik = loglik_f64;
    mod.loglik_grad = grad_f64;
    mod.transition_vjp = vjp_f64;
    mod.seek = seek;
    otc_rng_seed(&rng, 5);
    otc_rng_normal_f64(&rng, x, N);
    for (m.t = 0; m.t < N; ++m.t) logw[m.t] = -log((double)N);
    m.t = 0;
    memcpy(x0, x, sizeof x);
    memcpy(logw0, logw, sizeof logw);
    rng0 = rng;
#define TSTEP(c, md, tp, wsb)                                                               \
    otc_dpf_tape_step_f64((c), NULL, (md), th, P, N, 1, &rng, x, logw, &st, (tp), wstape,  \
                          (wsb), mean, &rep)
#define T_UNCHANGED()                                                                      \
    CHECK(memcmp(x, x0, sizeof x) == 0 && memcmp(logw, logw0, sizeof logw) == 0 &&         \
          rng.state == rng0.state && st.steps == 0 && mean[0] == -7 &&                     \
          tape.ticks == tape0.ticks)
    CHECK_STATUS(TSTEP(&cfg, &mod, &tape, sizeof wstape), OTC_STATUS_WORKSPACE_TOO_SMALL);
    T_UNCHANGED();
    tape.ticks = 0;
    tape0.ticks = 0;
    CHECK_STATUS(TSTEP(&cfg, &mod, &tape, 
                       sizeof(double) * OTC_DPF_TAPE_STEP_WORKSPACE_ELEMS(N, 1, 1, 0) - 8),
                 OTC_STATUS_WORKSPACE_TOO_SMALL);
    T_UNCHANGED();
    cfg.gradient = OTC_DPF_SCORE;
    CHECK_STATUS(TSTEP(&cfg, &mod, &tape, sizeof wstape), OTC_STATUS_INVALID_PARAMETER);
    T_UNCHANGED();
    cfg.gradient = OTC_DPF_STOP_GRADIENT;
    bad_mod = mod;
    bad_mod.noise_dim = 2;
    CHECK_STATUS(TSTEP(&cfg, &bad_mod, &tape, sizeof wstape), OTC_STATUS_LENGTH_MISMATCH);
    T_UNCHANGED();
    tape.window = T_STEPS + 1; /* more ticks than its values hold */
    CHECK_STATUS(TSTEP(&cfg, &mod, &tape, sizeof wstape), OTC_STATUS_WORKSPACE_TOO_SMALL);
    tape.window = T_STEPS;
    T_UNCHANGED();
    tape.values = x; /* overlaps the particles */
    CHECK_STATUS(TSTEP(&cfg, &mod, &tape, sizeof wstape), OTC_STATUS_INVALID_PARAMETER);
    tape.values = tape0.values;
    T_UNCHANGED();
    /* The gradient writes nothing on a refusal. */
    tape.ticks = T_STEPS;
#define GRAD(c, md, lb, mbp, wsb) \
    otc_dpf_tape_gradient_f64((c), NULL, (md), th, P, &tape, (lb), (mbp), wstape, (wsb), g, NULL, NULL)
    bad_mod = mod;
    bad_mod.seek = NULL;
    CHECK_STATUS(GRAD(&cfg, &bad_mod, 1.0, NULL, sizeof wstape), OTC_STATUS_NULL_POINTER);
    bad_mod = mod;
    bad_mod.transition_vjp = NULL;
    CHECK_STATUS(GRAD(&cfg, &bad_mod, 1.0, NULL, sizeof wstape), OTC_STATUS_NULL_POINTER);
    CHECK_STATUS(GRAD(&cfg, &mod, NAN, NULL, sizeof wstape), OTC_STATUS_NON_FINITE_INPUT);
    memset(mb, 0, sizeof mb);
    mb[3] = INFINITY;
    CHECK_STATUS(GRAD(&cfg, &mod, 1.0, mb, sizeof wstape), OTC_STATUS_NON_FINITE_INPUT);
    CHECK_STATUS(GRAD(&cfg, &mod, 1.0, NULL,
                      sizeof(double) * OTC_DPF_TAPE_GRADIENT_WORKSPACE_ELEMS(N, 1, P, 0) - 8),
                 OTC_STATUS_WORKSPACE_TOO_SMALL);
    m.nan_grad = 1;
    CHECK_STATUS(GRAD(&cfg, &mod, 1.0, NULL, sizeof wstape), OTC_STATUS_NON_FINITE);
    m.nan_grad = 0;
    tape.ticks = 0;
    CHECK_STATUS(GRAD(&cfg, &mod, 1.0, NULL, sizeof wstape), OTC_STATUS_EMPTY_INPUT);
    CHECK(g[0] == -7 && g[1] == -7);
    tape.ticks = T_STEPS;
    CHECK_STATUS(GRAD(&cfg, &mod, 1.0, NULL, sizeof wstape), OTC_STATUS_OK);
    CHECK(g[0] == dll[0] && g[1] == dll[1]);
#undef GRAD
#undef TSTEP
#undef T_UNCHANGED
}

int main(void) {
    int t;
    uint64_t s = 0;
    double x = 0;
    for (t = 0; t < T_STEPS; ++t) {
        s += 0x9E3779B97F4A7C15u;
        x = 0.8 * x + 0.5 * (double)((s >> 11) % 1000) / 1000.0 - 0.25;
        ys[t] = x + 0.3 + 0.1 * (double)(t % 3);
    }
    sizes();
    gradient_matches_finite_differences();
    ot_gradient_matches_finite_differences();
    score_mode_runs();
    float_run_follows_double();
    bad_input_changes_nothing();
    tape_sizes();
    tape_matches_forward_mode();
    tape_bad_input_changes_nothing();
    return check_report("test_dpf");
}
