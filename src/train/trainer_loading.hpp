#pragma once
// What the trainer does once, while loading: the checked manifest, a rank's
// rating blocks, the checks of their mean and (implicit) sign, and which
// sides are routed. Private to src/train/.
#include <cstdint>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/data/manifest.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/train/config.hpp"
#include "dals/train/layout.hpp"

namespace dals::loading {

Manifest read_checked_manifest(const Comm& comm, const TrainConfig& config);
// A rank's blocks of one side. Where the other side is routed (`compact`)
// and has 2^31 rows or more, or a block stores 64-bit ids, the result is
// compacted (csr.hpp): its positions are what the routing plan rewrites.
CsrBlock read_owned(const TrainConfig& config, const Manifest& m, Split split, Side side, const OwnedRange& own,
                    bool compact = false);
void check_mean(const Comm& comm, const TrainConfig& config, const Manifest& m, const CsrBlock& by_user);
void check_positive(const Comm& comm, const TrainConfig& config, const CsrBlock& by_user);
// The training ratings' spread around the manifest's mean, sqrt(sum (r - mu)^2 / n),
// summed block by block in storage order and then over the blocks in order:
// the same bits for any P (1 where there is nothing to measure).
double rating_spread(const Comm& comm, const Manifest& m, const OwnedRange& own, const CsrBlock& by_user);
// The order a half's rows [begin, end) are solved in (heaviest first, then storage order).
std::vector<std::int64_t> solve_order(const CsrBlock& r, std::int64_t begin, std::int64_t end, int threads);
PerSide<bool> choose_routed(const Comm& comm, const TrainConfig& config, const Manifest& m);
// Whether a run ranks every item per test user (implicit, test entries):
// where the items are routed, a distributed top-K (ranking_routed.hpp).
inline bool ranks_every_item(const TrainConfig& config, const Manifest& m) {
  return config.implicit && m.has_test && m.test.ratings > 0;
}
// The same choice for a given memory per rank (dals-plan's --memory-per-rank).
// A side of 2^31 rows or more must be routed (its ids do not fit the 32-bit
// columns a replicated side is gathered by): Error naming --exchange.
PerSide<bool> routed_sides(const TrainConfig& config, const Manifest& m, std::int64_t memory_per_rank);

}  // namespace dals::loading
