#include "dals/solve/gram_kernel.hpp"

#include <algorithm>
#include <cstring>

#include "dals/solve/simd_vectors.hpp"

namespace dals {
namespace {

using simd::load;
using simd::splat;
using simd::store;
using simd::Vec16;
using simd::Vec8;

inline Vec8 load8(const float* p) {
  Vec8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, Vec8 v) { std::memcpy(p, &v, sizeof v); }

// Gram entries [i0, i0 + 16 VR) x [j0, j0 + NC) over `rows` tile rows from
// v: VR x NC accumulators in registers; per tile row, VR vector loads and NC
// broadcasts feed VR x NC fused multiply-adds. The first chunk of rows
// starts from zero, later ones from what the previous chunk stored.
// HalfFirst: the first block's rows i0..i0+8 lie above the diagonal for
// these columns (j0 in the upper half of a 16-block); only its rows
// i0+8..i0+16 are computed, in 8-float vectors (half an AVX-512 FMA).
template <int VR, int NC, bool HalfFirst>
void gram_block(const float* v, std::int64_t rows, bool first, int ks, int i0, int j0, float* gram) {
  constexpr int Full0 = HalfFirst ? 1 : 0;  // the first full 16-row vector
  Vec16 acc[VR][NC];
  Vec8 half[NC];
#pragma GCC unroll 16
  for (int c = 0; c < NC; ++c) {
    if (HalfFirst) half[c] = first ? Vec8{} : load8(gram + (j0 + c) * ks + i0 + 8);
#pragma GCC unroll 4
    for (int r = Full0; r < VR; ++r) acc[r][c] = first ? Vec16{} : load(gram + (j0 + c) * ks + i0 + 16 * r);
  }
  for (std::int64_t q = 0; q < rows; ++q) {
    const float* row = v + q * ks;
    Vec16 a[VR];
    Vec8 a_half{};
    if (HalfFirst) a_half = load8(row + i0 + 8);
#pragma GCC unroll 4
    for (int r = Full0; r < VR; ++r) a[r] = load(row + i0 + 16 * r);
#pragma GCC unroll 16
    for (int c = 0; c < NC; ++c) {
      const Vec16 s = splat(row[j0 + c]);
      if (HalfFirst) half[c] += a_half * __builtin_shufflevector(s, s, 0, 1, 2, 3, 4, 5, 6, 7);
#pragma GCC unroll 4
      for (int r = Full0; r < VR; ++r) acc[r][c] += a[r] * s;
    }
  }
#pragma GCC unroll 16
  for (int c = 0; c < NC; ++c) {
    if (HalfFirst) store8(gram + (j0 + c) * ks + i0 + 8, half[c]);
#pragma GCC unroll 4
    for (int r = Full0; r < VR; ++r) store(gram + (j0 + c) * ks + i0 + 16 * r, acc[r][c]);
  }
}

template <int NC, bool HalfFirst>
void gram_blocks(int vr, const float* v, std::int64_t rows, bool first, int ks, int i0, int j0, float* gram) {
  switch (vr) {
    case 1:
      return gram_block<1, NC, HalfFirst>(v, rows, first, ks, i0, j0, gram);
    case 2:
      return gram_block<2, NC, HalfFirst>(v, rows, first, ks, i0, j0, gram);
    case 3:
      return gram_block<3, NC, HalfFirst>(v, rows, first, ks, i0, j0, gram);
    default:
      return gram_block<4, NC, HalfFirst>(v, rows, first, ks, i0, j0, gram);
  }
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
  for (std::int64_t start = q0; start < q1; start += tile_gram_chunk_rows(ks)) {
    const std::int64_t rows = std::min(q1, start + tile_gram_chunk_rows(ks)) - start;
    const float* chunk = v + (start - q0) * ks;
    // Spread the caller's prefetches over the column steps of this chunk.
    const int steps = ks / kColumns;
    const std::int64_t per_step = (ahead.count + steps - 1) / steps;
    std::int64_t next = 0;
    for (int j0 = 0; j0 < ks; j0 += kColumns) {
      for (const std::int64_t stop = std::min(ahead.count, next + per_step); next < stop; ++next)
        simd::prefetch_row(ahead.table + ahead.cols[next] * ahead.stride, ahead.row_bytes);
      // Lower triangle: the Gram rows i >= j0, from the vector block holding
      // j0 (ks is a multiple of 16: every register block has kColumns columns).
      // Past the middle of a 16-block, its upper 8 rows are above the
      // diagonal: the first call computes only its lower half.
      for (int b = j0 / 16; b < blocks;) {
        const int vr = std::min(4, blocks - b);
        if (b == j0 / 16 && j0 % 16 >= 8)
          gram_blocks<kColumns, true>(vr, chunk, rows, start == 0, ks, 16 * b, j0, gram);
        else
          gram_blocks<kColumns, false>(vr, chunk, rows, start == 0, ks, 16 * b, j0, gram);
        b += vr;
      }
    }
  }
}

TargetSums tile_sums(const float* v, std::int64_t rows, int ks, const float* t, float* column_sums, float* vt_t) {
  const int blocks = ks / 16;
  TargetSums sums;
  for (std::int64_t q = 0; q < rows; ++q) sums.squares += static_cast<double>(t[q]) * t[q];
  switch (blocks) {
    case 1:
      sums.sum = sums_fixed<1>(v, rows, t, column_sums, vt_t);
      break;
    case 2:
      sums.sum = sums_fixed<2>(v, rows, t, column_sums, vt_t);
      break;
    case 3:
      sums.sum = sums_fixed<3>(v, rows, t, column_sums, vt_t);
      break;
    case 4:
      sums.sum = sums_fixed<4>(v, rows, t, column_sums, vt_t);
      break;
    case 5:
      sums.sum = sums_fixed<5>(v, rows, t, column_sums, vt_t);
      break;
    case 6:
      sums.sum = sums_fixed<6>(v, rows, t, column_sums, vt_t);
      break;
    case 7:
      sums.sum = sums_fixed<7>(v, rows, t, column_sums, vt_t);
      break;
    case 8:
      sums.sum = sums_fixed<8>(v, rows, t, column_sums, vt_t);
      break;
    default:
      sums.sum = sums_generic(v, rows, ks, t, column_sums, vt_t);
      break;
  }
  return sums;
}

}  // namespace dals
