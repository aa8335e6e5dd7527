// The ALS row solve against a dense reference: the normal equations of the
// same regularized least-squares problem, built and solved in double.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include "dals/solve/row_solver.hpp"

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
  // The ridge written out again, not through SolveParams::ridge.
  const double scale = params.regularization == Regularization::weighted ? n
                       : params.regularization == Regularization::power  ? std::pow(n, params.exponent)
                                                                         : 1.0;
  const double bias_lambda = params.bias_lambda < 0 ? params.lambda : params.bias_lambda;
  Eigen::MatrixXd a = y.transpose() * y;
  for (int d = 0; d < k; ++d) a(d, d) += params.lambda * scale;
  if (params.bias) a(k, k) += bias_lambda * scale;
  return a.ldlt().solve(y.transpose() * t);
}

// The squared error the solver reports must be the error of the row it wrote.
double direct_squared_error(const Problem& p, const SolveParams& params, double mean, const std::vector<float>& x) {
  double sum = 0;
  for (std::size_t i = 0; i < p.cols.size(); ++i) {
    const float* v = p.fixed.row(p.cols[i]);
    double pred = mean + (params.bias ? v[params.k] + x[params.k] : 0.0);
    for (int d = 0; d < params.k; ++d) pred += static_cast<double>(v[d]) * x[d];
    sum += (p.values[i] - pred) * (p.values[i] - pred);
  }
  return sum;
}

double relative_error(const std::vector<float>& out, const Eigen::VectorXd& want, int width) {
  Eigen::VectorXd got(width);
  for (int d = 0; d < width; ++d) got(d) = out[d];
  return (got - want).norm() / want.norm();
}

void expect_matches_reference(const SolveParams& params, int degree) {
  Problem p = make_problem(params.k, std::max(200, 2 * degree), degree, 1234u + degree);
  const double mean = 3.5;
  RowSolver solver(params, degree);
  std::vector<float> out(params.k + 1, -7.f);
  const RowResult result = solver.solve(p.cols.data(), p.values.data(), degree, p.fixed, mean, out.data());
  EXPECT_EQ(result.retries, 0);
  EXPECT_LE(relative_error(out, reference(p, params, mean), params.width()), 1e-4)
      << "k=" << params.k << " degree=" << degree;
  if (!params.bias) {
    EXPECT_EQ(out[params.k], 0.f);
  }
  const double direct = direct_squared_error(p, params, mean, out);
  EXPECT_NEAR(result.squared_error, direct, 1e-4 * direct + 1e-6);
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

// The Cholesky path gathers a heavy row a chunk at a time into a buffer of
// one chunk: many chunks, and one solver for heavy, light (dual) and heavy
// rows in turn.
TEST(RowSolver, HeavyRowsOverManyChunksMatchWithOneSolver) {
  for (int k : {16, 64, 128}) expect_matches_reference({k, 0.05, Regularization::weighted, true}, 1500);
  const SolveParams params{64, 0.05, Regularization::weighted, true};
  RowSolver solver(params, 2000);
  for (int degree : {2000, 10, 700}) {
    Problem p = make_problem(64, 3000, degree, 77u + degree);
    std::vector<float> out(65, 0.f);
    solver.solve(p.cols.data(), p.values.data(), degree, p.fixed, 3.5, out.data());
    EXPECT_LE(relative_error(out, reference(p, params, 3.5), 65), 1e-4) << "degree " << degree;
  }
}

TEST(RowSolver, MatchesDenseReferenceForWidthsThatPadTheTile) {
  // k not a multiple of 16 (zero columns in the tile), and k past the
  // register-resident kernels (the generic loops).
  for (int k : {10, 37, 170}) {
    expect_matches_reference({k, 0.1, Regularization::weighted, true}, 3 * k);
    expect_matches_reference({k, 0.5, Regularization::l2, false}, 2 * k + 1);
  }
}

TEST(RowSolver, LightRowsTakeTheDualPathAndMatchToo) {
  // degree < k + 1: solved through the degree x degree dual system.
  for (int degree : {1, 2, 30, 64}) expect_matches_reference({64, 0.05, Regularization::weighted, true}, degree);
  for (int degree : {3, 15}) expect_matches_reference({32, 2.0, Regularization::l2, false}, degree);
}

SolveParams power_params(int k, double lambda, double exponent, double bias_lambda) {
  SolveParams params{k, lambda, Regularization::power, true};
  params.exponent = exponent;
  params.bias_lambda = bias_lambda;
  return params;
}

// lambda n^nu with its own bias lambda, through the dual (degree < k + 1)
// and the primal path.
TEST(RowSolver, PowerRegularizationWithABiasLambdaMatchesTheDenseReference) {
  for (int degree : {1, 3, 20, 150}) {
    expect_matches_reference(power_params(16, 0.5, 0.5, 3.0), degree);
    expect_matches_reference(power_params(16, 0.5, 0.3, 0.01), degree);
    SolveParams weighted{16, 0.1, Regularization::weighted, true};
    weighted.bias_lambda = 2.0;
    expect_matches_reference(weighted, degree);
  }
  // No bias ridge at all: the dual cannot take it, the primal does.
  expect_matches_reference(power_params(16, 0.5, 0.5, 0.0), 40);
}

// nu = 0 and 1 are l2 and weighted to the bit; so is a bias lambda equal
// to lambda (the solvers' older paths).
TEST(RowSolver, PowerAtItsEndsAndAnEqualBiasLambdaGiveTheOldBits) {
  for (Solver solver : {Solver::cholesky, Solver::cg})
    for (int degree : {2, 9, 120}) {
      Problem p = make_problem(16, 300, degree, 77u + degree);
      auto solve = [&](SolveParams params) {
        params.solver = solver;
        RowSolver s(params, degree);
        std::vector<float> out(17, 0.25f);
        s.solve(p.cols.data(), p.values.data(), degree, p.fixed, 3.5, out.data());
        return out;
      };
      SolveParams l2{16, 0.7, Regularization::l2, true}, weighted{16, 0.7, Regularization::weighted, true};
      EXPECT_EQ(solve(power_params(16, 0.7, 0.0, -1)), solve(l2)) << degree;
      EXPECT_EQ(solve(power_params(16, 0.7, 1.0, -1)), solve(weighted)) << degree;
      SolveParams same = weighted;
      same.bias_lambda = 0.7;
      EXPECT_EQ(solve(same), solve(weighted)) << degree;
      same.bias_lambda = 0.8;  // the comparisons can fail
      EXPECT_NE(solve(same), solve(weighted)) << degree;
      EXPECT_NE(solve(power_params(16, 0.7, 0.5, -1)), solve(weighted)) << degree;
    }
}

TEST(RowSolver, ConjugateGradientConvergesToTheExactSolution) {
  SolveParams params{16, 0.1, Regularization::weighted, true, Solver::cg, 3};
  Problem p = make_problem(16, 200, 120, 99u);
  const double mean = 3.5;
  const Eigen::VectorXd want = reference(p, params, mean);
  std::vector<float> x(17, 0.f);
  double previous = 1e30;
  // Warm-started rounds of 3 steps, as across ALS iterations: the error falls.
  for (int round = 0; round < 8; ++round) {
    RowSolver solver(params, 120);
    const RowResult r = solver.solve(p.cols.data(), p.values.data(), 120, p.fixed, mean, x.data());
    EXPECT_EQ(r.retries, 0);
    const double err = relative_error(x, want, 17);
    if (previous > 1e-5) {  // until float precision
      EXPECT_LT(err, previous) << "round " << round;
    }
    previous = err;
    const double direct = direct_squared_error(p, params, mean, x);
    EXPECT_NEAR(r.squared_error, direct, 1e-3 * direct);
  }
  EXPECT_LE(previous, 1e-4);
  // Enough steps in one go reach it too.
  params.cg_steps = 40;
  std::vector<float> cold(17, 0.f);
  RowSolver many(params, 120);
  many.solve(p.cols.data(), p.values.data(), 120, p.fixed, mean, cold.data());
  EXPECT_LE(relative_error(cold, want, 17), 1e-4);
}

// A few CG steps from zero against the same steps in double (the last step
// computes no new gradient: its x and error must still be CG's), with and
// without the bias, through the four-row kernels (k = 64) and the others.
TEST(RowSolver, ConjugateGradientStepsMatchCgInDouble) {
  for (int k : {16, 64, 80})
    for (bool bias : {true, false})
      for (int steps : {1, 2, 3}) {
        const std::string at =
            "k=" + std::to_string(k) + " bias=" + std::to_string(bias) + " steps=" + std::to_string(steps);
        const SolveParams params{k, 0.1, Regularization::weighted, bias, Solver::cg, steps};
        const int w = params.width(), degree = 150;
        Problem p = make_problem(k, 300, degree, 7u + k);
        const double mean = 3.5;
        Eigen::MatrixXd y(degree, w);
        Eigen::VectorXd t(degree);
        for (int i = 0; i < degree; ++i) {
          const float* v = p.fixed.row(p.cols[i]);
          for (int d = 0; d < k; ++d) y(i, d) = v[d];
          if (bias) y(i, k) = 1.0;
          t(i) = p.values[i] - mean - (bias ? v[k] : 0.0);
        }
        const Eigen::MatrixXd a = y.transpose() * y + params.lambda * degree * Eigen::MatrixXd::Identity(w, w);
        Eigen::VectorXd want = Eigen::VectorXd::Zero(w), r = y.transpose() * t, dir = r;
        for (int s = 0; s < steps; ++s) {
          const Eigen::VectorXd ad = a * dir;
          const double alpha = r.squaredNorm() / dir.dot(ad);
          want += alpha * dir;
          const Eigen::VectorXd next = r - alpha * ad;
          dir = next + (next.squaredNorm() / r.squaredNorm()) * dir;
          r = next;
        }
        std::vector<float> x(k + 1, 0.f);
        RowSolver solver(params, degree);
        const RowResult result = solver.solve(p.cols.data(), p.values.data(), degree, p.fixed, mean, x.data());
        EXPECT_EQ(result.retries, 0) << at;
        EXPECT_LE(relative_error(x, want, w), 1e-4) << at;
        const double direct = direct_squared_error(p, params, mean, x);
        EXPECT_NEAR(result.squared_error, direct, 1e-4 * direct) << at;
      }
}

TEST(RowSolver, ConjugateGradientWithoutBiasLeavesTheBiasAtZero) {
  SolveParams params{37, 0.5, Regularization::l2, false, Solver::cg, 60};
  Problem p = make_problem(37, 300, 200, 5u);
  const Eigen::VectorXd want = reference(p, params, 3.5);
  std::vector<float> x(38, 0.f);
  RowSolver solver(params, 200);
  solver.solve(p.cols.data(), p.values.data(), 200, p.fixed, 3.5, x.data());
  EXPECT_LE(relative_error(x, want, 37), 1e-3);
  EXPECT_EQ(x[37], 0.f);
}

// A table whose values half precision holds exactly: gathered from its
// HalfFactors copy, CG sees the same floats. Where both paths run the same
// kernels (k a multiple of 16 up to 160: the fused gather; beyond: a plain
// gather and the generic loops) and the tile stays in floats, it must give
// the same bits. Elsewhere the arithmetic is the same but the kernels
// differ (only the half table fuses the gather at k = 10 or 37; a row too
// heavy for the cache keeps its tile in halves), and the compiler may pair
// multiplies and adds into FMAs differently in each.
TEST(RowSolver, ConjugateGradientFromAnExactHalfCopyGivesTheFloatBits) {
  for (int k : {10, 37, 64, 170}) {
    for (int degree : {40, 3000, 70000}) {
      SolveParams params{k, 0.05, Regularization::weighted, true, Solver::cg, 3};
      Problem p = make_problem(k, degree + 1000, degree, 17u + k);
      for (std::int64_t i = 0; i < p.fixed.rows(); ++i)
        for (int d = 0; d <= k; ++d) p.fixed.row(i)[d] = std::round(p.fixed.row(i)[d] * 256.f) / 256.f;
      HalfFactors half;
      half.assign(p.fixed);
      std::vector<float> start(k + 1, 0.01f), from_float = start, from_half = start;
      SolveParams half_params = params;
      half_params.cg_half = true;  // its tile buffer sized for halves past kHalfTileBytes
      RowSolver a(params, degree), b(half_params, degree);
      const RowResult ra = a.solve(p.cols.data(), p.values.data(), degree, p.fixed, 3.5, from_float.data());
      const RowResult rb = b.solve(p.cols.data(), p.values.data(), degree, p.fixed, 3.5, from_half.data(), &half);
      const bool same_kernels = (k % 16 == 0 || k > 160) && degree * tile_stride(k) * 4 <= RowSolver::kHalfTileBytes;
      if (same_kernels) {
        EXPECT_EQ(from_float, from_half) << "k=" << k << " degree=" << degree;
        EXPECT_EQ(ra.squared_error, rb.squared_error) << "k=" << k << " degree=" << degree;
      } else {
        for (int d = 0; d <= k; ++d) EXPECT_NEAR(from_float[d], from_half[d], 1e-5 * std::abs(from_float[d]) + 1e-7);
        EXPECT_NEAR(ra.squared_error, rb.squared_error, 1e-5 * ra.squared_error);
      }
    }
  }
}

// Any table: the half copy perturbs each factor by at most 2^-11 relative,
// far less than what 3 CG steps leave of the error.
TEST(RowSolver, ConjugateGradientFromAHalfCopyStaysCloseToFloat) {
  const int k = 64, degree = 3000;
  SolveParams params{k, 0.05, Regularization::weighted, true, Solver::cg, 3};
  Problem p = make_problem(k, 5000, degree, 23u);
  HalfFactors half;
  half.assign(p.fixed);
  std::vector<float> from_float(k + 1, 0.f), from_half(k + 1, 0.f);
  RowSolver a(params, degree), b(params, degree);
  const RowResult ra = a.solve(p.cols.data(), p.values.data(), degree, p.fixed, 3.5, from_float.data());
  const RowResult rb = b.solve(p.cols.data(), p.values.data(), degree, p.fixed, 3.5, from_half.data(), &half);
  EXPECT_NE(from_float, from_half);  // the rounding shows
  double diff = 0, norm = 0;
  for (int d = 0; d <= k; ++d) diff += std::pow(from_float[d] - from_half[d], 2), norm += std::pow(from_float[d], 2);
  EXPECT_LT(std::sqrt(diff / norm), 5e-3);
  EXPECT_NEAR(ra.squared_error, rb.squared_error, 1e-3 * ra.squared_error);
  // Cholesky ignores the copy: its bits are the float ones.
  params.solver = Solver::cholesky;
  std::vector<float> exact(k + 1, 0.f), exact_given_half(k + 1, 0.f);
  RowSolver c(params, degree), d(params, degree);
  c.solve(p.cols.data(), p.values.data(), degree, p.fixed, 3.5, exact.data());
  d.solve(p.cols.data(), p.values.data(), degree, p.fixed, 3.5, exact_given_half.data(), &half);
  EXPECT_EQ(exact, exact_given_half);
}

// A system that no ridge makes solvable (a non-finite fixed row): the row
// keeps its previous value and is counted, also when the row is heavy
// enough to be gathered a chunk at a time (the tile is gone by then).
TEST(RowSolver, UnsolvableRowKeepsItsValueAndIsCounted) {
  for (int degree : {40, 2000}) {
    const SolveParams params{16, 0.1, Regularization::weighted, true};
    Problem p = make_problem(16, 3000, degree, 31u);
    p.fixed.row(p.cols[degree / 2])[3] = std::numeric_limits<float>::quiet_NaN();
    RowSolver solver(params, degree);
    std::vector<float> out(17, 0.25f);
    const RowResult r = solver.solve(p.cols.data(), p.values.data(), degree, p.fixed, 3.5, out.data());
    EXPECT_GT(r.retries, 0) << "degree " << degree;
    EXPECT_EQ(out, std::vector<float>(17, 0.25f)) << "degree " << degree;
  }
}

// CG from a half copy whose factor overflowed half precision (k = 20: the
// tile's padding turns the infinity into NaN): kept and counted too.
TEST(RowSolver, ConjugateGradientOnAnInfiniteHalfCopyKeepsTheRowAndCountsIt) {
  for (int k : {16, 20, 64}) {
    SolveParams params{k, 0.1, Regularization::weighted, true, Solver::cg, 3};
    Problem p = make_problem(k, 500, 100, 41u);
    p.fixed.row(p.cols[7])[1] = 1e6f;  // beyond 65504: infinite in halves
    HalfFactors half;
    half.assign(p.fixed);
    RowSolver solver(params, 100);
    std::vector<float> out(k + 1, 0.5f);
    const RowResult r = solver.solve(p.cols.data(), p.values.data(), 100, p.fixed, 3.5, out.data(), &half);
    EXPECT_EQ(r.retries, 1) << "k=" << k;
    EXPECT_EQ(out, std::vector<float>(k + 1, 0.5f)) << "k=" << k;
  }
}

TEST(RowSolver, ASolverSizedForHalvesNeedsTheHalfCopy) {
  SolveParams params{64, 0.05, Regularization::weighted, true, Solver::cg, 3};
  params.cg_half = true;
  Problem p = make_problem(64, 500, 100, 3u);
  RowSolver solver(params, 100);
  std::vector<float> out(65, 0.f);
  EXPECT_THROW(solver.solve(p.cols.data(), p.values.data(), 100, p.fixed, 3.5, out.data()), std::logic_error);
}

TEST(RowSolver, SingularSystemGetsRidgeAndStaysFinite) {
  // lambda = 0 with fewer ratings than factors: Y^T Y is singular.
  SolveParams params{16, 0.0, Regularization::l2, true};
  Problem p = make_problem(16, 50, 3, 7u);
  RowSolver solver(params, 3);
  std::vector<float> out(17, 0.f);
  EXPECT_GT(solver.solve(p.cols.data(), p.values.data(), 3, p.fixed, 3.5, out.data()).retries, 0);
  for (float x : out) EXPECT_TRUE(std::isfinite(x));
}

TEST(RowSolver, FlopCountGrowsWithDegreeAndWidth) {
  SolveParams k32{32, 0.1, Regularization::weighted, true}, k64{64, 0.1, Regularization::weighted, true};
  EXPECT_LT(row_solve_flops(k32, 10), row_solve_flops(k32, 20));
  EXPECT_LT(row_solve_flops(k32, 10), row_solve_flops(k64, 10));
  EXPECT_LT(row_solve_flops(k64, 20), row_solve_flops(k64, 100) / 10);  // the dual path for light rows
  EXPECT_NEAR(row_solve_flops(k64, 100),
              100.0 * 65 * 66 + 2.0 * 100 * 65 + 65.0 * 65 * 65 / 3 + 2.0 * 65 * 65 + 2.0 * 100 * 65, 1e-6);
  SolveParams cg = k64;
  cg.solver = Solver::cg;
  EXPECT_LT(row_solve_flops(cg, 100) * 5, row_solve_flops(k64, 100));  // the point of CG
  // CG: 4 n w for the first residual, 4 n w a step but 2 n w for the last
  // (no new gradient), 10 w of vector updates a step.
  cg.cg_steps = 3;
  EXPECT_NEAR(row_solve_flops(cg, 100), 4.0 * 100 * 65 + 2 * 4.0 * 100 * 65 + 2.0 * 100 * 65 + 3 * 10.0 * 65, 1e-6);
  cg.cg_steps = 1;
  EXPECT_NEAR(row_solve_flops(cg, 100), 4.0 * 100 * 65 + 2.0 * 100 * 65 + 10.0 * 65, 1e-6);
}

}  // namespace
}  // namespace dals
