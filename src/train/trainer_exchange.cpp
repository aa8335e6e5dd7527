// How a half's updated rows reach the other ranks: the all-gather of a
// replicated side after its half, or the rounds of a routing plan that
// bring a routed side's rows to the ranks whose ratings read them; both
// under the exchange watchdog, both counting the bytes that metrics.jsonl
// reports (other ranks only).
#include <mpi.h>

#include "dals/mpi/route_rows.hpp"
#include "dals/mpi/watchdog.hpp"
#include "dals/train/trainer.hpp"

namespace dals {

namespace {
double seconds_since(double start) { return MPI_Wtime() - start; }
}  // namespace

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

}  // namespace dals
