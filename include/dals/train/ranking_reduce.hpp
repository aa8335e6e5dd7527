#pragma once
/// @file ranking_reduce.hpp
/// @brief The ranking metrics of all ranks, added in block order.

#include <vector>

#include "dals/mpi/comm.hpp"
#include "dals/train/ranking.hpp"

namespace dals {

/// Totals over every rank's blocks. `my_blocks` is this rank's result of
/// ranking_sums_by_block or popularity_sums_by_block at `ks` (ranks own
/// contiguous runs of blocks in rank order, as SideLayout assigns them; a
/// rank may own none). The blocks are added in global block order, each
/// into the total of the ones before it, so every rank gets the same bits,
/// and the same for any P. result[j]: the total at ks[j].
std::vector<RankingSums> sum_blocks_over_ranks(const Comm& comm, const std::vector<std::vector<RankingSums>>& my_blocks,
                                               const std::vector<int>& ks);

}  // namespace dals
