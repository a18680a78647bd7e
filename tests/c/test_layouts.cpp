// Point clouds as C++ users hold them: an Eigen-style column-major n×d array
// (Matrix<float, Dynamic, 2>'s storage) and PCL-style padded records (PointXYZ: x, y,
// z and one float of padding, stride 4), described by otc_points_layout, give the same
// solve and plan operations as the row-major copy of the same points, bit for bit (the
// library copies the points into the same workspace values and reads each target in
// the same order, whatever the layout). Also: the same column-major data passed
// without a layout is read as row-major (a different problem), and a malformed layout
// is refused with nothing written.
#include <cstdio>
#include <cstring>
#include <vector>

#include "check.h"
#include "otcore.h"

namespace {

struct Outputs {
    int32_t status = 0;
    std::vector<float> f, g, bary, applied;
    otc_sinkhorn_result_f32 res{};
    float cost = 0;
};

// Solves, then runs the barycentric map, P·1 and the transport cost.
Outputs run(const otc_ot_problem_f32 &p) {
    Outputs o;
    o.f.assign(p.n, 0.0f);
    o.g.assign(p.m, 0.0f);
    o.bary.assign(p.n * p.d, 0.0f);
    o.applied.assign(p.n, 0.0f);
    std::vector<float> ones(p.m, 1.0f);
    otc_sinkhorn_config_f32 cfg;
    CHECK_STATUS(otc_sinkhorn_config_default_f32(&cfg), OTC_STATUS_OK);
    cfg.tolerance = 1e-5f;
    std::size_t bytes = 0;
    CHECK_STATUS(otc_sinkhorn_workspace_size_f32(p.n, p.m, p.d, &bytes), OTC_STATUS_OK);
    std::vector<double> ws(bytes / sizeof(double) + 1);
    o.res.struct_size = sizeof o.res;
    o.status = otc_sinkhorn_solve_f32(&p, &cfg, ws.data(), bytes, o.f.data(), p.n, o.g.data(),
                                      p.m, &o.res);
    if (o.status < 0) return o;
    const float eps = o.res.epsilon;
    CHECK_STATUS(otc_plan_barycentric_f32(&p, eps, o.f.data(), p.n, o.g.data(), p.m, ws.data(),
                                          bytes, o.bary.data(), o.bary.size()),
                 OTC_STATUS_OK);
    CHECK_STATUS(otc_plan_apply_f32(&p, eps, o.f.data(), p.n, o.g.data(), p.m, ones.data(), p.m,
                                    ws.data(), bytes, o.applied.data(), p.n),
                 OTC_STATUS_OK);
    CHECK_STATUS(otc_plan_transport_cost_f32(&p, eps, o.f.data(), p.n, o.g.data(), p.m,
                                             ws.data(), bytes, &o.cost),
                 OTC_STATUS_OK);
    return o;
}

bool same_bits(const std::vector<float> &u, const std::vector<float> &v) {
    return u.size() == v.size() && std::memcmp(u.data(), v.data(), u.size() * sizeof(float)) == 0;
}

bool same(const Outputs &p, const Outputs &q) {
    return p.status == q.status && same_bits(p.f, q.f) && same_bits(p.g, q.g) &&
           same_bits(p.bary, q.bary) && same_bits(p.applied, q.applied) &&
           std::memcmp(&p.cost, &q.cost, sizeof p.cost) == 0 &&
           p.res.iterations == q.res.iterations &&
           std::memcmp(&p.res.error, &q.res.error, sizeof p.res.error) == 0 &&
           std::memcmp(&p.res.transport_cost, &q.res.transport_cost, sizeof(float)) == 0;
}

float uniform(uint64_t &s) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<float>(s >> 40) / 16777216.0f;
}

otc_ot_problem_f32 problem(const float *x, const float *y, const std::vector<float> &a,
                           const std::vector<float> &b, std::size_t d) {
    otc_ot_problem_f32 p{};
    p.struct_size = sizeof p;
    p.x = x;
    p.y = y;
    p.a = a.data();
    p.b = b.data();
    p.n = a.size();
    p.m = b.size();
    p.d = d;
    p.scale = 1.0f;
    return p;
}

// A 2-D scan against a map: row-major reference, Eigen-style column-major x and y.
void column_major() {
    const std::size_t n = 37, m = 29, d = 2;
    uint64_t s = 16;
    std::vector<float> x(n * d), y(m * d), a(n, 1.0f / n), b(m, 1.0f / m);
    for (auto &v : x) v = uniform(s);
    for (auto &v : y) v = uniform(s) + 0.2f;
    std::vector<float> xc(n * d), yc(m * d);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < d; ++k) xc[k * n + i] = x[i * d + k];
    for (std::size_t j = 0; j < m; ++j)
        for (std::size_t k = 0; k < d; ++k) yc[k * m + j] = y[j * d + k];
    const Outputs ref = run(problem(x.data(), y.data(), a, b, d));
    CHECK_STATUS(ref.status, OTC_STATUS_OK);

    otc_ot_problem_f32 p = problem(xc.data(), yc.data(), a, b, d);
    p.x_layout.point_stride = 1;
    p.x_layout.coord_stride = n;
    p.y_layout.point_stride = 1;
    p.y_layout.coord_stride = m;
    CHECK(same(run(p), ref));

    // Without the layout the same memory is a different (row-major) cloud.
    const Outputs wrong = run(problem(xc.data(), yc.data(), a, b, d));
    CHECK(wrong.status >= 0 && wrong.res.transport_cost != ref.res.transport_cost);

    // Mixed: column-major x against row-major y.
    otc_ot_problem_f32 mixed = problem(xc.data(), y.data(), a, b, d);
    mixed.x_layout = p.x_layout;
    CHECK(same(run(mixed), ref));
}

// PCL-style PointXYZ records (stride 4) in 3-D, and their first two coordinates in 2-D.
void padded_records() {
    struct PointXYZ {
        float x, y, z, pad;
    };
    const std::size_t n = 40, m = 33;
    uint64_t s = 25;
    std::vector<PointXYZ> xs(n), ys(m);
    for (auto &p : xs) p = {uniform(s), uniform(s), uniform(s), 1e30f};
    for (auto &p : ys) p = {uniform(s) + 0.1f, uniform(s), uniform(s) - 0.3f, -1e30f};
    std::vector<float> a(n, 1.0f / n), b(m, 1.0f / m);
    for (std::size_t d = 2; d <= 3; ++d) {
        std::vector<float> x, y;
        for (const auto &p : xs) x.insert(x.end(), {p.x, p.y, p.z});
        for (const auto &p : ys) y.insert(y.end(), {p.x, p.y, p.z});
        if (d == 2) {
            x.clear();
            y.clear();
            for (const auto &p : xs) x.insert(x.end(), {p.x, p.y});
            for (const auto &p : ys) y.insert(y.end(), {p.x, p.y});
        }
        const Outputs ref = run(problem(x.data(), y.data(), a, b, d));
        CHECK_STATUS(ref.status, OTC_STATUS_OK);
        otc_ot_problem_f32 p = problem(&xs[0].x, &ys[0].x, a, b, d);
        p.x_layout.point_stride = 4;
        p.y_layout.point_stride = 4;
        CHECK(same(run(p), ref));
    }
}

// A layout whose span overflows is refused, nothing written; struct_size is checked.
void bad_layouts() {
    const float x[4] = {0, 0, 1, 1};
    std::vector<float> w(2, 0.5f), f(2, 7.0f), g(2, 7.0f);
    otc_sinkhorn_config_f32 cfg;
    otc_sinkhorn_config_default_f32(&cfg);
    double ws[256];
    otc_sinkhorn_result_f32 res{};
    res.struct_size = sizeof res;
    otc_ot_problem_f32 p = problem(x, x, w, w, 2);
    p.x_layout.point_stride = SIZE_MAX / 2;
    CHECK_STATUS(otc_sinkhorn_solve_f32(&p, &cfg, ws, sizeof ws, f.data(), 2, g.data(), 2, &res),
                 OTC_STATUS_LENGTH_MISMATCH);
    p = problem(x, x, w, w, 2);
    p.struct_size = 0;
    CHECK_STATUS(otc_sinkhorn_solve_f32(&p, &cfg, ws, sizeof ws, f.data(), 2, g.data(), 2, &res),
                 OTC_STATUS_STRUCT_SIZE);
    CHECK(f[0] == 7.0f && f[1] == 7.0f && g[0] == 7.0f && g[1] == 7.0f && res.iterations == 0);
}

}  // namespace

int main() {
    column_major();
    padded_records();
    bad_layouts();
    std::printf("test_layouts: %d checks, %d failures\n", check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}
