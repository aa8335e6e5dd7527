#include "dals/data/blocking.hpp"

#include <string>

#include "dals/core/error.hpp"

namespace dals {

std::vector<std::int64_t> balanced_cuts(const std::vector<std::int64_t>& costs, int blocks) {
  const std::int64_t n = static_cast<std::int64_t>(costs.size());
  std::int64_t total = 0;
  for (auto c : costs) total += c;
  std::vector<std::int64_t> cuts(blocks + 1, n);
  cuts[0] = 0;
  std::int64_t acc = 0, i = 0;
  for (int b = 1; b < blocks; ++b) {
    // Block b starts once the running cost reaches b/B of the total.
    const long double target = static_cast<long double>(total) * b / blocks;
    while (i < n && acc + costs[i] / 2.0L < target) acc += costs[i++];
    cuts[b] = i;
  }
  return cuts;
}

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

}  // namespace dals
