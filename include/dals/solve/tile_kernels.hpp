#pragma once
/// @file tile_kernels.hpp
/// @brief Matrix-vector kernels on a gathered tile V (rows x ks floats,
/// row-major), the inner loops of the CG solver and of the training error.
///
/// The tile holds the fixed side's k factors of each rating, its stride ks
/// being k rounded up to 16 floats, the columns past k zero, so every row is
/// a whole number of 16-float vectors (one AVX-512 register each with
/// -march=native). The bias column of the regression, all ones, is not
/// stored: a solution's bias enters each prediction as a scalar, and the
/// kernels return the sums that its row of the normal equations needs.
/// They keep the vectors they accumulate in registers across rows and read
/// each tile row once per call. The order of operations is fixed: results
/// do not depend on the thread that runs them.

#include <cstdint>

#include "dals/solve/gram_kernel.hpp"

namespace dals {

/// Tile stride for k factors: k rounded up to 16.
inline int tile_stride(int k) { return (k + 15) & ~15; }

/// e = t - (V x + xb) and r = V^T e (ks entries; x is padded with zeros);
/// returns sum e (the bias row of V^T e with the ones column).
float tile_residual_gradient(const float* v, std::int64_t rows, int ks, const float* x, float xb, const float* t,
                             float* e, float* r);

/// Where the gathering kernels read the tile's rows from: a factor table
/// (row i at table + i * stride: k factors, then the bias) or, where
/// half_table is set, a HalfFactors copy (row i at half_table + i *
/// tile_stride(k) halves, its bias at half_biases[i]).
struct GatherSource {
  const float* table = nullptr;
  std::int64_t stride = 0;
  const std::uint16_t* half_table = nullptr;
  const float* half_biases = nullptr;
  int k = 0;
  bool bias = true;  ///< targets less the fixed row's bias
  float mean = 0.f;
  /// Implicit feedback (RowSolver::solve_implicit): the values are scales
  /// s; each gathered row is the table's row times s and its target
  /// s + unobserved_weight / s (bias and mean unused), into a float tile
  /// (from a half table too: the scaled rows are no halves).
  bool implicit = false;
  float unobserved_weight = 0.f;
};

/// Whether the gathering kernels below handle k: from a float table, a
/// multiple of 16 up to 160; from a half one (tile_gather_fuses_half), any k
/// up to 160.
bool tile_gather_fuses(int k);
bool tile_gather_fuses_half(int k);

/// Gathers tile rows [begin, end) as tile_gather_residual_gradient does
/// (prefetching ahead up to `degree`), row q to y + (q - begin) * k and its
/// target to t[q], adding their V^T 1 and V^T t to
/// column_sums and vt_t (begin = 0 starts them from zero) and their targets
/// to `sums`: calls over consecutive ranges give tile_sums' bits.
void tile_gather_sums(const GatherSource& source, const std::int32_t* cols, const float* values, std::int64_t begin,
                      std::int64_t end, std::int64_t degree, float* y, float* t, float* column_sums, float* vt_t,
                      TargetSums& sums);

/// The gather and tile_residual_gradient in one pass (each fixed row is read
/// once and used from registers): y's row q = the factors of table row
/// cols[q], t[q] = values[q] - mean (- its bias), then e and r as
/// tile_residual_gradient; returns sum e. Only where tile_gather_fuses(k)
/// (from a half table: tile_gather_fuses_half(k)).
float tile_gather_residual_gradient(const GatherSource& source, const std::int32_t* cols, const float* values,
                                    std::int64_t rows, float* y, float* t, const float* x, float xb, float* e,
                                    float* r);
/// The same from a half table into a half tile: y's rows are the table's
/// halves as they are (half the bytes of a float tile, for rows whose float
/// tile would not stay in cache across CG's passes). The same arithmetic on
/// the same floats, in the same order (the compiler may pair multiplies and
/// adds into FMAs differently from the float kernel's).
float tile_gather_residual_gradient(const GatherSource& source, const std::int32_t* cols, const float* values,
                                    std::int64_t rows, std::uint16_t* y, float* t, const float* x, float xb, float* e,
                                    float* r);

/// What tile_normal_product returns besides its arrays.
struct NormalSums {
  float norm = 0.f;  ///< |V p + pb|^2
  float sum = 0.f;   ///< sum of V p + pb
};

/// yp = V p + pb and ap = V^T yp (ks entries). With ap null, yp and the
/// sums alone (the same bits), at half the arithmetic: CG's last step.
NormalSums tile_normal_product(const float* v, std::int64_t rows, int ks, const float* p, float pb, float* yp,
                               float* ap);
/// The same on a half tile.
NormalSums tile_normal_product(const std::uint16_t* v, std::int64_t rows, int ks, const float* p, float pb, float* yp,
                               float* ap);

/// sum over rows of (t - (V x + xb))^2, in double.
double tile_squared_residual(const float* v, std::int64_t rows, int ks, const float* x, float xb, const float* t);
double tile_squared_residual(const std::uint16_t* v, std::int64_t rows, int ks, const float* x, float xb,
                             const float* t);

}  // namespace dals
