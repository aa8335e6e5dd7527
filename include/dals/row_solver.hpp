#pragma once
/// @file row_solver.hpp
/// @brief The ALS kernel: one row's regularized least-squares solve.
///
/// With the other side fixed, a user's (u_i, b_i) minimizes
///   sum_j (A_ij - mu - c_j - [v_j, 1] . [u_i, b_i])^2 + reg * (|u_i|^2 + b_i^2),
/// reg = lambda (l2) or lambda * n_i (weighted, ALS-WR). Items are symmetric.
/// The solver gathers the n_i fixed rows [v_j, 1] into a contiguous n_i x w
/// buffer Y (w = k + 1, or k without biases), forms the Gram matrix Y^T Y
/// with one BLAS-3 call (SSYRK) and Y^T t with SGEMV, adds reg to the
/// diagonal and solves by Cholesky in double precision (cholesky.hpp).

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "dals/config.hpp"
#include "dals/factors.hpp"

namespace dals {

struct SolveParams {
  int k = 0;
  double lambda = 0.0;
  Regularization regularization = Regularization::weighted;
  bool bias = true;
  int width() const { return bias ? k + 1 : k; }
};

/// Floating-point operations of one row's solve (SYRK + GEMV + Cholesky +
/// triangular solves), used for the GFLOP/s figures.
double row_solve_flops(std::int64_t degree, int width);

/// Per-thread workspace: buffers sized once for the heaviest row, reused for
/// every row, so the hot loop never allocates.
class RowSolver {
 public:
  RowSolver(const SolveParams& params, std::int64_t max_degree);

  /// Solves one row from its ratings (cols[p], values[p]), p < degree, and
  /// the fixed side's table; writes k factors and the bias (0 without
  /// biases) to out[0..k]. Returns how many times the ridge had to be
  /// strengthened because the system was not numerically positive definite
  /// (0 normally); the result is always finite.
  int solve(const std::int32_t* cols, const float* values, std::int64_t degree, const FactorTable& fixed,
            double mean, float* out);

 private:
  SolveParams params_;
  std::vector<float, Eigen::aligned_allocator<float>> gathered_;  // degree x width, row-major
  std::vector<float, Eigen::aligned_allocator<float>> target_;    // degree
  std::vector<float, Eigen::aligned_allocator<float>> gram_;      // width x width, lower triangle
  std::vector<float, Eigen::aligned_allocator<float>> rhs_;       // width
  std::vector<double> system_;    // width x width, row-major, factored in place
  std::vector<double> solution_;  // width
};

}  // namespace dals
