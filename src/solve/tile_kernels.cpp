#include "dals/solve/tile_kernels.hpp"

#include <cstring>
#include <utility>

#include "dals/solve/simd_vectors.hpp"
#include "gather_rows.hpp"
#include "tile_kernels_generic.hpp"

namespace dals {
namespace {

using simd::load;
using simd::load_any;
using simd::splat;
using simd::store;
using simd::sum;
using simd::Vec16;
using simd::Vec4;
using float2 = std::pair<float, float>;
using gather::FloatRows;
using gather::FloatTile;
using gather::HalfRows;
using gather::HalfTile;

// For the lambdas that hold a kernel's body for four rows (called with n =
// 4 in the loop, then once for the last rows): inlined at each call, the
// loop's copy is compiled for a constant 4 (a variable n: 3.5 -> 6.7 ns a row).
#define DALS_INLINE __attribute__((always_inline))

// Dot product of a tile row with a register-resident vector: the V products
// are independent and summed as a tree, not as one long chain.
template <int V, class T>
inline float row_dot(const T* row, const Vec16* v) {
  Vec16 part[V];
#pragma GCC unroll 16
  for (int c = 0; c < V; ++c) part[c] = load_any(row + 16 * c) * v[c];
    // Fully unrolled (a loop here kept part[] on the stack: measured 2x slower).
#pragma GCC unroll 16
  for (int width = 1; width < V; width *= 2)
#pragma GCC unroll 16
    for (int c = 0; c + width < V; c += 2 * width) part[c] += part[c + width];
  return sum(part[0]);
}

// Dot products of four tile rows (in registers) with v, as a Vec4: each
// row's products summed in order over its vectors (not row_dot's tree: the
// rows taken four at a time have their own bits), then sum_quad.
template <int V>
inline Vec4 quad_dots(const Vec16 (&a)[4][V], const Vec16* v) {
  Vec16 d[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    d[i] = a[i][0] * v[0];
#pragma GCC unroll 16
    for (int c = 1; c < V; ++c) d[i] += a[i][c] * v[c];
  }
  const Vec16 sums = simd::sum_quad(d[0], d[1], d[2], d[3]);
  return __builtin_shufflevector(sums, sums, 0, 4, 8, 12);
}

// acc += sum over the four rows of s[i] a[i], s just stored: each s[i]
// broadcast by the load itself (from a Vec4 in registers GCC went through
// the stack and stalled store forwarding: no faster than rows one by one).
template <int V>
inline void quad_axpy(const Vec16 (&a)[4][V], const float* s, Vec16* acc) {
  const Vec16 s0 = splat(s[0]), s1 = splat(s[1]), s2 = splat(s[2]), s3 = splat(s[3]);
#pragma GCC unroll 16
  for (int c = 0; c < V; ++c)
    acc[c] += s0 * a[0][c], acc[c] += s1 * a[1][c], acc[c] += s2 * a[2][c], acc[c] += s3 * a[3][c];
}

// A running sum over the rows: rows taken four at a time add into four
// lanes (row q into lane q % 4), a last partial four one by one after; a fixed order
// for a given number of rows.
struct RowSum {
  Vec4 quads{};
  float rest = 0.f;
  void add(Vec4 v) { quads += v; }
  void add(float v) { rest += v; }
  float total() const { return ((quads[0] + quads[1]) + (quads[2] + quads[3])) + rest; }
};

// The kernels for a fixed number of vectors per row, so that the
// accumulators and the vector x or p live in registers for the whole tile.
template <int V>
struct Fixed {
  // Up to 64 factors, rows go four at a time: their dot products share the
  // horizontal sums' shuffles (sum_quad), 4.2 -> 3.5 ns per 64-float row in
  // the CG pass. Wider rows would not fit four in registers.
  static constexpr bool kQuads = V <= 4;

  // Rows q .. q + n - 1 of a tile into a[0 .. n - 1], zero rows after: the
  // tile's last rows go through the same arithmetic as the others, so a
  // row's bits do not depend on its position, nor on the kernel (the fused
  // gather and the pass it replaces share residual_quad).
  template <class T>
  static void load_quad(const T* y, std::int64_t q, int n, Vec16 (&a)[4][V]) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i)
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) a[i][c] = i < n ? load_any(y + (q + i) * 16 * V + 16 * c) : Vec16{};
  }

  // e = t - (dots + xb) for n <= 4 rows (their targets t4, zero past n),
  // then acc += their e-weighted rows.
  static void residual_quad(const Vec16 (&a)[4][V], int n, const Vec16* xv, float xb, Vec4 t4, float* e, RowSum& e_sum,
                            Vec16* acc) {
    float buffer[4];
    const Vec4 xb4 = {xb, xb, xb, xb};
    const Vec4 e4 = t4 - (quad_dots<V>(a, xv) + xb4);
    std::memcpy(buffer, &e4, sizeof e4);
    if (n == 4) {
      e_sum.add(e4);
    } else {
      for (int i = 0; i < n; ++i) e_sum.add(buffer[i]);
      for (int i = n; i < 4; ++i) buffer[i] = 0.f;  // no weight on the zero rows
    }
    std::memcpy(e, buffer, n * sizeof(float));
    quad_axpy<V>(a, buffer, acc);
  }

  static float residual_gradient(const float* y, std::int64_t rows, const float* x, float xb, const float* t, float* e,
                                 float* r) {
    Vec16 xv[V], acc[V];
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) xv[c] = load(x + 16 * c), acc[c] = Vec16{};
    RowSum e_sum;
    std::int64_t q = 0;
    if constexpr (kQuads) {
      auto quad = [&](int n) DALS_INLINE {
        Vec16 a[4][V];
        load_quad(y, q, n, a);
        float targets[4] = {};
        std::memcpy(targets, t + q, n * sizeof(float));
        Vec4 t4;
        std::memcpy(&t4, targets, sizeof t4);
        residual_quad(a, n, xv, xb, t4, e + q, e_sum, acc);
      };
      for (; q + 4 <= rows; q += 4) quad(4);
      if (q < rows) quad(static_cast<int>(rows - q)), q = rows;
    }
    for (; q < rows; ++q) {
      const float* row = y + q * 16 * V;
      const float eq = t[q] - (row_dot<V>(row, xv) + xb);
      e[q] = eq;
      e_sum.add(eq);
      const Vec16 s = splat(eq);
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) acc[c] += s * load(row + 16 * c);
    }
    for (int c = 0; c < V; ++c) store(r + 16 * c, acc[c]);
    return e_sum.total();
  }

  // residual_gradient, with the tile's rows gathered from the table in the
  // same pass (k = 16 V): each fixed row is read once, from wherever it
  // is, and used from registers.
  // kScaled (implicit feedback, GatherSource::implicit): values are
  // scales s, each row gathered times s, its target s + w0 / s.
  template <bool kScaled, class Rows, class Tile>
  static float gather_residual_gradient(const Rows& rows_of, const GatherSource& source, const std::int32_t* cols,
                                        const float* values, std::int64_t rows, const Tile& tile, float* t,
                                        const float* x, float xb, float* e, float* r) {
    Vec16 xv[V], acc[V];
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) xv[c] = load(x + 16 * c), acc[c] = Vec16{};
    // Row q's target, less the mean and its fixed row's bias.
    auto target = [&](std::int64_t q, const auto* src) {
      if constexpr (kScaled) return values[q] + source.unobserved_weight / values[q];
      return source.bias ? values[q] - source.mean - rows_of.bias(src, cols[q]) : values[q] - source.mean;
    };
    RowSum e_sum;
    std::int64_t q = 0;
    if constexpr (kQuads) {
      auto quad = [&](int n) DALS_INLINE {
        Vec16 a[4][V];
        Vec4 t4{};
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          if (i >= n) {
#pragma GCC unroll 16
            for (int c = 0; c < V; ++c) a[i][c] = Vec16{};
            continue;
          }
          if (q + i + Rows::kDistance < rows) rows_of.prefetch(cols[q + i + Rows::kDistance]);
          const auto* src = rows_of.row(cols[q + i]);
          [[maybe_unused]] const Vec16 scale = splat(kScaled ? values[q + i] : 1.f);
#pragma GCC unroll 16
          for (int c = 0; c < V; ++c) {
            a[i][c] = load_any(src + 16 * c);
            if constexpr (kScaled) a[i][c] *= scale;
            tile.template put<V>(q + i, c, src, a[i][c]);
          }
          t4[i] = target(q + i, src);
        }
        // One store of the four targets (read back as a vector, four scalar
        // stores would not forward: 8.1 -> 6.2 ns a row from an L1-resident table).
        float targets[4];
        std::memcpy(targets, &t4, sizeof t4);
        std::memcpy(t + q, targets, n * sizeof(float));
        residual_quad(a, n, xv, xb, t4, e + q, e_sum, acc);
      };
      for (; q + 4 <= rows; q += 4) quad(4);
      if (q < rows) quad(static_cast<int>(rows - q)), q = rows;
    }
    for (; q < rows; ++q) {
      if (q + Rows::kDistance < rows) rows_of.prefetch(cols[q + Rows::kDistance]);
      const auto* src = rows_of.row(cols[q]);
      Vec16 rv[V], part[V];
      [[maybe_unused]] const Vec16 scale = splat(kScaled ? values[q] : 1.f);
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) {
        rv[c] = load_any(src + 16 * c);
        if constexpr (kScaled) rv[c] *= scale;
        tile.template put<V>(q, c, src, rv[c]);
        part[c] = rv[c] * xv[c];
      }
#pragma GCC unroll 16
      for (int width = 1; width < V; width *= 2)
#pragma GCC unroll 16
        for (int c = 0; c + width < V; c += 2 * width) part[c] += part[c + width];
      const float tq = target(q, src);
      t[q] = tq;
      const float eq = tq - (sum(part[0]) + xb);
      e[q] = eq;
      e_sum.add(eq);
      const Vec16 s = splat(eq);
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) acc[c] += s * rv[c];
    }
    for (int c = 0; c < V; ++c) store(r + 16 * c, acc[c]);
    return e_sum.total();
  }

  static float gather_residual_gradient(const GatherSource& source, const std::int32_t* cols, const float* values,
                                        std::int64_t rows, float* y, float* t, const float* x, float xb, float* e,
                                        float* r) {
    if (source.half_table && source.implicit)
      return gather_residual_gradient<true>(HalfRows<V>{source.half_table, source.half_biases}, source, cols, values,
                                            rows, FloatTile{y}, t, x, xb, e, r);
    if (source.half_table)
      return gather_residual_gradient<false>(HalfRows<V>{source.half_table, source.half_biases}, source, cols, values,
                                             rows, FloatTile{y}, t, x, xb, e, r);
    if (source.implicit)
      return gather_residual_gradient<true>(FloatRows<V>{source.table, source.stride}, source, cols, values, rows,
                                            FloatTile{y}, t, x, xb, e, r);
    return gather_residual_gradient<false>(FloatRows<V>{source.table, source.stride}, source, cols, values, rows,
                                           FloatTile{y}, t, x, xb, e, r);
  }

  static float gather_residual_gradient(const GatherSource& source, const std::int32_t* cols, const float* values,
                                        std::int64_t rows, std::uint16_t* y, float* t, const float* x, float xb,
                                        float* e, float* r) {
    return gather_residual_gradient<false>(HalfRows<V>{source.half_table, source.half_biases}, source, cols, values,
                                           rows, HalfTile{y}, t, x, xb, e, r);
  }

  // The gather of rows [begin, end) with V^T 1 and V^T t accumulated in
  // registers: the same sums, in the same order, as tile_sums.
  static void gather_sums(const GatherSource& source, const std::int32_t* cols, const float* values, std::int64_t begin,
                          std::int64_t end, std::int64_t degree, float* y, float* t, float* column_sums, float* vt_t,
                          TargetSums& sums) {
    if (source.implicit)
      gather_sums<true>(source, cols, values, begin, end, degree, y, t, column_sums, vt_t, sums);
    else
      gather_sums<false>(source, cols, values, begin, end, degree, y, t, column_sums, vt_t, sums);
  }
  template <bool kScaled>
  static void gather_sums(const GatherSource& source, const std::int32_t* cols, const float* values, std::int64_t begin,
                          std::int64_t end, std::int64_t degree, float* y, float* t, float* column_sums, float* vt_t,
                          TargetSums& sums) {
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
      float tq;
      if constexpr (kScaled)
        tq = values[q] + source.unobserved_weight / values[q];
      else
        tq = source.bias ? values[q] - source.mean - src[16 * V] : values[q] - source.mean;
      t[q] = tq;
      sums.sum += tq;
      sums.squares += static_cast<double>(tq) * tq;
      const Vec16 s = splat(tq);
      [[maybe_unused]] const Vec16 scale = splat(kScaled ? values[q] : 1.f);
      float* row = y + (q - begin) * 16 * V;
#pragma GCC unroll 16
      for (int c = 0; c < V; ++c) {
        Vec16 x = load(src + 16 * c);
        if constexpr (kScaled) x *= scale;
        store(row + 16 * c, x);
        ones[c] += x;
        targets[c] += s * x;
      }
    }
    for (int c = 0; c < V; ++c) store(column_sums + 16 * c, ones[c]), store(vt_t + 16 * c, targets[c]);
  }

  // kGradient false: yp and the sums only, no ap (CG's last step needs no
  // new gradient); the same yp and sums, bit for bit, at half the FMAs.
  template <bool kGradient, class T>
  static NormalSums normal_product(const T* y, std::int64_t rows, const float* p, float pb, float* yp, float* ap) {
    Vec16 pv[V], acc[V];
#pragma GCC unroll 16
    for (int c = 0; c < V; ++c) pv[c] = load(p + 16 * c), acc[c] = Vec16{};
    RowSum norm, total;
    std::int64_t q = 0;
    if constexpr (kQuads) {
      const Vec4 pb4 = {pb, pb, pb, pb};
      auto quad = [&](int n) DALS_INLINE {
        Vec16 a[4][V];
        load_quad(y, q, n, a);
        const Vec4 d = quad_dots<V>(a, pv) + pb4;
        float buffer[4];
        std::memcpy(buffer, &d, sizeof d);
        if (n == 4) {
          norm.add(d * d);
          total.add(d);
        } else {
          for (int i = 0; i < n; ++i) norm.add(buffer[i] * buffer[i]), total.add(buffer[i]);
          for (int i = n; i < 4; ++i) buffer[i] = 0.f;
        }
        std::memcpy(yp + q, buffer, n * sizeof(float));
        if constexpr (kGradient) quad_axpy<V>(a, buffer, acc);
      };
      for (; q + 4 <= rows; q += 4) quad(4);
      if (q < rows) quad(static_cast<int>(rows - q)), q = rows;
    } else {
      // Two rows at a time: their horizontal sums share the shuffles (the
      // same pairing of lanes as simd::sum, so each row's dot has the same bits).
      for (; q + 2 <= rows; q += 2) {
        const T* row0 = y + q * 16 * V;
        const T* row1 = row0 + 16 * V;
        Vec16 a0[V], a1[V], p0[V], p1[V];
#pragma GCC unroll 16
        for (int c = 0; c < V; ++c) {
          a0[c] = load_any(row0 + 16 * c), a1[c] = load_any(row1 + 16 * c);
          p0[c] = a0[c] * pv[c], p1[c] = a1[c] * pv[c];
        }
#pragma GCC unroll 16
        for (int width = 1; width < V; width *= 2)
#pragma GCC unroll 16
          for (int c = 0; c + width < V; c += 2 * width) p0[c] += p0[c + width], p1[c] += p1[c + width];
        const float2 d = simd::sum_pair(p0[0], p1[0]);
        const float d0 = d.first + pb, d1 = d.second + pb;
        yp[q] = d0, yp[q + 1] = d1;
        norm.add(d0 * d0);
        total.add(d0);
        norm.add(d1 * d1);
        total.add(d1);
        if constexpr (kGradient) {
          const Vec16 s0 = splat(d0), s1 = splat(d1);
#pragma GCC unroll 16
          for (int c = 0; c < V; ++c) acc[c] += s0 * a0[c], acc[c] += s1 * a1[c];
        }
      }
    }
    for (; q < rows; ++q) {
      const T* row = y + q * 16 * V;
      const float d = row_dot<V>(row, pv) + pb;
      yp[q] = d;
      norm.add(d * d);
      total.add(d);
      if constexpr (kGradient) {
        const Vec16 s = splat(d);
#pragma GCC unroll 16
        for (int c = 0; c < V; ++c) acc[c] += s * load_any(row + 16 * c);
      }
    }
    if constexpr (kGradient)
      for (int c = 0; c < V; ++c) store(ap + 16 * c, acc[c]);
    return NormalSums{norm.total(), total.total()};
  }

  template <class T>
  static double squared_residual(const T* y, std::int64_t rows, const float* x, float xb, const float* t) {
    Vec16 xv[V];
    for (int c = 0; c < V; ++c) xv[c] = load(x + 16 * c);
    double total = 0;
    for (std::int64_t q = 0; q < rows; ++q) {
      const T* row = y + q * 16 * V;
      const double e = t[q] - (row_dot<V>(row, xv) + xb);
      total += e * e;
    }
    return total;
  }
};

// Dispatch on the vectors per row: k up to 160 gets register-resident
// kernels, wider tiles the generic loop.
#define DALS_TILE_DISPATCH(call, generic) \
  switch (ws / 16) {                      \
    case 1:                               \
      return Fixed<1>::call;              \
    case 2:                               \
      return Fixed<2>::call;              \
    case 3:                               \
      return Fixed<3>::call;              \
    case 4:                               \
      return Fixed<4>::call;              \
    case 5:                               \
      return Fixed<5>::call;              \
    case 6:                               \
      return Fixed<6>::call;              \
    case 7:                               \
      return Fixed<7>::call;              \
    case 8:                               \
      return Fixed<8>::call;              \
    case 9:                               \
      return Fixed<9>::call;              \
    case 10:                              \
      return Fixed<10>::call;             \
    default:                              \
      return generic;                     \
  }

}  // namespace

float tile_residual_gradient(const float* y, std::int64_t rows, int ws, const float* x, float xb, const float* t,
                             float* e, float* r) {
  DALS_TILE_DISPATCH(residual_gradient(y, rows, x, xb, t, e, r),
                     generic::residual_gradient(y, rows, ws, x, xb, t, e, r))
}

bool tile_gather_fuses(int k) { return k % 16 == 0 && k / 16 <= 10; }

bool tile_gather_fuses_half(int k) { return tile_stride(k) / 16 <= 10; }

void tile_gather_sums(const GatherSource& source, const std::int32_t* cols, const float* values, std::int64_t begin,
                      std::int64_t end, std::int64_t degree, float* y, float* t, float* column_sums, float* vt_t,
                      TargetSums& sums) {
  const int ws = source.k;  // a multiple of 16 (tile_gather_fuses)
  DALS_TILE_DISPATCH(gather_sums(source, cols, values, begin, end, degree, y, t, column_sums, vt_t, sums), void())
}

float tile_gather_residual_gradient(const GatherSource& source, const std::int32_t* cols, const float* values,
                                    std::int64_t rows, float* y, float* t, const float* x, float xb, float* e,
                                    float* r) {
  const int ws = tile_stride(source.k);  // a multiple of 16 (tile_gather_fuses)
  DALS_TILE_DISPATCH(gather_residual_gradient(source, cols, values, rows, y, t, x, xb, e, r), 0.f)
}

float tile_gather_residual_gradient(const GatherSource& source, const std::int32_t* cols, const float* values,
                                    std::int64_t rows, std::uint16_t* y, float* t, const float* x, float xb, float* e,
                                    float* r) {
  const int ws = tile_stride(source.k);
  DALS_TILE_DISPATCH(gather_residual_gradient(source, cols, values, rows, y, t, x, xb, e, r), 0.f)
}

namespace {
template <class T>
NormalSums normal_product_any(const T* y, std::int64_t rows, int ws, const float* p, float pb, float* yp, float* ap) {
  if (ap == nullptr) {
    DALS_TILE_DISPATCH(normal_product<false>(y, rows, p, pb, yp, ap),
                       generic::normal_product(y, rows, ws, p, pb, yp, ap))
  }
  DALS_TILE_DISPATCH(normal_product<true>(y, rows, p, pb, yp, ap), generic::normal_product(y, rows, ws, p, pb, yp, ap))
}
}  // namespace

NormalSums tile_normal_product(const float* y, std::int64_t rows, int ws, const float* p, float pb, float* yp,
                               float* ap) {
  return normal_product_any(y, rows, ws, p, pb, yp, ap);
}

NormalSums tile_normal_product(const std::uint16_t* y, std::int64_t rows, int ws, const float* p, float pb, float* yp,
                               float* ap) {
  return normal_product_any(y, rows, ws, p, pb, yp, ap);
}

double tile_squared_residual(const float* y, std::int64_t rows, int ws, const float* x, float xb, const float* t) {
  DALS_TILE_DISPATCH(squared_residual(y, rows, x, xb, t), generic::squared_residual(y, rows, ws, x, xb, t))
}

double tile_squared_residual(const std::uint16_t* y, std::int64_t rows, int ws, const float* x, float xb,
                             const float* t) {
  DALS_TILE_DISPATCH(squared_residual(y, rows, x, xb, t), generic::squared_residual(y, rows, ws, x, xb, t))
}

}  // namespace dals
