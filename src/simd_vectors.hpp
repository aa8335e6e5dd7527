#pragma once
// Sixteen-float vectors (GCC vector extensions) shared by the tile kernels:
// one AVX-512 register with -march=native, several narrower ones in a
// portable build. Private to src/: every helper is inline and file-local in
// effect, so the note that passing 64-byte vectors changes the ABI without
// AVX-512 concerns no interface.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <cstring>

namespace dals::simd {

typedef float Vec16 __attribute__((vector_size(64)));
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec4 __attribute__((vector_size(16)));

inline Vec16 load(const float* p) {
  Vec16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, Vec16 v) { std::memcpy(p, &v, sizeof v); }
// Every lane x. (Not Vec16{} + x: the add of +0.0 must be kept for x = -0.0
// and costs an instruction before each broadcast.)
inline Vec16 splat(float x) { return Vec16{x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }

// Horizontal sum as a fixed tree (16 -> 8 -> 4 -> 2 -> 1): short latency, and
// the same rounding on every call.
inline float sum(Vec16 v) {
  const Vec8 s8 = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                  __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const Vec4 s4 = __builtin_shufflevector(s8, s8, 0, 1, 2, 3) + __builtin_shufflevector(s8, s8, 4, 5, 6, 7);
  return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

// Gathering rows scattered over a factor table: a row `distance` positions
// ahead is fetched, every cache line of it, into L2 (locality 1: measured
// 1.6x the bandwidth of fetching into L1 on a 125 MB table, whose misses
// then queue behind the L1's few fill buffers).
constexpr int kGatherDistance = 16;
inline void prefetch_row(const float* row, int bytes) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int line = 0; line < bytes; line += 64) __builtin_prefetch(p + line, 0, 1);
  __builtin_prefetch(p + bytes - 1, 0, 1);  // the row rarely starts on a line
}

}  // namespace dals::simd
