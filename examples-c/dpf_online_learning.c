/* A robot learns what it was not told, online, with otcore's differentiable particle
 * filter (forward mode), from C.
 *
 * A robot drives around a loop in the plane, dead-reckoning from odometry and ranging
 * three beacons. Its odometry over-reads distance by an unknown scale (wheel wear) and
 * its range sensor has an unknown bias; the filter starts with scale 1 and bias 0.
 * θ = (scale, bias), P = 2:
 *   transition  x' = x + θ₀·u_t + σ_x ξ       (u_t the odometry increment, ξ ~ N(0, I₂))
 *   observation r_j = ‖x − B_j‖ + θ₁ + σ_r η  (three beacons B_j)
 * Every tick `otc_dpf_step_f64` filters and carries the tangents ∂x/∂θ, ∂log w/∂θ, so
 * the gradient of the running log-likelihood ℓ̂_t is there every tick. Recursive
 * maximum likelihood steps θ along the gradient of the newest increment,
 * θ ← θ + γ_t (∇ℓ̂_t − ∇ℓ̂_{t−1}), γ_t decreasing. The program prints the estimate as
 * it converges to the truth (scale 1.15, bias 0.30 m). No heap inside the library.
 *
 * Usage: dpf_online_learning (6000 ticks, about a second) */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "otcore.h"

enum { N = 256, D = 2, P = 2, K = 2, TICKS = 6000 };
#define FORGET 0.85

static const double beacon[3][2] = {{-4.0, -3.0}, {5.0, -2.0}, {0.0, 5.0}};
static const double sigma_x = 0.05, sigma_r = 0.2;
static const double true_scale = 1.15, true_bias = 0.30;

/* What the callbacks need: this tick's odometry and ranges. */
typedef struct {
    double u[2];
    double r[3];
} tick_data;

static int32_t transition(void *user, size_t n, size_t d, size_t p, const double *th,
                          const double *x, const double *xi, double *out) {
    const tick_data *t = (const tick_data *)user;
    size_t i, k;
    (void)p;
    for (i = 0; i < n; ++i)
        for (k = 0; k < d; ++k)
            out[i * d + k] = x[i * d + k] + th[0] * t->u[k] + sigma_x * xi[i * d + k];
    return 0;
}

/* ∂x'/∂x = I, ∂x'/∂scale = u, ∂x'/∂bias = 0: dx' = dx + [u_k, 0] per row k. */
static int32_t transition_jvp(void *user, size_t n, size_t d, size_t p, const double *th,
                              const double *x, const double *xi, const double *next,
                              const double *dx, double *dout) {
    const tick_data *t = (const tick_data *)user;
    size_t i, k;
    (void)th;
    (void)x;
    (void)xi;
    (void)next;
    for (i = 0; i < n; ++i)
        for (k = 0; k < d; ++k) {
            dout[(i * d + k) * p] = dx[(i * d + k) * p] + t->u[k];
            dout[(i * d + k) * p + 1] = dx[(i * d + k) * p + 1];
        }
    return 0;
}

static int32_t loglik(void *user, size_t n, size_t d, size_t p, const double *th,
                      const double *x, double *out) {
    const tick_data *t = (const tick_data *)user;
    size_t i, j;
    (void)p;
    for (i = 0; i < n; ++i) {
        double s = 0;
        for (j = 0; j < 3; ++j) {
            double e = (t->r[j] - hypot(x[i * d] - beacon[j][0], x[i * d + 1] - beacon[j][1]) -
                        th[1]) / sigma_r;
            s += -0.5 * e * e;
        }
        out[i] = s;
    }
    return 0;
}

static int32_t loglik_grad(void *user, size_t n, size_t d, size_t p, const double *th,
                           const double *x, double *gx, double *gth) {
    const tick_data *t = (const tick_data *)user;
    size_t i, j;
    for (i = 0; i < n; ++i) {
        gx[i * d] = gx[i * d + 1] = 0;
        gth[i * p] = gth[i * p + 1] = 0;
        for (j = 0; j < 3; ++j) {
            double dx0 = x[i * d] - beacon[j][0], dx1 = x[i * d + 1] - beacon[j][1];
            double range = hypot(dx0, dx1);
            double e = (t->r[j] - range - th[1]) / (sigma_r * sigma_r);
            gx[i * d] += e * dx0 / range;
            gx[i * d + 1] += e * dx1 / range;
            gth[i * p + 1] += e;
        }
    }
    return 0;
}

/* The simulator's own noise (independent of the filter's stream). */
static double gauss(otc_rng *rng) {
    double v;
    otc_rng_normal_f64(rng, &v, 1);
    return v;
}

static int fail(const char *what, int32_t status) {
    fprintf(stderr, "%s: %s (status %d)\n", what, otc_status_str(status), (int)status);
    return 1;
}

static double x[N * D], logw[N], tangent[OTC_DPF_TANGENT_ELEMS(N, D, P)];
static double ws[OTC_DPF_WORKSPACE_SIZE_F64(N, D, P, K) / sizeof(double)]
    __attribute__((aligned(OTC_WORKSPACE_ALIGN)));

int main(void) {
    int ticks = TICKS, t, i;
    double theta[P] = {1.0, 0.0}, dll[P], prev[P] = {0, 0}, mean[D], dmean[D * P];
    double truth[2] = {3.0, 0.0}, avg[P] = {0, 0};
    int averaged = 0;
    tick_data data;
    otc_dpf_config_f64 cfg;
    otc_dpf_model_f64 model;
    otc_pf_state_f64 state = {sizeof state, 0, 0, 0};
    otc_pf_report_f64 report = {sizeof report, 0, 0, 0, 0, 0};
    otc_rng rng, sim;
    int32_t s;

    memset(&model, 0, sizeof model);
    model.struct_size = sizeof model;
    model.user = &data;
    model.noise_dim = K;
    model.transition = transition;
    model.transition_jvp = transition_jvp;
    model.loglik = loglik;
    model.loglik_grad = loglik_grad;
    if ((s = otc_dpf_config_default_f64(&cfg)) != OTC_STATUS_OK) return fail("config", s);
    /* Detach: the log-weight tangents restart at each resampling, so the gradient
     * of an increment depends on a short window of the past, which is what an online
     * learner wants (the stop-gradient form is unbiased for ∇p but its weight tangents
     * accumulate over the whole run). */
    cfg.gradient = OTC_DPF_DETACH;
    otc_rng_seed(&rng, 1);
    otc_rng_seed(&sim, 2);
    for (i = 0; i < N; ++i) {
        x[i * D] = truth[0] + 0.3 * gauss(&rng);
        x[i * D + 1] = truth[1] + 0.3 * gauss(&rng);
    }
    if ((s = otc_dpf_init_f64(N, D, P, logw, tangent, &state, dll)) != OTC_STATUS_OK)
        return fail("init", s);

    printf("tick   scale   bias [m]   (truth: scale %.2f, bias %.2f m)\n", true_scale, true_bias);
    for (t = 0; t < ticks; ++t) {
        /* The robot drives a circle of radius 3 m; odometry reports the commanded
         * step, the wheels move it by true_scale times that (plus slip). */
        double a = 0.02 * t, step[2] = {-0.06 * sin(a), 0.06 * cos(a)}, gamma;
        int j, k;
        for (k = 0; k < 2; ++k) {
            data.u[k] = step[k];
            truth[k] += true_scale * step[k] + sigma_x * gauss(&sim);
        }
        for (j = 0; j < 3; ++j)
            data.r[j] = hypot(truth[0] - beacon[j][0], truth[1] - beacon[j][1]) + true_bias +
                        sigma_r * gauss(&sim);
        /* Truncated forward mode: the tangents are the caller's memory, so fading them
         * by FORGET per tick makes ∂x/∂θ weigh the last ~1/(1 − FORGET) ticks only.
         * With ∂x'/∂x = I the untruncated ∂x/∂scale is the whole odometry path, which
         * the observations have long since overridden (the filter's resampling is what
         * forgets it, and the detach gradient does not see that). */
        for (i = 0; i < (int)(sizeof tangent / sizeof tangent[0]); ++i) tangent[i] *= FORGET;
        s = otc_dpf_step_f64(&cfg, &model, theta, P, N, D, &rng, x, logw, tangent, &state,
                             dll, ws, sizeof ws, mean, dmean, &report);
        if (s != OTC_STATUS_OK) return fail("otc_dpf_step_f64", s);
        /* Recursive maximum likelihood on the newest increment of ℓ̂. */
        gamma = 2e-3 / pow(1.0 + t / 100.0, 0.6);
        for (k = 0; k < P; ++k) {
            double g = dll[k] - prev[k];
            prev[k] = dll[k];
            if (g > 50) g = 50; /* one bad tick must not throw θ far */
            if (g < -50) g = -50;
            theta[k] += gamma * g;
        }
        /* Polyak–Ruppert averaging over the second half smooths the gradient noise. */
        if (2 * t >= ticks) {
            ++averaged;
            for (k = 0; k < P; ++k) avg[k] += (theta[k] - avg[k]) / averaged;
        }
        if (t % (ticks / 12) == 0 || t == ticks - 1)
            printf("%4d   %.4f   %+.4f\n", t, theta[0], theta[1]);
    }
    printf("learned (average of the second half): scale %.3f (truth %.2f), bias %.3f m "
           "(truth %.2f m); %llu resamplings\n",
           avg[0], true_scale, avg[1], true_bias, (unsigned long long)state.resamples);
    /* The example checks itself: within a few percent of the truth. */
    if (fabs(avg[0] - true_scale) > 0.05 || fabs(avg[1] - true_bias) > 0.05) {
        fprintf(stderr, "did not converge\n");
        return 1;
    }
    return 0;
}
