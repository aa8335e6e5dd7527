// Implicit-feedback row solves against a dense reference that builds the
// row's whole confidence and preference vectors over every fixed row
// (Hu, Koren, Volinsky 2008, without the Y^T Y trick), in double.
#include <gtest/gtest.h>
#include <omp.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "dals/solve/implicit_gramian.hpp"
#include "dals/solve/row_solver.hpp"

namespace dals {
namespace {

struct ImplicitProblem {
  FactorTable fixed;
  std::vector<std::int32_t> cols;
  std::vector<float> values;  // counts > 0
};

ImplicitProblem make_implicit_problem(int k, int n_fixed, int degree, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_int_distribution<int> count(1, 20);
  ImplicitProblem p{FactorTable(n_fixed, k), {}, {}};
  for (std::int64_t i = 0; i < n_fixed; ++i)
    for (int d = 0; d <= k; ++d) p.fixed.row(i)[d] = d == k ? 9.f : normal(gen) * 0.3f;  // a bias the solve must ignore
  std::vector<std::int32_t> all(n_fixed);
  for (int i = 0; i < n_fixed; ++i) all[i] = i;
  std::shuffle(all.begin(), all.end(), gen);
  p.cols.assign(all.begin(), all.begin() + degree);
  std::sort(p.cols.begin(), p.cols.end());
  for (int i = 0; i < degree; ++i) p.values.push_back(static_cast<float>(count(gen)));
  return p;
}

SolveParams implicit_params(int k, Solver solver, Regularization reg, Confidence confidence) {
  SolveParams params;
  params.k = k;
  params.bias = false;
  params.implicit = true;
  params.solver = solver;
  params.regularization = reg;
  params.lambda = reg == Regularization::weighted ? 0.002 : 0.5;
  params.confidence = confidence;
  params.alpha = confidence == Confidence::log ? 3.0 : 0.7;
  params.epsilon = 2.0;
  params.unobserved_weight = 0.25;
  return params;
}

// Every cell's confidence and preference, dense.
struct Dense {
  Eigen::MatrixXd y;  // n_fixed x k
  Eigen::VectorXd c, p;
  double ridge = 0;
};

Dense dense(const ImplicitProblem& pr, const SolveParams& params) {
  const int n = static_cast<int>(pr.fixed.rows()), k = params.k;
  Dense d{Eigen::MatrixXd(n, k), Eigen::VectorXd::Constant(n, params.unobserved_weight), Eigen::VectorXd::Zero(n), 0};
  for (int j = 0; j < n; ++j)
    for (int e = 0; e < k; ++e) d.y(j, e) = pr.fixed.row(j)[e];
  for (std::size_t q = 0; q < pr.cols.size(); ++q) {
    const double f = params.confidence == Confidence::log ? std::log(1.0 + pr.values[q] / params.epsilon)
                                                          : static_cast<double>(pr.values[q]);
    d.c(pr.cols[q]) = 1.0 + params.alpha * f;
    d.p(pr.cols[q]) = 1.0;
  }
  const double degree = static_cast<double>(pr.cols.size());
  d.ridge =
      params.lambda * (params.regularization == Regularization::weighted ? degree + params.unobserved_weight * n : 1.0);
  return d;
}

Eigen::VectorXd reference_solution(const Dense& d) {
  const Eigen::MatrixXd a =
      d.y.transpose() * d.c.asDiagonal() * d.y + d.ridge * Eigen::MatrixXd::Identity(d.y.cols(), d.y.cols());
  return a.ldlt().solve(d.y.transpose() * d.c.cwiseProduct(d.p));
}

// sum over every cell of c_j (p_j - y_j . x)^2, without the ridge.
double dense_objective(const Dense& d, const std::vector<float>& x) {
  Eigen::VectorXd xv(d.y.cols());
  for (int e = 0; e < d.y.cols(); ++e) xv(e) = x[e];
  const Eigen::VectorXd r = d.p - d.y * xv;
  return r.cwiseProduct(r).dot(d.c);
}

double relative_difference(const std::vector<float>& got, const Eigen::VectorXd& want) {
  Eigen::VectorXd g(want.size());
  for (int e = 0; e < want.size(); ++e) g(e) = got[e];
  return (g - want).norm() / want.norm();
}

struct Solved {
  std::vector<float> x;
  RowResult result;
};

Solved solve(const ImplicitProblem& pr, const SolveParams& params, std::vector<float> start) {
  ImplicitGramian gramian;
  gramian.compute(pr.fixed, params.unobserved_weight);
  const auto degree = static_cast<std::int64_t>(pr.cols.size());
  RowSolver solver(params, degree);
  std::vector<float> scales;
  for (const float v : pr.values) scales.push_back(params.implicit_scale(v));
  Solved s{std::move(start), {}};
  s.result = solver.solve_implicit(pr.cols.data(), scales.data(), degree,
                                   params.implicit_constant(scales.data(), degree), pr.fixed, gramian, s.x.data());
  return s;
}

TEST(ImplicitSolver, CholeskyMatchesTheDenseReference) {
  for (const int k : {8, 20, 64})
    for (const int degree : {1, 5, 40, 300})
      for (const Regularization reg : {Regularization::l2, Regularization::weighted})
        for (const Confidence conf : {Confidence::linear, Confidence::log}) {
          SCOPED_TRACE(testing::Message()
                       << "k " << k << " degree " << degree << " " << enum_name(reg) << " " << enum_name(conf));
          const SolveParams params = implicit_params(k, Solver::cholesky, reg, conf);
          const ImplicitProblem pr = make_implicit_problem(k, 700, degree, 17u * k + degree);
          const Dense d = dense(pr, params);
          const Solved s = solve(pr, params, std::vector<float>(k + 1, -3.f));
          EXPECT_EQ(s.result.retries, 0);
          EXPECT_LT(relative_difference(s.x, reference_solution(d)), 2e-4);
          EXPECT_EQ(s.x[k], 0.f) << "no bias in implicit mode";
          // The objective it reports is the dense one at the row it wrote.
          const double want = dense_objective(d, s.x);
          EXPECT_NEAR(s.result.squared_error, want, 1e-4 * want);
        }
}

TEST(ImplicitSolver, ConjugateGradientConvergesToTheReference) {
  for (const int k : {8, 20, 64})
    for (const int degree : {3, 40, 300}) {
      SCOPED_TRACE(testing::Message() << "k " << k << " degree " << degree);
      SolveParams params = implicit_params(k, Solver::cg, Regularization::weighted, Confidence::linear);
      params.cg_steps = 3 * k;
      const ImplicitProblem pr = make_implicit_problem(k, 700, degree, 31u * k + degree);
      const Dense d = dense(pr, params);
      const Solved s = solve(pr, params, std::vector<float>(k + 1, 0.f));
      EXPECT_EQ(s.result.retries, 0);
      EXPECT_LT(relative_difference(s.x, reference_solution(d)), 2e-3);
      const double want = dense_objective(d, s.x);
      EXPECT_NEAR(s.result.squared_error, want, 1e-3 * want);
    }
}

// --cg-precision half: CG gathers the observed rows from a half-precision
// copy of the fixed side; the gramian stays the float table's. The solution
// is that mixed problem's, not the all-float one's.
TEST(ImplicitSolver, ConjugateGradientFromHalvesSolvesTheProblemOnTheRoundedRows) {
  for (const int k : {16, 20, 64}) {
    SCOPED_TRACE(testing::Message() << "k " << k);
    SolveParams params = implicit_params(k, Solver::cg, Regularization::weighted, Confidence::log);
    params.cg_steps = 3 * k;
    params.cg_half = true;
    const ImplicitProblem pr = make_implicit_problem(k, 700, 60, 7u * k);
    HalfFactors half;
    half.reserve(pr.fixed.rows(), k);
    half.assign(pr.fixed);
    ImplicitProblem rounded = pr;
    for (std::int64_t i = 0; i < rounded.fixed.rows(); ++i)
      for (int d = 0; d < k; ++d)
        rounded.fixed.row(i)[d] = static_cast<float>(static_cast<_Float16>(rounded.fixed.row(i)[d]));
    const Dense d = dense(pr, params), dh = dense(rounded, params);
    const Eigen::VectorXd weight = d.c - Eigen::VectorXd::Constant(d.c.size(), params.unobserved_weight);
    const Eigen::MatrixXd a = params.unobserved_weight * (d.y.transpose() * d.y) +
                              dh.y.transpose() * weight.asDiagonal() * dh.y + d.ridge * Eigen::MatrixXd::Identity(k, k);
    const Eigen::VectorXd mixed = a.ldlt().solve(dh.y.transpose() * d.c.cwiseProduct(d.p));

    ImplicitGramian gramian;
    gramian.compute(pr.fixed, params.unobserved_weight);
    const auto degree = static_cast<std::int64_t>(pr.cols.size());
    std::vector<float> scales;
    for (const float v : pr.values) scales.push_back(params.implicit_scale(v));
    RowSolver solver(params, degree);
    std::vector<float> x(k + 1, 0.f);
    const RowResult result =
        solver.solve_implicit(pr.cols.data(), scales.data(), degree, params.implicit_constant(scales.data(), degree),
                              pr.fixed, gramian, x.data(), &half);
    EXPECT_EQ(result.retries, 0);
    const double to_mixed = relative_difference(x, mixed), to_float = relative_difference(x, reference_solution(d));
    EXPECT_LT(to_mixed, 2e-3);
    EXPECT_LT(to_mixed, 0.3 * to_float) << "CG did not read the half-precision copy";
  }
}

TEST(ImplicitSolver, ConjugateGradientStepsLowerTheObjectiveFromAWarmStart) {
  const int k = 32;
  for (const Confidence conf : {Confidence::linear, Confidence::log}) {
    SolveParams params = implicit_params(k, Solver::cg, Regularization::l2, conf);
    const ImplicitProblem pr = make_implicit_problem(k, 900, 120, 99u);
    const Dense d = dense(pr, params);
    std::mt19937 gen(5);
    std::normal_distribution<float> normal(0.f, 0.2f);
    std::vector<float> start(k + 1, 0.f);
    for (int e = 0; e < k; ++e) start[e] = normal(gen);
    auto with_ridge = [&](const std::vector<float>& x) {
      double norm = 0;
      for (int e = 0; e < k; ++e) norm += static_cast<double>(x[e]) * x[e];
      return dense_objective(d, x) + d.ridge * norm;
    };
    double previous = with_ridge(start);
    std::vector<float> x = start;
    for (int round = 0; round < 4; ++round) {
      params.cg_steps = 3;
      x = solve(pr, params, x).x;
      const double now = with_ridge(x);
      EXPECT_LE(now, previous * (1 + 1e-6)) << "round " << round;
      previous = now;
    }
  }
}

TEST(ImplicitGramian, IsTheScaledGramOfEveryRowWhateverTheThreads) {
  const int k = 20;
  const std::int64_t rows = 3 * ImplicitGramian::kChunkRows + 77;
  FactorTable table(rows, k);
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (std::int64_t i = 0; i < rows; ++i)
    for (int d = 0; d <= k; ++d) table.row(i)[d] = normal(gen);
  Eigen::MatrixXd y(rows, k);
  for (std::int64_t i = 0; i < rows; ++i)
    for (int d = 0; d < k; ++d) y(i, d) = table.row(i)[d];
  const Eigen::MatrixXd want = 0.3 * (y.transpose() * y);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  ImplicitGramian one;
  one.compute(table, 0.3);
  omp_set_num_threads(2);
  ImplicitGramian two;
  two.compute(table, 0.3);
  omp_set_num_threads(threads);
  EXPECT_EQ(one.rows(), rows);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      EXPECT_NEAR(one.at(i, j), want(i, j), 1e-4 * std::abs(want(i, i)));
      EXPECT_EQ(one.at(i, j), two.at(i, j));
      EXPECT_EQ(one.at(i, j), one.at(j, i));
    }
  // apply and quadratic agree with the matrix.
  std::vector<float> p(32, 0.f), out(32, 1.f);
  for (int d = 0; d < k; ++d) p[d] = normal(gen);
  one.apply(p.data(), out.data());
  double quad = 0;
  for (int i = 0; i < k; ++i) {
    double row = 0;
    for (int j = 0; j < k; ++j) row += one.at(i, j) * p[j];
    EXPECT_NEAR(out[i], row, 1e-4 * (std::abs(row) + one.at(i, i)));
    quad += p[i] * row;
  }
  for (int d = k; d < 32; ++d) EXPECT_EQ(out[d], 0.f);
  std::vector<float> scratch(32);
  EXPECT_NEAR(one.quadratic(p.data(), scratch.data()), quad, 1e-6 * std::abs(quad));
}

// A routed fixed side: each "rank" holds only its own blocks' rows (a table
// from their first row), forms their partials, and the partials of all
// blocks, in block order, finish to the bits of the whole table's compute,
// for any cut of the blocks into ranks and any threads. Blocks of more than
// one chunk, and cuts that a global chunking would straddle.
TEST(ImplicitGramian, BlockPartialsOfOwnRowsGiveTheWholeTablesBits) {
  const int k = 12;
  const std::vector<std::int64_t> block_first = {0, 2500, 2600, 7000, 7001, 9100};
  const std::int64_t rows = block_first.back();
  const int blocks = static_cast<int>(block_first.size()) - 1;
  FactorTable whole(rows, k);
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (std::int64_t i = 0; i < rows; ++i)
    for (int d = 0; d <= k; ++d) whole.row(i)[d] = normal(gen);
  ImplicitGramian want;
  want.compute(whole, 0.25, block_first);
  EXPECT_EQ(want.rows(), rows);
  const std::size_t tri = ImplicitGramian::triangle(k);
  const int threads = omp_get_max_threads();
  for (const std::vector<int>& cuts :
       std::vector<std::vector<int>>{{0, 5}, {0, 1, 5}, {0, 2, 3, 5}, {0, 1, 2, 3, 4, 5}})
    for (int t : {1, 2}) {
      omp_set_num_threads(t);
      std::vector<double> partials(blocks * tri, -1.0);
      for (std::size_t r = 0; r + 1 < cuts.size(); ++r) {
        const std::int64_t first = block_first[cuts[r]], end = block_first[cuts[r + 1]];
        FactorTable own(first, end - first, k);
        for (std::int64_t i = first; i < end; ++i) std::copy(whole.row(i), whole.row(i) + whole.stride(), own.row(i));
        ImplicitGramian::block_partials(own, block_first, cuts[r], cuts[r + 1], partials.data() + cuts[r] * tri);
      }
      ImplicitGramian got;
      got.finish(partials, k, rows, 0.25);
      for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j) EXPECT_EQ(got.at(i, j), want.at(i, j)) << "ranks " << cuts.size() - 1;
    }
  omp_set_num_threads(threads);
  // The blocks do set the order: one block over the whole table sums the
  // same matrix, to rounding, in another order.
  ImplicitGramian one_block;
  one_block.compute(whole, 0.25);
  for (int i = 0; i < k; ++i) EXPECT_NEAR(one_block.at(i, i), want.at(i, i), 1e-4 * want.at(i, i));
}

}  // namespace
}  // namespace dals
