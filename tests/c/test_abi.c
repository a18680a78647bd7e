/* The ABI, pinned: struct sizes and offsets (LP64), status values, constants, version
 * macros against the library, status strings. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

int main(void) {
    int32_t s;
    const int32_t statuses[] = {
        OTC_STATUS_OK,                  0,   OTC_STATUS_MAX_ITERATIONS,     1,
        OTC_STATUS_NULL_POINTER,        -1,  OTC_STATUS_LENGTH_MISMATCH,    -2,
        OTC_STATUS_EMPTY_INPUT,         -3,  OTC_STATUS_NON_FINITE_INPUT,   -4,
        OTC_STATUS_NEGATIVE_WEIGHT,     -5,  OTC_STATUS_ZERO_MASS,          -6,
        OTC_STATUS_MASS_MISMATCH,       -7,  OTC_STATUS_INVALID_EPSILON,    -8,
        OTC_STATUS_INVALID_PARAMETER,   -9,  OTC_STATUS_WORKSPACE_TOO_SMALL, -10,
        OTC_STATUS_MISALIGNED,          -11, OTC_STATUS_NEEDS_POINT_CLOUDS, -12,
        OTC_STATUS_NON_FINITE,          -13, OTC_STATUS_STRUCT_SIZE,        -14,
        OTC_STATUS_PANIC,               -15, OTC_STATUS_CALLBACK_FAILED,     -16,
        OTC_STATUS_REG_COST_OVERFLOW,     2, OTC_STATUS_FEATURE_DISABLED,   -17,
    };
    size_t i;

    /* Status values are frozen. */
    CHECK(sizeof(otc_status) == 4);
    for (i = 0; i < sizeof statuses / sizeof statuses[0]; i += 2) {
        CHECK(statuses[i] == statuses[i + 1]);
        CHECK(strcmp(otc_status_str(statuses[i]), "unknown status") != 0);
    }
    CHECK(strcmp(otc_status_str(OTC_STATUS_OK), "ok") == 0);
    CHECK(strcmp(otc_status_str(3), "unknown status") == 0);
    CHECK(strcmp(otc_status_str(-18), "unknown status") == 0);
    CHECK(strcmp(otc_status_str(INT32_MIN), "unknown status") == 0);

    /* The compile-time workspace sizes equal the queries (this build's kernel width). */
    CHECK(OTC_KERNEL_WIDTH == 16);
    {
        static const size_t ns[] = {1, 3, 15, 16, 17, 64, 100, 257};
        size_t a, b, d, got;
        for (a = 0; a < sizeof ns / sizeof ns[0]; ++a) {
            for (d = 0; d <= 5; ++d) {
                const size_t n = ns[a];
                for (b = 0; b < sizeof ns / sizeof ns[0]; ++b) {
                    CHECK(otc_sinkhorn_workspace_size_f32(n, ns[b], d, &got) == OTC_STATUS_OK &&
                          got == OTC_SINKHORN_WORKSPACE_SIZE_F32(n, ns[b], d));
                    CHECK(otc_sinkhorn_workspace_size_f64(n, ns[b], d, &got) == OTC_STATUS_OK &&
                          got == OTC_SINKHORN_WORKSPACE_SIZE_F64(n, ns[b], d));
                }
                if (d == 0) continue;
                CHECK(otc_ot_resample_workspace_size_f32(n, d, &got) == OTC_STATUS_OK &&
                      got == OTC_OT_RESAMPLE_WORKSPACE_SIZE_F32(n, d));
                CHECK(otc_ot_resample_workspace_size_f64(n, d, &got) == OTC_STATUS_OK &&
                      got == OTC_OT_RESAMPLE_WORKSPACE_SIZE_F64(n, d));
                CHECK(otc_ot_resample_vjp_workspace_size_f32(n, d, &got) == OTC_STATUS_OK &&
                      got == OTC_OT_RESAMPLE_VJP_WORKSPACE_SIZE_F32(n, d));
                CHECK(otc_ot_resample_vjp_workspace_size_f64(n, d, &got) == OTC_STATUS_OK &&
                      got == OTC_OT_RESAMPLE_VJP_WORKSPACE_SIZE_F64(n, d));
                for (b = OTC_RESAMPLE_MULTINOMIAL; b <= OTC_RESAMPLE_OPTIMAL; ++b) {
                    CHECK(otc_pf_workspace_size_f32(n, d, (int32_t)b, &got) == OTC_STATUS_OK &&
                          got == OTC_PF_WORKSPACE_SIZE_F32(n, d, (int32_t)b));
                    CHECK(otc_pf_workspace_size_f64(n, d, (int32_t)b, &got) == OTC_STATUS_OK &&
                          got == OTC_PF_WORKSPACE_SIZE_F64(n, d, (int32_t)b));
                }
                CHECK(otc_sde_workspace_size_f32(n, d, &got) == OTC_STATUS_OK &&
                      got == OTC_SDE_WORKSPACE_SIZE_F32(n, d));
                CHECK(otc_sde_workspace_size_f64(n, d, &got) == OTC_STATUS_OK &&
                      got == OTC_SDE_WORKSPACE_SIZE_F64(n, d));
                CHECK(otc_sde_ito_workspace_size_f32(n, d, &got) == OTC_STATUS_OK &&
                      got == OTC_SDE_ITO_WORKSPACE_SIZE_F32(n, d));
                CHECK(otc_sde_ito_workspace_size_f64(n, d, &got) == OTC_STATUS_OK &&
                      got == OTC_SDE_ITO_WORKSPACE_SIZE_F64(n, d));
                {
                    /* d coordinates, the last one periodic when p = 1 (d' = d + p). */
                    otc_coord_f32 c32[5];
                    otc_coord_f64 c64[5];
                    otc_mcl_config_f32 m32;
                    otc_mcl_config_f64 m64;
                    size_t k, p, adaptive;
                    for (p = 0; p <= 1; ++p) {
                        for (k = 0; k < d; ++k) {
                            const int32_t kind = p && k + 1 == d ? OTC_COORD_PERIODIC : OTC_COORD_LINEAR;
                            const otc_coord_f32 a = {kind, 0, 6.0f, 1.0f, 0.5f};
                            const otc_coord_f64 b = {kind, 0, 6.0, 1.0, 0.5};
                            c32[k] = a;
                            c64[k] = b;
                        }
                        CHECK(otc_ot_resample_state_workspace_size_f32(c32, d, n, &got) == OTC_STATUS_OK &&
                              got == sizeof(float) * OTC_OT_RESAMPLE_STATE_WORKSPACE_ELEMS(n, d + p));
                        CHECK(otc_ot_resample_state_workspace_size_f64(c64, d, n, &got) == OTC_STATUS_OK &&
                              got == sizeof(double) * OTC_OT_RESAMPLE_STATE_WORKSPACE_ELEMS(n, d + p));
                        for (adaptive = 0; adaptive <= 1; ++adaptive) {
                            for (b = OTC_RESAMPLE_MULTINOMIAL; b <= OTC_RESAMPLE_OPTIMAL; ++b) {
                                otc_mcl_config_default_f32(&m32);
                                otc_mcl_config_default_f64(&m64);
                                m32.resampler = m64.resampler = (int32_t)b;
                                m32.adaptive = m64.adaptive = (int32_t)adaptive;
                                CHECK(otc_mcl_workspace_size_f32(&m32, c32, d, n, 2 * n, &got) == OTC_STATUS_OK &&
                                      got == OTC_MCL_WORKSPACE_SIZE_F32(n, d, d + p, 2 * n, (int32_t)b, adaptive));
                                CHECK(otc_mcl_workspace_size_f64(&m64, c64, d, n, 2 * n, &got) == OTC_STATUS_OK &&
                                      got == OTC_MCL_WORKSPACE_SIZE_F64(n, d, d + p, 2 * n, (int32_t)b, adaptive));
                            }
                        }
                    }
                }
                CHECK(otc_kld_table_len(n, &got) == OTC_STATUS_OK && got == OTC_KLD_TABLE_LEN(n));
                CHECK(otc_cluster_workspace_size_f32(n, &got) == OTC_STATUS_OK &&
                      got == OTC_CLUSTER_WORKSPACE_SIZE_F32(n));
                CHECK(otc_cluster_workspace_size_f64(n, &got) == OTC_STATUS_OK &&
                      got == OTC_CLUSTER_WORKSPACE_SIZE_F64(n));
            }
        }
    }

    /* Constants. */
    CHECK(OTC_WORKSPACE_ALIGN == 8);
    CHECK(OTC_EPSILON_ABSOLUTE == 0 && OTC_EPSILON_RELATIVE == 1);
    CHECK(OTC_INIT_ZERO == 0 && OTC_INIT_POTENTIALS == 1 && OTC_INIT_RESUME == 2);

    /* Version: header macros == library; PATCH in the low byte. */
    CHECK(otc_version() == OTC_VERSION_NUMBER);
    CHECK(OTC_VERSION_NUMBER ==
          ((OTC_VERSION_MAJOR << 16) | (OTC_VERSION_MINOR << 8) | OTC_VERSION_PATCH));
    CHECK((otc_version() & 0xFF) == OTC_VERSION_PATCH);

    CHECK(OTC_RESAMPLE_MULTINOMIAL == 0 && OTC_RESAMPLE_STRATIFIED == 1 &&
          OTC_RESAMPLE_SYSTEMATIC == 2 && OTC_RESAMPLE_RESIDUAL == 3 && OTC_RESAMPLE_OPTIMAL == 4);
    CHECK(OTC_TRIGGER_ESS == 0 && OTC_TRIGGER_ALWAYS == 1 && OTC_TRIGGER_NEVER == 2);
    CHECK(OTC_VJP_FILTERFLOW == 0 && OTC_VJP_IMPLICIT == 1);
    CHECK(sizeof(otc_rng) == 8);

    /* Struct layouts (64-bit targets). */
    if (sizeof(size_t) == 8) {
        CHECK(sizeof(otc_ot_resample_config_f32) == 48);
        CHECK(sizeof(otc_ot_resample_config_f64) == 64);
        CHECK(sizeof(otc_pf_config_f32) == 72);
        CHECK(sizeof(otc_pf_config_f64) == 88);
        CHECK(offsetof(otc_pf_config_f32, ot) == 24);
        CHECK(sizeof(otc_pf_state_f64) == 32);
        CHECK(sizeof(otc_pf_report_f64) == 40);
        CHECK(offsetof(otc_pf_report_f64, ess) == 32);
        CHECK(sizeof(otc_vjp_config_f32) == 24);
        CHECK(sizeof(otc_vjp_config_f64) == 32);
        CHECK(sizeof(otc_ot_problem_f32) == 112);
        CHECK(sizeof(otc_ot_problem_f64) == 112);
        CHECK(sizeof(otc_points_layout) == 16);
        CHECK(sizeof(otc_sinkhorn_config_f32) == 64);
        CHECK(sizeof(otc_sinkhorn_config_f64) == 80);
        CHECK(sizeof(otc_sinkhorn_result_f32) == 48);
        CHECK(sizeof(otc_sinkhorn_result_f64) == 80);
        CHECK(sizeof(otc_divergence_result_f32) == 48);
        CHECK(sizeof(otc_divergence_result_f64) == 72);
        CHECK(offsetof(otc_divergence_result_f64, value) == 24);
        CHECK(sizeof(otc_round_certificate_f32) == 24);
        CHECK(sizeof(otc_round_certificate_f64) == 40);
        CHECK(sizeof(otc_dustbin_result_f32) == 24);
        CHECK(sizeof(otc_dustbin_result_f64) == 32);
        CHECK(offsetof(otc_ot_problem_f32, n) == 48);
        CHECK(offsetof(otc_ot_problem_f64, scale) == 72);
        CHECK(offsetof(otc_ot_problem_f32, x_layout) == 80);
        CHECK(offsetof(otc_ot_problem_f64, y_layout) == 96);
        CHECK(offsetof(otc_sinkhorn_config_f32, epsilon) == 16);
        CHECK(offsetof(otc_sinkhorn_config_f32, max_iterations) == 36);
        CHECK(offsetof(otc_sinkhorn_config_f64, max_iterations) == 56);
        CHECK(offsetof(otc_sinkhorn_config_f32, subsample_size) == 40);
        CHECK(offsetof(otc_sinkhorn_config_f64, acceleration_start) == 64);
        CHECK(offsetof(otc_sinkhorn_config_f64, reserved) == 68);
        CHECK(sizeof(otc_dual_potential_f32) == 64);
        CHECK(sizeof(otc_dual_potential_f64) == 72);
        CHECK(offsetof(otc_dual_potential_f32, values) == 32);
        CHECK(offsetof(otc_dual_potential_f64, epsilon) == 64);
        CHECK(offsetof(otc_sinkhorn_result_f32, error) == 16);
        CHECK(offsetof(otc_sinkhorn_result_f64, plan_mass) == 48);
        CHECK(sizeof(otc_dpf_config_f32) == 32);
        CHECK(sizeof(otc_dpf_config_f64) == 32);
        CHECK(sizeof(otc_dpf_ot_config_f32) == 72);
        CHECK(sizeof(otc_dpf_ot_config_f64) == 88);
        CHECK(sizeof(otc_dpf_model_f64) == 88);
        CHECK(sizeof(otc_dpf_tape_f32) == 64);
        CHECK(offsetof(otc_dpf_model_f64, transition_vjp) == 64);
        CHECK(offsetof(otc_dpf_model_f64, reserved) == 80);
        CHECK(sizeof(otc_coord_f32) == 20);
        CHECK(sizeof(otc_coord_f64) == 32);
        CHECK(sizeof(otc_kld_config_f32) == 24);
        CHECK(sizeof(otc_kld_config_f64) == 32);
        CHECK(sizeof(otc_recovery_f64) == 40);
        CHECK(sizeof(otc_mcl_config_f32) == 96);
        CHECK(sizeof(otc_mcl_config_f64) == 120);
        CHECK(sizeof(otc_mcl_report_f64) == 88);
    }
    /* Defaults: the differentiable filter's gradient and trigger, MCL's resampler. */
    {
        otc_dpf_config_f64 dc;
        otc_mcl_config_f32 mc;
        CHECK(otc_dpf_config_default_f64(&dc) == OTC_STATUS_OK);
        CHECK(dc.resampler == OTC_RESAMPLE_SYSTEMATIC && dc.trigger == OTC_TRIGGER_ESS &&
              dc.gradient == OTC_DPF_STOP_GRADIENT && dc.threshold == 0.5);
        CHECK(otc_mcl_config_default_f32(&mc) == OTC_STATUS_OK);
        CHECK(mc.resampler == OTC_RESAMPLE_SYSTEMATIC && mc.adaptive == 0 &&
              mc.kld.min_particles == 500);
    }
    CHECK(offsetof(otc_sinkhorn_config_f32, struct_size) == 0);
    CHECK(offsetof(otc_ot_problem_f32, struct_size) == 0);
    CHECK(offsetof(otc_sinkhorn_result_f64, struct_size) == 0);
    CHECK(offsetof(otc_dual_potential_f32, struct_size) == 0);

    /* The initializer fills in the size. */
    {
        otc_sinkhorn_config_f32 c32;
        otc_sinkhorn_config_f64 c64;
        s = otc_sinkhorn_config_default_f32(&c32);
        CHECK(s == OTC_STATUS_OK && c32.struct_size == sizeof c32);
        s = otc_sinkhorn_config_default_f64(&c64);
        CHECK(s == OTC_STATUS_OK && c64.struct_size == sizeof c64);
        CHECK(c32.tolerance == 1e-4f && c64.tolerance == 1e-7);
        CHECK(c32.reserved[0] == 0 && c64.reserved[0] == 0);
        CHECK(c32.subsample_size == 0 && c64.acceleration_start == 0);
    }
    return check_report("test_abi");
}
