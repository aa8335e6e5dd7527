// The heavy-row path (RowSolver::partial_equations): a row's normal
// equations formed in parts and summed solve the same problem as the whole
// row, one part gives solve()'s own bits, and a part's bits depend only on
// its ratings and fixed rows, not on where the table that holds them starts.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "dals/solve/implicit_gramian.hpp"
#include "dals/solve/row_solver.hpp"

namespace dals {
namespace {

struct Row {
  FactorTable fixed;
  std::vector<std::int32_t> cols;
  std::vector<float> values;
};

Row make_row(int k, int n_fixed, int degree, unsigned seed, bool counts = false) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  Row r{FactorTable(n_fixed, k), {}, {}};
  for (std::int64_t i = 0; i < n_fixed; ++i)
    for (int d = 0; d <= k; ++d) r.fixed.row(i)[d] = normal(gen) * (d == k ? 0.3f : 0.5f);
  std::vector<std::int32_t> all(n_fixed);
  for (int i = 0; i < n_fixed; ++i) all[i] = i;
  std::shuffle(all.begin(), all.end(), gen);
  r.cols.assign(all.begin(), all.begin() + degree);
  std::sort(r.cols.begin(), r.cols.end());
  for (int i = 0; i < degree; ++i) r.values.push_back(counts ? 1.f + static_cast<float>(i % 7) : 3.5f + normal(gen));
  return r;
}

// Sums the parts of the row cut at `cuts` (positions in its ratings), in order.
std::vector<double> summed(RowSolver& solver, const Row& r, const std::vector<std::int64_t>& cuts, int k, double mean,
                           const std::vector<float>& values) {
  std::vector<double> sums(RowSolver::equation_floats(k) - 1, 0.0);
  std::vector<float> part(RowSolver::equation_floats(k));
  std::int64_t a = 0;
  for (std::int64_t b : cuts) {
    solver.partial_equations(r.cols.data() + a, values.data() + a, b - a, r.fixed, mean, part.data());
    RowSolver::add_equations(part.data(), k, sums.data());
    a = b;
  }
  return sums;
}

TEST(ReducedEquations, OnePartGivesTheWholeRowsBits) {
  for (int k : {10, 16, 64}) {
    SCOPED_TRACE(k);
    const SolveParams params{k, 0.05, Regularization::weighted, true};
    const int degree = 900;
    const Row r = make_row(k, 2000, degree, 5u + k);
    RowSolver solver(params, degree);
    std::vector<float> whole(k + 1, 0.f), parts(k + 1, 0.f);
    const RowResult a = solver.solve(r.cols.data(), r.values.data(), degree, r.fixed, 3.5, whole.data());
    const std::vector<double> sums = summed(solver, r, {degree}, k, 3.5, r.values);
    const RowResult b = solver.solve_from_equations(sums.data(), degree, parts.data());
    EXPECT_EQ(0, std::memcmp(whole.data(), parts.data(), whole.size() * 4));
    EXPECT_EQ(a.squared_error, b.squared_error);
  }
}

TEST(ReducedEquations, ManyPartsSolveTheSameProblem) {
  for (int k : {10, 16, 64}) {
    SCOPED_TRACE(k);
    const SolveParams params{k, 0.05, Regularization::weighted, true};
    const int degree = 1500;
    const Row r = make_row(k, 3000, degree, 9u + k);
    RowSolver solver(params, degree);
    std::vector<float> whole(k + 1, 0.f), parts(k + 1, 0.f);
    const RowResult a = solver.solve(r.cols.data(), r.values.data(), degree, r.fixed, 3.5, whole.data());
    // Uneven parts, an empty one among them.
    const std::vector<double> sums = summed(solver, r, {1, 300, 300, 1000, 1499, degree}, k, 3.5, r.values);
    const RowResult b = solver.solve_from_equations(sums.data(), degree, parts.data());
    double diff = 0, norm = 0;
    for (int d = 0; d <= k; ++d) diff += (whole[d] - parts[d]) * (whole[d] - parts[d]), norm += whole[d] * whole[d];
    EXPECT_LT(std::sqrt(diff / norm), 1e-4);
    EXPECT_NEAR(a.squared_error, b.squared_error, 1e-4 * a.squared_error);
  }
}

TEST(ReducedEquations, APartReadsItsTableByPositionWhereverItsRowsStart) {
  // A routed side's own rows start at the rank's first row, and the parts
  // index them from there: the same bits as the whole table by global id.
  for (int k : {10, 16}) {
    SCOPED_TRACE(k);
    const SolveParams params{k, 0.05, Regularization::l2, true};
    const Row r = make_row(k, 1000, 200, 3u + k);
    FactorTable own(400, 600, k);  // rows [400, 1000)
    for (std::int64_t i = 400; i < 1000; ++i) std::copy(r.fixed.row(i), r.fixed.row(i) + k + 1, own.row(i));
    const auto first = std::lower_bound(r.cols.begin(), r.cols.end(), 400) - r.cols.begin();
    std::vector<std::int32_t> local;
    for (auto q = first; q < static_cast<std::ptrdiff_t>(r.cols.size()); ++q) local.push_back(r.cols[q] - 400);
    const auto n = static_cast<std::int64_t>(local.size());
    ASSERT_GT(n, 50);
    RowSolver solver(params, 200);
    std::vector<float> by_id(RowSolver::equation_floats(k)), by_position(RowSolver::equation_floats(k));
    solver.partial_equations(r.cols.data() + first, r.values.data() + first, n, r.fixed, 3.5, by_id.data());
    solver.partial_equations(local.data(), r.values.data() + first, n, own, 3.5, by_position.data());
    EXPECT_EQ(0, std::memcmp(by_id.data(), by_position.data(), by_id.size() * 4));
  }
}

TEST(ReducedEquations, ImplicitOnePartGivesTheWholeRowsBits) {
  for (int k : {8, 16}) {
    SCOPED_TRACE(k);
    SolveParams params;
    params.k = k;
    params.bias = false;
    params.implicit = true;
    params.lambda = 0.02;
    params.unobserved_weight = 0.5;
    const int degree = 400;
    const Row r = make_row(k, 1200, degree, 11u + k, true);
    ImplicitGramian gramian;
    gramian.compute(r.fixed, params.unobserved_weight);
    std::vector<float> scales;
    for (const float v : r.values) scales.push_back(params.implicit_scale(v));
    const double constant = params.implicit_constant(scales.data(), degree);
    RowSolver solver(params, degree);
    std::vector<float> whole(k + 1, 0.f), parts(k + 1, 0.f);
    const RowResult a =
        solver.solve_implicit(r.cols.data(), scales.data(), degree, constant, r.fixed, gramian, whole.data());
    const std::vector<double> one = summed(solver, r, {degree}, k, 0.0, scales);
    const RowResult b = solver.solve_from_equations(one.data(), degree, parts.data(), constant, &gramian);
    EXPECT_EQ(0, std::memcmp(whole.data(), parts.data(), whole.size() * 4));
    EXPECT_EQ(a.squared_error, b.squared_error);
    // In parts: the same solution up to rounding.
    const std::vector<double> many = summed(solver, r, {50, 51, 260, degree}, k, 0.0, scales);
    solver.solve_from_equations(many.data(), degree, parts.data(), constant, &gramian);
    for (int d = 0; d < k; ++d) EXPECT_NEAR(parts[d], whole[d], 1e-4 * (std::abs(whole[d]) + 1e-3));
  }
}

}  // namespace
}  // namespace dals
