#pragma once
/// @file implicit_gramian.hpp
/// @brief w0 Y^T Y of the whole fixed side: the unobserved cells' share of
/// every implicit row's system, formed once per half-iteration.
///
/// In implicit ALS every cell of the m x n matrix is a preference (1 where
/// observed, 0 elsewhere), weighted w0 where unobserved. Summed over all n
/// cells a row's normal matrix would be O(n k^2); split as
///   w0 Y^T Y + sum over observed (c_j - w0) y_j y_j^T
/// the first term is shared by every row (Hu, Koren, Volinsky 2008), so a
/// row costs what an explicit one does plus a k x k addition (Cholesky) or
/// one k x k matrix-vector product per CG step.
///
/// Determinism: the fixed side is summed in chunks of kChunkRows rows, each
/// chunk's Gram formed alone (single-threaded SSYRK) and the chunks added
/// in order in double precision: the bits depend on the table only, not on
/// the number of threads or ranks (every rank holds the whole fixed side).

#include <cstdint>
#include <vector>

#include "dals/core/aligned_allocator.hpp"
#include "dals/solve/factors.hpp"

namespace dals {

class ImplicitGramian {
 public:
  /// Rows per chunk of the sum: the order of additions, part of the result's bits.
  static constexpr std::int64_t kChunkRows = 2048;

  /// Forms w0 Y^T Y over every row of `fixed` (its k factors; the biases
  /// are not used). Runs OpenMP threads over the chunks.
  void compute(const FactorTable& fixed, double w0);

  int k() const { return k_; }
  /// Rows of the fixed side summed (for the weighted ridge).
  std::int64_t rows() const { return rows_; }
  /// Entry (i, j) of w0 Y^T Y, full symmetric, in double.
  double at(int i, int j) const { return scaled_[static_cast<std::size_t>(i) * k_ + j]; }
  /// out = (w0 Y^T Y) p for p of k entries, out over the tile stride of k
  /// (zero past k), in float, each entry in a fixed order.
  void apply(const float* p, float* out) const;
  /// x^T (w0 Y^T Y) x for x of k entries: apply into `scratch` (tile
  /// stride floats), then the dot in double.
  double quadratic(const float* x, float* scratch) const;

 private:
  int k_ = 0;
  std::int64_t rows_ = 0;
  std::vector<double> scaled_;  // k x k
  AlignedFloats rows_float_;    // k rows of tile_stride(k) floats, zero padding
};

}  // namespace dals
