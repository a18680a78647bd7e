/* A flow-matching "policy" in a control loop: a point robot drives to a goal past an
 * obstacle; every tick it samples its next velocity command from a policy whose action
 * distribution is bimodal (pass the obstacle on the left or on the right), written as
 * the closed-form flow-matching velocity of a 2-component Gaussian mixture whose
 * means depend on the robot's position. Each action costs 10 model evaluations
 * (5 midpoint steps from t = 1 to t = 0 on a shift-0.3 grid, otc_sde_flow_sample_f32),
 * static buffers only.
 *
 *   make -C examples-c run      (or build/run flow_policy alone)
 *
 * Prints the trajectory summary, how often each mode was chosen, how far the sampled
 * actions fall from the policy's modes (against exact draws from the same mixture),
 * the first actions (the firmware version, firmware/flow_policy.c, runs the same loop
 * and checks its actions against these) and the time per action. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "otcore.h"

#define D 2           /* action dimension: velocity command (vx, vy) */
#define K 2           /* policy modes: pass left, pass right */
#define STEPS 5       /* midpoint steps: 2 evaluations each */
#define TICKS 400
#define DT 0.05f      /* s */
#define ACTION_STD 0.05f
#define FIRST 8       /* actions printed */

/* The policy at the current observation: K modes with weights, means, std. */
typedef struct {
    float w[K];
    float mu[K * D];
    float var;
    int calls;
} policy;

/* Velocity of the linear interpolant x_t = (1 - t) a + t eps for a ~ sum_k w_k N(mu_k, var I):
 * component k has marginal N((1 - t) mu_k, V I), V = (1 - t)^2 var + t^2, and velocity
 * (x (t - (1 - t) var) - t mu_k) / V; the mixture's is the posterior-weighted sum. */
static int32_t policy_velocity(void *user, size_t n, size_t d, const float *x, const float *t,
                               float *out) {
    policy *p = (policy *)user;
    size_t i, j, k;
    p->calls += 1;
    for (i = 0; i < n; ++i) {
        double a = 1.0 - t[i], v = a * a * p->var + (double)t[i] * t[i];
        double logit[K], mx = -INFINITY, total = 0.0;
        for (k = 0; k < K; ++k) {
            double sq = 0.0;
            for (j = 0; j < d; ++j) {
                double e = x[i * d + j] - a * p->mu[k * d + j];
                sq += e * e;
            }
            logit[k] = log(p->w[k]) - 0.5 * sq / v; /* equal variances: log det cancels */
            if (logit[k] > mx) mx = logit[k];
        }
        for (k = 0; k < K; ++k) total += (logit[k] = exp(logit[k] - mx));
        for (j = 0; j < d; ++j) {
            double acc = 0.0;
            for (k = 0; k < K; ++k)
                acc += logit[k] / total *
                       (x[i * d + j] * (t[i] - a * p->var) - t[i] * p->mu[k * d + j]) / v;
            out[i * d + j] = (float)acc;
        }
    }
    return 0;
}

/* The policy's modes at position (px, py): head for the goal at (4, 0) past an obstacle
 * at (2, 0), through a waypoint above or below it while it is ahead, then straight. */
static void observe(policy *p, float px, float py) {
    const float goal[2] = {4.0f, 0.0f}, speed = 1.0f;
    int k;
    for (k = 0; k < K; ++k) {
        float tx = goal[0], ty = goal[1], dx, dy, norm;
        if (px < 2.0f) {
            tx = 2.0f;
            ty = k == 0 ? 0.8f : -0.8f;
        }
        dx = tx - px;
        dy = ty - py;
        norm = sqrtf(dx * dx + dy * dy) + 1e-6f;
        p->mu[k * D] = speed * dx / norm;
        p->mu[k * D + 1] = speed * dy / norm;
    }
    /* Prefer the side the robot is already on. */
    p->w[0] = 1.0f / (1.0f + expf(-6.0f * py));
    p->w[1] = 1.0f - p->w[0];
    p->var = ACTION_STD * ACTION_STD;
}

static double seconds(void) { return (double)clock() / CLOCKS_PER_SEC; }

int main(void) {
    static float grid[STEPS + 1];
    static float ws[64];
    policy pol;
    float px = 0.0f, py = 0.0f, action[D], first[FIRST * D];
    size_t ws_bytes = 0;
    uint64_t evals = 0, total_evals = 0;
    int tick, j, left = 0, right = 0, reached = -1;
    double err = 0.0, t0, elapsed;
    memset(&pol, 0, sizeof pol);
    if (otc_sde_workspace_size_f32(1, D, &ws_bytes) != OTC_STATUS_OK || ws_bytes > sizeof ws) {
        fprintf(stderr, "workspace too small\n");
        return 1;
    }
    /* Shift 0.3 (< 1) puts the steps near t = 0, where the narrow modes form: with the
     * uniform grid the 10-evaluation actions come out too concentrated (0.79 std from
     * their mode against 1.25 for exact draws). */
    if (otc_sde_flow_grid_f32(0.3, 1.0, 0.0, grid, STEPS + 1) != OTC_STATUS_OK) return 1;
    t0 = seconds();
    for (tick = 0; tick < TICKS && reached < 0; ++tick) {
        int32_t s;
        double d0, d1;
        observe(&pol, px, py);
        /* Prior draw N(0, I) from the library's counter-based noise (VP prior). */
        {
            otc_sde_process vp;
            otc_sde_process_default(OTC_SDE_VP, &vp);
            otc_sde_prior_sample_f32(&vp, 42, (uint64_t)tick, 1, D, action);
        }
        s = otc_sde_flow_sample_f32(OTC_SDE_FLOW_MIDPOINT, 0.0, policy_velocity, &pol,
                                    OTC_SDE_OUTPUT_VELOCITY, grid, STEPS + 1, action, 1, D, 42,
                                    (uint64_t)tick, ws, ws_bytes, &evals);
        if (s != OTC_STATUS_OK) {
            fprintf(stderr, "tick %d: %s\n", tick, otc_status_str(s));
            return 1;
        }
        total_evals += evals;
        if (tick < FIRST) memcpy(first + tick * D, action, sizeof action);
        /* Which mode did the action pick, and how far from it is it (in std units)? */
        d0 = hypot(action[0] - pol.mu[0], action[1] - pol.mu[1]);
        d1 = hypot(action[0] - pol.mu[2], action[1] - pol.mu[3]);
        if (px < 2.0f) (d0 < d1 ? ++left : ++right);
        err += (d0 < d1 ? d0 : d1) / ACTION_STD;
        px += DT * action[0];
        py += DT * action[1];
        if (hypot(px - 4.0f, py) < 0.1) reached = tick;
    }
    elapsed = seconds() - t0;
    printf("flow-matching policy, %d evaluations per action (%d midpoint steps)\n",
           (int)(total_evals / (uint64_t)tick), STEPS);
    printf("ticks: %d, goal %s (final position %.3f, %.3f)\n", tick,
           reached >= 0 ? "reached" : "not reached", px, py);
    printf("before the obstacle: %d actions pass left, %d right\n", left, right);
    /* For exact draws of a 2-D Gaussian the distance to the mean in std units averages
     * sqrt(pi/2) = 1.25 (Rayleigh). */
    printf("mean distance of an action to its mode: %.2f std (exact draws: 1.25)\n",
           err / tick);
    printf("first %d actions:", FIRST);
    for (j = 0; j < FIRST * D; ++j) printf(" %.6f", first[j]);
    printf("\n");
    printf("time per action: %.1f us (%d model calls per action)\n", 1e6 * elapsed / tick,
           pol.calls / tick);
    return reached >= 0 ? 0 : 1;
}
