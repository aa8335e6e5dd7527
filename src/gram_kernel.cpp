#include "dals/gram_kernel.hpp"

#include <algorithm>

#include "simd_vectors.hpp"

namespace dals {
namespace {

using simd::load;
using simd::splat;
using simd::store;
using simd::Vec16;

// Gram entries [i0, i0 + 16 VR) x [j0, j0 + NC) over tile rows [q0, q1):
// VR x NC accumulators in registers; per tile row, VR vector loads and NC
// broadcasts feed VR x NC fused multiply-adds. The first chunk of rows
// starts from zero, later ones from what the previous chunk stored.
template <int VR, int NC>
void gram_block(const float* v, std::int64_t q0, std::int64_t q1, int ks, int i0, int j0, float* gram) {
  Vec16 acc[VR][NC];
#pragma GCC unroll 16
  for (int c = 0; c < NC; ++c)
#pragma GCC unroll 4
    for (int r = 0; r < VR; ++r) acc[r][c] = q0 == 0 ? Vec16{} : load(gram + (j0 + c) * ks + i0 + 16 * r);
  for (std::int64_t q = q0; q < q1; ++q) {
    const float* row = v + q * ks;
    Vec16 a[VR];
#pragma GCC unroll 4
    for (int r = 0; r < VR; ++r) a[r] = load(row + i0 + 16 * r);
#pragma GCC unroll 16
    for (int c = 0; c < NC; ++c) {
      const Vec16 s = splat(row[j0 + c]);
#pragma GCC unroll 4
      for (int r = 0; r < VR; ++r) acc[r][c] += a[r] * s;
    }
  }
#pragma GCC unroll 16
  for (int c = 0; c < NC; ++c)
#pragma GCC unroll 4
    for (int r = 0; r < VR; ++r) store(gram + (j0 + c) * ks + i0 + 16 * r, acc[r][c]);
}

// V^T 1 and V^T t: one pass, the ks / 16 pairs of accumulators in registers
// for the usual widths (up to 128 columns), in memory beyond.
template <int V>
float sums_fixed(const float* v, std::int64_t rows, const float* t, float* column_sums, float* vt_t) {
  Vec16 ones[V], targets[V];
  for (int c = 0; c < V; ++c) ones[c] = Vec16{}, targets[c] = Vec16{};
  float t_sum = 0.f;
  for (std::int64_t q = 0; q < rows; ++q) {
    const float* row = v + q * 16 * V;
    const Vec16 s = splat(t[q]);
    t_sum += t[q];
#pragma GCC unroll 8
    for (int c = 0; c < V; ++c) {
      const Vec16 x = load(row + 16 * c);
      ones[c] += x;
      targets[c] += s * x;
    }
  }
  for (int c = 0; c < V; ++c) store(column_sums + 16 * c, ones[c]), store(vt_t + 16 * c, targets[c]);
  return t_sum;
}

float sums_generic(const float* v, std::int64_t rows, int ks, const float* t, float* column_sums, float* vt_t) {
  std::fill(column_sums, column_sums + ks, 0.f);
  std::fill(vt_t, vt_t + ks, 0.f);
  float t_sum = 0.f;
  for (std::int64_t q = 0; q < rows; ++q) {
    const float* row = v + q * ks;
    const Vec16 s = splat(t[q]);
    t_sum += t[q];
    for (int c = 0; c < ks; c += 16) {
      const Vec16 x = load(row + c);
      store(column_sums + c, load(column_sums + c) + x);
      store(vt_t + c, load(vt_t + c) + s * x);
    }
  }
  return t_sum;
}

}  // namespace

std::int64_t tile_gram_chunk_rows(int ks) {
  // About 24 KiB of tile, so the passes over one chunk (one per register
  // block) hit L1 after the first.
  return std::max(8, 6144 / ks);
}

void tile_gram_rows(const float* v, std::int64_t q0, std::int64_t q1, int ks, float* gram, const RowPrefetch& ahead) {
  // Register blocks of up to 4 vectors (64 Gram rows) x 4 columns: 16
  // accumulators, and per tile row 4 loads and 4 broadcasts for 16 FMAs
  // (measured against 2 x 8, 3 x 8 and 1 x 16 at k = 64: 5-30% faster).
  constexpr int kColumns = 4;
  const int blocks = ks / 16;  // vector blocks of Gram rows
  if (q0 == 0 && q1 == 0) std::fill(gram, gram + static_cast<std::size_t>(ks) * ks, 0.f);
  for (; q0 < q1; q0 += tile_gram_chunk_rows(ks)) {
    const std::int64_t end = std::min(q1, q0 + tile_gram_chunk_rows(ks));
    // Spread the caller's prefetches over the column steps of this chunk.
    const int steps = ks / kColumns;
    const std::int64_t per_step = (ahead.count + steps - 1) / steps;
    std::int64_t next = 0;
    for (int j0 = 0; j0 < ks; j0 += kColumns) {
      for (const std::int64_t stop = std::min(ahead.count, next + per_step); next < stop; ++next)
        simd::prefetch_row(ahead.table + ahead.cols[next] * ahead.stride, ahead.row_bytes);
      // Lower triangle: the Gram rows i >= j0, from the vector block holding
      // j0 (ks is a multiple of 16: every register block has kColumns columns).
      for (int b = j0 / 16; b < blocks;) {
        switch (std::min(4, blocks - b)) {
          case 1: gram_block<1, kColumns>(v, q0, end, ks, 16 * b, j0, gram), b += 1; break;
          case 2: gram_block<2, kColumns>(v, q0, end, ks, 16 * b, j0, gram), b += 2; break;
          case 3: gram_block<3, kColumns>(v, q0, end, ks, 16 * b, j0, gram), b += 3; break;
          default: gram_block<4, kColumns>(v, q0, end, ks, 16 * b, j0, gram), b += 4; break;
        }
      }
    }
  }
}

TargetSums tile_sums(const float* v, std::int64_t rows, int ks, const float* t, float* column_sums, float* vt_t) {
  const int blocks = ks / 16;
  TargetSums sums;
  for (std::int64_t q = 0; q < rows; ++q) sums.squares += static_cast<double>(t[q]) * t[q];
  switch (blocks) {
    case 1: sums.sum = sums_fixed<1>(v, rows, t, column_sums, vt_t); break;
    case 2: sums.sum = sums_fixed<2>(v, rows, t, column_sums, vt_t); break;
    case 3: sums.sum = sums_fixed<3>(v, rows, t, column_sums, vt_t); break;
    case 4: sums.sum = sums_fixed<4>(v, rows, t, column_sums, vt_t); break;
    case 5: sums.sum = sums_fixed<5>(v, rows, t, column_sums, vt_t); break;
    case 6: sums.sum = sums_fixed<6>(v, rows, t, column_sums, vt_t); break;
    case 7: sums.sum = sums_fixed<7>(v, rows, t, column_sums, vt_t); break;
    case 8: sums.sum = sums_fixed<8>(v, rows, t, column_sums, vt_t); break;
    default: sums.sum = sums_generic(v, rows, ks, t, column_sums, vt_t); break;
  }
  return sums;
}

}  // namespace dals
