#pragma once
/// @file blocking.hpp
/// @brief Contiguous cuts of equal cost: ids into blocks (every tool that
/// writes a dataset), blocks into ranks (the trainer's layout).
///
/// Both walk the costs once and close a part when the next element's
/// midpoint passes the part's share of the total, so an element lands on
/// the side of the cut that is nearer its fair share. They differ in one
/// rule: a block may be empty (a dataset with fewer heavy users than
/// blocks), a rank's run of blocks never is.

#include <cstdint>
#include <vector>

namespace dals {

/// Cuts [0, costs.size()) into `blocks` contiguous ranges of about equal
/// summed cost. Returns blocks + 1 boundaries.
std::vector<std::int64_t> balanced_cuts(const std::vector<std::int64_t>& costs, int blocks);

/// Splits B blocks with the given costs into P contiguous non-empty runs of
/// about equal cost. Requires 1 <= P <= B. Returns P + 1 block boundaries.
std::vector<int> split_blocks(const std::vector<std::int64_t>& costs, int ranks);

}  // namespace dals
