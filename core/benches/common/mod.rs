//! Inputs shared by the benchmarks.

/// `count` 2-D points uniform in [−1, 1)² + `shift` (an LCG, reproducible).
pub fn cloud(count: usize, seed: u64, shift: f64) -> Vec<f64> {
    let mut s = seed;
    (0..count * 2)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0 + shift
        })
        .collect()
}
