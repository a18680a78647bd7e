/* Rigid 2-D scan registration with entropic optimal transport, from C.
 *
 * The map is N points sampled on the walls of a room; the robot's scan sees the same
 * points rotated by -5 degrees and shifted (the robot's pose is 5 degrees and
 * (0.30, -0.20) m), each with its own 1 cm of noise. Each round:
 *   1. move the scan by the current estimate of the pose,
 *   2. solve Sinkhorn between the moved scan and the map, warm-started from the
 *      previous round's potentials (the plan changes little once the pose is close),
 *   3. map every scan point to its barycentric target T(z_i) = sum_j P_ij y_j / sum_j P_ij,
 *   4. fit the rigid motion from the scan to those targets (Kabsch, closed form in 2-D).
 * One round is biased (the entropic plan is not a rotation: about -2.7 degrees on
 * 5); iterating removes the bias. The program prints the pose error after every round
 * and exits non-zero unless the last one is below 0.05 degrees and 5 mm. */
#include <math.h>
#include <stdio.h>

#include "otcore.h"

enum { N = 200, M = N, D = 2, ROUNDS = 12 };

static const double PI = 3.14159265358979323846;

static float scan[N * D], moved[N * D], map_pts[M * D], target[N * D];
static float a[N], b[M], f[N], g[M];
static double ws[8192];

/* A reproducible uniform number in [0, 1). */
static double uniform(void) {
    static unsigned long long s = 88172645463325252ull;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (double)(s >> 11) / 9007199254740992.0;
}

/* A point on the walls of a 4 m x 2.5 m room with a 0.6 m square pillar, uniform in
 * arc length, plus noise of standard deviation ~1 cm. */
static void wall_point(float *p) {
    const double walls = 2.0 * (4.0 + 2.5), pillar = 4.0 * 0.6;
    double s = uniform() * (walls + pillar), x, y;
    if (s < 4.0) {
        x = s, y = 0.0;
    } else if ((s -= 4.0) < 2.5) {
        x = 4.0, y = s;
    } else if ((s -= 2.5) < 4.0) {
        x = 4.0 - s, y = 2.5;
    } else if ((s -= 4.0) < 2.5) {
        x = 0.0, y = 2.5 - s;
    } else { /* the pillar, corner at (2.5, 0.8) */
        s -= 2.5;
        if (s < 0.6) x = 2.5 + s, y = 0.8;
        else if ((s -= 0.6) < 0.6) x = 3.1, y = 0.8 + s;
        else if ((s -= 0.6) < 0.6) x = 3.1 - s, y = 1.4;
        else x = 2.5, y = 1.4 - (s - 0.6);
    }
    p[0] = (float)(x + 0.017 * (uniform() - 0.5));
    p[1] = (float)(y + 0.017 * (uniform() - 0.5));
}

/* out = R(theta) p + t for n points. */
static void transform(const float *p, size_t n, double theta, const double t[2], float *out) {
    const double c = cos(theta), s = sin(theta);
    size_t i;
    for (i = 0; i < n; ++i) {
        const double x = p[2 * i], y = p[2 * i + 1];
        out[2 * i] = (float)(c * x - s * y + t[0]);
        out[2 * i + 1] = (float)(s * x + c * y + t[1]);
    }
}

/* The rigid motion (theta, t) minimising sum_i |R p_i + t - q_i|^2 (Kabsch in 2-D). */
static void kabsch(const float *p, const float *q, size_t n, double *theta, double t[2]) {
    double pm[2] = {0, 0}, qm[2] = {0, 0}, sxx = 0, sxy = 0, syx = 0, syy = 0, c, s;
    size_t i;
    for (i = 0; i < n; ++i) {
        pm[0] += p[2 * i] / (double)n, pm[1] += p[2 * i + 1] / (double)n;
        qm[0] += q[2 * i] / (double)n, qm[1] += q[2 * i + 1] / (double)n;
    }
    for (i = 0; i < n; ++i) {
        const double px = p[2 * i] - pm[0], py = p[2 * i + 1] - pm[1];
        const double qx = q[2 * i] - qm[0], qy = q[2 * i + 1] - qm[1];
        sxx += px * qx, sxy += px * qy, syx += py * qx, syy += py * qy;
    }
    *theta = atan2(sxy - syx, sxx + syy);
    c = cos(*theta), s = sin(*theta);
    t[0] = qm[0] - (c * pm[0] - s * pm[1]);
    t[1] = qm[1] - (s * pm[0] + c * pm[1]);
}

static int fail(const char *what, int32_t status) {
    fprintf(stderr, "%s: %s (status %d)\n", what, otc_status_str(status), (int)status);
    return 1;
}

int main(void) {
    const double true_theta = 5.0 * PI / 180.0, true_t[2] = {0.30, -0.20};
    double theta = 0.0, t[2] = {0.0, 0.0}, err_deg = 0.0, err_m = 0.0;
    otc_ot_problem_f32 problem = {.struct_size = sizeof problem};
    otc_sinkhorn_config_f32 config;
    otc_sinkhorn_result_f32 result = {.struct_size = sizeof result};
    size_t bytes = 0, i;
    int32_t status;
    int round;

    /* The map, and the scan in the robot's frame: map frame = R(true) scan + t(true). */
    for (i = 0; i < M; ++i) map_pts[2 * i] = 0, wall_point(&map_pts[2 * i]), b[i] = 1.0f / M;
    for (i = 0; i < N; ++i) {
        const double c = cos(-true_theta), s = sin(-true_theta);
        const float *p = &map_pts[2 * i];
        /* Inverse motion, scan = R(true)^T (p - t(true)), and its own 1 cm of noise. */
        scan[2 * i] = (float)(c * (p[0] - true_t[0]) - s * (p[1] - true_t[1]) +
                              0.017 * (uniform() - 0.5));
        scan[2 * i + 1] = (float)(s * (p[0] - true_t[0]) + c * (p[1] - true_t[1]) +
                                  0.017 * (uniform() - 0.5));
        a[i] = 1.0f / N;
    }

    problem.x = moved;
    problem.y = map_pts;
    problem.a = a;
    problem.b = b;
    problem.n = N;
    problem.m = M;
    problem.d = D;
    problem.scale = 1.0f;
    if ((status = otc_sinkhorn_config_default_f32(&config)) != OTC_STATUS_OK)
        return fail("config", status);
    config.epsilon_mode = OTC_EPSILON_ABSOLUTE;
    config.epsilon = 2e-3f;        /* m^2: a blur of about 4.5 cm */
    config.epsilon_scaling = 0.7f; /* first round only: warm starts skip the stages */
    config.tolerance = 1e-3f;
    if ((status = otc_sinkhorn_workspace_size_f32(N, M, D, &bytes)) != OTC_STATUS_OK)
        return fail("workspace size", status);
    if (bytes > sizeof ws) return fail("workspace size", OTC_STATUS_WORKSPACE_TOO_SMALL);

    printf("round  rotation error (deg)  translation error (m)  Sinkhorn iterations\n");
    for (round = 1; round <= ROUNDS; ++round) {
        transform(scan, N, theta, t, moved);
        status = otc_sinkhorn_solve_f32(&problem, &config, ws, sizeof ws, f, N, g, M, &result);
        if (status < 0) return fail("sinkhorn", status);
        status = otc_plan_barycentric_f32(&problem, result.epsilon, f, N, g, M, ws, sizeof ws,
                                          target, N * D);
        if (status != OTC_STATUS_OK) return fail("barycentric map", status);
        kabsch(scan, target, N, &theta, t);
        err_deg = (theta - true_theta) * 180.0 / PI;
        err_m = hypot(t[0] - true_t[0], t[1] - true_t[1]);
        printf("%5d  %20.4f  %21.4f  %19u\n", round, err_deg, err_m,
               (unsigned)result.iterations);
        config.init = OTC_INIT_POTENTIALS; /* warm start the next round */
    }
    return fabs(err_deg) < 0.05 && err_m < 0.005 ? 0 : 1;
}
