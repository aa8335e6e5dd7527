// The heavy rows' half (heavy_rows.hpp): each row's normal equations in
// parts, one per block of the fixed side, summed in block order in double
// and solved by the primal Cholesky. Where the fixed side is routed, the
// parts are formed by the owners of its blocks and sent, in rounds, to the
// heavy row's owner; where it is replicated, the owner forms them all.
#include <mpi.h>
#include <omp.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "dals/mpi/route_rows.hpp"
#include "dals/mpi/watchdog.hpp"
#include "dals/train/trainer.hpp"
#include "trainer_local.hpp"

namespace dals {

Trainer::Moved Trainer::solve_heavy(Side side, std::int64_t& retries_out, double& squared_error_out) {
  const HeavyRows& heavy = heavy_[side];
  Moved moved;
  if (heavy.total() == 0) return moved;
  const Local& local = *local_[side];
  const CsrBlock& r = local.ratings;
  const Side fixed_side = other(side);
  const FactorTable& fixed = factors_[fixed_side];
  FactorTable& solving = factors_[side];
  const int k = params_.k, floats = RowSolver::equation_floats(k);
  const std::size_t sums_size = static_cast<std::size_t>(floats) - 1;
  const double mean = params_.implicit ? 0.0 : manifest_.mean;
  const ImplicitGramian* gramian = params_.implicit ? &gramian_ : nullptr;
  std::int64_t retries = 0;
  double squared_error = 0;
  auto solve_row = [&](RowSolver& solver, std::int64_t row, const double* sums) {
    return solver.solve_from_equations(sums, r.degree(row), solving.row(r.first_row + row),
                                       params_.implicit ? local.implicit_constants[row] : 0.0, gramian);
  };

  if (!heavy.fixed_routed()) {
    // Every part here, from the row's own ratings (RowSolver::solve_in_parts).
    std::vector<std::int64_t> fixed_first;
    for (const BlockInfo& b : manifest_.train.blocks(fixed_side)) fixed_first.push_back(b.first);
    fixed_first.push_back(manifest_.rows(fixed_side));
#pragma omp parallel reduction(+ : retries, squared_error)
    {
      RowSolver& solver = solvers_[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
      for (std::size_t i = 0; i < heavy.heaviest_first().size(); ++i) {
        const std::int64_t row = heavy.heaviest_first()[i], begin = r.indptr[row];
        const RowResult result = solver.solve_in_parts(r.indices.data() + begin, r.values.data() + begin, r.degree(row),
                                                       fixed, mean, fixed_first, solving.row(r.first_row + row),
                                                       params_.implicit ? local.implicit_constants[row] : 0.0, gramian);
        retries += result.retries;
        squared_error += result.squared_error;
      }
    }
    retries_out += retries;
    squared_error_out += squared_error;
    return moved;
  }

  const int p = comm_.size(), me = comm_.rank(), own_blocks = heavy.own_fixed_blocks();
  const std::vector<int>& blocks_of = heavy.fixed_blocks_of();
  const std::int64_t part_bytes = static_cast<std::int64_t>(floats) * 4;
  for (int round = 0; round < heavy.rounds(); ++round) {
    // Sent: for each rank q, its heavy rows of the round x this rank's
    // fixed blocks, in that order; received: from each rank in rank order,
    // this rank's rows of the round x that rank's blocks.
    std::vector<std::int64_t> first(p + 1, 0), recv_counts(p);
    for (int q = 0; q < p; ++q)
      first[q + 1] = first[q] + (heavy.group_end(q, round) - heavy.group_begin(q, round)) * own_blocks;
    const std::int64_t mine_begin = heavy.group_begin(me, round), mine = heavy.group_end(me, round) - mine_begin;
    std::vector<std::int64_t> recv_first(p + 1, 0);
    for (int q = 0; q < p; ++q)
      recv_counts[q] = mine * blocks_of[q], recv_first[q + 1] = recv_first[q] + recv_counts[q];
    std::vector<float> send(static_cast<std::size_t>(first[p]) * floats),
        recv(static_cast<std::size_t>(recv_first[p]) * floats);
#pragma omp parallel
    {
      RowSolver& solver = solvers_[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
      for (std::int64_t t = 0; t < first[p]; ++t) {
        const int q = static_cast<int>(std::upper_bound(first.begin(), first.end(), t) - first.begin()) - 1;
        const std::int64_t i = (t - first[q]) / own_blocks, b = (t - first[q]) % own_blocks;
        const std::int64_t h = heavy.index_of(q, heavy.group_begin(q, round) + i);
        const std::int64_t from = heavy.part_begin(h, static_cast<int>(b));
        solver.partial_equations(heavy.part_rows().data() + from, heavy.part_values().data() + from,
                                 heavy.part_end(h, static_cast<int>(b)) - from, fixed, mean,
                                 send.data() + static_cast<std::size_t>(t) * floats);
      }
    }
    {
      const WatchedStep watch(
          side == Side::items ? "exchange of the heavy items' equations" : "exchange of the heavy users' equations",
          iteration_ + 1, comm_.rank());
      const double start = MPI_Wtime();
      std::vector<std::uint32_t> order(static_cast<std::size_t>(first[p]));
      std::iota(order.begin(), order.end(), 0u);
      std::vector<std::span<const std::uint32_t>> send_rows;
      for (int q = 0; q < p; ++q)
        send_rows.emplace_back(order.data() + first[q], static_cast<std::size_t>(first[q + 1] - first[q]));
      route_rows(comm_, send.data(), floats, send_rows, recv.data(), recv_counts);
      moved.seconds += seconds_since(start);
      for (int q = 0; q < p; ++q)
        if (q != me)
          moved.sent += (first[q + 1] - first[q]) * part_bytes, moved.received += recv_counts[q] * part_bytes;
    }
#pragma omp parallel reduction(+ : retries, squared_error)
    {
      RowSolver& solver = solvers_[omp_get_thread_num()];
      std::vector<double> sums(sums_size);
#pragma omp for schedule(dynamic, 1)
      for (std::int64_t i = 0; i < mine; ++i) {
        std::fill(sums.begin(), sums.end(), 0.0);
        for (int q = 0; q < p; ++q)  // rank order, then each rank's blocks in order: block order
          for (int b = 0; b < blocks_of[q]; ++b)
            RowSolver::add_equations(
                recv.data() + static_cast<std::size_t>(recv_first[q] + i * blocks_of[q] + b) * floats, k, sums.data());
        const RowResult result = solve_row(solver, heavy.own()[mine_begin + i], sums.data());
        retries += result.retries;
        squared_error += result.squared_error;
      }
    }
  }
  retries_out += retries;
  squared_error_out += squared_error;
  return moved;
}

}  // namespace dals
