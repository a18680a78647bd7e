//! The committed header agrees with `Cargo.toml` and with the library: version macros,
//! the packed version number (patch in the low byte), and every exported symbol
//! declared.

const HEADER: &str = include_str!("../../include/otcore.h");

/// The value of `#define NAME value` in the header.
fn define(name: &str) -> &'static str {
    let prefix = format!("#define {name} ");
    HEADER
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("{name} not defined in include/otcore.h"))
        .trim()
}

#[test]
fn version_macros_match_cargo_toml() {
    assert_eq!(define("OTC_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(define("OTC_VERSION_MINOR"), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(define("OTC_VERSION_PATCH"), env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(
        define("OTC_VERSION_NUMBER"),
        "((OTC_VERSION_MAJOR << 16) | (OTC_VERSION_MINOR << 8) | OTC_VERSION_PATCH)"
    );
    let part = |s: &str| s.parse::<u32>().expect("numeric version");
    let packed = (part(env!("CARGO_PKG_VERSION_MAJOR")) << 16)
        | (part(env!("CARGO_PKG_VERSION_MINOR")) << 8)
        | part(env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(otcore_ffi::otc_version(), packed);
}

#[test]
fn every_exported_function_is_declared_and_documented() {
    let functions = [
        "otc_version",
        "otc_status_str",
        "otc_sinkhorn_workspace_size_f32",
        "otc_sinkhorn_workspace_size_f64",
        "otc_sinkhorn_config_default_f32",
        "otc_sinkhorn_config_default_f64",
        "otc_sinkhorn_solve_f32",
        "otc_sinkhorn_solve_f64",
        "otc_sinkhorn_workspace_size_for_f32",
        "otc_sinkhorn_workspace_size_for_f64",
        "otc_c_transform_workspace_size_f32",
        "otc_c_transform_workspace_size_f64",
        "otc_c_transform_f32",
        "otc_c_transform_f64",
        "otc_plan_apply_f32",
        "otc_plan_apply_f64",
        "otc_plan_apply_transpose_f32",
        "otc_plan_apply_transpose_f64",
        "otc_plan_barycentric_f32",
        "otc_plan_barycentric_f64",
        "otc_plan_transport_cost_f32",
        "otc_plan_transport_cost_f64",
        "otc_plan_dense_f32",
        "otc_plan_dense_f64",
        "otc_plan_apply_parallel_f32",
        "otc_plan_apply_parallel_f64",
        "otc_plan_apply_transpose_parallel_f32",
        "otc_plan_apply_transpose_parallel_f64",
        "otc_plan_barycentric_parallel_f32",
        "otc_plan_barycentric_parallel_f64",
        "otc_plan_transport_cost_parallel_f32",
        "otc_plan_transport_cost_parallel_f64",
        "otc_divergence_workspace_size_f32",
        "otc_divergence_workspace_size_f64",
        "otc_divergence_f32",
        "otc_divergence_f64",
        "otc_divergence_gradient_f32",
        "otc_divergence_gradient_f64",
        "otc_plan_gradient_f32",
        "otc_plan_gradient_f64",
        "otc_round_workspace_size_f32",
        "otc_round_workspace_size_f64",
        "otc_plan_round_f32",
        "otc_plan_round_f64",
        "otc_matches_workspace_size_f32",
        "otc_matches_workspace_size_f64",
        "otc_plan_matches_f32",
        "otc_plan_matches_f64",
        "otc_dustbin_solve_f32",
        "otc_dustbin_solve_f64",
        "otc_rng_seed",
        "otc_log_weights_normalise_f32",
        "otc_log_weights_normalise_f64",
        "otc_rng_uniform_f32",
        "otc_rng_uniform_f64",
        "otc_rng_normal_f32",
        "otc_rng_normal_f64",
        "otc_set_simd_path",
        "otc_simd_path",
        "otc_resample_ancestors_f32",
        "otc_resample_ancestors_f64",
        "otc_ot_resample_config_default_f32",
        "otc_ot_resample_config_default_f64",
        "otc_ot_resample_workspace_size_f32",
        "otc_ot_resample_workspace_size_f64",
        "otc_ot_resample_f32",
        "otc_ot_resample_f64",
        "otc_ot_resample_warm_f32",
        "otc_ot_resample_warm_f64",
        "otc_ot_resample_warm_len",
        "otc_vjp_config_default_f32",
        "otc_vjp_config_default_f64",
        "otc_ot_resample_vjp_workspace_size_f32",
        "otc_ot_resample_vjp_workspace_size_f64",
        "otc_ot_resample_vjp_f32",
        "otc_ot_resample_vjp_f64",
        "otc_pf_config_default_f32",
        "otc_pf_config_default_f64",
        "otc_pf_workspace_size_f32",
        "otc_pf_workspace_size_f64",
        "otc_pf_init_f32",
        "otc_pf_init_f64",
        "otc_pf_step_f32",
        "otc_pf_step_f64",
        "otc_dpf_config_default_f32",
        "otc_dpf_config_default_f64",
        "otc_dpf_tangent_len",
        "otc_dpf_workspace_size_f32",
        "otc_dpf_workspace_size_f64",
        "otc_dpf_init_f32",
        "otc_dpf_init_f64",
        "otc_dpf_step_f32",
        "otc_dpf_step_f64",
        "otc_dpf_ot_config_default_f32",
        "otc_dpf_ot_config_default_f64",
        "otc_dpf_ot_workspace_size_f32",
        "otc_dpf_ot_workspace_size_f64",
        "otc_dpf_step_ot_f32",
        "otc_dpf_step_ot_f64",
        "otc_dpf_tape_len",
        "otc_dpf_tape_workspace_size_f32",
        "otc_dpf_tape_workspace_size_f64",
        "otc_dpf_tape_init_f32",
        "otc_dpf_tape_init_f64",
        "otc_dpf_tape_step_f32",
        "otc_dpf_tape_step_f64",
        "otc_dpf_tape_gradient_f32",
        "otc_dpf_tape_gradient_f64",
        "otc_state_moments_f32",
        "otc_state_moments_f64",
        "otc_resample_to_f32",
        "otc_resample_to_f64",
        "otc_ot_resample_state_workspace_size_f32",
        "otc_ot_resample_state_workspace_size_f64",
        "otc_kld_table_len",
        "otc_ot_resample_state_f32",
        "otc_ot_resample_state_f64",
        "otc_kld_config_default_f32",
        "otc_kld_config_default_f64",
        "otc_kld_count_f32",
        "otc_kld_count_f64",
        "otc_recovery_init_f32",
        "otc_recovery_init_f64",
        "otc_recovery_update_f32",
        "otc_recovery_update_f64",
        "otc_mcl_config_default_f32",
        "otc_mcl_config_default_f64",
        "otc_mcl_workspace_size_f32",
        "otc_mcl_workspace_size_f64",
        "otc_mcl_resample_f32",
        "otc_mcl_resample_f64",
        "otc_cluster_workspace_size_f32",
        "otc_cluster_workspace_size_f64",
        "otc_largest_cluster_f32",
        "otc_largest_cluster_f64",
        "otc_sde_process_default",
        "otc_sde_process_coefs",
        "otc_sde_sampler_config_default",
        "otc_sde_adaptive_config_default",
        "otc_sde_workspace_size_f32",
        "otc_sde_workspace_size_f64",
        "otc_sde_ito_workspace_size_f32",
        "otc_sde_ito_workspace_size_f64",
        "otc_sde_prior_sample_f32",
        "otc_sde_prior_sample_f64",
        "otc_sde_prior_log_density_f32",
        "otc_sde_prior_log_density_f64",
        "otc_sde_grid_f32",
        "otc_sde_grid_f64",
        "otc_sde_sample_f32",
        "otc_sde_sample_f64",
        "otc_sde_step_f32",
        "otc_sde_step_f64",
        "otc_sde_adaptive_f32",
        "otc_sde_adaptive_f64",
        "otc_sde_adaptive_resume_f32",
        "otc_sde_adaptive_resume_f64",
        "otc_sde_mixture_score_f32",
        "otc_sde_mixture_score_f64",
        "otc_sde_ito_step_f32",
        "otc_sde_ito_step_f64",
        "otc_sde_flow_grid_f32",
        "otc_sde_flow_grid_f64",
        "otc_sde_flow_sample_f32",
        "otc_sde_flow_sample_f64",
        "otc_sde_flow_step_f32",
        "otc_sde_flow_step_f64",
        "otc_sde_flow_guided_workspace_size_f32",
        "otc_sde_flow_guided_workspace_size_f64",
        "otc_sde_flow_sample_guided_f32",
        "otc_sde_flow_sample_guided_f64",
        "otc_sde_guided_workspace_size_f32",
        "otc_sde_guided_workspace_size_f64",
        "otc_sde_sample_guided_f32",
        "otc_sde_sample_guided_f64",
        "otc_sde_step_guided_f32",
        "otc_sde_step_guided_f64",
        "otc_sde_restart_config_from_sigma",
        "otc_sde_restart_f32",
        "otc_sde_restart_f64",
        "otc_implicit_workspace_size_f32",
        "otc_implicit_workspace_size_f64",
        "otc_plan_barycentric_vjp_f32",
        "otc_plan_barycentric_vjp_f64",
        "otc_plan_potentials_vjp_f32",
        "otc_plan_potentials_vjp_f64",
        "otc_ot_resample_jvp_workspace_size_f32",
        "otc_ot_resample_jvp_workspace_size_f64",
        "otc_ot_resample_jvp_f32",
        "otc_ot_resample_jvp_f64",
    ];
    let lines: Vec<&str> = HEADER.lines().collect();
    for name in functions {
        // The declaration: a line of code (not a comment) naming the function.
        let decl = lines
            .iter()
            .position(|l| {
                !l.starts_with(" *") && !l.starts_with('/') && l.contains(&format!("{name}("))
            })
            .unwrap_or_else(|| panic!("{name} is not declared"));
        assert!(
            lines[decl - 1].trim_end().ends_with("*/"),
            "{name} has no doc comment"
        );
    }
    assert_eq!(
        HEADER.matches("\nint32_t otc_").count() + HEADER.matches("\nuint32_t otc_").count() + 1,
        functions.len(),
        "functions declared in the header but not listed here"
    );
}
