#include "dals/solve/implicit_gramian.hpp"

#include <cblas.h>

#include <algorithm>

#include "dals/solve/simd_vectors.hpp"
#include "dals/solve/tile_kernels.hpp"

namespace dals {

namespace {

// One chunk of the sum: kChunkRows rows of a block, or the block's rest.
struct Chunk {
  int block;
  std::int64_t first, rows;
};

}  // namespace

void ImplicitGramian::block_partials(const FactorTable& fixed, std::span<const std::int64_t> block_first,
                                     int first_block, int end_block, double* out) {
  const int k = fixed.k();
  const std::size_t kk = static_cast<std::size_t>(k) * k, tri = triangle(k);
  std::fill(out, out + static_cast<std::size_t>(end_block - first_block) * tri, 0.0);
  // Chunks from each block's first row: where a chunk starts depends on the
  // blocks alone, not on which rank holds them.
  std::vector<Chunk> chunks;
  for (int b = first_block; b < end_block; ++b)
    for (std::int64_t r = block_first[b]; r < block_first[b + 1]; r += kChunkRows)
      chunks.push_back({b, r, std::min(kChunkRows, block_first[b + 1] - r)});
  // Chunks a group at a time, so that the partial Grams held at once do not
  // grow with the table: 64 of them at k = 64 take 1 MiB.
  constexpr std::int64_t kGroup = 64;
  const auto count = static_cast<std::int64_t>(chunks.size());
  std::vector<float> partial(static_cast<std::size_t>(std::min(count, kGroup)) * kk);
  for (std::int64_t g0 = 0; g0 < count; g0 += kGroup) {
    const std::int64_t g1 = std::min(count, g0 + kGroup);
#pragma omp parallel for schedule(dynamic, 1)
    for (std::int64_t c = g0; c < g1; ++c) {
      // The chunk's rows are the columns of a column-major k x n matrix
      // (leading dimension: the table's stride); C = A A^T, lower triangle.
      cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, k, static_cast<int>(chunks[c].rows), 1.0f,
                  fixed.row(chunks[c].first), fixed.stride(), 0.0f, partial.data() + (c - g0) * kk, k);
    }
    for (std::int64_t c = g0; c < g1; ++c) {  // in chunk order: the bits do not depend on the threads
      const float* part = partial.data() + (c - g0) * kk;
      double* sum = out + static_cast<std::size_t>(chunks[c].block - first_block) * tri;
      std::size_t t = 0;
      for (int j = 0; j < k; ++j)
        for (int i = j; i < k; ++i) sum[t++] += part[static_cast<std::size_t>(j) * k + i];
    }
  }
}

void ImplicitGramian::finish(std::span<const double> partials, int k, std::int64_t rows, double w0) {
  k_ = k;
  rows_ = rows;
  const int ks = tile_stride(k);
  const std::size_t kk = static_cast<std::size_t>(k) * k, tri = triangle(k);
  std::vector<double> sum(tri, 0.0);
  for (std::size_t b = 0; b + tri <= partials.size(); b += tri)  // in block order
    for (std::size_t t = 0; t < tri; ++t) sum[t] += partials[b + t];
  // Packed lower (i, j), i >= j, by columns. Mirror, scale.
  scaled_.assign(kk, 0.0);
  std::size_t t = 0;
  for (int j = 0; j < k; ++j)
    for (int i = j; i < k; ++i) {
      const double v = w0 * sum[t++];
      scaled_[static_cast<std::size_t>(i) * k + j] = v;
      scaled_[static_cast<std::size_t>(j) * k + i] = v;
    }
  rows_float_.assign(static_cast<std::size_t>(k) * ks, 0.f);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j)
      rows_float_[static_cast<std::size_t>(i) * ks + j] =
          static_cast<float>(scaled_[static_cast<std::size_t>(i) * k + j]);
}

void ImplicitGramian::compute(const FactorTable& fixed, double w0, std::span<const std::int64_t> block_first) {
  const int blocks = static_cast<int>(block_first.size()) - 1;
  std::vector<double> partials(static_cast<std::size_t>(std::max(blocks, 0)) * triangle(fixed.k()));
  block_partials(fixed, block_first, 0, blocks, partials.data());
  finish(partials, fixed.k(), block_first.empty() ? 0 : block_first.back(), w0);
}

void ImplicitGramian::compute(const FactorTable& fixed, double w0) {
  const std::int64_t whole[2] = {fixed.first_row(), fixed.end_row()};
  compute(fixed, w0, whole);
  rows_ = fixed.rows();
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
