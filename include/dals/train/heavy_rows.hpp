#pragma once
/// @file heavy_rows.hpp
/// @brief Rows rated by a large share of the other side, solved from normal
/// equations summed per block of the other side (docs/memory.md, Heavy rows).
///
/// A row of degree d normally reads its d fixed rows. Where the fixed side
/// is routed, its owner receives all of them (d x (k + 1) x 4 bytes) and
/// forms the d x w^2 Gram alone: a row rated by half the users would be the
/// slowest rank's work and need an exchange buffer of half the user table.
/// A heavy row (degree >= the side's threshold) is instead solved from its
/// normal equations in parts, one per block of the fixed side (the part over
/// the row's ratings whose fixed row lies in that block, RowSolver::
/// partial_equations), summed in double in block order, then solved by the
/// primal Cholesky.
/// - Fixed side routed: each rank forms the parts of every heavy row over
///   its own fixed blocks (from its own ratings of the fixed side, an index
///   built once) and sends them to the heavy row's owner. B_fixed parts of
///   equation_floats(k) floats travel in place of d rows: they cost the
///   same at d* = B_fixed x equation_floats(k) / (k + 1), 34 B_fixed at
///   k = 64, where each heavy row's raters would travel for it alone. The
///   parts travel in rounds: each rank receives at most --exchange-buffer
///   of them per round.
/// - `auto` takes the larger of d* and 64 B_fixed (parts of 64 ratings on
///   average: RowSolver::heavy_threshold), raised until the side's heavy
///   rows' parts take at most 1/8 of the fixed side's table
///   (heavy_threshold_within_budget). Where raters rate many rows (Netflix:
///   about 200 ratings a user) a rank receives each rater once for all its
///   rows, and parts for every row above d* cost more than the rows: at
///   P = 2 on the Netflix shape, 563 MB received a half, nearly all parts,
///   against 99 MB for every user referenced; the item half 2.5x slower.
///   The budget keeps the rows that set the buffer and the slowest rank
///   (the most rated ones) and drops the rest.
/// - Fixed side replicated: the row's owner forms every part itself.
/// A part depends only on its ratings and fixed rows, and the sum's order
/// only on the blocks, so the bits are the same for any P, threads and
/// exchange mode. The rule is a function of the degree alone (after the
/// validation split), the same on every rank.

#include <cstdint>
#include <limits>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/train/config.hpp"
#include "dals/train/layout.hpp"

namespace dals {

/// No row is heavy.
inline constexpr std::int64_t kNoHeavyRows = std::numeric_limits<std::int64_t>::max();

/// The degree from which a side's rows are heavy: --heavy-rows N as given,
/// `auto` (config.heavy_rows < 0) d* above, and kNoHeavyRows for `off`, for
/// `auto` under CG (whose rows never form their Gram: reducing one would cost
/// it w / (2 cg_steps) times its solve) and for k = 0. Never below w = k + 1
/// (such rows take the dual path).
std::int64_t heavy_threshold(const TrainConfig& config, std::int64_t fixed_blocks);

/// The share of the fixed side's table that auto's parts may take, per half.
inline constexpr std::int64_t kHeavyPartsShare = 8;

/// How many rows auto may make heavy: their parts (fixed_blocks of
/// heavy_part_bytes(k) each) total at most 1/kHeavyPartsShare of the fixed
/// table (fixed_rows x (k + 1) x 4 bytes).
std::int64_t heavy_rows_allowed(std::int64_t fixed_rows, std::int64_t fixed_blocks, int k);

/// auto's threshold: the smallest t >= `base` such that at most `allowed`
/// rows have degree >= t, from `candidates`, the degrees >= base of every
/// row of the side (all ranks'; any order; sorted here). A function of the
/// side's degrees alone: the same for any P, threads and exchange mode.
std::int64_t heavy_threshold_within_budget(std::vector<std::int64_t> candidates, std::int64_t base,
                                           std::int64_t allowed);

/// Collective: auto's threshold from this rank's `candidates` (its rows'
/// degrees >= base) and every other rank's, within the budget of a fixed
/// side of `fixed_rows` rows in `fixed_blocks` blocks. The trainer and
/// dals-plan (whose ranks hold simulated ranks' rows) both agree on it so.
std::int64_t agree_heavy_threshold(const Comm& comm, const std::vector<std::int64_t>& candidates, std::int64_t base,
                                   std::int64_t fixed_rows, std::int64_t fixed_blocks, int k);

/// Collective: the solving side's threshold on this run. --heavy-rows N or
/// off as given; auto: heavy_threshold_within_budget over every rank's
/// rows of `solving` (after the validation split).
std::int64_t resolve_heavy_threshold(const Comm& comm, const TrainConfig& config, const CsrBlock& solving,
                                     std::int64_t fixed_rows, std::int64_t fixed_blocks);

/// Bytes of one part (RowSolver::equation_floats).
std::int64_t heavy_part_bytes(int k);

/// One solving side's heavy rows on this rank, and what the exchange of
/// their parts needs.
class HeavyRows {
 public:
  HeavyRows() = default;
  /// Collective. `solving`: this rank's rows of the side solved (degrees
  /// after the validation split). With `fixed_routed`, `fixed_by_row` is
  /// this rank's rows of the fixed side with the solving side's global ids
  /// as columns (before any routing plan rewrites them), `fixed_first` the
  /// fixed side's B block firsts and its row count (B + 1 entries), and
  /// `buffer_bytes` the bound of one round's received parts.
  static HeavyRows build(const Comm& comm, const CsrBlock& solving, std::int64_t threshold, bool fixed_routed,
                         const CsrBlock& fixed_by_row, const std::vector<std::int64_t>& fixed_first,
                         const SideLayout& fixed_layout, int k, std::int64_t buffer_bytes);

  std::int64_t threshold() const { return threshold_; }
  bool heavy(std::int64_t degree) const { return degree >= threshold_; }
  /// Local rows of this rank's heavy rows, increasing.
  const std::vector<std::int64_t>& own() const { return own_; }
  /// The same, heaviest first (ties by row): the order that keeps threads busy.
  const std::vector<std::int64_t>& heaviest_first() const { return heaviest_first_; }
  /// Heavy rows of the whole job.
  std::int64_t total() const { return static_cast<std::int64_t>(all_ids_.size()); }
  bool fixed_routed() const { return fixed_routed_; }

  // The exchange (fixed side routed).
  /// Rounds of every half: the same on every rank.
  int rounds() const { return rounds_; }
  /// Heavy rows per round that each rank receives parts for (the last round's may be fewer).
  std::int64_t group() const { return group_; }
  /// Rank q's heavy rows in round r: [first, end) of its own list.
  std::int64_t group_begin(int q, int round) const;
  std::int64_t group_end(int q, int round) const;
  /// Index in the job's list of rank q's i-th heavy row.
  std::int64_t index_of(int q, std::int64_t i) const { return rank_first_[q] + i; }
  /// This rank's ratings of the job's heavy row h within its own fixed block b
  /// (b from its first own block): local fixed rows and values.
  std::int64_t part_begin(std::int64_t h, int b) const { return part_ptr_[h * own_blocks_ + b]; }
  std::int64_t part_end(std::int64_t h, int b) const { return part_ptr_[h * own_blocks_ + b + 1]; }
  const std::vector<std::int32_t>& part_rows() const { return part_rows_; }
  const std::vector<float>& part_values() const { return part_values_; }
  int own_fixed_blocks() const { return own_blocks_; }
  /// Fixed blocks of each rank (the order parts arrive in).
  const std::vector<int>& fixed_blocks_of() const { return blocks_of_; }
  /// The most ratings of one part (the solvers' buffers).
  std::int64_t widest_part() const { return widest_part_; }
  /// What this structure holds, in bytes (Trainer::model_bytes; dals-plan's heavy_rows).
  std::int64_t bytes(int k) const;

  /// The bytes of the parts sent to and received from other ranks per half
  /// by rank r, given every rank's heavy-row count and fixed blocks.
  static std::int64_t bytes_sent(const std::vector<std::int64_t>& heavy_of, const std::vector<int>& blocks_of, int r,
                                 int k);
  static std::int64_t bytes_received(const std::vector<std::int64_t>& heavy_of, const std::vector<int>& blocks_of,
                                     int r, int k);
  /// What rank r holds (bytes()), given its ratings of the heavy rows (`entries`).
  static std::int64_t memory_bytes(const std::vector<std::int64_t>& heavy_of, const std::vector<int>& blocks_of, int r,
                                   std::int64_t entries, std::int64_t group, int k, bool fixed_routed);
  /// The heavy rows per round for `fixed_blocks` and the buffer.
  static std::int64_t group_for(std::int64_t fixed_blocks, int k, std::int64_t buffer_bytes);
  /// The round buffers' bytes of rank r (send and receive of the fullest round).
  static std::int64_t buffer_bytes(const std::vector<std::int64_t>& heavy_of, const std::vector<int>& blocks_of, int r,
                                   std::int64_t group, int k);

 private:
  std::int64_t threshold_ = kNoHeavyRows;
  bool fixed_routed_ = false;
  int rank_ = 0;
  std::vector<std::int64_t> own_;
  std::vector<std::int64_t> heaviest_first_;
  std::vector<std::int64_t> all_ids_;     // the job's heavy rows, increasing (fixed side routed)
  std::vector<std::int64_t> rank_first_;  // P + 1 offsets into all_ids_
  std::vector<int> blocks_of_;            // fixed blocks per rank
  int own_blocks_ = 0;
  int rounds_ = 0;
  std::int64_t group_ = 1;
  std::vector<std::int64_t> part_ptr_;  // (heavy rows x own blocks) + 1 offsets
  std::vector<std::int32_t> part_rows_;
  std::vector<float> part_values_;
  std::int64_t widest_part_ = 0;
};

}  // namespace dals
