// RowSolver's heavy-row path (row_solver.hpp, partial_equations): normal
// equations formed in parts, summed in double by the caller in a fixed
// order, and solved by the primal Cholesky.
#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "dals/solve/row_solver.hpp"
#include "dals/solve/tile_kernels.hpp"

namespace dals {

void RowSolver::partial_equations(const std::int32_t* cols, const float* values, std::int64_t degree,
                                  const FactorTable& fixed, double mean, float* part, std::int64_t prefetch_rows) {
  const int k = params_.k, ks = tile_stride(k);
  if (k == 0) throw std::logic_error("RowSolver::partial_equations: needs at least one factor");
  const int floats = equation_floats(k);
  if (degree == 0) {  // +0.0 everywhere: adding it changes no sum's bits
    std::fill(part, part + floats, 0.f);
    return;
  }
  const TargetSums targets = gather_and_sum_gram(cols, values, degree, fixed, mean, prefetch_rows);
  float* out = part;
  for (int j = 0; j < k; ++j)
    for (int i = j; i < k; ++i) *out++ = gram_[static_cast<std::size_t>(j) * ks + i];
  out = std::copy(sums_.data(), sums_.data() + k, out);            // V^T 1
  out = std::copy(sums_.data() + ks, sums_.data() + ks + k, out);  // V^T t
  *out++ = targets.sum;
  std::memcpy(out, &targets.squares, sizeof(double));
}

void RowSolver::add_equations(const float* part, int k, double* sums) {
  const int floats = equation_floats(k) - 2;  // the floats, then the double
  for (int i = 0; i < floats; ++i) sums[i] += part[i];
  double squares;
  std::memcpy(&squares, part + floats, sizeof(double));
  sums[floats] += squares;
}

RowResult RowSolver::solve_from_equations(const double* sums, std::int64_t degree, float* row, double constant,
                                          const ImplicitGramian* gramian) {
  const int k = params_.k, ks = tile_stride(k);
  const double* in = sums;
  for (int j = 0; j < k; ++j)
    for (int i = j; i < k; ++i) gram_[static_cast<std::size_t>(j) * ks + i] = static_cast<float>(*in++);
  for (int i = 0; i < k; ++i) sums_[i] = static_cast<float>(*in++);
  for (int i = 0; i < k; ++i) sums_[ks + i] = static_cast<float>(*in++);
  TargetSums targets;
  targets.sum = static_cast<float>(*in++);
  targets.squares = *in;
  if (params_.implicit) {
    if (gramian == nullptr) throw std::logic_error("RowSolver::solve_from_equations: implicit needs the gramian");
    const double ridge = params_.implicit_ridge(degree, gramian->rows());
    RowResult result = solve_implicit_cholesky(degree, *gramian, ridge, row, targets);
    result.squared_error = std::max(0.0, result.squared_error + constant);
    row[k] = 0.0f;
    return result;
  }
  RowResult result = solve_primal(degree, row, targets);
  if (!params_.bias) row[k] = 0.0f;
  return result;
}

RowResult RowSolver::solve_in_parts(const std::int32_t* cols, const float* values, std::int64_t degree,
                                    const FactorTable& fixed, double mean, std::span<const std::int64_t> fixed_first,
                                    float* row, double constant, const ImplicitGramian* gramian) {
  const int k = params_.k;
  part_.resize(equation_floats(k));
  part_sums_.assign(equation_floats(k) - 1, 0.0);
  // Split at the blocks' ends; an empty part adds +0.0 (nothing): skipped.
  std::int64_t a = 0;
  for (std::size_t b = 1; b < fixed_first.size() && a < degree; ++b) {
    const std::int64_t e = std::lower_bound(cols + a, cols + degree, fixed_first[b]) - cols;
    if (e > a) {
      partial_equations(cols + a, values + a, e - a, fixed, mean, part_.data(), degree - a);
      add_equations(part_.data(), k, part_sums_.data());
    }
    a = e;
  }
  return solve_from_equations(part_sums_.data(), degree, row, constant, gramian);
}

std::int64_t RowSolver::heavy_threshold(int k, Solver solver, std::int64_t option, std::int64_t fixed_blocks) {
  constexpr std::int64_t none = std::numeric_limits<std::int64_t>::max();
  if (k == 0 || option == 0) return none;
  const std::int64_t width = k + 1;
  if (option > 0) return std::max(option, width);
  if (solver == Solver::cg) return none;
  // Where B parts cost what d rows do (rounded up): at and above, the parts
  // are fewer bytes. And parts of kHeavyPartRows ratings on average: each
  // part costs a Gram kernel's start and ~w^2 / 2 conversions and adds,
  // against w^2 / 2 FMAs a rating (the MovieLens-20M shape, 16 blocks,
  // k = 64, 2 threads, medians of 3 interleaved runs: the item half 0.628 s
  // against 0.591 s without parts from 545 ratings, 0.606 s against 0.602 s
  // from 1,024).
  const std::int64_t bytes_even = (fixed_blocks * equation_floats(k) + width - 1) / width;
  return std::max({bytes_even, kHeavyPartRows * fixed_blocks, width});
}

}  // namespace dals
