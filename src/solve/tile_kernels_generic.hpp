#pragma once
// CG's tile kernels for any width (k past 160, where the register-resident
// kernels of tile_kernels.cpp stop): the same arithmetic with the vectors
// in memory. Private to src/, included by tile_kernels.cpp only.

#include <cstdint>

#include "dals/solve/simd_vectors.hpp"
#include "dals/solve/tile_kernels.hpp"

namespace dals::generic {

using simd::load;
using simd::load_any;
using simd::splat;
using simd::store;
using simd::sum;
using simd::Vec16;

inline float residual_gradient(const float* y, std::int64_t rows, int ws, const float* x, float xb, const float* t,
                               float* e, float* r) {
  for (int d = 0; d < ws; ++d) r[d] = 0.f;
  float e_sum = 0.f;
  for (std::int64_t q = 0; q < rows; ++q) {
    const float* row = y + q * ws;
    Vec16 dot = Vec16{};
    for (int c = 0; c < ws; c += 16) dot += load(row + c) * load(x + c);
    const float eq = t[q] - (sum(dot) + xb);
    e[q] = eq;
    e_sum += eq;
    const Vec16 s = splat(eq);
    for (int c = 0; c < ws; c += 16) store(r + c, load(r + c) + s * load(row + c));
  }
  return e_sum;
}

template <class T>
NormalSums normal_product(const T* y, std::int64_t rows, int ws, const float* p, float pb, float* yp, float* ap) {
  if (ap)
    for (int d = 0; d < ws; ++d) ap[d] = 0.f;
  NormalSums sums;
  for (std::int64_t q = 0; q < rows; ++q) {
    const T* row = y + q * ws;
    Vec16 dot = Vec16{};
    for (int c = 0; c < ws; c += 16) dot += load_any(row + c) * load(p + c);
    const float d = sum(dot) + pb;
    yp[q] = d;
    sums.norm += d * d;
    sums.sum += d;
    if (!ap) continue;
    const Vec16 s = splat(d);
    for (int c = 0; c < ws; c += 16) store(ap + c, load(ap + c) + s * load_any(row + c));
  }
  return sums;
}

template <class T>
double squared_residual(const T* y, std::int64_t rows, int ws, const float* x, float xb, const float* t) {
  double total = 0;
  for (std::int64_t q = 0; q < rows; ++q) {
    const T* row = y + q * ws;
    Vec16 dot = Vec16{};
    for (int c = 0; c < ws; c += 16) dot += load_any(row + c) * load(x + c);
    const double e = t[q] - (sum(dot) + xb);
    total += e * e;
  }
  return total;
}

}  // namespace dals::generic
