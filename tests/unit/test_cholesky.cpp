#include <gtest/gtest.h>

#include <Eigen/Dense>

#include "dals/cholesky.hpp"

namespace dals {
namespace {

TEST(Cholesky, SolvesRandomSpdSystemsLikeEigen) {
  for (int n : {1, 2, 7, 33, 65, 129}) {
    Eigen::MatrixXd m = Eigen::MatrixXd::Random(n + 5, n);
    Eigen::MatrixXd a = m.transpose() * m + 0.1 * Eigen::MatrixXd::Identity(n, n);
    Eigen::VectorXd b = Eigen::VectorXd::Random(n);
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> work = a;
    work.triangularView<Eigen::StrictlyLower>().setConstant(12345.0);  // only the upper triangle may be read
    Eigen::VectorXd x = b;
    ASSERT_TRUE(cholesky_solve(work.data(), n, x.data())) << n;
    EXPECT_LE((a * x - b).norm() / b.norm(), 1e-10) << n;
  }
}

TEST(Cholesky, RejectsIndefiniteAndNaN) {
  double indefinite[4] = {1.0, 2.0, 0.0, 1.0};  // [[1, 2], [2, 1]], upper triangle
  double b[2] = {1.0, 1.0};
  EXPECT_FALSE(cholesky_solve(indefinite, 2, b));
  double with_nan[1] = {std::nan("")};
  EXPECT_FALSE(cholesky_solve(with_nan, 1, b));
}

}  // namespace
}  // namespace dals
