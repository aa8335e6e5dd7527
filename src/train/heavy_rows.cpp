#include "dals/train/heavy_rows.hpp"

#include <algorithm>
#include <functional>

#include "dals/solve/row_solver.hpp"

namespace dals {

std::int64_t heavy_part_bytes(int k) { return static_cast<std::int64_t>(RowSolver::equation_floats(k)) * 4; }

std::int64_t heavy_threshold(const TrainConfig& config, std::int64_t fixed_blocks) {
  return RowSolver::heavy_threshold(config.factors, config.solver, config.heavy_rows, fixed_blocks);
}

std::int64_t heavy_rows_allowed(std::int64_t fixed_rows, std::int64_t fixed_blocks, int k) {
  // Exact in int64: the table is under 2^48 bytes for 10^10 rows at k = 4,095.
  const std::int64_t table = fixed_rows * (k + 1) * 4;
  return table / (kHeavyPartsShare * std::max<std::int64_t>(fixed_blocks, 1) * heavy_part_bytes(k));
}

std::int64_t heavy_threshold_within_budget(std::vector<std::int64_t> candidates, std::int64_t base,
                                           std::int64_t allowed) {
  if (base == kNoHeavyRows || static_cast<std::int64_t>(candidates.size()) <= allowed) return base;
  // The (allowed + 1)-th largest degree and all equal to it stay light.
  std::nth_element(candidates.begin(), candidates.begin() + allowed, candidates.end(), std::greater<>());
  return std::max(base, candidates[allowed] + 1);
}

std::int64_t resolve_heavy_threshold(const Comm& comm, const TrainConfig& config, const CsrBlock& solving,
                                     std::int64_t fixed_rows, std::int64_t fixed_blocks) {
  const std::int64_t base = heavy_threshold(config, fixed_blocks);
  if (config.heavy_rows >= 0 || base == kNoHeavyRows) return base;
  std::vector<std::int64_t> mine;
  for (std::int64_t r = 0; r < solving.rows(); ++r)
    if (solving.degree(r) >= base) mine.push_back(solving.degree(r));
  return agree_heavy_threshold(comm, mine, base, fixed_rows, fixed_blocks, config.factors);
}

std::int64_t agree_heavy_threshold(const Comm& comm, const std::vector<std::int64_t>& candidates, std::int64_t base,
                                   std::int64_t fixed_rows, std::int64_t fixed_blocks, int k) {
  const std::vector<std::int64_t> counts = comm.allgather(static_cast<std::int64_t>(candidates.size()));
  return heavy_threshold_within_budget(comm.allgatherv<std::int64_t>(candidates, counts), base,
                                       heavy_rows_allowed(fixed_rows, fixed_blocks, k));
}

std::int64_t HeavyRows::group_for(std::int64_t fixed_blocks, int k, std::int64_t buffer_bytes) {
  return std::max<std::int64_t>(1, buffer_bytes / (std::max<std::int64_t>(fixed_blocks, 1) * heavy_part_bytes(k)));
}

std::int64_t HeavyRows::group_begin(int q, int round) const {
  const std::int64_t n = rank_first_[q + 1] - rank_first_[q];
  return std::min(n, round * group_);
}

std::int64_t HeavyRows::group_end(int q, int round) const {
  const std::int64_t n = rank_first_[q + 1] - rank_first_[q];
  return std::min(n, (round + 1) * group_);
}

HeavyRows HeavyRows::build(const Comm& comm, const CsrBlock& solving, std::int64_t threshold, bool fixed_routed,
                           const CsrBlock& fixed_by_row, const std::vector<std::int64_t>& fixed_first,
                           const SideLayout& fixed_layout, int k, std::int64_t buffer_bytes) {
  HeavyRows h;
  h.threshold_ = threshold;
  h.fixed_routed_ = fixed_routed;
  h.rank_ = comm.rank();
  std::vector<std::int64_t> ids;
  for (std::int64_t r = 0; r < solving.rows(); ++r)
    if (h.heavy(solving.degree(r))) h.own_.push_back(r), ids.push_back(solving.first_row + r);
  h.heaviest_first_ = h.own_;
  std::stable_sort(h.heaviest_first_.begin(), h.heaviest_first_.end(),
                   [&](std::int64_t a, std::int64_t b) { return solving.degree(a) > solving.degree(b); });
  const std::vector<std::int64_t> counts = comm.allgather(static_cast<std::int64_t>(ids.size()));
  const int p = comm.size();
  h.rank_first_.assign(p + 1, 0);
  for (int q = 0; q < p; ++q) h.rank_first_[q + 1] = h.rank_first_[q] + counts[q];
  if (!fixed_routed) {
    h.all_ids_.resize(h.rank_first_[p]);  // only their number is used: the owners form every part
    return h;
  }
  // Ranks own increasing runs of rows: rank order is id order.
  h.all_ids_ = comm.allgatherv<std::int64_t>(ids, counts);
  for (int q = 0; q < p; ++q) h.blocks_of_.push_back(fixed_layout.of(q).end_block - fixed_layout.of(q).first_block);
  const OwnedRange own = fixed_layout.of(comm.rank());
  h.own_blocks_ = h.blocks_of_[comm.rank()];
  h.group_ = group_for(static_cast<std::int64_t>(fixed_first.size()) - 1, k, buffer_bytes);
  for (int q = 0; q < p; ++q)
    h.rounds_ = std::max<int>(h.rounds_, static_cast<int>((counts[q] + h.group_ - 1) / h.group_));

  // This rank's ratings of the heavy rows, by (heavy row, own fixed block),
  // each run in fixed-row order: counted, then placed.
  const std::int64_t runs = h.total() * h.own_blocks_;
  h.part_ptr_.assign(runs + 1, 0);
  auto for_each_heavy = [&](auto&& visit) {
    int b = 0;
    for (std::int64_t u = 0; u < fixed_by_row.rows(); ++u) {
      while (fixed_by_row.first_row + u >= fixed_first[own.first_block + b + 1]) ++b;
      auto from = h.all_ids_.begin();
      for (std::int64_t q = fixed_by_row.indptr[u]; q < fixed_by_row.indptr[u + 1]; ++q) {
        const std::int64_t id = fixed_by_row.column(q);
        from = std::lower_bound(from, h.all_ids_.end(), id);
        if (from == h.all_ids_.end()) break;
        if (*from == id) visit((from - h.all_ids_.begin()) * h.own_blocks_ + b, u, q);
      }
    }
  };
  if (runs > 0) {
    for_each_heavy([&](std::int64_t run, std::int64_t, std::int64_t) { ++h.part_ptr_[run + 1]; });
    for (std::int64_t i = 0; i < runs; ++i) {
      h.widest_part_ = std::max(h.widest_part_, h.part_ptr_[i + 1]);
      h.part_ptr_[i + 1] += h.part_ptr_[i];
    }
    h.part_rows_.resize(h.part_ptr_[runs]);
    h.part_values_.resize(h.part_ptr_[runs]);
    std::vector<std::int64_t> next(h.part_ptr_.begin(), h.part_ptr_.end() - 1);
    for_each_heavy([&](std::int64_t run, std::int64_t u, std::int64_t q) {
      h.part_rows_[next[run]] = static_cast<std::int32_t>(u);
      h.part_values_[next[run]++] = fixed_by_row.values[q];
    });
  }
  return h;
}

std::int64_t HeavyRows::bytes_sent(const std::vector<std::int64_t>& heavy_of, const std::vector<int>& blocks_of, int r,
                                   int k) {
  std::int64_t others = 0;
  for (std::size_t q = 0; q < heavy_of.size(); ++q)
    if (static_cast<int>(q) != r) others += heavy_of[q];
  return others * blocks_of[r] * heavy_part_bytes(k);
}

std::int64_t HeavyRows::bytes_received(const std::vector<std::int64_t>& heavy_of, const std::vector<int>& blocks_of,
                                       int r, int k) {
  std::int64_t blocks = 0;
  for (std::size_t q = 0; q < blocks_of.size(); ++q)
    if (static_cast<int>(q) != r) blocks += blocks_of[q];
  return heavy_of[r] * blocks * heavy_part_bytes(k);
}

std::int64_t HeavyRows::buffer_bytes(const std::vector<std::int64_t>& heavy_of, const std::vector<int>& blocks_of,
                                     int r, std::int64_t group, int k) {
  // The first round is the fullest: every rank's first group.
  std::int64_t sent = 0, blocks = 0;
  for (std::size_t q = 0; q < heavy_of.size(); ++q) sent += std::min(group, heavy_of[q]), blocks += blocks_of[q];
  const std::int64_t send_parts = sent * blocks_of[r], recv_parts = std::min(group, heavy_of[r]) * blocks;
  // The parts, and the send list's 4 bytes a part (route_rows).
  return (send_parts + recv_parts) * heavy_part_bytes(k) + send_parts * 4;
}

std::int64_t HeavyRows::memory_bytes(const std::vector<std::int64_t>& heavy_of, const std::vector<int>& blocks_of,
                                     int r, std::int64_t entries, std::int64_t group, int k, bool fixed_routed) {
  std::int64_t b = heavy_of[r] * 16;  // the own heavy rows' lists (by id, heaviest first)
  if (!fixed_routed) return b;
  std::int64_t total = 0;
  for (std::int64_t n : heavy_of) total += n;
  // The job's list, the runs' offsets, 4 + 4 bytes a rating, the round buffers.
  return b + total * 8 + (total * blocks_of[r] + 1) * 8 + entries * 8 + buffer_bytes(heavy_of, blocks_of, r, group, k);
}

std::int64_t HeavyRows::bytes(int k) const {
  std::vector<std::int64_t> heavy_of;
  for (std::size_t q = 0; q + 1 < rank_first_.size(); ++q) heavy_of.push_back(rank_first_[q + 1] - rank_first_[q]);
  if (heavy_of.empty()) return 0;
  return memory_bytes(heavy_of, blocks_of_, rank_, static_cast<std::int64_t>(part_rows_.size()), group_, k,
                      fixed_routed_);
}

}  // namespace dals
