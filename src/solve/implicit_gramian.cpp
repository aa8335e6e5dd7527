#include "dals/solve/implicit_gramian.hpp"

#include <cblas.h>

#include <algorithm>

#include "dals/solve/simd_vectors.hpp"
#include "dals/solve/tile_kernels.hpp"

namespace dals {

void ImplicitGramian::compute(const FactorTable& fixed, double w0) {
  k_ = fixed.k();
  rows_ = fixed.rows();
  const int k = k_, ks = tile_stride(k);
  const std::size_t kk = static_cast<std::size_t>(k) * k;
  std::vector<double> sum(kk, 0.0);
  // Chunks a group at a time, so that the partial Grams held at once do not
  // grow with the table: 64 of them at k = 64 take 1 MiB.
  constexpr std::int64_t kGroup = 64;
  const std::int64_t chunks = (rows_ + kChunkRows - 1) / kChunkRows;
  std::vector<float> partial(static_cast<std::size_t>(std::min(chunks, kGroup)) * kk);
  for (std::int64_t g0 = 0; g0 < chunks; g0 += kGroup) {
    const std::int64_t g1 = std::min(chunks, g0 + kGroup);
#pragma omp parallel for schedule(dynamic, 1)
    for (std::int64_t c = g0; c < g1; ++c) {
      const std::int64_t first = c * kChunkRows, n = std::min(rows_, first + kChunkRows) - first;
      // The chunk's rows are the columns of a column-major k x n matrix
      // (leading dimension: the table's stride); C = A A^T, lower triangle.
      cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, k, static_cast<int>(n), 1.0f, fixed.row(first),
                  fixed.stride(), 0.0f, partial.data() + (c - g0) * kk, k);
    }
    for (std::int64_t c = g0; c < g1; ++c) {  // in chunk order: the bits do not depend on the threads
      const float* part = partial.data() + (c - g0) * kk;
      for (int j = 0; j < k; ++j)
        for (int i = j; i < k; ++i)
          sum[static_cast<std::size_t>(j) * k + i] += part[static_cast<std::size_t>(j) * k + i];
    }
  }
  // Column-major lower: entry (i, j), i >= j, at j * k + i. Mirror, scale.
  scaled_.assign(kk, 0.0);
  for (int j = 0; j < k; ++j)
    for (int i = j; i < k; ++i) {
      const double v = w0 * sum[static_cast<std::size_t>(j) * k + i];
      scaled_[static_cast<std::size_t>(i) * k + j] = v;
      scaled_[static_cast<std::size_t>(j) * k + i] = v;
    }
  rows_float_.assign(static_cast<std::size_t>(k) * ks, 0.f);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j)
      rows_float_[static_cast<std::size_t>(i) * ks + j] =
          static_cast<float>(scaled_[static_cast<std::size_t>(i) * k + j]);
}

void ImplicitGramian::apply(const float* p, float* out) const {
  // By columns (the matrix is symmetric: column j is row j): out += p_j
  // G[:, j] in whole vectors, no horizontal sums; a fixed order.
  const int k = k_, ks = tile_stride(k);
  for (int d = 0; d < ks; d += 16) simd::store(out + d, simd::splat(0.f));
  for (int j = 0; j < k; ++j) {
    const float* g = rows_float_.data() + static_cast<std::size_t>(j) * ks;
    const simd::Vec16 pj = simd::splat(p[j]);
    for (int d = 0; d < ks; d += 16) simd::store(out + d, simd::load(out + d) + pj * simd::load(g + d));
  }
}

double ImplicitGramian::quadratic(const float* x, float* scratch) const {
  apply(x, scratch);
  double total = 0;
  for (int d = 0; d < k_; ++d) total += static_cast<double>(x[d]) * scratch[d];
  return total;
}

}  // namespace dals
