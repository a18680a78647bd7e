/* Online learning in a control loop on a Cortex-M4F: the firmware version of
 * examples-c/dpf_online_learning.c, N = 64, f32 throughout, static buffers only,
 * output through semihosting. Runs under QEMU (mps2-an386):
 *   make -C examples-c/firmware all && qemu-system-arm ... -kernel dpf_learning.elf
 *
 * A robot drives a circle of radius 3 m, dead-reckoning from odometry and ranging three
 * beacons. Its odometry over-reads distance by an unknown scale and its range sensor
 * has an unknown bias; it starts believing scale 1 and bias 0. θ = (scale, bias):
 *   transition  x' = x + θ₀·u_t + σ_x ξ       (u_t the odometry increment, ξ ~ N(0, I₂))
 *   observation r_j = ‖x − B_j‖ + θ₁ + σ_r η  (three beacons B_j)
 * Every tick one otc_dpf_step_f32 filters and carries the tangents ∂x/∂θ, ∂log w/∂θ
 * (detach at resampling, faded by 0.85 per tick: a truncated forward mode), and
 * recursive maximum likelihood steps θ along the newest increment of ∂ℓ̂/∂θ,
 * θ ← θ + γ_t (∇ℓ̂_t − ∇ℓ̂_{t−1}), γ_t = 2e-3·(1 + t/100)^(−5/8), each component
 * clipped to ±50. The estimate is the average of θ over the second half.
 *
 * Same model, seeds, fading, clipping and averaging as the host example; the
 * differences: f32, N = 64, the noise drawn in float (otc_rng_normal_f32), the heading
 * kept as a rotating unit vector (no sinf/cosf), and the schedule's exponent 5/8 (0.6
 * on the host) so that γ_t is square roots and divisions only: every operation of this
 * file is then correctly rounded IEEE arithmetic (compiled with -ffp-contract=off), and
 * the same source built for the host computes the same bits.
 *
 * The run fails unless the averaged estimate is within 0.05 of the truth for the scale
 * (1.15) and 0.10 m for the bias (0.30 m), and the painted stack region held the
 * step's stack. The tolerances are what this program reaches at N = 64 on the host
 * over 64 seeds (SEED = 1, 3, ..., 127; 0.05 s each): the scale 1.147 ± 0.011 (mean ±
 * standard deviation), worst 0.025 from the truth; the bias 0.307 ± 0.015 m, worst
 * 0.080 m. A learner that does not learn stays at (1, 0), 0.15 and 0.30 m away. Seed 1
 * gives 1.133 and 0.305 m (the double host example at N = 64: 1.147 and 0.304 m).
 *
 * `bash scripts/embedded.sh test` also builds this file for the host
 * (`make -C examples-c/firmware host`) and fails unless the firmware prints the same
 * lines, the bit patterns of the final estimates included: the Cortex-M filter step
 * (systematic resampling, libm in Rust, the FPU's square root) computes the host's
 * bits.
 *
 * `bash scripts/embedded.sh numbers` runs it under the QEMU instruction-count plugin:
 * the firmware calls otcore_icount_mark() before and after the controller's part of
 * each of the first MEASURED ticks (tangent fading, otc_dpf_step_f32 with its model
 * callbacks, the RML update; not the simulated robot) and around one direct call of
 * each of the four callbacks, and the script prints the instructions per tick. */
#include <stdint.h>
#include <string.h>

#include "otcore.h"
#include "semihost.h"
#include "example.h"

enum { N = 64, D = 2, P = 2, K = 2, BEACONS = 3, TICKS = 6000, REPORT = 500, MEASURED = 120 };
#define FORGET 0.85f
#ifndef SEED
#define SEED 1 /* the filter's stream; the simulator's is SEED + 1 */
#endif
static const float tolerance_scale = 0.05f, tolerance_bias = 0.10f;

/* Sized at compile time by the header's macros (checked against the queries at
 * start-up): N (k + 2d + 1 + (d + 1) P) + d P + d + P floats of workspace, N (d + 1) P
 * of tangents. */
#define WS_BYTES OTC_DPF_WORKSPACE_SIZE_F32(N, D, P, K)
#define TANGENT_ELEMS OTC_DPF_TANGENT_ELEMS(N, D, P)
_Static_assert(WS_BYTES == 3360, "dpf step workspace, N = 64, d = 2, P = 2, k = 2, f32");
_Static_assert(TANGENT_ELEMS == 384, "dpf tangents, N = 64, d = 2, P = 2");

static const float beacon[BEACONS][D] = {{-4.0f, -3.0f}, {5.0f, -2.0f}, {0.0f, 5.0f}};
static const float sigma_x = 0.05f, sigma_r = 0.2f;
static const float true_scale = 1.15f, true_bias = 0.30f;

static float x[N * D], logw[N], tangent[TANGENT_ELEMS];
static unsigned char ws[WS_BYTES] __attribute__((aligned(OTC_WORKSPACE_ALIGN)));
static otc_rng rng, sim;
static otc_dpf_config_f32 config;
static otc_dpf_model_f32 model;
static otc_pf_state_f32 state;
static otc_pf_report_f32 report;

/* The instruction-count plugin records the count each time this function runs. */
__attribute__((noinline)) void otcore_icount_mark(void);
__attribute__((noinline)) void otcore_icount_mark(void) { __asm__ volatile("" ::: "memory"); }

/* What the callbacks need: this tick's odometry and ranges. */
typedef struct {
    float u[D];
    float r[BEACONS];
} tick_data;

static float sqrt_f(float v) { return __builtin_sqrtf(v); }

static int32_t transition(void *user, size_t n, size_t d, size_t p, const float *th,
                          const float *xs, const float *xi, float *out) {
    const tick_data *t = user;
    size_t i, k;
    (void)p;
    for (i = 0; i < n; ++i)
        for (k = 0; k < d; ++k)
            out[i * d + k] = xs[i * d + k] + th[0] * t->u[k] + sigma_x * xi[i * d + k];
    return 0;
}

/* ∂x'/∂x = I, ∂x'/∂scale = u, ∂x'/∂bias = 0: dx' = dx + [u_k, 0] per row k. */
static int32_t transition_jvp(void *user, size_t n, size_t d, size_t p, const float *th,
                              const float *xs, const float *xi, const float *next,
                              const float *dx, float *dout) {
    const tick_data *t = user;
    size_t i, k;
    (void)th;
    (void)xs;
    (void)xi;
    (void)next;
    for (i = 0; i < n; ++i)
        for (k = 0; k < d; ++k) {
            dout[(i * d + k) * p] = dx[(i * d + k) * p] + t->u[k];
            dout[(i * d + k) * p + 1] = dx[(i * d + k) * p + 1];
        }
    return 0;
}

static int32_t loglik(void *user, size_t n, size_t d, size_t p, const float *th,
                      const float *xs, float *out) {
    const tick_data *t = user;
    size_t i, j;
    (void)p;
    for (i = 0; i < n; ++i) {
        float s = 0.0f;
        for (j = 0; j < BEACONS; ++j) {
            float dx0 = xs[i * d] - beacon[j][0], dx1 = xs[i * d + 1] - beacon[j][1];
            float e = (t->r[j] - sqrt_f(dx0 * dx0 + dx1 * dx1) - th[1]) / sigma_r;
            s += -0.5f * e * e;
        }
        out[i] = s;
    }
    return 0;
}

static int32_t loglik_grad(void *user, size_t n, size_t d, size_t p, const float *th,
                           const float *xs, float *gx, float *gth) {
    const tick_data *t = user;
    size_t i, j;
    for (i = 0; i < n; ++i) {
        gx[i * d] = gx[i * d + 1] = 0.0f;
        gth[i * p] = gth[i * p + 1] = 0.0f;
        for (j = 0; j < BEACONS; ++j) {
            float dx0 = xs[i * d] - beacon[j][0], dx1 = xs[i * d + 1] - beacon[j][1];
            float range = sqrt_f(dx0 * dx0 + dx1 * dx1);
            float e = (t->r[j] - range - th[1]) / (sigma_r * sigma_r);
            gx[i * d] += e * dx0 / range;
            gx[i * d + 1] += e * dx1 / range;
            gth[i * p + 1] += e;
        }
    }
    return 0;
}

/* The deepest stack use of one filter step (callbacks included), by painting. */
#define PAINT_BYTES 4096u
static uint32_t stack_bytes;

static int32_t step_measured(const float *theta, float *dll, float *mean, float *dmean) {
    uint32_t sp = stack_paint(PAINT_BYTES), used;
    int32_t status = otc_dpf_step_f32(&config, &model, theta, P, N, D, &rng, x, logw, tangent,
                                      &state, dll, ws, sizeof ws, mean, dmean, &report);
    used = stack_used(sp, PAINT_BYTES);
    if (used > stack_bytes) stack_bytes = used;
    return status;
}

static uint32_t bits(float v) {
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static void put_estimate(const char *label, float scale, float bias) {
    sh_puts(label);
    sh_puts("scale ");
    sh_put_fixed(scale, 4);
    sh_puts(", bias ");
    if (bias < 0.0f) {
        sh_puts("-");
        bias = -bias;
    } else {
        sh_puts("+");
    }
    sh_put_fixed(bias, 4);
    sh_puts(" m");
}

int main(void) {
    static tick_data data;
    float theta[P] = {1.0f, 0.0f}, dll[P], prev[P] = {0.0f, 0.0f}, mean[D], dmean[D * P];
    float truth[D] = {3.0f, 0.0f}, avg[P] = {0.0f, 0.0f}, noise[D + BEACONS];
    /* The heading a = 0.02 t as a rotating unit vector (cos a, sin a). */
    float ca = 1.0f, sa = 0.0f;
    const float cd = 0.99980001f, sd = 0.019998667f; /* cos 0.02, sin 0.02 */
    size_t need = 0;
    uint32_t averaged = 0, t, i;
    int32_t status;

    if (otc_version() != OTC_VERSION_NUMBER) return fail("version", 0);
    status = otc_dpf_workspace_size_f32(N, D, P, K, &need);
    if (status != OTC_STATUS_OK || need != WS_BYTES) return fail("dpf workspace", status);
    status = otc_dpf_tangent_len(N, D, P, &need);
    if (status != OTC_STATUS_OK || need != TANGENT_ELEMS) return fail("dpf tangents", status);

    memset(&model, 0, sizeof model);
    model.struct_size = sizeof model;
    model.user = &data;
    model.noise_dim = K;
    model.transition = transition;
    model.transition_jvp = transition_jvp;
    model.loglik = loglik;
    model.loglik_grad = loglik_grad;
    status = otc_dpf_config_default_f32(&config);
    if (status != OTC_STATUS_OK) return fail("config", status);
    /* Detach: the log-weight tangents restart at each resampling, so an increment's
     * gradient depends on a short window of the past (docs/differentiable_filter.md). */
    config.gradient = OTC_DPF_DETACH;
    state.struct_size = sizeof state;
    report.struct_size = sizeof report;
    if (otc_rng_seed(&rng, SEED) != OTC_STATUS_OK || otc_rng_seed(&sim, SEED + 1) != OTC_STATUS_OK)
        return fail("rng", 0);
    status = otc_rng_normal_f32(&rng, x, N * D);
    if (status != OTC_STATUS_OK) return fail("init", status);
    for (i = 0; i < N; ++i) {
        x[i * D] = truth[0] + 0.3f * x[i * D];
        x[i * D + 1] = truth[1] + 0.3f * x[i * D + 1];
    }
    status = otc_dpf_init_f32(N, D, P, logw, tangent, &state, dll);
    if (status != OTC_STATUS_OK) return fail("dpf init", status);

    put_estimate("truth: ", true_scale, true_bias);
    sh_puts("; N = 64, f32\n");
    for (t = 0; t < TICKS; ++t) {
        /* The robot drives the circle; odometry reports the commanded step, the wheels
         * move it by true_scale times that (plus slip). */
        float step[D] = {-0.06f * sa, 0.06f * ca}, u, gamma, c;
        uint32_t j, k;
        status = otc_rng_normal_f32(&sim, noise, D + BEACONS);
        if (status != OTC_STATUS_OK) return fail("simulation noise", status);
        for (k = 0; k < D; ++k) {
            data.u[k] = step[k];
            truth[k] += true_scale * step[k] + sigma_x * noise[k];
        }
        for (j = 0; j < BEACONS; ++j) {
            float dx0 = truth[0] - beacon[j][0], dx1 = truth[1] - beacon[j][1];
            data.r[j] = sqrt_f(dx0 * dx0 + dx1 * dx1) + true_bias + sigma_r * noise[D + j];
        }
        c = ca * cd - sa * sd;
        sa = sa * cd + ca * sd;
        ca = c;

        /* The controller's tick: fade the tangents (truncated forward mode: ∂x/∂θ
         * weighs the last ~1/(1 − FORGET) ticks), filter, step θ. */
        if (t < MEASURED) otcore_icount_mark();
        for (i = 0; i < TANGENT_ELEMS; ++i) tangent[i] *= FORGET;
        status = step_measured(theta, dll, mean, dmean);
        if (status != OTC_STATUS_OK) return fail("otc_dpf_step_f32", status);
        /* Recursive maximum likelihood on the newest increment of ℓ̂:
         * γ_t = 2e-3 / u^(5/8), u = 1 + t/100, as u^(1/2)·u^(1/8). */
        u = 1.0f + (float)t / 100.0f;
        gamma = 2e-3f / (sqrt_f(u) * sqrt_f(sqrt_f(sqrt_f(u))));
        for (k = 0; k < P; ++k) {
            float g = dll[k] - prev[k];
            prev[k] = dll[k];
            if (g > 50.0f) g = 50.0f; /* one bad tick must not throw θ far */
            if (g < -50.0f) g = -50.0f;
            theta[k] += gamma * g;
        }
        if (t < MEASURED) otcore_icount_mark();

        /* Polyak–Ruppert averaging over the second half smooths the gradient noise. */
        if (2 * t >= TICKS) {
            ++averaged;
            for (k = 0; k < P; ++k) avg[k] += (theta[k] - avg[k]) / (float)averaged;
        }
        if (t % REPORT == 0 || t == TICKS - 1) {
            sh_puts("tick ");
            sh_put_u32(t);
            put_estimate(": ", theta[0], theta[1]);
            sh_puts("\n");
        }
    }

    /* The model alone: one call of each callback on the final particles (with
     * the tangents as the JVP's input and the particles as its noise). */
    otcore_icount_mark();
    (void)transition(&data, N, D, P, theta, x, x, (float *)(void *)ws);
    (void)transition_jvp(&data, N, D, P, theta, x, x, x, tangent, (float *)(void *)ws);
    (void)loglik(&data, N, D, P, theta, x, (float *)(void *)ws);
    (void)loglik_grad(&data, N, D, P, theta, x, (float *)(void *)ws,
                      (float *)(void *)ws + N * D);
    otcore_icount_mark();

    put_estimate("learned (average of the second half): ", avg[0], avg[1]);
    sh_puts("; truth: scale 1.1500, bias +0.3000 m; tolerance 0.05, 0.10 m\n");
    sh_puts("ticks ");
    sh_put_u32(TICKS);
    sh_puts(", resamplings ");
    sh_put_u32((uint32_t)state.resamples);
    sh_puts(", log-likelihood ");
    sh_put_fixed(state.log_likelihood, 2);
    sh_puts("; bits of the scale, bias, log-likelihood: ");
    sh_put_u32(bits(avg[0]));
    sh_puts(" ");
    sh_put_u32(bits(avg[1]));
    sh_puts(" ");
    sh_put_u32(bits(state.log_likelihood));
    sh_puts("\nmeasured ticks ");
    sh_put_u32(MEASURED);
    sh_puts(", step stack bytes ");
    sh_put_u32(stack_bytes);
    sh_puts("\n");
    if (avg[0] - true_scale > tolerance_scale || true_scale - avg[0] > tolerance_scale ||
        avg[1] - true_bias > tolerance_bias || true_bias - avg[1] > tolerance_bias ||
        stack_bytes + 64u >= PAINT_BYTES)
        return fail("dpf learning", 0);
    sh_puts("dpf_learning: ok\n");
    return 0;
}
