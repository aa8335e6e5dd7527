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
  const int k = k_, ks = tile_stride(k);
  for (int i = 0; i < k; ++i) {
    const float* g = rows_float_.data() + static_cast<std::size_t>(i) * ks;
    simd::Vec16 acc = simd::load(g) * simd::load(p);
    for (int d = 16; d < ks; d += 16) acc += simd::load(g + d) * simd::load(p + d);
    out[i] = simd::sum(acc);
  }
  std::fill(out + k, out + ks, 0.f);
}

double ImplicitGramian::quadratic(const float* x) const {
  double total = 0;
  for (int i = 0; i < k_; ++i) {
    double row = 0;
    for (int j = 0; j < k_; ++j) row += scaled_[static_cast<std::size_t>(i) * k_ + j] * x[j];
    total += x[i] * row;
  }
  return total;
}

}  // namespace dals
