/* A 64-particle bootstrap filter with systematic resampling from otcore's building
 * blocks (random stream, log-weight normalisation, ancestor draw): the route for a
 * firmware that needs no OT resampling, which links a few KB of otcore instead of the
 * whole otc_pf_step_f32 (docs/embedded.md, "Pay for what you link").
 *
 * A target moves on a circle (radius 1 m, 0.5 rad/s), a position sensor measures it at
 * 100 Hz with noise 0.05 m; the run fails unless the RMSE stays under 0.05 m. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "otcore.h"
#include "semihost.h"

enum { N = 64, D = 2, TICKS = 300 };
static const float dt = 0.01f, q_sigma = 0.02f, r_sigma = 0.05f;

static float x[N * D], next[N * D], logw[N], noise[N * D];
static size_t ancestors[N];
static otc_rng rng, meas_rng;

static int fail(const char *what, int32_t status) {
    sh_puts("systematic_filter: ");
    sh_puts(what);
    sh_puts(" failed, status ");
    sh_put_i32(status); /* otc_status_str() would add 0.8 KB of strings */
    sh_puts("\n");
    sh_exit(0);
}

int main(void) {
    float sq = 0.0f, log_sum, ess, z[D];
    uint32_t tick, resamples = 0;
    size_t i;
    int32_t status;

    if (otc_version() != OTC_VERSION_NUMBER) fail("version", 0);
    if ((status = otc_rng_seed(&rng, 1)) != OTC_STATUS_OK) fail("seed", status);
    if ((status = otc_rng_seed(&meas_rng, 2)) != OTC_STATUS_OK) fail("seed", status);
    if ((status = otc_rng_normal_f32(&rng, x, N * D)) != OTC_STATUS_OK) fail("init", status);
    for (i = 0; i < N; ++i) {
        x[i * D] = 1.0f + 0.1f * x[i * D];
        x[i * D + 1] = 0.1f * x[i * D + 1];
        logw[i] = 0.0f;
    }
    for (tick = 1; tick <= TICKS; ++tick) {
        const float t = (float)tick * dt;
        const float px = cosf(0.5f * t), py = sinf(0.5f * t);
        const float vx = -0.5f * py, vy = 0.5f * px;
        float mx = 0.0f, my = 0.0f;
        /* Measurement. */
        if ((status = otc_rng_normal_f32(&meas_rng, z, D)) != OTC_STATUS_OK) fail("measure", status);
        z[0] = px + r_sigma * z[0];
        z[1] = py + r_sigma * z[1];
        /* Predict: known velocity plus process noise. */
        if ((status = otc_rng_normal_f32(&rng, noise, N * D)) != OTC_STATUS_OK) fail("noise", status);
        for (i = 0; i < N; ++i) {
            x[i * D] += vx * dt + q_sigma * noise[i * D];
            x[i * D + 1] += vy * dt + q_sigma * noise[i * D + 1];
            const float ex = x[i * D] - z[0], ey = x[i * D + 1] - z[1];
            logw[i] += -(ex * ex + ey * ey) / (2.0f * r_sigma * r_sigma);
        }
        if ((status = otc_log_weights_normalise_f32(logw, N, &log_sum, &ess)) != OTC_STATUS_OK)
            fail("normalise", status);
        for (i = 0; i < N; ++i) {
            const float w = expf(logw[i]);
            mx += w * x[i * D];
            my += w * x[i * D + 1];
        }
        sq += (mx - px) * (mx - px) + (my - py) * (my - py);
        if (ess < 0.5f * N) {
            status = otc_resample_ancestors_f32(OTC_RESAMPLE_SYSTEMATIC, logw, N, &rng, ancestors);
            if (status != OTC_STATUS_OK) fail("resample", status);
            for (i = 0; i < N; ++i) {
                memcpy(&next[i * D], &x[ancestors[i] * D], D * sizeof(float));
                logw[i] = 0.0f;
            }
            memcpy(x, next, sizeof x);
            ++resamples;
        }
    }
    const float rmse = sqrtf(sq / TICKS);
    sh_puts("ticks 300, RMSE ");
    sh_put_fixed(rmse, 4);
    sh_puts(" m, systematic resamplings ");
    sh_put_u32(resamples);
    sh_puts("\n");
    if (!(rmse < 0.05f)) fail("tracking (RMSE >= 0.05 m)", 0);
    sh_puts("systematic_filter: ok\n");
    sh_exit(1);
}
