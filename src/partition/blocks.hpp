#pragma once
// Private to dals-partition: the writers of the block files.
//
// Blocks are given to ranks in contiguous runs (rank r writes blocks
// [r*B/P, (r+1)*B/P) of each side). A writer spills the ratings and ids it
// receives per block, then builds and writes each block. What the ranks
// wrote is summed into one table, from which every rank assembles the same
// manifest and id indexes.

#include <cstdint>
#include <string>
#include <vector>

#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/manifest.hpp"
#include "dals/partition/spill.hpp"
#include "internal.hpp"

namespace dals::part {

class BlockWriters {
 public:
  BlockWriters(Job& job, std::string dir);
  /// The rank that writes block `block` of `side`.
  int owner(Side, int block) const { return owner_[static_cast<std::size_t>(block)]; }

  /// Receiving side of the last pass: spills one rating of a block this
  /// rank writes (kind: 0/1 train/test by user, 2/3 by item; source: the
  /// rank it came from), or id messages (dense id, 2-byte length, bytes).
  void add_rating(int kind, int block, int source, std::int32_t row, std::int32_t col, float value);
  void add_ids(Side side, const char* data, std::size_t bytes);
  void flush();

  /// Builds and writes this rank's blocks (rating blocks and id maps).
  void build_all();
  /// A collective: sums what every rank wrote into the manifest (and the
  /// id indexes, the rating sum and the histogram).
  Manifest manifest();
  const IdIndex& index(Side side) const { return index_[side]; }

 private:
  struct Entry {  // one spilled rating
    std::int32_t row, col;
    float value;
  };
  std::size_t part_count() const;
  std::size_t spill_index(int kind, int block, int source) const;
  CsrBlock build_ratings(int kind, int block);
  void build_ids(Side side, int block);
  const std::vector<std::int64_t>& cuts(Side side) const;

  Job& job_;
  std::string dir_;
  bool has_test_;
  int first_block_, last_block_;
  std::vector<int> owner_;
  SpillStore spill_;
  // Summed over ranks: per (kind, block) first, rows, nnz, checksum; per
  // block the training rating sum; per (side, block) first hash and whether
  // the block has one; histogram counts.
  std::vector<std::uint64_t> fields_, first_hash_, has_first_;
  std::vector<double> sums_;
  std::vector<std::int64_t> histogram_;
  PerSide<IdIndex> index_;
};

}  // namespace dals::part
