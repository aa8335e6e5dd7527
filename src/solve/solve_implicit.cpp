// RowSolver's implicit-feedback solves (row_solver.hpp, solve_implicit):
// the scaled gather, then Cholesky or CG on
//   (w0 Y^T Y + sum_obs (c_j - w0) y_j y_j^T + ridge I) x = sum_obs c_j y_j,
// reusing the explicit kernels on the scaled tile and adding the shared
// gramian as a k x k matrix (Cholesky) or matrix-vector product (CG).
#include <algorithm>
#include <cmath>

#include "dals/solve/cholesky.hpp"
#include "dals/solve/gram_kernel.hpp"
#include "dals/solve/phase_timer.hpp"
#include "dals/solve/row_solver.hpp"
#include "dals/solve/simd_vectors.hpp"
#include "dals/solve/tile_kernels.hpp"
#include "row_solver_internal.hpp"

namespace dals {

void RowSolver::gather_implicit(const std::int32_t* cols, const float* scales, std::int64_t begin, std::int64_t end,
                                std::int64_t degree, const FactorTable& fixed) {
  const int k = params_.k, ks = tile_stride(k);
  const int row_bytes = (k + 1) * 4;
  // By position from data(), as the fused kernels read it (factors.hpp): a
  // rank's own rows of a routed side start there too (heavy_rows.hpp).
  const float* table = fixed.data();
  const std::int64_t stride = fixed.stride();
  float* y = gathered_.data();
  float* t = target_.data();
  for (std::int64_t p = begin; p < end; ++p) {
    if (p + simd::kGatherDistance < degree)
      simd::prefetch_row(table + cols[p + simd::kGatherDistance] * stride, row_bytes);
    const float s = scales[p];
    const simd::Vec16 scale = simd::splat(s);
    const float* src = table + cols[p] * stride;
    float* dst = y + p * ks;
    int d = 0;
    for (; d + 16 <= k; d += 16) simd::store(dst + d, scale * simd::load(src + d));
    for (; d < k; ++d) dst[d] = s * src[d];  // the padding past k stays zero from construction
    t[p] = params_.implicit_target(s);
  }
}

RowResult RowSolver::solve_implicit(const std::int32_t* cols, const float* scales, std::int64_t degree, double constant,
                                    const FactorTable& fixed, const ImplicitGramian& gramian, float* row,
                                    const HalfFactors* half) {
  // With t = c / s and p = x . y: an observed cell's c (1 - p)^2 - w0 p^2
  // (its weighted error, less what the gramian counts for it as
  // unobserved) equals (t - s p)^2 + c - t^2: the tile's residual plus the
  // row's constant. The explicit gathers scale and set t themselves
  // (GatherSource::implicit) where they handle k; gather_implicit elsewhere.
  const double ridge = params_.implicit_ridge(degree, gramian.rows());
  RowResult result;
  if (params_.solver == Solver::cg) {
    // From the half-precision copy where given (--cg-precision half): half
    // the bytes of the scattered reads, the arithmetic in float.
    const bool from_half = half && tile_gather_fuses_half(params_.k);
    if (from_half || tile_gather_fuses(params_.k)) {
      GatherSource source{fixed.data(), fixed.stride(), nullptr, nullptr, params_.k, false, 0.f};
      if (from_half) source.half_table = half->data(), source.half_biases = half->biases();
      source.implicit = true;
      source.unobserved_weight = static_cast<float>(params_.unobserved_weight);
      result = solve_implicit_cg(degree, gramian, ridge, row, &source, cols, scales);
    } else {
      {
        PhaseTimer timer(phases_.gather);
        gather_implicit(cols, scales, 0, degree, degree, fixed);
      }
      result = solve_implicit_cg(degree, gramian, ridge, row);
    }
  } else {
    const TargetSums targets = gather_and_sum_gram(cols, scales, degree, fixed, 0.0);
    result = solve_implicit_cholesky(degree, gramian, ridge, row, targets);
  }
  result.squared_error = std::max(0.0, result.squared_error + constant);
  row[params_.k] = 0.0f;  // no biases in implicit mode
  return result;
}

RowResult RowSolver::solve_implicit_cholesky(std::int64_t degree, const ImplicitGramian& gramian, double ridge,
                                             float* row, const TargetSums& targets) {
  const int k = params_.k, ks = tile_stride(k);
  PhaseTimer timer(phases_.factor);
  const float* vt_t = sums_.data() + ks;
  double trace = 0;
  for (int i = 0; i < k; ++i) trace += gram_[i * ks + i] + gramian.at(i, i);
  const int ld = cholesky_leading_dimension(k);
  RowResult result;
  for (;; ++result.retries) {
    // gram_[r * ks + c], c >= r: entry (c, r) of the tile's Gram (row_solver.hpp's layout).
    for (int r = 0; r < k; ++r) {
      for (int c = r; c < k; ++c) system_[r * ld + c] = gram_[r * ks + c] + gramian.at(r, c);
      std::fill(system_.begin() + r * ld + k, system_.begin() + (r + 1) * ld, 0.0);
      system_[r * ld + r] += ridge;
      solution_[r] = vt_t[r];
    }
    if (cholesky_solve(system_.data(), k, ld, solution_.data()) &&
        std::all_of(solution_.begin(), solution_.begin() + k, [](double x) { return std::isfinite(x); }))
      break;
    if (result.retries == 8) {  // give up: keep the previous value rather than write NaN
      ++result.retries;
      result.squared_error = normal_squared_error(degree, targets, row);
      result.squared_error += gramian.quadratic(row, sums_.data());  // sums_ is scratch once that has read it
      return result;
    }
    // As solve_primal: strengthen the ridge relative to the data's scale.
    ridge = std::max(ridge * 10.0, 1e-6 * (trace / k + 1.0));
  }
  for (int d = 0; d < k; ++d) row[d] = static_cast<float>(solution_[d]);
  result.squared_error = normal_squared_error(degree, targets, row);
  result.squared_error += gramian.quadratic(row, sums_.data());  // sums_ is scratch once that has read it
  return result;
}

RowResult RowSolver::solve_implicit_cg(std::int64_t degree, const ImplicitGramian& gramian, double ridge_in, float* row,
                                       const GatherSource* source, const std::int32_t* cols, const float* scales) {
  const int k = params_.k, ks = tile_stride(k);
  const float* y = gathered_.data();
  const float ridge = static_cast<float>(ridge_in);
  float* x = work_.data();
  float* r = x + ks;
  float* p = r + ks;
  float* ap = p + ks;
  float* e = ap + ks;        // per entry: t - Y x, updated alongside x
  float* yp = e + degree;    // per entry: Y p of the current step
  float* gp = sums_.data();  // the gramian times p
  float* gx = gp + ks;       // the gramian times x, updated alongside x
  PhaseTimer timer(source ? phases_.gather : phases_.factor);
  std::copy(row, row + k, x);
  std::fill(x + k, x + ks, 0.f);
  // r = Y^T (t - Y x) - (w0 G + ridge) x: one pass over the tile, or the
  // gather itself (its time counted as gathering).
  if (source) {
    tile_gather_residual_gradient(*source, cols, scales, degree, gathered_.data(), target_.data(), x, 0.f, e, r);
    timer.switch_to(phases_.factor);
  } else {
    tile_residual_gradient(y, degree, ks, x, 0.f, target_.data(), e, r);
  }
  gramian.apply(x, gx);
  add_scaled(r, -1.f, gx, ks);
  add_scaled(r, -ridge, x, ks);
  std::copy(r, r + ks, p);
  float rs_old = dot(r, r, ks);
  const bool finite_start = std::isfinite(rs_old);
  float final_alpha = 0.f;  // the last step's, whose update of e is left to the sum of squares
  for (int step = 0; step < params_.cg_steps && rs_old > 0.f; ++step) {
    // A p = Y^T (Y p) + w0 G p + ridge p; the last step needs p^T A p only.
    const bool last = step + 1 == params_.cg_steps;
    const NormalSums sums = tile_normal_product(y, degree, ks, p, 0.f, yp, last ? nullptr : ap);
    gramian.apply(p, gp);
    const float p_ap = sums.norm + dot(p, gp, ks) + ridge * dot(p, p, ks);
    if (!(p_ap > 0.f)) break;
    const float alpha = rs_old / p_ap;
    add_scaled(x, alpha, p, ks);
    add_scaled(gx, alpha, gp, ks);
    if (last) {
      final_alpha = alpha;
      break;
    }
    for (std::int64_t q = 0; q < degree; ++q) e[q] -= alpha * yp[q];
    add_scaled(ap, 1.f, gp, ks);
    add_scaled(ap, ridge, p, ks);
    add_scaled(r, -alpha, ap, ks);
    const float rs_new = dot(r, r, ks);
    const float beta = rs_new / rs_old;
    const simd::Vec16 b = simd::splat(beta);
    for (int d = 0; d < ks; d += 16) simd::store(p + d, simd::load(r + d) + b * simd::load(p + d));
    rs_old = rs_new;
  }
  timer.stop();
  RowResult result;
  if (!finite_start || !all_finite(x, k)) {  // keep the previous value, and count it
    result.retries = 1;
    result.squared_error = residual_squares(degree, row) + gramian.quadratic(row, gp);
    return result;
  }
  std::copy(x, x + k, row);
  // The objective at the new value: the tile's squared residual (e, with
  // the last step's update folded in) plus x^T (w0 G) x.
  double quadratic = 0;
  for (int d = 0; d < k; ++d) quadratic += static_cast<double>(x[d]) * gx[d];
  result.squared_error = squares(e, degree, final_alpha, final_alpha != 0.f ? yp : nullptr) + quadratic;
  return result;
}

}  // namespace dals
