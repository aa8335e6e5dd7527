#pragma once
/// @file plan.hpp
/// @brief dals-plan: what dals-train would hold and move on each of P ranks,
/// computed from a dataset's rating blocks without P ranks and without any
/// factors.
///
/// For each simulated rank r of P, the planner reads r's blocks (the same
/// readers and checks as dals-train), lays the ranks out as the trainer
/// does (SideLayout), decides which sides are routed as --exchange does
/// (routed_sides), cuts each routed half into the trainer's chunks with the
/// trainer's own code (cut_route_chunks) and adds up, per owner, the rows
/// each rank sends. One simulated rank's blocks are held at a time; under
/// mpirun the simulated ranks are split over the real ones. The memory
/// figures follow Trainer::model_bytes() component by component, from
/// counts instead of allocations; the bytes are what the trainer's
/// metrics.jsonl reports per half (exchange_bytes_*: other ranks only).

#include <cstdint>
#include <string>
#include <vector>

#include "dals/core/option_table.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/train/config.hpp"

namespace dals {

struct PlanConfig {
  std::string data;    ///< dataset directory
  std::string output;  ///< JSON file to write; "" = the table only
  int ranks = 0;       ///< P, the ranks to plan for (1..B)
  /// Memory per rank for --exchange auto (bytes); 0 = this machine's
  /// physical memory (one rank per node of this machine's size).
  std::int64_t memory_per_rank = 0;
  bool force = false;  ///< replace an existing --output written by dals-plan
  bool quiet = false;  ///< no table
  TrainConfig train;   ///< dals-train's options that shape the plan (borrowed rows)
};

const OptionTable<PlanConfig>& plan_options();
/// Parses and checks the command line (UsageError on a bad one).
ParseOutcome parse_plan_config(int argc, const char* const* argv, PlanConfig& config, std::string& text);

/// The per-rank figures, in the order of plan_field_names().
enum PlanField : int {
  own_users,
  own_items,
  ratings_by_user,
  ratings_by_item,
  test_ratings,
  referenced_items,  ///< distinct items the rank's user rows reference
  referenced_users,  ///< distinct users the rank's item rows reference
  heavy_users,       ///< own users solved from per-block equations (heavy_rows.hpp)
  heavy_items,       ///< own items so solved
  // Routed halves: U (solving users, items routed), I (solving items, users
  // routed), T (the test split's items, items routed). Rows, not bytes.
  u_chunks,
  u_rows_received,
  u_rows_remote,
  u_rows_sent,
  u_rows_sent_remote,
  u_max_chunk_rows,
  u_distinct_rows,
  i_chunks,
  i_rows_received,
  i_rows_remote,
  i_rows_sent,
  i_rows_sent_remote,
  i_max_chunk_rows,
  i_distinct_rows,
  t_chunks,
  t_rows_received,
  t_rows_remote,
  t_rows_sent,
  t_rows_sent_remote,
  t_max_chunk_rows,
  t_distinct_rows,
  // Bytes to and from other ranks per iteration, as the trainer counts them.
  user_half_bytes_sent,
  user_half_bytes_received,
  item_half_bytes_sent,
  item_half_bytes_received,
  // Of held_out's: implicit mode's ranking of routed items (ranking_routed.hpp),
  // in an iteration that evaluates it.
  held_out_ranking_bytes_sent,
  held_out_ranking_bytes_received,
  held_out_bytes_sent,
  held_out_bytes_received,
  bytes_sent,
  bytes_received,
  // Memory (bytes), Trainer::model_bytes()'s components.
  mem_ratings_by_user,
  mem_ratings_by_item,
  mem_test_ratings,
  mem_implicit_constants,
  mem_user_factors,
  mem_item_factors,
  mem_exchange_buffer,
  mem_routing_plans,
  mem_known_flags,
  mem_training_counts,  ///< the own rows' training-rating counts (8 bytes a row), which the model records
  mem_cg_half_copy,
  mem_heavy_rows,
  mem_ranking_exclusions,  ///< routed items, implicit with a test split: the test users' training items
  mem_total,
  kPlanFields
};
/// JSON names of the fields ("user_half.chunks", "memory.total", ...).
const std::vector<std::string>& plan_field_names();

struct Plan {
  int ranks = 0, k = 0, blocks = 0;
  std::int64_t users = 0, items = 0, ratings = 0, test_ratings = 0;
  bool routed_users = false, routed_items = false, implicit = false;
  std::int64_t buffer_rows = 0;                     ///< rows one routed chunk may receive
  std::int64_t memory_per_rank = 0;                 ///< what --exchange auto was decided on
  std::vector<std::vector<std::int64_t>> per_rank;  ///< [rank][field]
};

/// Collective: the plan on every rank (simulated ranks split over the real
/// ones). Error (agreed) on a dataset that does not pass the trainer's
/// checks, P > B, or what dals-train would refuse (a buffer too small for a
/// row).
Plan make_plan(const Comm& comm, const PlanConfig& config);
/// Max and median over the ranks of the main figures, as text.
std::string plan_table(const Plan& plan);
/// The plan as JSON: its settings, max and median of every field, every rank's fields.
std::string plan_json(const Plan& plan, const PlanConfig& config);
/// Collective: dals-plan after parsing.
void run_plan(const Comm& comm, const PlanConfig& config);

}  // namespace dals
