/* The OT toolkit through the C ABI: Sinkhorn divergence and its gradients, the OT
 * gradient, plan rounding with its certificate, matches with a dustbin; workspace macros == queries; bad input
 * gives a status and writes nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

enum { N = 12, M = 9, D = 2 };

static double x[N * D], y[M * D], a[N], b[M];

static void fill(void) {
    size_t i;
    double sa = 0, sb = 0;
    for (i = 0; i < N * D; ++i) x[i] = 2.0 * uniform() - 1.0;
    for (i = 0; i < M * D; ++i) y[i] = 2.0 * uniform() - 0.5;
    for (i = 0; i < N; ++i) sa += (a[i] = 0.2 + uniform());
    for (i = 0; i < M; ++i) sb += (b[i] = 0.2 + uniform());
    for (i = 0; i < N; ++i) a[i] /= sa;
    for (i = 0; i < M; ++i) b[i] /= sb;
}

static otc_ot_problem_f64 problem_of(const double *px, const double *py, const double *pa,
                                     const double *pb, size_t n, size_t m) {
    otc_ot_problem_f64 p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.x = px;
    p.y = py;
    p.a = pa;
    p.b = pb;
    p.n = n;
    p.m = m;
    p.d = D;
    p.scale = 1.0;
    return p;
}

/* S_eps of (x, y) with x's coordinate k shifted by h. */
static double divergence_at(size_t k, double h, void *ws, size_t bytes) {
    double xs[N * D], f[N], g[M], ff[N], gg[M];
    otc_sinkhorn_config_f64 cfg;
    otc_divergence_result_f64 res;
    otc_ot_problem_f64 p;
    memcpy(xs, x, sizeof xs);
    xs[k] += h;
    p = problem_of(xs, y, a, b, N, M);
    otc_sinkhorn_config_default_f64(&cfg);
    cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE;
    cfg.epsilon = 0.3;
    cfg.tolerance = 1e-13;
    cfg.max_iterations = 100000;
    res.struct_size = sizeof res;
    CHECK_STATUS(otc_divergence_f64(&p, &cfg, ws, bytes, f, N, g, M, ff, N, gg, M, &res),
                 OTC_STATUS_OK);
    return res.value;
}

/* sum_i tbar_i . T(x_i) of the plan of (x with coordinate k shifted by h, y). */
static double map_loss(size_t k, double h, const double *tbar, void *ws, size_t bytes) {
    double xs[N * D], f[N], g[M], t[N * D], loss = 0;
    otc_sinkhorn_config_f64 cfg;
    otc_sinkhorn_result_f64 sol;
    otc_ot_problem_f64 p;
    size_t i;
    memcpy(xs, x, sizeof xs);
    xs[k] += h;
    p = problem_of(xs, y, a, b, N, M);
    otc_sinkhorn_config_default_f64(&cfg);
    cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE;
    cfg.epsilon = 0.3;
    cfg.tolerance = 1e-14;
    cfg.max_iterations = 100000;
    sol.struct_size = sizeof sol;
    CHECK_STATUS(otc_sinkhorn_solve_f64(&p, &cfg, ws, bytes, f, N, g, M, &sol), OTC_STATUS_OK);
    CHECK_STATUS(otc_plan_barycentric_f64(&p, 0.3, f, N, g, M, ws, bytes, t, N * D), OTC_STATUS_OK);
    for (i = 0; i < N * D; ++i) loss += tbar[i] * t[i];
    return loss;
}

int main(void) {
    size_t bytes = 0, rbytes = 0, i, j, k;
    void *ws, *rws;
    double f[N], g[M], ff[N], gg[M], gx[N * D], gy[M * D], ga[N], gb[M];
    double fo[N], go[M], ea[N], eb[M], rows[N], ones[M], sum_ea = 0, sum_eb_one = 0;
    double fd, h = 1e-5, worst = 0;
    otc_sinkhorn_config_f64 cfg;
    otc_divergence_result_f64 res;
    otc_sinkhorn_result_f64 sol;
    otc_round_certificate_f64 cert;
    otc_ot_problem_f64 p, self;
    const size_t ns[] = {1, 7, 16, 33};

    fill();
    /* The documented formulas are the queries. */
    for (i = 0; i < 4; ++i)
        for (j = 0; j < 4; ++j)
            for (k = 1; k < 4; ++k) {
                size_t q;
                CHECK(otc_divergence_workspace_size_f32(ns[i], ns[j], k, &q) == OTC_STATUS_OK &&
                      q == OTC_DIVERGENCE_WORKSPACE_SIZE_F32(ns[i], ns[j], k));
                CHECK(otc_divergence_workspace_size_f64(ns[i], ns[j], k, &q) == OTC_STATUS_OK &&
                      q == OTC_DIVERGENCE_WORKSPACE_SIZE_F64(ns[i], ns[j], k));
                CHECK(otc_round_workspace_size_f32(ns[i], ns[j], k, &q) == OTC_STATUS_OK &&
                      q == OTC_ROUND_WORKSPACE_SIZE_F32(ns[i], ns[j], k));
                CHECK(otc_round_workspace_size_f64(ns[i], ns[j], k, &q) == OTC_STATUS_OK &&
                      q == OTC_ROUND_WORKSPACE_SIZE_F64(ns[i], ns[j], k));
                CHECK(otc_implicit_workspace_size_f32(ns[i], ns[j], k, &q) == OTC_STATUS_OK &&
                      q == OTC_IMPLICIT_WORKSPACE_SIZE_F32(ns[i], ns[j], k));
                CHECK(otc_implicit_workspace_size_f64(ns[i], ns[j], k, &q) == OTC_STATUS_OK &&
                      q == OTC_IMPLICIT_WORKSPACE_SIZE_F64(ns[i], ns[j], k));
            }
    CHECK_STATUS(otc_divergence_workspace_size_f64(N, M, D, &bytes), OTC_STATUS_OK);
    ws = aligned_alloc(OTC_WORKSPACE_ALIGN, (bytes + OTC_WORKSPACE_ALIGN) / OTC_WORKSPACE_ALIGN * OTC_WORKSPACE_ALIGN);

    /* S(alpha, alpha) = 0, S(alpha, beta) > 0. */
    p = problem_of(x, y, a, b, N, M);
    self = problem_of(x, x, a, a, N, N);
    otc_sinkhorn_config_default_f64(&cfg);
    cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE;
    cfg.epsilon = 0.3;
    cfg.tolerance = 1e-13;
    cfg.max_iterations = 100000;
    res.struct_size = sizeof res;
    {
        double sf[N], sg[N], sff[N], sgg[N];
        CHECK_STATUS(otc_divergence_f64(&self, &cfg, ws, bytes, sf, N, sg, N, sff, N, sgg, N, &res),
                     OTC_STATUS_OK);
        CHECK(fabs(res.value) <= 1e-11 * res.terms[0]);
    }
    CHECK_STATUS(otc_divergence_f64(&p, &cfg, ws, bytes, f, N, g, M, ff, N, gg, M, &res),
                 OTC_STATUS_OK);
    CHECK(res.value > 0 && res.epsilon == 0.3);

    /* Gradient w.r.t. x against central differences (tolerance as the Rust test). */
    CHECK_STATUS(otc_divergence_gradient_f64(&p, &cfg, res.epsilon, f, N, g, M, ff, N, gg, M, ws,
                                             bytes, gx, N * D, gy, M * D, ga, N, gb, M),
                 OTC_STATUS_OK);
    for (k = 0; k < N * D; ++k) {
        fd = (divergence_at(k, h, ws, bytes) - divergence_at(k, -h, ws, bytes)) / (2 * h);
        if (fabs(fd - gx[k]) > worst) worst = fabs(fd - gx[k]);
    }
    CHECK(worst <= 1e-6);

    /* OT gradient and rounding of a loosely solved plan. */
    cfg.tolerance = 1e-2;
    sol.struct_size = sizeof sol;
    CHECK(otc_sinkhorn_solve_f64(&p, &cfg, ws, bytes, f, N, g, M, &sol) >= 0);
    CHECK_STATUS(otc_plan_gradient_f64(&p, sol.epsilon, f, N, g, M, ws, bytes, gx, N * D, gy,
                                       M * D, ga, N, gb, M),
                 OTC_STATUS_OK);
    CHECK_STATUS(otc_round_workspace_size_f64(N, M, D, &rbytes), OTC_STATUS_OK);
    rws = aligned_alloc(OTC_WORKSPACE_ALIGN, (rbytes + OTC_WORKSPACE_ALIGN) / OTC_WORKSPACE_ALIGN * OTC_WORKSPACE_ALIGN);
    cert.struct_size = sizeof cert;
    CHECK_STATUS(otc_plan_round_f64(&p, sol.epsilon, f, N, g, M, rws, rbytes, fo, N, go, M, ea,
                                    N, eb, M, &cert),
                 OTC_STATUS_OK);
    CHECK(cert.correction_mass > 0 && cert.gap >= 0 && cert.lower_bound <= cert.transport_cost);
    /* Row marginal of G = F'' + ea eb^T / |ea|_1: F''1 + ea (sum eb / |ea|_1) = a. */
    for (j = 0; j < M; ++j) ones[j] = 1.0;
    CHECK_STATUS(otc_plan_apply_f64(&p, sol.epsilon, fo, N, go, M, ones, M, rws, rbytes, rows, N),
                 OTC_STATUS_OK);
    for (i = 0; i < N; ++i) sum_ea += ea[i];
    for (j = 0; j < M; ++j) sum_eb_one += eb[j];
    for (i = 0; i < N; ++i) CHECK(fabs(rows[i] + ea[i] * sum_eb_one / sum_ea - a[i]) <= 1e-15);

    /* Bad input: status, nothing written. */
    {
        double keep = fo[0];
        otc_round_certificate_f64 c2 = cert;
        CHECK_STATUS(otc_plan_round_f64(&p, sol.epsilon, f, N, g, M, rws, rbytes - 8, fo, N, go,
                                        M, ea, N, eb, M, &cert),
                     OTC_STATUS_WORKSPACE_TOO_SMALL);
        CHECK_STATUS(otc_plan_round_f64(&p, -1.0, f, N, g, M, rws, rbytes, fo, N, go, M, ea, N,
                                        eb, M, &cert),
                     OTC_STATUS_INVALID_EPSILON);
        CHECK_STATUS(otc_plan_round_f64(NULL, sol.epsilon, f, N, g, M, rws, rbytes, fo, N, go, M,
                                        ea, N, eb, M, &cert),
                     OTC_STATUS_NULL_POINTER);
        CHECK(fo[0] == keep && memcmp(&c2, &cert, sizeof cert) == 0);
    }
    {
        double keep = f[0];
        cfg.epsilon = 0.0;
        CHECK_STATUS(otc_divergence_f64(&p, &cfg, ws, bytes, f, N, g, M, ff, N, gg, M, &res),
                     OTC_STATUS_INVALID_EPSILON);
        cfg.epsilon = 0.3;
        CHECK_STATUS(otc_divergence_f64(&p, &cfg, ws, bytes, f, N - 1, g, M, ff, N, gg, M, &res),
                     OTC_STATUS_LENGTH_MISMATCH);
        CHECK_STATUS(otc_divergence_f64(&p, NULL, ws, bytes, f, N, g, M, ff, N, gg, M, &res),
                     OTC_STATUS_NULL_POINTER);
        cfg.rho_a = 1.0;
        CHECK_STATUS(otc_divergence_gradient_f64(&p, &cfg, 0.3, f, N, g, M, ff, N, gg, M, ws,
                                                 bytes, gx, N * D, gy, M * D, ga, N, gb, M),
                     OTC_STATUS_INVALID_PARAMETER);
        CHECK(f[0] == keep);
    }

    /* The barycentric map's implicit VJP against central differences of solve + map
     * (tolerance as the Rust test: solves to 1e-14, h = 1e-5), and its bad input. */
    {
        double tbar[N * D], vx[N * D], vy[M * D], va[N], vb[M], vworst = 0, vscale = 0;
        size_t ibytes;
        void *iws;
        otc_implicit_report_f64 rep;
        otc_sinkhorn_config_f64 c2 = cfg;
        for (i = 0; i < N * D; ++i) tbar[i] = 2.0 * uniform() - 1.0;
        CHECK_STATUS(otc_implicit_workspace_size_f64(N, M, D, &ibytes), OTC_STATUS_OK);
        iws = aligned_alloc(OTC_WORKSPACE_ALIGN, (ibytes + OTC_WORKSPACE_ALIGN) / OTC_WORKSPACE_ALIGN * OTC_WORKSPACE_ALIGN);
        c2.tolerance = 1e-14;
        c2.rho_a = INFINITY;
        c2.rho_b = INFINITY;
        sol.struct_size = sizeof sol;
        CHECK_STATUS(otc_sinkhorn_solve_f64(&p, &c2, ws, bytes, f, N, g, M, &sol), OTC_STATUS_OK);
        rep.struct_size = sizeof rep;
        CHECK_STATUS(otc_plan_barycentric_vjp_f64(&p, 0.3, f, N, g, M, tbar, N * D, 1e-13, 500,
                                                  iws, ibytes, vx, N * D, vy, M * D, va, N, vb,
                                                  M, &rep),
                     OTC_STATUS_OK);
        CHECK(rep.cg_residual <= 1e-13 && rep.marginal_error <= 1e-13 && rep.cg_iterations > 0);
        for (k = 0; k < N * D; ++k) if (fabs(vx[k]) > vscale) vscale = fabs(vx[k]);
        for (k = 0; k < N * D; ++k) {
            fd = (map_loss(k, h, tbar, ws, bytes) - map_loss(k, -h, tbar, ws, bytes)) / (2 * h);
            if (fabs(fd - vx[k]) > vworst) vworst = fabs(fd - vx[k]);
        }
        CHECK(vworst <= 1e-6 * vscale);
        /* The potentials' VJP runs too, without a report. */
        CHECK_STATUS(otc_plan_potentials_vjp_f64(&p, 0.3, f, N, g, M, f, N, g, M, 1e-13, 500, iws,
                                                 ibytes, vx, N * D, vy, M * D, va, N, vb, M, NULL),
                     OTC_STATUS_OK);
        {
            double keep = vx[0];
            otc_implicit_report_f64 r0 = rep;
            tbar[1] = NAN;
            CHECK_STATUS(otc_plan_barycentric_vjp_f64(&p, 0.3, f, N, g, M, tbar, N * D, 1e-13,
                                                      500, iws, ibytes, vx, N * D, vy, M * D, va,
                                                      N, vb, M, &rep),
                         OTC_STATUS_NON_FINITE_INPUT);
            tbar[1] = 0.5;
            CHECK_STATUS(otc_plan_barycentric_vjp_f64(&p, 0.3, f, N, g, M, tbar, N * D, 0.0, 500,
                                                      iws, ibytes, vx, N * D, vy, M * D, va, N,
                                                      vb, M, &rep),
                         OTC_STATUS_INVALID_PARAMETER);
            CHECK_STATUS(otc_plan_barycentric_vjp_f64(&p, 0.3, f, N, g, M, tbar, N * D, 1e-13,
                                                      500, iws, ibytes - 8, vx, N * D, vy, M * D,
                                                      va, N, vb, M, &rep),
                         OTC_STATUS_WORKSPACE_TOO_SMALL);
            CHECK_STATUS(otc_plan_barycentric_vjp_f64(&p, 0.3, f, N, g, M, tbar, N * D - 1,
                                                      1e-13, 500, iws, ibytes, vx, N * D, vy,
                                                      M * D, va, N, vb, M, &rep),
                         OTC_STATUS_LENGTH_MISMATCH);
            CHECK_STATUS(otc_plan_barycentric_vjp_f64(&p, 0.3, f, N, g, M, tbar, N * D, 1e-13,
                                                      500, iws, ibytes, vx, N * D, vx, M * D, va,
                                                      N, vb, M, &rep),
                         OTC_STATUS_INVALID_PARAMETER);
            rep.struct_size = 8;
            CHECK_STATUS(otc_plan_barycentric_vjp_f64(&p, 0.3, f, N, g, M, tbar, N * D, 1e-13,
                                                      500, iws, ibytes, vx, N * D, vy, M * D, va,
                                                      N, vb, M, &rep),
                         OTC_STATUS_STRUCT_SIZE);
            rep.struct_size = sizeof rep;
            CHECK(vx[0] == keep && memcmp(&r0, &rep, sizeof rep) == 0);
        }
        free(iws);
    }

    /* Matches: y a shuffled copy of x plus one outlier each; the dustbin leaves the
     * outliers unmatched and recovers the shuffle. */
    {
        enum { K = 6 };
        double px[(K + 1) * D], py[(K + 1) * D], w[K + 1], fd[K + 2], gd[K + 2], conf[K + 1];
        size_t rows_[K + 1], cols_[K + 1], mbytes, keep_rows[K + 1];
        const size_t perm[K] = {3, 0, 5, 1, 4, 2};
        otc_dustbin_result_f64 dres;
        otc_ot_problem_f64 mp;
        void *mws;
        for (i = 0; i < K; ++i) {
            px[2 * i] = 3.0 * (double)i;
            px[2 * i + 1] = (double)(i % 2);
            py[2 * perm[i]] = px[2 * i] + 0.05;
            py[2 * perm[i] + 1] = px[2 * i + 1] - 0.05;
        }
        px[2 * K] = 100.0; /* outliers, far from everything */
        px[2 * K + 1] = 100.0;
        py[2 * K] = -100.0;
        py[2 * K + 1] = 50.0;
        for (i = 0; i <= K; ++i) w[i] = 1.0 / (K + 1);
        mp = problem_of(px, py, w, w, K + 1, K + 1);
        CHECK_STATUS(otc_matches_workspace_size_f64(K + 1, K + 1, D, &mbytes), OTC_STATUS_OK);
        CHECK(mbytes == OTC_MATCHES_WORKSPACE_SIZE_F64(K + 1, K + 1, D) && mbytes <= bytes);
        mws = ws;
        otc_sinkhorn_config_default_f64(&cfg);
        cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE;
        cfg.epsilon = 0.05;
        cfg.tolerance = 1e-10;
        cfg.max_iterations = 100000;
        dres.struct_size = sizeof dres;
        CHECK_STATUS(otc_dustbin_solve_f64(&mp, &cfg, 1.0, mws, bytes, fd, K + 2, gd, K + 2, &dres),
                     OTC_STATUS_OK);
        CHECK_STATUS(otc_plan_matches_f64(&mp, dres.epsilon, fd, K + 1, gd, K + 1, 0.2, mws, mbytes,
                                          rows_, K + 1, conf, K + 1, cols_, K + 1),
                     OTC_STATUS_OK);
        for (i = 0; i < K; ++i) CHECK(rows_[i] == perm[i] && cols_[perm[i]] == i && conf[i] > 0.2);
        CHECK(rows_[K] == OTC_UNMATCHED && cols_[K] == OTC_UNMATCHED);
        memcpy(keep_rows, rows_, sizeof rows_);
        CHECK_STATUS(otc_plan_matches_f64(&mp, dres.epsilon, fd, K + 1, gd, K + 1, 1.5, mws, mbytes,
                                          rows_, K + 1, conf, K + 1, cols_, K + 1),
                     OTC_STATUS_INVALID_PARAMETER);
        CHECK_STATUS(otc_dustbin_solve_f64(&mp, &cfg, NAN, mws, bytes, fd, K + 2, gd, K + 2, &dres),
                     OTC_STATUS_INVALID_PARAMETER);
        CHECK(memcmp(keep_rows, rows_, sizeof rows_) == 0);
    }

    /* f32: the same divergence within f32 rounding of its terms. */
    {
        float xf[N * D], yf[M * D], af[N], bf[M], f1[N], g1[M], ff1[N], gg1[M];
        otc_ot_problem_f32 pf;
        otc_sinkhorn_config_f32 c32;
        otc_divergence_result_f32 r32;
        size_t b32;
        void *w32;
        double s64;
        otc_sinkhorn_config_default_f64(&cfg);
        cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE;
        cfg.epsilon = 0.3;
        cfg.max_iterations = 100000;
        cfg.tolerance = 1e-13;
        CHECK_STATUS(otc_divergence_f64(&p, &cfg, ws, bytes, f, N, g, M, ff, N, gg, M, &res),
                     OTC_STATUS_OK);
        s64 = res.value;
        for (i = 0; i < N * D; ++i) xf[i] = (float)x[i];
        for (i = 0; i < M * D; ++i) yf[i] = (float)y[i];
        for (i = 0; i < N; ++i) af[i] = (float)a[i];
        for (i = 0; i < M; ++i) bf[i] = (float)b[i];
        memset(&pf, 0, sizeof pf);
        pf.struct_size = sizeof pf;
        pf.x = xf;
        pf.y = yf;
        pf.a = af;
        pf.b = bf;
        pf.n = N;
        pf.m = M;
        pf.d = D;
        pf.scale = 1.0f;
        otc_sinkhorn_config_default_f32(&c32);
        c32.epsilon_mode = OTC_EPSILON_ABSOLUTE;
        c32.epsilon = 0.3f;
        CHECK_STATUS(otc_divergence_workspace_size_f32(N, M, D, &b32), OTC_STATUS_OK);
        w32 = aligned_alloc(OTC_WORKSPACE_ALIGN, (b32 + OTC_WORKSPACE_ALIGN) / OTC_WORKSPACE_ALIGN * OTC_WORKSPACE_ALIGN);
        r32.struct_size = sizeof r32;
        CHECK_STATUS(otc_divergence_f32(&pf, &c32, w32, b32, f1, N, g1, M, ff1, N, gg1, M, &r32),
                     OTC_STATUS_OK);
        /* Inputs rounded to f32 and the f32 tolerance 1e-4 on the marginals. */
        CHECK(fabs(r32.value - s64) <= 1e-3 * res.terms[0]);
        free(w32);
    }
    free(rws);
    free(ws);
    return check_report("test_toolkit");
}
