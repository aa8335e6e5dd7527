#include "dals/train/layout.hpp"

#include <algorithm>
#include <cmath>

#include "dals/core/error.hpp"
#include "dals/data/blocking.hpp"

namespace dals {

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
