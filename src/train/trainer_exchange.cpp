// How a half's updated rows reach the other ranks: the all-gather of a
// replicated side after its half, or the rounds of a routing plan that
// bring a routed side's rows to the ranks whose ratings read them; both
// under the exchange watchdog, both counting the bytes that metrics.jsonl
// reports (other ranks only). In implicit mode, the Gramian of the fixed
// side: on a routed side, its blocks' partial sums travel (all-gathered).
#include <mpi.h>

#include <vector>

#include "dals/mpi/route_rows.hpp"
#include "dals/mpi/watchdog.hpp"
#include "dals/train/trainer.hpp"
#include "trainer_local.hpp"

namespace dals {

Trainer::Moved Trainer::route(const RoutePlan& plan, Side from, int round) {
  const WatchedStep watch(
      from == Side::users ? "routed exchange of the user factors" : "routed exchange of the item factors",
      iteration_ + 1, comm_.rank());
  const double start = MPI_Wtime();
  const FactorTable& table = factors_[from];
  const auto send = plan.send_rows(round);
  const auto& counts = plan.recv_counts(round);
  route_rows(comm_, table.data(), table.stride(), send, received_.data(), counts);
  Moved moved;
  moved.seconds = seconds_since(start);
  const std::int64_t row_bytes = static_cast<std::int64_t>(table.stride()) * 4;
  for (int r = 0; r < comm_.size(); ++r)
    if (r != comm_.rank())
      moved.sent += static_cast<std::int64_t>(send[r].size()) * row_bytes, moved.received += counts[r] * row_bytes;
  return moved;
}

Trainer::Moved Trainer::exchange(Side side) {
  Moved moved;
  if (routed_[side]) return moved;  // its rows travel when a half reads them
  const WatchedStep watch(side == Side::users ? "allgather of the user factors" : "allgather of the item factors",
                          iteration_ + 1, comm_.rank());
  const double start = MPI_Wtime();
  FactorTable& table = factors_[side];
  comm_.allgather_rows(table.data(), table.stride(), layout(side).first_rows(), layout(side).row_counts());
  moved.seconds = seconds_since(start);
  const std::int64_t row_bytes = static_cast<std::int64_t>(table.stride()) * 4;
  const std::int64_t own = layout(side).of(comm_.rank()).rows();
  moved.sent = own * row_bytes * (comm_.size() - 1);
  moved.received = (manifest_.rows(side) - own) * row_bytes;
  return moved;
}

Trainer::Moved Trainer::form_gramian(Side fixed) {
  const auto& blocks = manifest_.train.blocks(fixed);
  std::vector<std::int64_t> block_first;
  for (const BlockInfo& b : blocks) block_first.push_back(b.first);
  block_first.push_back(manifest_.rows(fixed));
  Moved moved;
  if (!routed_[fixed]) {
    gramian_.compute(factors_[fixed], params_.unobserved_weight, block_first);
    return moved;
  }
  // This rank's blocks' partials, then every rank's, in block order: B
  // lower triangles of doubles (docs/memory.md).
  const int k = params_.k, tri = static_cast<int>(ImplicitGramian::triangle(k));
  std::vector<double> partials(blocks.size() * static_cast<std::size_t>(tri));
  const OwnedRange own = layout(fixed).of(comm_.rank());
  ImplicitGramian::block_partials(factors_[fixed], block_first, own.first_block, own.end_block,
                                  partials.data() + static_cast<std::size_t>(own.first_block) * tri);
  const WatchedStep watch(fixed == Side::users ? "allgather of the user Gramian's block sums"
                                               : "allgather of the item Gramian's block sums",
                          iteration_ + 1, comm_.rank());
  const double start = MPI_Wtime();
  std::vector<std::int64_t> first_blocks, block_counts;
  for (int r = 0; r < comm_.size(); ++r) {
    first_blocks.push_back(layout(fixed).of(r).first_block);
    block_counts.push_back(layout(fixed).of(r).end_block - layout(fixed).of(r).first_block);
  }
  if (tri > 0) comm_.allgather_rows(partials.data(), tri, first_blocks, block_counts);
  moved.seconds = seconds_since(start);
  const std::int64_t block_bytes = static_cast<std::int64_t>(tri) * 8, own_blocks = own.end_block - own.first_block;
  moved.sent = own_blocks * block_bytes * (comm_.size() - 1);
  moved.received = (static_cast<std::int64_t>(blocks.size()) - own_blocks) * block_bytes;
  gramian_.finish(partials, k, manifest_.rows(fixed), params_.unobserved_weight);
  return moved;
}

}  // namespace dals
