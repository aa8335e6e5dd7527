// RowSolver's buffers, the gather and the dispatch between the solvers; the
// Cholesky family is in solve_cholesky.cpp, CG in solve_cg.cpp.
#include "dals/solve/row_solver.hpp"

#include <algorithm>
#include <stdexcept>

#include "dals/solve/cholesky.hpp"
#include "dals/solve/phase_timer.hpp"
#include "dals/solve/simd_vectors.hpp"
#include "dals/solve/tile_kernels.hpp"

namespace dals {
namespace {

// Copies one factor row (k floats) with inline vector moves: memcpy with a
// run-time size became a call to memmove, which cost more than the copy.
inline void copy_factors(const float* src, float* dst, int k) {
  int d = 0;
  for (; d + 16 <= k; d += 16) simd::store(dst + d, simd::load(src + d));
  for (; d < k; ++d) dst[d] = src[d];
}

}  // namespace

double row_solve_flops(const SolveParams& params, std::int64_t degree) {
  const double n = static_cast<double>(degree), w = params.width();
  if (params.implicit) {  // the explicit kernels on the scaled tile, plus the gramian's k x k terms
    if (params.solver == Solver::cg)
      return 4.0 * n * w + (params.cg_steps - 1) * (4.0 * n * w) + 2.0 * n * w +
             (params.cg_steps + 1) * (2.0 * w * w + 10.0 * w) + 2.0 * w * w;
    return n * w * (w + 1) + 2.0 * n * w + w * w * w / 3.0 + 2.0 * w * w + 4.0 * w * w;
  }
  if (params.solver == Solver::cholesky && n < w && params.lambda > 0)
    return n * (n + 1) * w    // SSYRK of Y Y^T
           + n * n * n / 3.0  // Cholesky
           + 2.0 * n * n      // triangular solves
           + 2.0 * n * w      // x = Y^T z
           + 2.0 * n * w;     // residual for the training error
  if (params.solver == Solver::cg)
    return 4.0 * n * w                              // initial residual: Y x, then Y^T e
           + (params.cg_steps - 1) * (4.0 * n * w)  // fused Y p and Y^T (Y p)
           + 2.0 * n * w                            // the last step: Y p only
           + params.cg_steps * 10.0 * w;            // vector updates
  return n * w * (w + 1)                            // SSYRK, lower triangle
         + 2.0 * n * w                              // SGEMV
         + w * w * w / 3.0                          // Cholesky
         + 2.0 * w * w                              // two triangular solves
         + 2.0 * n * w;                             // residual for the training error
}

namespace {

// Floats of tile buffer a solver needs for rows of up to max_degree ratings.
std::size_t tile_floats(const SolveParams& params, std::int64_t max_degree) {
  if (params.k == 0) return 1;  // biases only: no tile (solve_bias_only)
  const std::int64_t ks = tile_stride(params.k), rows = std::max<std::int64_t>(max_degree, 1);
  if (params.solver == Solver::cholesky && tile_gather_fuses(params.k)) {
    // Gathered and summed a chunk at a time (gather_and_sum_gram); whole
    // only below w rows, for the dual.
    return static_cast<std::size_t>(ks *
                                    std::max<std::int64_t>(tile_gram_chunk_rows(static_cast<int>(ks)), params.width()));
  }
  // (Implicit tiles are scaled rows: floats, whatever the table.)
  if (params.solver == Solver::cg && params.cg_half && !params.implicit && tile_gather_fuses_half(params.k)) {
    // Floats up to kHalfTileBytes, halves beyond.
    const std::int64_t bytes = std::max(std::min(rows * ks * 4, RowSolver::kHalfTileBytes), rows * ks * 2);
    return static_cast<std::size_t>((bytes + 3) / 4);
  }
  return static_cast<std::size_t>(rows * ks);
}

}  // namespace

RowSolver::RowSolver(const SolveParams& params, std::int64_t max_degree)
    : params_(params),
      gathered_(tile_floats(params, max_degree), 0.f),
      target_(static_cast<std::size_t>(std::max<std::int64_t>(max_degree, 1))),
      gram_(static_cast<std::size_t>(tile_stride(params.k)) * tile_stride(params.k)),
      sums_(2 * static_cast<std::size_t>(tile_stride(params.k))),
      // CG's e and Y p take 2 floats per rating of the heaviest row; the
      // exact solve uses only x, so it does not hold them (8 bytes per
      // rating per thread: 0.26 GB a thread for a row of 3.3 x 10^7).
      work_(4 * static_cast<std::size_t>(tile_stride(params.k)) +
                (params.solver == Solver::cg ? 2 * static_cast<std::size_t>(std::max<std::int64_t>(max_degree, 1)) : 0),
            0.f),
      system_(static_cast<std::size_t>(params.width()) * cholesky_leading_dimension(params.width())),
      solution_(params.width()) {}

void RowSolver::gather(const std::int32_t* cols, const float* values, std::int64_t begin, std::int64_t end,
                       std::int64_t degree, const FactorTable& fixed, const HalfFactors* half, double mean) {
  const int k = params_.k, ks = tile_stride(k);
  const bool bias = params_.bias;
  float* y = gathered_.data();
  float* t = target_.data();
  const float fmean = static_cast<float>(mean);
  if (half) {  // whole rows of halves, zero-padded to ks like the tile
    for (std::int64_t p = begin; p < end; ++p) {
      if (p + simd::kGatherDistance < degree)
        simd::prefetch_row(reinterpret_cast<const float*>(half->row(cols[p + simd::kGatherDistance])), ks * 2);
      const std::uint16_t* src = half->row(cols[p]);
      for (int d = 0; d < ks; d += 16) simd::store(y + p * ks + d, simd::load_half(src + d));
      t[p] = bias ? values[p] - fmean - half->biases()[cols[p]] : values[p] - fmean;
    }
    return;
  }
  // Each fixed row's factors are read once into a contiguous tile; its bias
  // moves to the target. The padding columns k..ks stay zero from
  // construction. The rows are scattered over the table: fetch ahead.
  const int row_bytes = (k + 1) * 4;
  // By position from data(), as the fused kernels read it (factors.hpp): a
  // rank's own rows of a routed side start there too (heavy_rows.hpp).
  const float* table = fixed.data();
  const std::int64_t stride = fixed.stride();
  for (std::int64_t p = begin; p < end; ++p) {
    if (p + simd::kGatherDistance < degree)
      simd::prefetch_row(table + cols[p + simd::kGatherDistance] * stride, row_bytes);
    const float* src = table + cols[p] * stride;
    copy_factors(src, y + p * ks, k);
    t[p] = bias ? values[p] - fmean - src[k] : values[p] - fmean;
  }
}

RowResult RowSolver::solve(const std::int32_t* cols, const float* values, std::int64_t degree, const FactorTable& fixed,
                           double mean, float* row, const HalfFactors* half) {
  if (params_.k == 0) return solve_bias_only(cols, values, degree, fixed, mean, row);
  RowResult result;
  if (params_.solver != Solver::cg) half = nullptr;  // the exact solve reads the float factors
  // Its tile buffer was sized for halves (tile_floats).
  if (params_.solver == Solver::cg && params_.cg_half && !half)
    throw std::logic_error("RowSolver: cg_half is set, but no HalfFactors copy was given");
  if (params_.solver == Solver::cg && (half ? tile_gather_fuses_half(params_.k) : tile_gather_fuses(params_.k))) {
    // CG's first pass is fused with the gather: no separate copy loop.
    GatherSource source{fixed.data(), fixed.stride(),          nullptr, nullptr, params_.k,
                        params_.bias, static_cast<float>(mean)};
    if (half) source.half_table = half->data(), source.half_biases = half->biases();
    result = solve_cg(degree, row, &source, cols, values);
  } else if (params_.solver == Solver::cholesky && !uses_dual(degree)) {
    result = solve_primal(degree, row, gather_and_sum_gram(cols, values, degree, fixed, mean));
  } else {
    {
      PhaseTimer timer(phases_.gather);
      gather(cols, values, 0, degree, degree, fixed, half, mean);
    }
    result = params_.solver == Solver::cg ? solve_cg(degree, row) : solve_cholesky(degree, row);
  }
  if (!params_.bias) row[params_.k] = 0.0f;
  return result;
}

double RowSolver::residual_squares(std::int64_t degree, const float* row, bool half_tile) {
  const int k = params_.k, ks = tile_stride(k);
  float* x = work_.data();  // the row's factors, zero-padded to the tile stride
  std::copy(row, row + k, x);
  std::fill(x + k, x + ks, 0.f);
  const float xb = params_.bias ? row[k] : 0.f;
  if (half_tile) return tile_squared_residual(half_tile_data(), degree, ks, x, xb, target_.data());
  return tile_squared_residual(gathered_.data(), degree, ks, x, xb, target_.data());
}

std::uint16_t* RowSolver::half_tile_data() {
  // The float tile's buffer, used as halves: every access goes through
  // memcpy or intrinsics that may alias (simd_vectors.hpp).
  return reinterpret_cast<std::uint16_t*>(gathered_.data());
}

RowResult RowSolver::solve_bias_only(const std::int32_t* cols, const float* values, std::int64_t degree,
                                     const FactorTable& fixed, double mean, float* row) const {
  // --factors 0: b = sum (r - mu - c_j) / (n + ridge), in closed form (the
  // kernels assume at least one factor). Either solver: this is exact.
  RowResult result;
  if (!params_.bias) {
    row[0] = 0.f;
    for (std::int64_t p = 0; p < degree; ++p) {
      const double e = values[p] - mean - fixed.row(cols[p])[0];
      result.squared_error += e * e;
    }
    return result;
  }
  double sum = 0;
  for (std::int64_t p = 0; p < degree; ++p) sum += values[p] - mean - fixed.row(cols[p])[0];
  const float b = static_cast<float>(sum / (static_cast<double>(degree) + params_.bias_ridge(degree)));
  row[0] = b;
  for (std::int64_t p = 0; p < degree; ++p) {
    const double e = values[p] - mean - fixed.row(cols[p])[0] - b;
    result.squared_error += e * e;
  }
  return result;
}

}  // namespace dals
