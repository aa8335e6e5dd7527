#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "dals/solve/cholesky.hpp"

namespace dals {
namespace {

TEST(Cholesky, SolvesRandomSpdSystemsLikeEigen) {
  for (int n : {1, 2, 7, 33, 65, 129}) {
    Eigen::MatrixXd m = Eigen::MatrixXd::Random(n + 5, n);
    Eigen::MatrixXd a = m.transpose() * m + 0.1 * Eigen::MatrixXd::Identity(n, n);
    Eigen::VectorXd b = Eigen::VectorXd::Random(n);
    const int ld = cholesky_leading_dimension(n);
    std::vector<double> work(static_cast<std::size_t>(n) * ld, std::nan(""));  // only the upper triangle may be read
    for (int r = 0; r < n; ++r)
      for (int c = r; c < n; ++c) work[r * ld + c] = a(r, c);
    Eigen::VectorXd x = b;
    ASSERT_TRUE(cholesky_solve(work.data(), n, ld, x.data())) << n;
    EXPECT_LE((a * x - b).norm() / b.norm(), 1e-10) << n;
  }
}

TEST(Cholesky, RejectsIndefiniteAndNaN) {
  double indefinite[16] = {1.0, 2.0, 0, 0, 0, 0, 0, 0, 0.0, 1.0};  // [[1, 2], [2, 1]], upper triangle, ld 8
  double b[2] = {1.0, 1.0};
  EXPECT_FALSE(cholesky_solve(indefinite, 2, 8, b));
  double with_nan[8] = {std::nan("")};
  EXPECT_FALSE(cholesky_solve(with_nan, 1, 8, b));
}

}  // namespace
}  // namespace dals
