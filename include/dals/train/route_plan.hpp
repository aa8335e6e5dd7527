#pragma once
/// @file route_plan.hpp
/// @brief Which rows of a routed side each rank sends to each rank, and in
/// which rounds: Spark ALS's OutBlocks, with a bound on what a rank holds.
///
/// A routed side (trainer.hpp) is never held whole: each rank holds its own
/// rows. Solving the other side, a rank needs the rows its local ratings
/// reference. The plan cuts the rank's local rows, in storage order, into
/// chunks whose ratings reference at most `buffer_rows` distinct rows; for
/// each chunk, the referenced rows are received into a compact table (the
/// exchange buffer), in increasing id order, and the chunk's rating columns
/// are rewritten once, in place, into positions in that table, so the solve
/// kernels gather from a small dense table. A row referenced by two chunks
/// is received twice (the duplication the plan reports).
///
/// Round r of a half moves every rank's chunk r at once (ranks with fewer
/// chunks take part with nothing), so the rounds are collectives that every
/// rank enters the same number of times. Each owner learns, once, which of
/// its rows each rank needs in each round; nothing on any rank grows with
/// the other side's total row count.

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/train/layout.hpp"

namespace dals {

/// One chunk of a rank's local rows and the rows it receives for them.
struct RouteChunk {
  std::int64_t row_begin = 0, row_end = 0;  ///< local rows [row_begin, row_end)
  std::vector<std::int64_t> recv_counts;    ///< rows from each rank (by rank), stored in rank order
  std::vector<std::uint8_t> known;          ///< per received row, with_known plans: has training ratings
  std::int64_t rows() const;                ///< rows received in all
};

/// What a plan moves, this rank's and summed.
struct RouteStats {
  std::int64_t chunks = 0;
  std::int64_t rows_received = 0;  ///< over all chunks, from every rank, itself included
  std::int64_t rows_remote = 0;    ///< of those, from other ranks
  std::int64_t rows_sent = 0;      ///< over all rounds, to every rank, itself included (4 bytes each in the plan)
  std::int64_t rows_sent_remote = 0;
  std::int64_t distinct_rows = 0;  ///< distinct rows referenced (rows_received / distinct = duplication)
  std::int64_t max_chunk_rows = 0;
  std::int64_t widest_row = 0;  ///< the most rows one local row references, over all ranks
};

/// The part of RoutePlan::build that needs no other rank, which dals-plan
/// (train/plan.hpp) runs for ranks it only simulates: cuts `ratings`' rows
/// into chunks whose ratings reference at most `buffer_rows` rows, rewrites
/// their columns into chunk positions, and returns the chunks (recv_counts
/// by owner under `routed_layout`), each chunk's rows (sorted ids) in
/// `needed`, and in `distinct_rows` the distinct rows of all chunks
/// together. A row referencing more than `buffer_rows` rows gets a chunk
/// of its own (build refuses such a buffer first). Rows of `skip_degree`
/// ratings or more (heavy rows, heavy_rows.hpp) are left out: they
/// reference nothing and keep their columns.
std::vector<RouteChunk> cut_route_chunks(CsrBlock& ratings, const SideLayout& routed_layout, std::int64_t buffer_rows,
                                         std::vector<std::vector<std::int64_t>>& needed, std::int64_t& distinct_rows,
                                         std::int64_t skip_degree = std::numeric_limits<std::int64_t>::max());

/// The error of a buffer of `buffer_rows` rows (set by `option`) that one
/// row's `widest` references do not fit: the size needed, and for a solving
/// half (`heavy_hint`) the --heavy-rows threshold that would take such
/// rows out of the plan instead (CG's auto has none: heavy_rows.hpp),
/// where one can (k > 0, a buffer of k rows or more: row_bytes gives k).
std::string buffer_too_small(const std::string& option, std::int64_t buffer_rows, std::int64_t row_bytes,
                             std::int64_t widest, bool heavy_hint = false);

class RoutePlan {
 public:
  RoutePlan() = default;
  /// Collective. `ratings`: this rank's rows of the solving side, columns
  /// being ids of the routed side (laid out by `routed_layout`); rewritten in
  /// place to chunk positions. `owned_degrees`: the degree of each of this
  /// rank's own routed rows (for with_known: a received row is known when
  /// its owner saw training ratings for it), may be empty otherwise.
  /// Throws Error (on every rank alike: run it under run_collectively) when
  /// a single row references more than `buffer_rows` rows; `option` names
  /// the option that sets the bound, `row_bytes` the size of a row.
  /// Rows of `skip_degree` ratings or more are left out (cut_route_chunks).
  static RoutePlan build(const Comm& comm, CsrBlock& ratings, const SideLayout& routed_layout, std::int64_t buffer_rows,
                         std::span<const std::int64_t> owned_degrees, bool with_known, const std::string& option,
                         std::int64_t row_bytes, std::int64_t skip_degree = std::numeric_limits<std::int64_t>::max());

  /// Rounds of every half: the most chunks of any rank.
  int rounds() const { return rounds_; }
  /// This rank's chunks (at most rounds()).
  const std::vector<RouteChunk>& chunks() const { return chunks_; }
  /// Round r's rows of this rank's own table (offsets from its first row) for each rank.
  std::vector<std::span<const std::uint32_t>> send_rows(int round) const;
  /// Rows received in round r from each rank (zeros past this rank's chunks).
  const std::vector<std::int64_t>& recv_counts(int round) const;
  const RouteStats& stats() const { return stats_; }

 private:
  std::vector<RouteChunk> chunks_;
  int rounds_ = 0;
  std::vector<std::vector<std::uint32_t>> send_;       // per round, every destination's rows in rank order
  std::vector<std::vector<std::int64_t>> send_first_;  // per round, P + 1 offsets into send_[round]
  std::vector<std::int64_t> no_rows_;                  // P zeros
  RouteStats stats_;
};

}  // namespace dals
