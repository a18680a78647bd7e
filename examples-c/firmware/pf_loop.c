/* A particle filter with optimal-transport resampling in a fixed-rate loop on a
 * Cortex-M4F: all state in static buffers, no heap, output through semihosting. Runs
 * under QEMU (mps2-an386):
 *   make -C examples-c/firmware run
 *
 * A target moves on a circle (radius 1 m, 0.5 rad/s) and is observed at 100 Hz by
 * three range beacons (noise 0.05 m). Each tick is one otc_pf_step_f32 call:
 *   1. predict: the transition callback moves every particle by the known velocity
 *      plus process noise drawn from the library's random stream;
 *   2. update: the log-likelihood callback scores each particle against the ranges;
 *   3. resample: when the ESS falls below N/2, OT resampling (Corenflos et al. 2021)
 *      moves the particles to the entropic transport map of the weighted cloud.
 * Every 50 ticks, a Sinkhorn solve measures how far the belief moved since the last
 * report (entropic OT cost between the two particle clouds): the program links the
 * Sinkhorn solver, OT resampling and the filter driver. Built with
 * -DPF_LOOP_NO_REPORT (ot_filter.elf), it leaves the report out: the OT particle
 * filter alone. `bash scripts/embedded.sh numbers` reports the flash of both. The run
 * fails unless the filter tracks the target. */
#include <stdint.h>

#include "otcore.h"
#include "semihost.h"
#include "example.h"

enum { N = 64, D = 2, TICKS = 300, BEACONS = 3, REPORT = 50 };
/* One static workspace for the filter step and the Sinkhorn report, sized at compile
 * time by the header's macros (the queries give the same at run time: checked at
 * start-up). On Cortex-M (kernel width 4): 3 584 B for the step, 2 560 B for Sinkhorn. */
#define WS_BYTES OTC_MAX_SIZE(OTC_PF_WORKSPACE_SIZE_F32(N, D, OTC_RESAMPLE_OPTIMAL), \
                              OTC_SINKHORN_WORKSPACE_SIZE_F32(N, N, D))
_Static_assert(OTC_KERNEL_WIDTH != 4 || OTC_PF_WORKSPACE_SIZE_F32(N, D, OTC_RESAMPLE_OPTIMAL) == 3584,
               "filter step workspace, N = 64, d = 2, f32 (Cortex-M)");
_Static_assert(OTC_KERNEL_WIDTH != 4 || OTC_SINKHORN_WORKSPACE_SIZE_F32(N, N, D) == 2560,
               "Sinkhorn workspace, 64 x 64, d = 2, f32 (Cortex-M)");
_Static_assert(OTC_PF_WORKSPACE_SIZE_F32(N, D, OTC_RESAMPLE_SYSTEMATIC) == N * (D + 1) * sizeof(float),
               "filter step workspace without OT: N (d + 1) floats");

static const float beacon[BEACONS][D] = {{-2.0f, -2.0f}, {2.0f, -2.0f}, {0.0f, 2.5f}};
static const float dt = 0.01f, q_sigma = 0.02f, r_sigma = 0.05f;

static float x[N * D], logw[N], mean[D], cov[D * D];
static float last[N * D], uniform[N];
#ifndef PF_LOOP_NO_REPORT
static float f[N], g[N];
#endif
static unsigned char ws[WS_BYTES] __attribute__((aligned(OTC_WORKSPACE_ALIGN)));
static otc_rng rng, meas_rng;
static otc_pf_config_f32 config;
static otc_pf_state_f32 state;
static otc_pf_report_f32 report;

/* What the callbacks need: this tick's velocity and measured ranges. */
struct tick {
    float vx, vy;
    float range[BEACONS];
};

static float sqrt_f(float v) { return __builtin_sqrtf(v); }

/* Transition: constant known velocity plus N(0, q_sigma²) per coordinate. */
static int32_t predict(void *user, size_t n, size_t d, const float *x_prev, float *x_next,
                       otc_rng *stream) {
    const struct tick *t = user;
    int32_t status = otc_rng_normal_f32(stream, x_next, n * d);
    size_t i;
    if (status != OTC_STATUS_OK) return status;
    for (i = 0; i < n; ++i) {
        x_next[i * d] = x_prev[i * d] + t->vx * dt + q_sigma * x_next[i * d];
        x_next[i * d + 1] = x_prev[i * d + 1] + t->vy * dt + q_sigma * x_next[i * d + 1];
    }
    return 0;
}

/* Log-likelihood of the ranges: independent Gaussians, up to a constant. */
static int32_t loglik(void *user, size_t n, size_t d, const float *xs, float *out) {
    const struct tick *t = user;
    size_t i, k;
    for (i = 0; i < n; ++i) {
        float s = 0.0f;
        for (k = 0; k < BEACONS; ++k) {
            float dx = xs[i * d] - beacon[k][0], dy = xs[i * d + 1] - beacon[k][1];
            float e = t->range[k] - sqrt_f(dx * dx + dy * dy);
            s -= e * e / (2.0f * r_sigma * r_sigma);
        }
        out[i] = s;
    }
    return 0;
}

/* The deepest stack use of one filter step with OT resampling, by painting. */
#define PAINT_BYTES 6144u
static uint32_t stack_bytes;

static int32_t step_measured(struct tick *t) {
    uint32_t sp = stack_paint(PAINT_BYTES), used;
    int32_t status = otc_pf_step_f32(&config, predict, loglik, t, N, D, &rng, x, logw, &state,
                                     ws, sizeof ws, mean, cov, &report);
    used = stack_used(sp, PAINT_BYTES);
    if (used > stack_bytes) stack_bytes = used;
    return status;
}

#ifndef PF_LOOP_NO_REPORT
/* Entropic OT cost between the particle clouds now and at the last report. */
static int32_t belief_shift(float *cost) {
    otc_ot_problem_f32 problem = {.struct_size = sizeof problem, .x = last, .y = x,
                                  .a = uniform, .b = uniform, .n = N, .m = N, .d = D,
                                  .scale = 1.0f};
    otc_sinkhorn_config_f32 sk;
    otc_sinkhorn_result_f32 result = {0};
    int32_t status = otc_sinkhorn_config_default_f32(&sk);
    if (status != OTC_STATUS_OK) return status;
    result.struct_size = sizeof result;
    status = otc_sinkhorn_solve_f32(&problem, &sk, ws, sizeof ws, f, N, g, N, &result);
    *cost = result.transport_cost;
    return status < 0 ? status : OTC_STATUS_OK;
}
#endif

int main(void) {
    struct tick t;
    float px = 1.0f, py = 0.0f, sq = 0.0f;
#ifndef PF_LOOP_NO_REPORT
    float shift = 0.0f;
#endif
    size_t need = 0;
    uint32_t tick, i, ot_iterations = 0;
    int32_t status;

    if (otc_version() != OTC_VERSION_NUMBER) return fail("version", 0);
    status = otc_pf_workspace_size_f32(N, D, OTC_RESAMPLE_OPTIMAL, &need);
    if (status != OTC_STATUS_OK || need != OTC_PF_WORKSPACE_SIZE_F32(N, D, OTC_RESAMPLE_OPTIMAL))
        return fail("pf workspace", status);
#ifndef PF_LOOP_NO_REPORT
    status = otc_sinkhorn_workspace_size_f32(N, N, D, &need);
    if (status != OTC_STATUS_OK || need != OTC_SINKHORN_WORKSPACE_SIZE_F32(N, N, D))
        return fail("sinkhorn workspace", status);
#endif
    status = otc_pf_config_default_f32(&config);
    if (status != OTC_STATUS_OK) return fail("config", status);
    config.resampler = OTC_RESAMPLE_OPTIMAL;
    config.ot.epsilon = 0.5f; /* the header's recommendation for N ≤ 100 */
    report.struct_size = sizeof report;
    if (otc_rng_seed(&rng, 1) != OTC_STATUS_OK || otc_rng_seed(&meas_rng, 2) != OTC_STATUS_OK)
        return fail("rng", 0);

    /* Initial belief: N(truth, 0.1²) per coordinate, uniform weights. */
    status = otc_rng_normal_f32(&rng, x, N * D);
    if (status != OTC_STATUS_OK) return fail("init", status);
    for (i = 0; i < N; ++i) {
        x[i * D] = px + 0.1f * x[i * D];
        x[i * D + 1] = py + 0.1f * x[i * D + 1];
        uniform[i] = 1.0f / N;
    }
    state.struct_size = sizeof state;
    status = otc_pf_init_f32(logw, N, &state);
    if (status != OTC_STATUS_OK) return fail("pf init", status);
    for (i = 0; i < N * D; ++i) last[i] = x[i];

    for (tick = 0; tick < TICKS; ++tick) {
        /* The truth turns by ω·dt = 0.5 rad/s × 10 ms = 5 mrad per tick. */
        float noise[BEACONS], ex, ey, c = 0.99998750f, s = 0.00499998f;
        float nx = c * px - s * py, ny = s * px + c * py;
        uint32_t k;
        t.vx = (nx - px) / dt;
        t.vy = (ny - py) / dt;
        px = nx;
        py = ny;
        status = otc_rng_normal_f32(&meas_rng, noise, BEACONS);
        if (status != OTC_STATUS_OK) return fail("measurement noise", status);
        for (k = 0; k < BEACONS; ++k) {
            float dx = px - beacon[k][0], dy = py - beacon[k][1];
            t.range[k] = sqrt_f(dx * dx + dy * dy) + r_sigma * noise[k];
        }

        status = step_measured(&t);
        if (status != OTC_STATUS_OK) return fail("pf step", status);
        ot_iterations += report.ot_iterations;
        ex = mean[0] - px;
        ey = mean[1] - py;
        sq += ex * ex + ey * ey;

        if ((tick + 1) % REPORT == 0) {
#ifndef PF_LOOP_NO_REPORT
            status = belief_shift(&shift);
            if (status != OTC_STATUS_OK) return fail("belief shift", status);
#endif
            for (i = 0; i < N * D; ++i) last[i] = x[i];
            sh_puts("tick ");
            sh_put_u32(tick + 1);
            sh_puts(": error ");
            sh_put_fixed(sqrt_f(ex * ex + ey * ey), 4);
            sh_puts(" m, ESS ");
            sh_put_fixed(report.ess, 1);
            sh_puts(", resamples ");
            sh_put_u32((uint32_t)state.resamples);
#ifndef PF_LOOP_NO_REPORT
            sh_puts(", belief shift (OT cost) ");
            sh_put_fixed(shift, 5);
#endif
            sh_puts("\n");
        }
    }
    sq = sqrt_f(sq / TICKS);
    sh_puts("ticks ");
    sh_put_u32(TICKS);
    sh_puts(", RMSE ");
    sh_put_fixed(sq, 4);
    sh_puts(" m, OT resamplings ");
    sh_put_u32((uint32_t)state.resamples);
    sh_puts(", OT iterations ");
    sh_put_u32(ot_iterations);
    sh_puts(", step stack bytes ");
    sh_put_u32(stack_bytes);
    sh_puts("\n");
    /* Pass: the filter tracks (ranges to 0.05 m from three beacons pin the position to
     * a few centimetres: 0.05 m RMSE is a comfortable bound, a lost track is metres
     * off), OT resampling ran, and the painted region held the step's stack. */
    if (sq > 0.05f || state.resamples == 0 || stack_bytes + 64u >= PAINT_BYTES)
        return fail("pf loop", 0);
    sh_puts("pf_loop: ok\n");
    return 0;
}
