// The ALS row solve against a dense reference: the normal equations of the
// same regularized least-squares problem, built and solved in double.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <random>

#include "dals/row_solver.hpp"

namespace dals {
namespace {

struct Problem {
  FactorTable fixed;
  std::vector<std::int32_t> cols;
  std::vector<float> values;
};

Problem make_problem(int k, int n_fixed, int degree, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  Problem p{FactorTable(n_fixed, k), {}, {}};
  for (std::int64_t i = 0; i < n_fixed; ++i)
    for (int d = 0; d <= k; ++d) p.fixed.row(i)[d] = normal(gen) * (d == k ? 0.3f : 0.5f);
  std::vector<std::int32_t> all(n_fixed);
  for (int i = 0; i < n_fixed; ++i) all[i] = i;
  std::shuffle(all.begin(), all.end(), gen);
  p.cols.assign(all.begin(), all.begin() + degree);
  std::sort(p.cols.begin(), p.cols.end());
  for (int i = 0; i < degree; ++i) p.values.push_back(3.5f + normal(gen));
  return p;
}

// x = argmin sum_p (t_p - y_p . x)^2 + reg |x|^2, y_p = [v_j, 1] (or v_j), in double.
Eigen::VectorXd reference(const Problem& p, const SolveParams& params, double mean) {
  const int k = params.k, w = params.width();
  const int n = static_cast<int>(p.cols.size());
  Eigen::MatrixXd y(n, w);
  Eigen::VectorXd t(n);
  for (int i = 0; i < n; ++i) {
    const float* v = p.fixed.row(p.cols[i]);
    for (int d = 0; d < k; ++d) y(i, d) = v[d];
    if (params.bias) y(i, k) = 1.0;
    t(i) = p.values[i] - mean - (params.bias ? v[k] : 0.0);
  }
  const double reg = params.lambda * (params.regularization == Regularization::weighted ? n : 1);
  Eigen::MatrixXd a = y.transpose() * y + reg * Eigen::MatrixXd::Identity(w, w);
  return a.ldlt().solve(y.transpose() * t);
}

void expect_matches_reference(const SolveParams& params, int degree) {
  Problem p = make_problem(params.k, 200, degree, 1234u + degree);
  const double mean = 3.5;
  RowSolver solver(params, degree);
  std::vector<float> out(params.k + 1, -7.f);
  EXPECT_EQ(solver.solve(p.cols.data(), p.values.data(), degree, p.fixed, mean, out.data()), 0);
  Eigen::VectorXd want = reference(p, params, mean);
  Eigen::VectorXd got(params.width());
  for (int d = 0; d < params.width(); ++d) got(d) = out[d];
  const double relative = (got - want).norm() / want.norm();
  EXPECT_LE(relative, 1e-4) << "k=" << params.k << " degree=" << degree;
  if (!params.bias) EXPECT_EQ(out[params.k], 0.f);
}

TEST(RowSolver, MatchesDenseReferenceWeightedWithBias) {
  for (int degree : {1, 5, 40, 150}) expect_matches_reference({16, 0.1, Regularization::weighted, true}, degree);
}

TEST(RowSolver, MatchesDenseReferenceL2WithoutBias) {
  for (int degree : {3, 64, 150}) expect_matches_reference({8, 0.5, Regularization::l2, false}, degree);
}

TEST(RowSolver, MatchesDenseReferenceLargeK) {
  expect_matches_reference({64, 0.05, Regularization::weighted, true}, 180);
}

TEST(RowSolver, SingularSystemGetsRidgeAndStaysFinite) {
  // lambda = 0 with fewer ratings than factors: Y^T Y is singular.
  SolveParams params{16, 0.0, Regularization::l2, true};
  Problem p = make_problem(16, 50, 3, 7u);
  RowSolver solver(params, 3);
  std::vector<float> out(17, 0.f);
  EXPECT_GT(solver.solve(p.cols.data(), p.values.data(), 3, p.fixed, 3.5, out.data()), 0);
  for (float x : out) EXPECT_TRUE(std::isfinite(x));
}

TEST(RowSolver, FlopCountGrowsWithDegreeAndWidth) {
  EXPECT_LT(row_solve_flops(10, 33), row_solve_flops(20, 33));
  EXPECT_LT(row_solve_flops(10, 33), row_solve_flops(10, 65));
  EXPECT_NEAR(row_solve_flops(100, 65), 100.0 * 65 * 66 + 2.0 * 100 * 65 + 65.0 * 65 * 65 / 3 + 2.0 * 65 * 65, 1e-6);
}

}  // namespace
}  // namespace dals
