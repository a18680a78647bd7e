// Must NOT compile: a column-major matrix holds its points' coordinates apart, and the
// C API takes row-major points. tests/cpp/Makefile checks that the compiler stops here
// with otcore_eigen.hpp's message.
#include "otcore_eigen.hpp"

int main() {
    Eigen::MatrixXf x(10, 2);  // column-major by default
    const auto p = otc::eigen::points(x);
    return static_cast<int>(p.n());
}
