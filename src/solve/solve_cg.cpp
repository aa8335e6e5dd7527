// RowSolver's CG (row_solver.hpp): a few conjugate-gradient steps on the
// row's normal equations, warm-started from its current value, each step
// one pass over the tile.
#include "dals/solve/row_solver.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "dals/solve/phase_timer.hpp"
#include "dals/solve/simd_vectors.hpp"
#include "dals/solve/tile_kernels.hpp"
#include "row_solver_internal.hpp"

namespace dals {

RowResult RowSolver::solve_cg(std::int64_t degree, float* row, const GatherSource* source, const std::int32_t* cols,
                              const float* values) {
  const int k = params_.k, ks = tile_stride(k);
  const bool bias = params_.bias;
  const float* y = gathered_.data();
  const float ridge = static_cast<float>(params_.ridge(degree));
  const float bias_ridge = static_cast<float>(params_.bias_ridge(degree));
  const bool same_ridge = params_.bias_ridge_same();
  // Vectors of ks entries over the factors, zero past k (so are the tile's
  // padding columns), each with its bias coordinate as a scalar (0 and
  // left alone without biases).
  float* x = work_.data();
  float* r = x + ks;
  float* p = r + ks;
  float* ap = p + ks;
  float* e = ap + ks;      // per rating: t - Y x, updated alongside x so the error needs no extra pass
  float* yp = e + degree;  // per rating: (Y p) of the current step
  PhaseTimer timer(source ? phases_.gather : phases_.factor);
  std::copy(row, row + k, x);
  std::fill(x + k, x + ks, 0.f);
  float xb = bias ? row[k] : 0.f;
  // Gathered from halves, a tile too large to stay in cache as floats
  // stays halves: CG's passes stream half the bytes, for the same arithmetic.
  const bool half_tile = source && source->half_table && degree * ks * 4 > kHalfTileBytes;
  auto normal_product = [&](const float* p, float pb, float* yp, float* ap) {
    return half_tile ? tile_normal_product(half_tile_data(), degree, ks, p, pb, yp, ap)
                     : tile_normal_product(y, degree, ks, p, pb, yp, ap);
  };

  // r = Y^T (t - Y x) - ridge x: one pass over the tile, or the gather
  // itself (its time counted as gathering).
  float e_sum;
  if (half_tile) {
    e_sum = tile_gather_residual_gradient(*source, cols, values, degree, half_tile_data(), target_.data(), x, xb, e, r);
    timer.switch_to(phases_.factor);
  } else if (source) {
    e_sum = tile_gather_residual_gradient(*source, cols, values, degree, gathered_.data(), target_.data(), x, xb, e, r);
    timer.switch_to(phases_.factor);  // the solve's own time starts here
  } else {
    e_sum = tile_residual_gradient(y, degree, ks, x, xb, target_.data(), e, r);
  }
  float rb = bias ? e_sum - bias_ridge * xb : 0.f;
  add_scaled(r, -ridge, x, ks);
  std::copy(r, r + ks, p);
  float rs_old = rb * rb + dot(r, r, ks);
  // Non-finite data (e.g. a factor beyond half precision's range in the
  // copy): no step is taken, and the row counts as not solved below.
  const bool finite_start = std::isfinite(rs_old);
  float pb = rb;
  std::optional<float> final_alpha;  // set where the last step ran
  for (int step = 0; step < params_.cg_steps && rs_old > 0.f; ++step) {
    // A p = Y^T (Y p) + ridge p: one pass, each tile row read once. The
    // last step needs only Y p (for p^T A p and the errors), not the next
    // gradient: its pass skips Y^T (Y p), half the pass's arithmetic.
    const bool last = step + 1 == params_.cg_steps;
    const NormalSums sums = normal_product(p, pb, yp, last ? nullptr : ap);
    const float p_ap = same_ridge ? sums.norm + ridge * (pb * pb + dot(p, p, ks))
                                  : sums.norm + ridge * dot(p, p, ks) + bias_ridge * (pb * pb);
    if (!(p_ap > 0.f)) break;  // p = 0 or a numerical breakdown: x is as good as it gets
    const float alpha = rs_old / p_ap;
    xb += alpha * pb;
    add_scaled(x, alpha, p, ks);
    if (last) {  // e's update by this step is left to its sum of squares below
      final_alpha = alpha;
      break;
    }
    for (std::int64_t q = 0; q < degree; ++q) e[q] -= alpha * yp[q];
    const float apb = bias ? sums.sum + bias_ridge * pb : 0.f;
    add_scaled(ap, ridge, p, ks);
    rb -= alpha * apb;
    add_scaled(r, -alpha, ap, ks);
    const float rs_new = rb * rb + dot(r, r, ks);
    const float beta = rs_new / rs_old;
    const simd::Vec16 b = simd::splat(beta);
    for (int d = 0; d < ks; d += 16) simd::store(p + d, simd::load(r + d) + b * simd::load(p + d));
    pb = rb + beta * pb;
    rs_old = rs_new;
  }
  timer.stop();
  RowResult result;
  if (!finite_start || !all_finite(x, k) || !std::isfinite(xb)) {  // keep the previous value, and count it
    result.retries = 1;
    result.squared_error = residual_squares(degree, row, half_tile);
    return result;
  }
  std::copy(x, x + k, row);
  row[k] = xb;
  result.squared_error = final_alpha ? squares(e, degree, *final_alpha, yp) : squares(e, degree);
  return result;
}

}  // namespace dals
