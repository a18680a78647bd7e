// Must NOT compile: OT resampling takes row-major particles, and a column-major matrix
// holds each particle's coordinates apart. tests/cpp/Makefile checks that the compiler
// stops here with otcore_eigen.hpp's message. (A Sinkhorn problem takes this matrix
// through otc::eigen::cloud; test_eigen.cpp does.)
#include "otcore_eigen.hpp"

int main() {
    Eigen::MatrixXf x(10, 2), out(10, 2);  // column-major by default
    Eigen::VectorXf logw = Eigen::VectorXf::Zero(10);
    otc::Workspace ws;
    const auto report = otc::ot_resample(otc::OtResampleConfig<float>(0.5f),
                                         otc::eigen::points(x), otc::eigen::view(logw), ws,
                                         otc::eigen::points(out));
    return static_cast<int>(report.iterations);
}
