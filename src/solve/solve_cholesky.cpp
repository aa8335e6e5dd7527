// RowSolver's Cholesky family (row_solver.hpp): the gather interleaved with
// the Gram kernel, the primal w x w solve with its ridge retries, the dual
// n x n solve of rows with fewer ratings than unknowns, and the training
// error from the normal equations.
#include "dals/solve/row_solver.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "dals/solve/cholesky.hpp"
#include "dals/solve/gram_kernel.hpp"
#include "dals/solve/phase_timer.hpp"
#include "dals/solve/simd_vectors.hpp"
#include "dals/solve/tile_kernels.hpp"
#include "row_solver_internal.hpp"

namespace dals {
namespace {

// The columns n..ld of each row are scratch to cholesky_solve, which runs
// whole vectors over them: zeros keep stale values of earlier rows from
// turning into infinities or subnormals there.
void zero_padding(double* system, int n, int ld) {
  for (int r = 0; r < n; ++r)
    std::fill(system + static_cast<std::size_t>(r) * ld + n, system + static_cast<std::size_t>(r + 1) * ld, 0.0);
}

}  // namespace

bool RowSolver::solve_dual(std::int64_t degree, float* row) {
  const int k = params_.k, ks = tile_stride(k), w = params_.width();
  const int n = static_cast<int>(degree);
  const float* y = gathered_.data();
  const double ridge = params_.ridge(degree);
  PhaseTimer timer(phases_.gram);
  // G = Y Y^T (n x n) for Y = [V, 1]: V V^T by SYRK "Trans" on the
  // column-major V^T (ks x n, lda ks), plus 1 everywhere for the ones column.
  cblas_ssyrk(CblasColMajor, CblasLower, CblasTrans, n, k, 1.0f, y, ks, 0.0f, gram_.data(), n);
  timer.switch_to(phases_.factor);
  const int ld = cholesky_leading_dimension(n);
  // With the bias's ridge rb apart from the factors' r: x = D^-1 Y^T
  // (Y D^-1 Y^T + I)^-1 t for D = diag(r, .., r, rb), which is the system
  // below with the ones scaled by r / rb, and x_b = (r / rb) sum z (a
  // factor of exactly 1 when rb = r).
  const double bias_scale = params_.bias ? params_.lambda / params_.effective_bias_lambda() : 0.0;
  const double ones = bias_scale;
  for (int r = 0; r < n; ++r)
    for (int c = r; c < n; ++c) system_[r * ld + c] = gram_[r * n + c] + ones;
  zero_padding(system_.data(), n, ld);
  for (int i = 0; i < n; ++i) system_[i * ld + i] += ridge;
  for (int i = 0; i < n; ++i) solution_[i] = target_[i];
  if (cholesky_solve(system_.data(), n, ld, solution_.data())) {
    // x = Y^T z = [V^T z, sum z], z = (Y Y^T + ridge I)^-1 t.
    float* z = sums_.data();  // n <= k entries fit
    float z_sum = 0.f;
    for (int i = 0; i < n; ++i) z[i] = static_cast<float>(solution_[i]), z_sum += z[i];
    float* x = work_.data();
    cblas_sgemv(CblasColMajor, CblasNoTrans, k, n, 1.0f, y, ks, z, 1, 0.0f, x, 1);
    if (params_.bias) x[k] = params_.bias_ridge_same() ? z_sum : static_cast<float>(bias_scale * z_sum);
    const bool finite = all_finite(x, w);
    if (finite) std::copy(x, x + w, row);
    return finite;
  }
  return false;  // the primal path, with its ridge retries, takes over
}

bool RowSolver::uses_dual(std::int64_t degree) const {
  // A row with fewer ratings than unknowns: (Y^T Y + ridge I)^-1 Y^T t equals
  // Y^T (Y Y^T + ridge I)^-1 t, an n x n system instead of w x w (for most
  // users of a power-law dump the Cholesky of the w x w one dominates).
  return degree < params_.width() && params_.ridge(degree) > 0 && (!params_.bias || params_.bias_ridge(degree) > 0);
}

TargetSums RowSolver::gather_and_sum_gram(const std::int32_t* cols, const float* values, std::int64_t degree,
                                          const FactorTable& fixed, double mean, std::int64_t prefetch_rows) {
  const std::int64_t ahead_rows = std::max(prefetch_rows, degree);
  // By chunks of rows: while the Gram kernel sums one chunk (in L1), the
  // next chunk's rows are on their way into L2, so a heavy row's gather
  // (scattered reads, latency-bound) overlaps its arithmetic. Where the
  // width allows, the gather adds V^T 1 and V^T t as it goes, and each
  // chunk is gathered over the last in a buffer of one chunk (the kernel is
  // done with it): the solver's memory does not grow with the heaviest row.
  // Otherwise tile_sums needs the whole tile.
  const int ks = tile_stride(params_.k), row_bytes = (params_.k + 1) * 4;
  const bool fused = tile_gather_fuses(params_.k);
  GatherSource source{fixed.data(), fixed.stride(),          nullptr, nullptr, params_.k,
                      params_.bias, static_cast<float>(mean)};
  // Implicit: `values` are scales (RowSolver::solve_implicit).
  source.implicit = params_.implicit;
  source.unobserved_weight = static_cast<float>(params_.unobserved_weight);
  float* column_sums = sums_.data();
  float* vt_t = column_sums + ks;
  TargetSums targets;
  auto gather_chunk = [&](std::int64_t begin, std::int64_t end) {
    if (fused)
      tile_gather_sums(source, cols, values, begin, end, ahead_rows, gathered_.data(), target_.data(), column_sums,
                       vt_t, targets);  // row begin at the buffer's start
    else if (params_.implicit)
      gather_implicit(cols, values, begin, end, degree, fixed);
    else
      gather(cols, values, begin, end, degree, fixed, nullptr, mean);
  };
  const std::int64_t chunk = tile_gram_chunk_rows(ks);
  PhaseTimer timer(phases_.gather);
  gather_chunk(0, std::min(chunk, degree));
  if (degree == 0) tile_gram_rows(gathered_.data(), 0, 0, ks, gram_.data());  // zeroes it
  for (std::int64_t q0 = 0; q0 < degree; q0 += chunk) {
    const std::int64_t q1 = std::min(degree, q0 + chunk), q2 = std::min(degree, q1 + chunk);
    // The gather fetched kGatherDistance rows past q1 already.
    const std::int64_t fetch_end = std::min(ahead_rows, q1 + chunk);
    const std::int64_t from = std::min(fetch_end, q1 + simd::kGatherDistance);
    const RowPrefetch ahead{fixed.data(), fixed.stride(), cols + from, fetch_end - from, row_bytes};
    timer.switch_to(phases_.gram);
    tile_gram_rows(fused ? gathered_.data() : gathered_.data() + q0 * ks, q0, q1, ks, gram_.data(), ahead);
    timer.switch_to(phases_.gather);
    gather_chunk(q1, q2);
  }
  if (fused) return targets;
  timer.switch_to(phases_.gram);
  return tile_sums(gathered_.data(), degree, ks, target_.data(), column_sums, vt_t);
}

RowResult RowSolver::solve_cholesky(std::int64_t degree, float* row) {
  if (uses_dual(degree) && solve_dual(degree, row)) {
    PhaseTimer timer(phases_.factor);
    RowResult result;
    result.squared_error = residual_squares(degree, row);
    return result;
  }
  PhaseTimer timer(phases_.gram);
  const int ks = tile_stride(params_.k);
  tile_gram_rows(gathered_.data(), 0, degree, ks, gram_.data());
  const TargetSums targets = tile_sums(gathered_.data(), degree, ks, target_.data(), sums_.data(), sums_.data() + ks);
  timer.stop();
  return solve_primal(degree, row, targets);
}

RowResult RowSolver::solve_primal(std::int64_t degree, float* row, const TargetSums& targets) {
  const int k = params_.k, ks = tile_stride(k), w = params_.width();
  const int n = static_cast<int>(degree);
  PhaseTimer timer(phases_.factor);
  // Y^T Y for Y = [V, 1]: V^T V (gram_), its last row the column sums of V
  // and n; Y^T t = [V^T t, sum t] (sums_ and targets).
  const float* column_sums = sums_.data();
  const float* vt_t = column_sums + ks;
  const float t_sum = targets.sum;

  double ridge = params_.ridge(degree), bias_ridge = params_.bias_ridge(degree);
  double trace = params_.bias ? n : 0.0;
  for (int i = 0; i < k; ++i) trace += gram_[i * ks + i];
  RowResult result;
  const int ld = cholesky_leading_dimension(w);
  for (;; ++result.retries) {
    // gram[j * ks + i] holds entry (i, j) for i >= j: row j of the upper
    // triangle, what cholesky_solve reads. Widen to double for the solve.
    for (int r = 0; r < k; ++r)
      for (int c = r; c < k; ++c) system_[r * ld + c] = gram_[r * ks + c];
    if (params_.bias) {
      for (int r = 0; r < k; ++r) system_[r * ld + k] = column_sums[r];
      system_[k * ld + k] = n;
      solution_[k] = t_sum;
    }
    for (int i = 0; i < k; ++i) system_[i * ld + i] += ridge;
    if (params_.bias) system_[k * ld + k] += bias_ridge;
    zero_padding(system_.data(), w, ld);
    for (int i = 0; i < k; ++i) solution_[i] = vt_t[i];
    if (cholesky_solve(system_.data(), w, ld, solution_.data()) &&
        std::all_of(solution_.begin(), solution_.end(), [](double x) { return std::isfinite(x); }))
      break;
    if (result.retries == 8) {  // give up: keep the row's previous value rather than write NaN
      ++result.retries;
      // From the normal equations: the tile may be gone (gathered a chunk
      // at a time over one chunk's buffer).
      result.squared_error = normal_squared_error(degree, targets, row);
      return result;
    }
    // Not positive definite in floating point (e.g. lambda = 0 and fewer
    // ratings than factors): strengthen the ridge relative to the data's scale.
    ridge = std::max(ridge * 10.0, 1e-6 * (trace / w + 1.0));
    bias_ridge = std::max(bias_ridge * 10.0, 1e-6 * (trace / w + 1.0));
  }
  for (int d = 0; d < w; ++d) row[d] = static_cast<float>(solution_[d]);
  result.squared_error = normal_squared_error(degree, targets, row);
  return result;
}

double RowSolver::normal_squared_error(std::int64_t degree, const TargetSums& targets, const float* row) const {
  // |t - Y x|^2 = t.t - 2 x.(Y^T t) + x^T (Y^T Y) x from the normal
  // equations already formed: O(w^2) instead of a pass over the n x w tile.
  // In double; the terms cancel by a factor of a few (the residual against
  // the target's spread), far from float's precision.
  const int k = params_.k, ks = tile_stride(k);
  const float* column_sums = sums_.data();
  const float* vt_t = column_sums + ks;
  const double xb = params_.bias ? row[k] : 0.0;
  double linear = xb * targets.sum, quadratic = static_cast<double>(degree) * xb * xb;
  for (int j = 0; j < k; ++j) {
    const double xj = row[j];
    const float* column = gram_.data() + static_cast<std::size_t>(j) * ks;  // entries (i, j), i >= j
    double below = 0;
#pragma omp simd reduction(+ : below)
    for (int i = j + 1; i < k; ++i) below += static_cast<double>(column[i]) * row[i];
    quadratic += xj * (column[j] * xj + 2.0 * below + 2.0 * xb * column_sums[j]);
    linear += xj * vt_t[j];
  }
  return std::max(0.0, targets.squares - 2.0 * linear + quadratic);
}

}  // namespace dals
