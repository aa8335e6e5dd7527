#include "dals/train/ranking_reduce.hpp"

#include <string>

#include "dals/core/error.hpp"

namespace dals {

std::vector<RankingSums> sum_blocks_over_ranks(const Comm& comm, const std::vector<std::vector<RankingSums>>& my_blocks,
                                               const std::vector<int>& ks) {
  const std::size_t nk = ks.size();
  // Four doubles per block and K: users (exact below 2^53), then the sums.
  std::vector<double> mine;
  for (const auto& block : my_blocks) {
    require(block.size() == nk, "ranking metrics: a block has sums at " + std::to_string(block.size()) +
                                    " values of K, not " + std::to_string(nk));
    for (std::size_t j = 0; j < nk; ++j) {
      require(block[j].k == ks[j], "ranking metrics: block sums at K = " + std::to_string(block[j].k) +
                                       " where K = " + std::to_string(ks[j]) + " was expected");
      mine.insert(mine.end(),
                  {static_cast<double>(block[j].users), block[j].precision, block[j].recall, block[j].ndcg});
    }
  }
  const std::vector<std::int64_t> counts = comm.allgather(static_cast<std::int64_t>(mine.size()));
  const std::vector<double> all = comm.allgatherv<double>(mine, counts);
  std::vector<RankingSums> total(nk);
  for (std::size_t j = 0; j < nk; ++j) total[j].k = ks[j];
  for (std::size_t b = 0; b * 4 * nk < all.size(); ++b)
    for (std::size_t j = 0; j < nk; ++j) {
      const double* v = all.data() + (b * nk + j) * 4;
      total[j] += RankingSums{ks[j], static_cast<std::int64_t>(v[0]), v[1], v[2], v[3]};
    }
  return total;
}

}  // namespace dals
