#include "dals/train/layout.hpp"

#include <algorithm>
#include <cmath>

#include "dals/core/error.hpp"

namespace dals {

std::vector<int> split_blocks(const std::vector<std::int64_t>& costs, int ranks) {
  const int blocks = static_cast<int>(costs.size());
  if (ranks < 1 || ranks > blocks)
    throw Error("cannot split " + std::to_string(blocks) + " blocks over " + std::to_string(ranks) + " ranks");
  std::int64_t total = 0;
  for (auto c : costs) total += c;
  std::vector<int> cuts(ranks + 1);
  cuts[0] = 0;
  cuts[ranks] = blocks;
  std::int64_t acc = 0;
  int b = 0;
  for (int r = 1; r < ranks; ++r) {
    const long double target = static_cast<long double>(total) * r / ranks;
    // Take at least one block, then more while the run's cost stays below the
    // target (counting a block when its midpoint is), but leave at least one
    // block for each rank still to come.
    while (b < blocks - (ranks - r) && (b <= cuts[r - 1] || acc + costs[b] / 2.0L < target)) acc += costs[b++];
    cuts[r] = b;
  }
  return cuts;
}

SideLayout::SideLayout(const std::vector<BlockInfo>& blocks, int ranks, double row_weight) {
  std::vector<std::int64_t> costs;
  for (const auto& b : blocks) costs.push_back(b.nnz + static_cast<std::int64_t>(std::llround(b.rows * row_weight)));
  const auto cuts = split_blocks(costs, ranks);
  for (int r = 0; r < ranks; ++r) {
    OwnedRange range;
    range.first_block = cuts[r];
    range.end_block = cuts[r + 1];
    range.first_row = blocks[cuts[r]].first;
    range.end_row = blocks[cuts[r + 1] - 1].first + blocks[cuts[r + 1] - 1].rows;
    ranges_.push_back(range);
  }
}

std::vector<std::int64_t> SideLayout::first_rows() const {
  std::vector<std::int64_t> out;
  for (const auto& r : ranges_) out.push_back(r.first_row);
  return out;
}

std::vector<std::int64_t> SideLayout::row_counts() const {
  std::vector<std::int64_t> out;
  for (const auto& r : ranges_) out.push_back(r.rows());
  return out;
}

}  // namespace dals
