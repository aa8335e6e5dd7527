#pragma once
/// @file layout.hpp
/// @brief Which blocks, and so which dense ids, each rank owns.
///
/// Rank r of P owns a contiguous run of blocks on each side, chosen so that
/// the runs carry about equal work: a row of degree n_i costs about
/// n_i w^2 (its Gram matrix) + w^3 / 3 (its Cholesky) flops, w = k + 1, so a
/// block costs nnz + rows * w / 3 in units of w^2. The assignment is a pure
/// function of the manifest, P and the per-row weight, so every rank
/// computes the same one.

#include <cstdint>
#include <vector>

#include "dals/data/manifest.hpp"

namespace dals {

/// The rows one rank owns on one side.
struct OwnedRange {
  int first_block = 0;
  int end_block = 0;           ///< one past the last owned block
  std::int64_t first_row = 0;  ///< first owned dense id
  std::int64_t end_row = 0;    ///< one past the last owned dense id
  std::int64_t rows() const { return end_row - first_row; }
};

/// All ranks' ranges on one side, indexed by rank.
class SideLayout {
 public:
  /// `row_weight`: the cost of a row relative to one rating (w / 3 for the
  /// Cholesky solver, about 1 for CG, whose per-row work is O(w)).
  SideLayout(const std::vector<BlockInfo>& blocks, int ranks, double row_weight = 1.0);
  const OwnedRange& of(int rank) const { return ranges_[rank]; }
  int ranks() const { return static_cast<int>(ranges_.size()); }
  std::vector<std::int64_t> first_rows() const;
  std::vector<std::int64_t> row_counts() const;

 private:
  std::vector<OwnedRange> ranges_;
};

}  // namespace dals
