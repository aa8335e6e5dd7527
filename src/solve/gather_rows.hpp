#pragma once
// Where the gathering tile kernels (tile_kernels.cpp) read a fixed row from
// and put it: the read side knows a table's row layout, its bias and how far
// ahead to prefetch; the write side stores a row's 16-entry groups into the
// tile. Private to src/solve/.
#include <cstdint>

#include "dals/solve/simd_vectors.hpp"

namespace dals::gather {

// Where the gathering kernels read a fixed row's factors and bias (k = 16 V):
// a FactorTable's float rows (the bias after the factors) ...
template <int V>
struct FloatRows {
  static constexpr int kDistance = simd::kGatherDistance;
  const float* table;
  std::int64_t stride;
  const float* row(std::int32_t i) const { return table + i * stride; }
  void prefetch(std::int32_t i) const { simd::prefetch_row(row(i), (16 * V + 1) * 4); }
  float bias(const float* r, std::int32_t) const { return r[16 * V]; }
};
// ... or HalfFactors' rows, 64-byte aligned, the biases apart.
template <int V>
struct HalfRows {
  // Two lines a row: fetched twice as many rows ahead (Netflix-shaped item
  // half: 1.85-1.96 s at 16 rows, 1.46-1.49 s at 32).
  static constexpr int kDistance = 2 * simd::kGatherDistance;
  const std::uint16_t* table;
  const float* biases;
  const std::uint16_t* row(std::int32_t i) const { return table + static_cast<std::int64_t>(i) * 16 * V; }
  void prefetch(std::int32_t i) const {
    const char* p = reinterpret_cast<const char*>(row(i));
#pragma GCC unroll 16
    for (int line = 0; line < 32 * V; line += 64) __builtin_prefetch(p + line, 0, 1);
    __builtin_prefetch(biases + i, 0, 1);
  }
  float bias(const std::uint16_t*, std::int32_t i) const { return biases[i]; }
};

// Where they put a gathered row's 16-entry group c: as floats, or, from
// half rows, the halves as they are.
struct FloatTile {
  float* y;
  template <int V, class T>
  void put(std::int64_t q, int c, const T*, simd::Vec16 v) const {
    simd::store(y + q * 16 * V + 16 * c, v);
  }
};
struct HalfTile {
  std::uint16_t* y;
  template <int V>
  void put(std::int64_t q, int c, const std::uint16_t* src, simd::Vec16) const {
    simd::copy_half(y + q * 16 * V + 16 * c, src + 16 * c);
  }
};

}  // namespace dals::gather
