#pragma once
// Sixteen-float vectors (GCC vector extensions) shared by the tile kernels:
// one AVX-512 register with -march=native, several narrower ones in a
// portable build. Private to src/: every helper is inline and file-local in
// effect, so the note that passing 64-byte vectors changes the ABI without
// AVX-512 concerns no interface.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__AVX512F__) || defined(__F16C__)
#include <immintrin.h>
#endif

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

// sum() of two vectors at once: the same pairs of lanes added in the same
// order (so each result has sum()'s bits), with the shuffles shared.
inline std::pair<float, float> sum_pair(Vec16 a, Vec16 b) {
  // Lanes 0-7: a's 0-7 + 8-15; lanes 8-15: b's.
  const Vec16 s8 = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                   __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  // Then i + (i + 4) within each half, then (0 + 2), (1 + 3), then their sum.
  const Vec16 s4 = s8 + __builtin_shufflevector(s8, s8, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
  return {(s4[0] + s4[2]) + (s4[1] + s4[3]), (s4[8] + s4[10]) + (s4[9] + s4[11])};
}

// The sums of four vectors at once, sum_quad(a, b, c, d)[4 r + j] being the
// r-th's total for every j: two shuffles and an add halve four vectors into
// two, and again into one, then two in-lane butterflies finish each quarter.
// Half the shuffles per vector of sum_pair, and no scalar extraction. Each
// total pairs the lanes as sum() does (i + (i + 8), then + (i + 4), then
// (0 + 2) + (1 + 3)), so it has sum()'s bits.
inline Vec16 sum_quad(Vec16 a, Vec16 b, Vec16 c, Vec16 d) {
  const Vec16 ab = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                   __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  const Vec16 cd = __builtin_shufflevector(c, d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                   __builtin_shufflevector(c, d, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  // Quarter r: the r-th vector's four partial sums.
  const Vec16 quarters = __builtin_shufflevector(ab, cd, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +
                         __builtin_shufflevector(ab, cd, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  // (x + y == y + x exactly, so every lane of a quarter ends with the same bits.)
  const Vec16 halves =
      quarters + __builtin_shufflevector(quarters, quarters, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  return halves + __builtin_shufflevector(halves, halves, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
}

// Half precision (IEEE binary16) to and from sixteen floats, rounding to
// nearest even: one instruction each way with AVX-512, two with F16C, and
// _Float16's conversions otherwise. The three give the same bits.
inline Vec16 load_half(const std::uint16_t* p) {
#if defined(__AVX512F__)
  return (Vec16)_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
#elif defined(__F16C__)
  const Vec8 lo = (Vec8)_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const Vec8 hi = (Vec8)_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)));
  return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#else
  Vec16 v;
  for (int i = 0; i < 16; ++i) {
    _Float16 h;
    std::memcpy(&h, p + i, sizeof h);
    v[i] = static_cast<float>(h);
  }
  return v;
#endif
}

inline void store_half(std::uint16_t* p, Vec16 v) {
#if defined(__AVX512F__)
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm512_cvtps_ph((__m512)v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#elif defined(__F16C__)
  const Vec8 lo = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
  const Vec8 hi = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm256_cvtps_ph((__m256)lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 8),
                   _mm256_cvtps_ph((__m256)hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#else
  for (int i = 0; i < 16; ++i) {
    const _Float16 h = static_cast<_Float16>(v[i]);
    std::memcpy(p + i, &h, sizeof h);
  }
#endif
}

// Sixteen tile entries as floats, from a float tile or a half one.
inline Vec16 load_any(const float* p) { return load(p); }
inline Vec16 load_any(const std::uint16_t* p) { return load_half(p); }

// Sixteen halves copied as they are (32 bytes).
inline void copy_half(std::uint16_t* dst, const std::uint16_t* src) { std::memcpy(dst, src, 32); }

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
