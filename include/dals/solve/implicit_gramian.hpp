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
/// Determinism: the order of the sum depends on the dataset's blocks only.
/// Each block is summed in chunks of kChunkRows rows from its first row,
/// each chunk's Gram formed alone (single-threaded SSYRK, float) and the
/// chunks added in order in double into the block's partial; the Gramian
/// is the blocks' partials added in block order. A rank holding the whole
/// fixed side (replicated) computes every partial itself; a rank holding
/// only its own blocks (routed) computes theirs, the ranks all-gather the
/// partials (block_partials, then finish): the same bits either way, for
/// any number of threads and ranks.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dals/core/aligned_allocator.hpp"
#include "dals/solve/factors.hpp"

namespace dals {

class ImplicitGramian {
 public:
  /// Rows per chunk of the sum: the order of additions, part of the result's bits.
  static constexpr std::int64_t kChunkRows = 2048;

  /// Doubles in one block's partial: the lower triangle of a k x k matrix,
  /// packed by columns ((i, j), i >= j, column j after columns 0 .. j-1).
  static std::size_t triangle(int k) { return static_cast<std::size_t>(k) * (k + 1) / 2; }

  /// The partials of blocks [first_block, end_block) of the fixed side into
  /// `out` (triangle(k) doubles per block, in block order, unscaled).
  /// `block_first` has one entry per block and one more, the side's rows:
  /// block b is rows [block_first[b], block_first[b + 1]), which `fixed`
  /// must hold (by dense id). Runs OpenMP threads over the chunks.
  static void block_partials(const FactorTable& fixed, std::span<const std::int64_t> block_first, int first_block,
                             int end_block, double* out);

  /// Forms w0 Y^T Y from every block's partial (`partials`: all blocks of
  /// the side in order, triangle(k) each), added in block order; `rows`:
  /// the fixed side's rows (for the weighted ridge).
  void finish(std::span<const double> partials, int k, std::int64_t rows, double w0);

  /// Both in one, from a table holding the whole fixed side: the same bits
  /// as block_partials on any split of the blocks, then finish.
  void compute(const FactorTable& fixed, double w0, std::span<const std::int64_t> block_first);
  /// The whole table as one block (for tables without a dataset's blocks).
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
