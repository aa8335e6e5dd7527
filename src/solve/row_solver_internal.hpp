#pragma once
// What the parts of RowSolver (row_solver.cpp: dispatch and gather;
// solve_cholesky.cpp; solve_cg.cpp; solve_implicit.cpp) share besides the class itself.
// Private to src/solve/.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "dals/solve/simd_vectors.hpp"

namespace dals {

inline bool all_finite(const float* x, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

// CG's vector arithmetic over ks entries (a multiple of 16), in 16-float
// vectors: as scalar loops, each reduction was a chain of ks dependent adds,
// about 0.3 us a row more at k = 64 (a 40-rating row's solve takes 1.2-1.4
// us). Each sum runs in a fixed order.
inline float dot(const float* a, const float* b, int n) {
  simd::Vec16 acc = simd::load(a) * simd::load(b);
  for (int d = 16; d < n; d += 16) acc += simd::load(a + d) * simd::load(b + d);
  return simd::sum(acc);
}

// y += alpha x.
inline void add_scaled(float* y, float alpha, const float* x, int n) {
  const simd::Vec16 a = simd::splat(alpha);
  for (int d = 0; d < n; d += 16) simd::store(y + d, simd::load(y + d) + a * simd::load(x + d));
}

// sum e^2 in double: eight running sums, then a fixed tree. With y, of
// (e - alpha y)^2, e - alpha y in float as CG's update of e computes it:
// CG's last update of e folded into its sum of squares (one pass less).
inline double squares(const float* e, std::int64_t n, float alpha = 0.f, const float* y = nullptr) {
  typedef double Vec8d __attribute__((vector_size(64)));
  Vec8d acc{};
  std::int64_t q = 0;
  for (; q + 8 <= n; q += 8) {
    simd::Vec8 f;
    std::memcpy(&f, e + q, sizeof f);
    if (y) {
      simd::Vec8 g;
      std::memcpy(&g, y + q, sizeof g);
      f -= alpha * g;
    }
    const Vec8d v = __builtin_convertvector(f, Vec8d);
    acc += v * v;
  }
  double total = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
  for (; q < n; ++q) {
    const float f = y ? e[q] - alpha * y[q] : e[q];
    total += static_cast<double>(f) * f;
  }
  return total;
}

}  // namespace dals
