// Tests of include/otcore_eigen.hpp: Eigen matrices, maps, refs and vectors reach the
// C API without copies and give the same bits as plain views; Sinkhorn problems take
// column-major matrices and blocks through their strides; the row-major-only calls
// refuse rows that are not contiguous at run time (eigen_col_major.cpp shows that they
// refuse a column-major matrix at compile time).
#include <cstring>

#include "otcore_eigen.hpp"
#include "check.hpp"

using RowPoints = Eigen::Matrix<double, Eigen::Dynamic, 2, Eigen::RowMajor>;

int main() {
    const std::size_t n = 30, m = 20;
    RowPoints x(n, 2), y(m, 2);
    otc::Rng rng(3);
    rng.normal<double>({x.data(), n * 2});
    rng.normal<double>({y.data(), m * 2});
    y.array() += 1.0;
    const Eigen::VectorXd a = Eigen::VectorXd::Constant(n, 1.0 / n);
    const Eigen::VectorXd b = Eigen::VectorXd::Constant(m, 1.0 / m);
    otc::SinkhornConfig<double> config;
    otc::Workspace ws;

    // Eigen objects …
    Eigen::VectorXd f(n), g(m);
    const auto problem = otc::Problem<double>::point_clouds(
        otc::eigen::points(x), otc::eigen::points(y), otc::eigen::view(a), otc::eigen::view(b));
    const auto res = otc::sinkhorn(problem, config, ws, otc::eigen::view(f), otc::eigen::view(g));

    // … give the same bits as plain views of the same memory.
    std::vector<double> pf(n), pg(m);
    const auto plain = otc::Problem<double>::point_clouds({x.data(), n, 2}, {y.data(), m, 2},
                                                          {a.data(), n}, {b.data(), m});
    const auto res2 = otc::sinkhorn(plain, config, ws, pf, pg);
    CHECK(std::memcmp(f.data(), pf.data(), n * sizeof(double)) == 0);
    CHECK(std::memcmp(g.data(), pg.data(), m * sizeof(double)) == 0);
    CHECK(res.transport_cost == res2.transport_cost);

    // Map and Ref of row-major data; a barycentric map written into an Eigen matrix.
    Eigen::Map<const RowPoints> xm(x.data(), n, 2);
    Eigen::Ref<const RowPoints> yr(y);
    const auto mapped = otc::Problem<double>::point_clouds(
        otc::eigen::points(xm), otc::eigen::points(yr), otc::eigen::view(a), otc::eigen::view(b));
    RowPoints bary(n, 2);
    const otc::Plan<double> plan(mapped, res.epsilon, otc::eigen::view(f), otc::eigen::view(g));
    plan.barycentric(ws, otc::eigen::points(bary));
    // The a-weighted mean of the barycentric map is the b-weighted mean of y.
    CHECK(bary.allFinite() && (bary.colwise().mean() - y.colwise().mean()).norm() < 1e-4);

    // A float particle cloud resampled in place of an Eigen matrix.
    Eigen::Matrix<float, Eigen::Dynamic, 3, Eigen::RowMajor> px(16, 3), pout(16, 3);
    rng.normal<float>({px.data(), 48});
    Eigen::VectorXf logw = Eigen::VectorXf::Zero(16);
    logw(0) = 2.0f;
    const auto rep = otc::ot_resample(otc::OtResampleConfig<float>(0.5f), otc::eigen::points(px),
                                      otc::eigen::view(logw), ws, otc::eigen::points(pout));
    CHECK(rep.iterations > 0 && pout.allFinite());

    // A column-major copy of the clouds, and the clouds as a column block of a wider
    // row-major matrix: read in place through their strides, the same bits.
    const Eigen::MatrixXd xc = x, yc = y;
    Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor> xw(n, 3);
    xw.leftCols(2) = x;
    xw.col(2).setConstant(99.0);
    Eigen::VectorXd fc(n), gc(m), fw(n), gw(m);
    const auto colmajor = otc::Problem<double>::point_clouds(
        otc::eigen::cloud(xc), otc::eigen::cloud(yc), otc::eigen::view(a), otc::eigen::view(b));
    otc::sinkhorn(colmajor, config, ws, otc::eigen::view(fc), otc::eigen::view(gc));
    const auto block = otc::Problem<double>::point_clouds(
        otc::eigen::cloud(xw.leftCols(2)), otc::eigen::cloud(y), otc::eigen::view(a),
        otc::eigen::view(b));
    otc::sinkhorn(block, config, ws, otc::eigen::view(fw), otc::eigen::view(gw));
    CHECK(std::memcmp(fc.data(), f.data(), n * sizeof(double)) == 0);
    CHECK(std::memcmp(gc.data(), g.data(), m * sizeof(double)) == 0);
    CHECK(std::memcmp(fw.data(), f.data(), n * sizeof(double)) == 0);
    CHECK(std::memcmp(gw.data(), g.data(), m * sizeof(double)) == 0);

    // Rows of a wider row-major matrix are not contiguous: refused at run time by the
    // row-major-only calls.
    Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor> wide(n, 3);
    wide.setZero();
    auto cols2 = wide.leftCols(2);
    bool refused = false;
    try {
        plan.barycentric(ws, otc::eigen::points(cols2));
    } catch (const otc::Error &e) {
        refused = e.status() == otc::Status::length_mismatch;
    }
    CHECK(refused);

    std::printf("Eigen %d.%d.%d\n", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION,
                EIGEN_MINOR_VERSION);
    return report("test_eigen");
}
