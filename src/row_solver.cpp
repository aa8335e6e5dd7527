#include "dals/row_solver.hpp"

#include "dals/cholesky.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dals {

double row_solve_flops(std::int64_t degree, int width) {
  const double n = static_cast<double>(degree), w = width;
  return n * w * (w + 1)       // SSYRK, lower triangle
         + 2.0 * n * w         // SGEMV
         + w * w * w / 3.0     // Cholesky
         + 2.0 * w * w;        // two triangular solves
}

RowSolver::RowSolver(const SolveParams& params, std::int64_t max_degree)
    : params_(params),
      gathered_(static_cast<std::size_t>(std::max<std::int64_t>(max_degree, 1)) * params.width()),
      target_(static_cast<std::size_t>(std::max<std::int64_t>(max_degree, 1))),
      gram_(static_cast<std::size_t>(params.width()) * params.width()),
      rhs_(params.width()),
      system_(static_cast<std::size_t>(params.width()) * params.width()),
      solution_(params.width()) {}

int RowSolver::solve(const std::int32_t* cols, const float* values, std::int64_t degree, const FactorTable& fixed,
                     double mean, float* out) {
  const int k = params_.k, w = params_.width();
  const bool bias = params_.bias;
  float* y = gathered_.data();
  float* t = target_.data();
  const float fmean = static_cast<float>(mean);
  // Gather: each fixed row once into a contiguous tile, with the constant 1
  // that turns the bias into one more coefficient of the same regression.
  for (std::int64_t p = 0; p < degree; ++p) {
    const float* src = fixed.row(cols[p]);
    float* dst = y + p * w;
    std::memcpy(dst, src, sizeof(float) * k);
    if (bias) {
      dst[k] = 1.0f;
      t[p] = values[p] - fmean - src[k];
    } else {
      t[p] = values[p] - fmean;
    }
  }
  const int n = static_cast<int>(degree);
  // Row-major Y (n x w) is column-major Y^T (w x n): Gram = Y^T Y is SYRK "NoTrans".
  cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, w, n, 1.0f, y, w, 0.0f, gram_.data(), w);
  cblas_sgemv(CblasColMajor, CblasNoTrans, w, n, 1.0f, y, w, t, 1, 0.0f, rhs_.data(), 1);

  double ridge = params_.lambda * (params_.regularization == Regularization::weighted ? static_cast<double>(degree) : 1.0);
  double trace = 0;
  for (int i = 0; i < w; ++i) trace += gram_[i * w + i];
  int retries = 0;
  for (;; ++retries) {
    // SSYRK's lower triangle, column-major, is the upper triangle read
    // row-major: what cholesky_solve reads. Widen to double for the solve.
    for (int i = 0; i < w * w; ++i) system_[i] = gram_[i];
    for (int i = 0; i < w; ++i) system_[i * w + i] += ridge;
    for (int i = 0; i < w; ++i) solution_[i] = rhs_[i];
    if (cholesky_solve(system_.data(), w, solution_.data()) &&
        std::all_of(solution_.begin(), solution_.end(), [](double x) { return std::isfinite(x); }))
      break;
    if (retries == 8) return retries + 1;  // give up: keep the row's previous value rather than write NaN
    // Not positive definite in floating point (e.g. lambda = 0 and fewer
    // ratings than factors): strengthen the ridge relative to the data's scale.
    ridge = std::max(ridge * 10.0, 1e-6 * (trace / w + 1.0));
  }
  for (int d = 0; d < k; ++d) out[d] = static_cast<float>(solution_[d]);
  out[k] = bias ? static_cast<float>(solution_[k]) : 0.0f;
  return retries;
}

}  // namespace dals
