/* A flow-matching "policy" in a control loop on a Cortex-M4F: the firmware version of
 * examples-c/flow_policy.c, static buffers only, f32 throughout, output through
 * semihosting. Runs under QEMU (mps2-an386):
 *   make -C examples-c/firmware all && qemu-system-arm ... -kernel flow_policy.elf
 *
 * A point robot drives to a goal at (4, 0) past an obstacle at (2, 0). Every tick
 * (50 ms) it samples its velocity command from a bimodal policy (pass above or below
 * the obstacle): the closed-form flow-matching velocity of a 2-component Gaussian
 * mixture whose means depend on the robot's position, integrated from t = 1 to t = 0
 * by 5 midpoint steps on a shift-0.3 grid, 10 model evaluations per action
 * (otc_sde_flow_sample_f32).
 *
 * The run fails unless
 *   - the robot reaches the goal;
 *   - the first 8 actions agree with the host example's (same seeds, same grid;
 *     printed by examples-c/flow_policy.c) to 1e-4 m/s: both are f32 samplers around
 *     a model the host evaluates in double and the firmware in float (relative
 *     rounding ~1e-6 per evaluation on actions of size ~1), while a different mode or
 *     a wrong step is off by the action std 0.05 or more;
 *   - the actions sit at the right distance from their modes: for exact draws of a
 *     2-D Gaussian the distance in std units averages sqrt(pi/2) = 1.25 (Rayleigh);
 *     over the ~100 actions of a run its standard error is ~0.07, so [1.0, 1.5] holds
 *     for a correct sampler, while an over-concentrated one (0.79 on a uniform grid)
 *     or a wrong variance fails;
 *   - the painted stack region held the sampler's stack.
 *
 * `bash scripts/embedded.sh numbers` runs it under the QEMU instruction-count plugin:
 * the firmware calls otcore_icount_mark() before and after each of the first MEASURED
 * actions (the sampler call, model callback included) and around 10 direct calls of
 * the model, and the script prints the instructions per action. */
#include <math.h>
#include <stdint.h>

#include "otcore.h"
#include "semihost.h"
#include "example.h"

enum { D = 2, K = 2, STEPS = 5, TICKS = 400, FIRST = 8, MEASURED = 32 };
static const float dt = 0.05f, action_std = 0.05f;

/* otc_sde_workspace_size_f32(1, D): 6 n d + 3 n + 3 d floats for n = 1. */
#define WS_FLOATS (6 * D + 3 + 3 * D)
static float ws[WS_FLOATS] __attribute__((aligned(OTC_WORKSPACE_ALIGN)));
static float grid[STEPS + 1];

/* examples-c/flow_policy.c's first 8 actions (vx, vy) on the host. */
static const float host_first[FIRST * D] = {
    0.867067f, -0.315311f, 0.856151f, -0.421717f, 0.947312f, -0.315383f, 0.855804f, -0.338056f,
    0.918324f, -0.341214f, 0.836826f, -0.287814f, 0.964362f, 0.443171f, 0.881833f, 0.565389f};

/* The instruction-count plugin records the count each time this function runs. */
__attribute__((noinline)) void otcore_icount_mark(void);
__attribute__((noinline)) void otcore_icount_mark(void) { __asm__ volatile("" ::: "memory"); }

/* The policy at the current observation: K modes with log-weights, means, variance. */
typedef struct {
    float logw[K];
    float mu[K * D];
    float var;
    uint32_t calls;
} policy;

/* Velocity of the linear interpolant x_t = (1 - t) a + t eps for
 * a ~ sum_k w_k N(mu_k, var I): component k has marginal N((1 - t) mu_k, V I),
 * V = (1 - t)^2 var + t^2, and velocity (x (t - (1 - t) var) - t mu_k) / V; the
 * mixture's is the posterior-weighted sum (equal variances: the log-determinants
 * cancel in the posterior). */
static int32_t policy_velocity(void *user, size_t n, size_t d, const float *x, const float *t,
                               float *out) {
    policy *p = user;
    size_t i, j, k;
    p->calls += 1;
    for (i = 0; i < n; ++i) {
        const float a = 1.0f - t[i], v = a * a * p->var + t[i] * t[i];
        float post[K], mx = -INFINITY, total = 0.0f;
        for (k = 0; k < K; ++k) {
            float sq = 0.0f;
            for (j = 0; j < d; ++j) {
                float e = x[i * d + j] - a * p->mu[k * d + j];
                sq += e * e;
            }
            post[k] = p->logw[k] - 0.5f * sq / v;
            if (post[k] > mx) mx = post[k];
        }
        for (k = 0; k < K; ++k) total += (post[k] = expf(post[k] - mx));
        for (j = 0; j < d; ++j) {
            float acc = 0.0f;
            for (k = 0; k < K; ++k)
                acc += post[k] * (x[i * d + j] * (t[i] - a * p->var) - t[i] * p->mu[k * d + j]);
            out[i * d + j] = acc / (total * v);
        }
    }
    return 0;
}

/* The policy's modes at position (px, py): head for the goal past the obstacle through
 * a waypoint above or below it while it is ahead, then straight; prefer the side the
 * robot is already on. */
static void observe(policy *p, float px, float py) {
    int k;
    float w0;
    for (k = 0; k < K; ++k) {
        float tx = 4.0f, ty = 0.0f, dx, dy, norm;
        if (px < 2.0f) {
            tx = 2.0f;
            ty = k == 0 ? 0.8f : -0.8f;
        }
        dx = tx - px;
        dy = ty - py;
        norm = sqrtf(dx * dx + dy * dy) + 1e-6f;
        p->mu[k * D] = dx / norm;
        p->mu[k * D + 1] = dy / norm;
    }
    w0 = 1.0f / (1.0f + expf(-6.0f * py));
    p->logw[0] = logf(w0);
    p->logw[1] = logf(1.0f - w0);
    p->var = action_std * action_std;
}

/* The deepest stack use of one action, by painting. */
#define PAINT_BYTES 4096u
static uint32_t stack_bytes;

static int32_t sample_action(policy *pol, float *action, uint32_t tick, uint64_t *evals) {
    uint32_t sp = stack_paint(PAINT_BYTES), used;
    int32_t status;
    if (tick < MEASURED) otcore_icount_mark();
    status = otc_sde_flow_sample_f32(OTC_SDE_FLOW_MIDPOINT, 0.0, policy_velocity, pol,
                                     OTC_SDE_OUTPUT_VELOCITY, grid, STEPS + 1, action, 1, D, 42,
                                     tick, ws, sizeof ws, evals);
    if (tick < MEASURED) otcore_icount_mark();
    used = stack_used(sp, PAINT_BYTES);
    if (used > stack_bytes) stack_bytes = used;
    return status;
}

int main(void) {
    static policy pol;
    otc_sde_process vp;
    float px = 0.0f, py = 0.0f, action[D], mode_dist = 0.0f, worst = 0.0f, out[D];
    size_t need = 0;
    uint64_t evals = 0;
    uint32_t tick, left = 0, right = 0, i;
    int reached = 0;
    int32_t status;

    if (otc_version() != OTC_VERSION_NUMBER) return fail("version", 0);
    status = otc_sde_workspace_size_f32(1, D, &need);
    if (status != OTC_STATUS_OK || need != sizeof ws) return fail("workspace", status);
    status = otc_sde_process_default(OTC_SDE_VP, &vp);
    if (status != OTC_STATUS_OK) return fail("process", status);
    /* Shift 0.3 (< 1) puts the steps near t = 0, where the narrow modes form. */
    status = otc_sde_flow_grid_f32(0.3, 1.0, 0.0, grid, STEPS + 1);
    if (status != OTC_STATUS_OK) return fail("grid", status);

    for (tick = 0; tick < TICKS && !reached; ++tick) {
        float d0, d1;
        observe(&pol, px, py);
        /* The prior draw N(0, I) from the library's counter-based noise (sample = tick). */
        status = otc_sde_prior_sample_f32(&vp, 42, tick, 1, D, action);
        if (status != OTC_STATUS_OK) return fail("prior", status);
        status = sample_action(&pol, action, tick, &evals);
        if (status != OTC_STATUS_OK) return fail("flow sample", status);
        if (evals != 2 * STEPS) return fail("evaluations", 0);
        if (tick < FIRST)
            for (i = 0; i < D; ++i) {
                float e = fabsf(action[i] - host_first[tick * D + i]);
                if (e > worst) worst = e;
            }
        d0 = hypotf(action[0] - pol.mu[0], action[1] - pol.mu[1]);
        d1 = hypotf(action[0] - pol.mu[2], action[1] - pol.mu[3]);
        if (px < 2.0f) (d0 < d1 ? ++left : ++right);
        mode_dist += (d0 < d1 ? d0 : d1) / action_std;
        px += dt * action[0];
        py += dt * action[1];
        reached = hypotf(px - 4.0f, py) < 0.1f;
    }
    mode_dist /= (float)tick;

    /* The model alone: 10 calls at the grid's times (the cost the sampler adds is the
     * rest of an action's instructions). */
    otcore_icount_mark();
    for (i = 0; i < 2 * STEPS; ++i) {
        float t = grid[i / 2];
        (void)policy_velocity(&pol, 1, D, action, &t, out);
    }
    otcore_icount_mark();

    sh_puts("flow policy: ticks ");
    sh_put_u32(tick);
    sh_puts(reached ? ", goal reached" : ", goal NOT reached");
    sh_puts(" at (");
    sh_put_fixed(px, 3);
    sh_puts(", ");
    sh_put_fixed(py, 3);
    sh_puts("), before the obstacle ");
    sh_put_u32(left);
    sh_puts(" left / ");
    sh_put_u32(right);
    sh_puts(" right\n");
    sh_puts("evaluations per action ");
    sh_put_u32((uint32_t)evals);
    sh_puts(", mean distance of an action to its mode ");
    sh_put_fixed(mode_dist, 2);
    sh_puts(" std (exact draws 1.25), first ");
    sh_put_u32(FIRST);
    sh_puts(" actions within ");
    sh_put_fixed(worst * 1e6f, 1);
    sh_puts("e-6 of the host's\n");
    sh_puts("measured actions ");
    sh_put_u32(tick < MEASURED ? tick : MEASURED);
    sh_puts(", action stack bytes ");
    sh_put_u32(stack_bytes);
    sh_puts("\n");
    if (!reached || worst > 1e-4f || mode_dist < 1.0f || mode_dist > 1.5f ||
        stack_bytes + 64u >= PAINT_BYTES)
        return fail("flow policy", 0);
    sh_puts("flow_policy: ok\n");
    return 0;
}
