#include "dals/tile_kernels.hpp"

#include "simd_vectors.hpp"

namespace dals {
namespace {

using simd::load;
using simd::splat;
using simd::store;
using simd::sum;
using simd::Vec16;

// Dot product of a tile row with a register-resident vector: the V products
// are independent and summed as a tree, not as one long chain.
template <int V>
inline float row_dot(const float* row, const Vec16* v) {
  Vec16 part[V];
#pragma GCC unroll 16
  for (int c = 0; c < V; ++c) part[c] = load(row + 16 * c) * v[c];
  // Fully unrolled (a loop here kept part[] on the stack: measured 2x slower).
#pragma GCC unroll 16
  for (int width = 1; width < V; width *= 2)
#pragma GCC unroll 16
    for (int c = 0; c + width < V; c += 2 * width) part[c] += part[c + width];
  return sum(part[0]);
}

// The kernels for a fixed number of vectors per row, so that the
// accumulators and the vector x or p live in registers for the whole tile.
template <int V>
struct Fixed {
  static float residual_gradient(const float* y, std::int64_t rows, const float* x, float xb, const float* t,
                                float* e, float* r) {
    Vec16 xv[V], acc[V];
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) xv[c] = load(x + 16 * c), acc[c] = Vec16{};
    float e_sum = 0.f;
    for (std::int64_t q = 0; q < rows; ++q) {
      const float* row = y + q * 16 * V;
      const float eq = t[q] - (row_dot<V>(row, xv) + xb);
      e[q] = eq;
      e_sum += eq;
      const Vec16 s = splat(eq);
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) acc[c] += s * load(row + 16 * c);
    }
    for (int c = 0; c < V; ++c) store(r + 16 * c, acc[c]);
    return e_sum;
  }

  // residual_gradient, with the tile's rows gathered from the table in the
  // same pass (k = 16 V): each fixed row is read once, from wherever it
  // is, and used from registers.
  static float gather_residual_gradient(const GatherSource& source, const std::int32_t* cols, const float* values,
                                        std::int64_t rows, float* y, float* t, const float* x, float xb, float* e,
                                        float* r) {
    Vec16 xv[V], acc[V];
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) xv[c] = load(x + 16 * c), acc[c] = Vec16{};
    const int row_bytes = (16 * V + 1) * 4;
    float e_sum = 0.f;
    for (std::int64_t q = 0; q < rows; ++q) {
      if (q + simd::kGatherDistance < rows)
        simd::prefetch_row(source.table + cols[q + simd::kGatherDistance] * source.stride, row_bytes);
      const float* src = source.table + cols[q] * source.stride;
      float* row = y + q * 16 * V;
      Vec16 rv[V], part[V];
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) rv[c] = load(src + 16 * c), store(row + 16 * c, rv[c]), part[c] = rv[c] * xv[c];
#pragma GCC unroll 16
      for (int width = 1; width < V; width *= 2)
#pragma GCC unroll 16
        for (int c = 0; c + width < V; c += 2 * width) part[c] += part[c + width];
      const float tq = source.bias ? values[q] - source.mean - src[16 * V] : values[q] - source.mean;
      t[q] = tq;
      const float eq = tq - (sum(part[0]) + xb);
      e[q] = eq;
      e_sum += eq;
      const Vec16 s = splat(eq);
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) acc[c] += s * rv[c];
    }
    for (int c = 0; c < V; ++c) store(r + 16 * c, acc[c]);
    return e_sum;
  }

  // The gather of rows [begin, end) with V^T 1 and V^T t accumulated in
  // registers: the same sums, in the same order, as tile_sums.
  static void gather_sums(const GatherSource& source, const std::int32_t* cols, const float* values,
                          std::int64_t begin, std::int64_t end, std::int64_t degree, float* y, float* t,
                          float* column_sums, float* vt_t, TargetSums& sums) {
    Vec16 ones[V], targets[V];
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) {
      ones[c] = begin == 0 ? Vec16{} : load(column_sums + 16 * c);
      targets[c] = begin == 0 ? Vec16{} : load(vt_t + 16 * c);
    }
    const int row_bytes = (16 * V + 1) * 4;
    for (std::int64_t q = begin; q < end; ++q) {
      if (q + simd::kGatherDistance < degree)
        simd::prefetch_row(source.table + cols[q + simd::kGatherDistance] * source.stride, row_bytes);
      const float* src = source.table + cols[q] * source.stride;
      const float tq = source.bias ? values[q] - source.mean - src[16 * V] : values[q] - source.mean;
      t[q] = tq;
      sums.sum += tq;
      sums.squares += static_cast<double>(tq) * tq;
      const Vec16 s = splat(tq);
      float* row = y + q * 16 * V;
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) {
        const Vec16 x = load(src + 16 * c);
        store(row + 16 * c, x);
        ones[c] += x;
        targets[c] += s * x;
      }
    }
    for (int c = 0; c < V; ++c) store(column_sums + 16 * c, ones[c]), store(vt_t + 16 * c, targets[c]);
  }

  static NormalSums normal_product(const float* y, std::int64_t rows, const float* p, float pb, float* yp,
                                   float* ap) {
    Vec16 pv[V], acc[V];
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) pv[c] = load(p + 16 * c), acc[c] = Vec16{};
    NormalSums sums;
    for (std::int64_t q = 0; q < rows; ++q) {
      const float* row = y + q * 16 * V;
      const float d = row_dot<V>(row, pv) + pb;
      yp[q] = d;
      sums.norm += d * d;
      sums.sum += d;
      const Vec16 s = splat(d);
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) acc[c] += s * load(row + 16 * c);
    }
    for (int c = 0; c < V; ++c) store(ap + 16 * c, acc[c]);
    return sums;
  }

  static double squared_residual(const float* y, std::int64_t rows, const float* x, float xb, const float* t) {
    Vec16 xv[V];
    for (int c = 0; c < V; ++c) xv[c] = load(x + 16 * c);
    double total = 0;
    for (std::int64_t q = 0; q < rows; ++q) {
      const float* row = y + q * 16 * V;
      const double e = t[q] - (row_dot<V>(row, xv) + xb);
      total += e * e;
    }
    return total;
  }
};

// Any width: the same arithmetic with the vectors in memory.
float generic_residual_gradient(const float* y, std::int64_t rows, int ws, const float* x, float xb, const float* t,
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

NormalSums generic_normal_product(const float* y, std::int64_t rows, int ws, const float* p, float pb, float* yp,
                                  float* ap) {
  for (int d = 0; d < ws; ++d) ap[d] = 0.f;
  NormalSums sums;
  for (std::int64_t q = 0; q < rows; ++q) {
    const float* row = y + q * ws;
    Vec16 dot = Vec16{};
    for (int c = 0; c < ws; c += 16) dot += load(row + c) * load(p + c);
    const float d = sum(dot) + pb;
    yp[q] = d;
    sums.norm += d * d;
    sums.sum += d;
    const Vec16 s = splat(d);
    for (int c = 0; c < ws; c += 16) store(ap + c, load(ap + c) + s * load(row + c));
  }
  return sums;
}

double generic_squared_residual(const float* y, std::int64_t rows, int ws, const float* x, float xb, const float* t) {
  double total = 0;
  for (std::int64_t q = 0; q < rows; ++q) {
    const float* row = y + q * ws;
    Vec16 dot = Vec16{};
    for (int c = 0; c < ws; c += 16) dot += load(row + c) * load(x + c);
    const double e = t[q] - (sum(dot) + xb);
    total += e * e;
  }
  return total;
}

// Dispatch on the vectors per row: k up to 160 gets register-resident
// kernels, wider tiles the generic loop.
#define DALS_TILE_DISPATCH(call, generic)                   \
  switch (ws / 16) {                                         \
    case 1: return Fixed<1>::call;                           \
    case 2: return Fixed<2>::call;                           \
    case 3: return Fixed<3>::call;                           \
    case 4: return Fixed<4>::call;                           \
    case 5: return Fixed<5>::call;                           \
    case 6: return Fixed<6>::call;                           \
    case 7: return Fixed<7>::call;                           \
    case 8: return Fixed<8>::call;                           \
    case 9: return Fixed<9>::call;                           \
    case 10: return Fixed<10>::call;                         \
    default: return generic;                                 \
  }

}  // namespace

float tile_residual_gradient(const float* y, std::int64_t rows, int ws, const float* x, float xb, const float* t,
                             float* e, float* r) {
  DALS_TILE_DISPATCH(residual_gradient(y, rows, x, xb, t, e, r),
                     generic_residual_gradient(y, rows, ws, x, xb, t, e, r))
}

bool tile_gather_fuses(int k) { return k % 16 == 0 && k / 16 <= 10; }

void tile_gather_sums(const GatherSource& source, const std::int32_t* cols, const float* values, std::int64_t begin,
                      std::int64_t end, std::int64_t degree, float* y, float* t, float* column_sums, float* vt_t,
                      TargetSums& sums) {
  const int ws = source.k;  // a multiple of 16 (tile_gather_fuses)
  DALS_TILE_DISPATCH(gather_sums(source, cols, values, begin, end, degree, y, t, column_sums, vt_t, sums), void())
}

float tile_gather_residual_gradient(const GatherSource& source, const std::int32_t* cols, const float* values,
                                    std::int64_t rows, float* y, float* t, const float* x, float xb, float* e,
                                    float* r) {
  const int ws = source.k;  // a multiple of 16 (tile_gather_fuses)
  DALS_TILE_DISPATCH(gather_residual_gradient(source, cols, values, rows, y, t, x, xb, e, r), 0.f)
}

NormalSums tile_normal_product(const float* y, std::int64_t rows, int ws, const float* p, float pb, float* yp,
                               float* ap) {
  DALS_TILE_DISPATCH(normal_product(y, rows, p, pb, yp, ap), generic_normal_product(y, rows, ws, p, pb, yp, ap))
}

double tile_squared_residual(const float* y, std::int64_t rows, int ws, const float* x, float xb, const float* t) {
  DALS_TILE_DISPATCH(squared_residual(y, rows, x, xb, t), generic_squared_residual(y, rows, ws, x, xb, t))
}

}  // namespace dals
