#pragma once
/// @file trainer.hpp
/// @brief Distributed ALS, explicit or implicit: data on ranks, half-iterations, exchange.
///
/// Rank r owns a contiguous run of user blocks (their ratings by user, CSR)
/// and of item blocks (by item, CSC). A user half solves the rank's user
/// rows against V, heaviest rows first over OpenMP threads; the item half
/// mirrors it. Each side is either
/// - replicated: every rank holds it whole, and after its half the updated
///   rows are all-gathered; or
/// - routed: each rank holds only its own rows, and before a half that reads
///   it, each rank receives the rows its ratings reference (route_plan.hpp),
///   in chunks bounded by --exchange-buffer, into a compact table that the
///   chunk's ratings index.
/// Each row's solve reads the same fixed values in the same order in every
/// mode, so results are bit-identical for any number of ranks and threads
/// and either exchange. Implicit mode adds, per half, the fixed side's
/// Gramian (implicit_gramian.hpp: per block, then over the blocks in order;
/// a routed fixed side's ranks all-gather their blocks' partials) and,
/// where due, the ranking metrics of the test split, which score every
/// item (src/train/ranking_routed.hpp where the items are routed). Heavy rows
/// (heavy_rows.hpp) are solved from normal equations summed per block of
/// the fixed side, their parts sent by the fixed blocks' owners where that
/// side is routed.

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "dals/core/types.hpp"
#include "dals/data/csr.hpp"
#include "dals/data/manifest.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/solve/factors.hpp"
#include "dals/solve/implicit_gramian.hpp"
#include "dals/solve/row_solver.hpp"
#include "dals/train/config.hpp"
#include "dals/train/evaluation.hpp"
#include "dals/train/heavy_rows.hpp"
#include "dals/train/layout.hpp"
#include "dals/train/ranking.hpp"
#include "dals/train/route_plan.hpp"

namespace dals {

/// What one iteration measured (times are the slowest rank's).
struct IterationRecord {
  int iteration = 0;
  double train_rmse = 0;
  double test_rmse = std::numeric_limits<double>::quiet_NaN();  ///< NaN without a test split
  double test_mae = std::numeric_limits<double>::quiet_NaN();   ///< mean absolute error, the same ratings
  /// Of the validation ratings (--validation-fraction); NaN without them.
  double validation_rmse = std::numeric_limits<double>::quiet_NaN();
  double validation_mae = std::numeric_limits<double>::quiet_NaN();
  double objective = 0;         ///< squared error + regularizer: never increases under exact ALS
  double user_seconds = 0;      ///< user half: solves
  double item_seconds = 0;      ///< item half: solves
  double exchange_seconds = 0;  ///< both exchanges (includes waiting for the slowest rank)
  /// Factor bytes the busiest rank sent to and received from other ranks,
  /// both halves (and the test split's rows on a routed side): what each
  /// rank must move, whatever MPI's algorithm adds on the wire.
  std::int64_t exchange_bytes_sent = 0;
  std::int64_t exchange_bytes_received = 0;
  /// The same per half (each the busiest rank's): the user half (the item
  /// rows routed in to solve the users, the users' all-gather), the item
  /// half, and the held-out splits' routed item rows.
  std::int64_t user_half_bytes_sent = 0, user_half_bytes_received = 0;
  std::int64_t item_half_bytes_sent = 0, item_half_bytes_received = 0;
  std::int64_t held_out_bytes_sent = 0, held_out_bytes_received = 0;
  double gflops = 0;          ///< solve flops / solve seconds, whole job
  double gather_seconds = 0;  ///< per thread, both halves: copying fixed rows into tiles
  double gram_seconds = 0;    ///< per thread: SSYRK + SGEMV (Cholesky only)
  double factor_seconds = 0;  ///< per thread: Cholesky, or the CG steps
  std::int64_t ridge_retries = 0;
  // Implicit mode: the objective is the weighted error over every cell;
  // the ranking metrics of the test split at eval_k where evaluated (NaN
  // elsewhere), averaged over the users with test entries.
  bool implicit = false;
  int eval_k = 0;
  double precision = std::numeric_limits<double>::quiet_NaN();
  double recall = std::numeric_limits<double>::quiet_NaN();
  double ndcg = std::numeric_limits<double>::quiet_NaN();
  std::string to_json() const;
};

class Trainer {
 public:
  /// Collective: reads the manifest and this rank's blocks (every check of
  /// dataset.hpp applies) and draws the initial factors.
  Trainer(const Comm& comm, const TrainConfig& config);
  ~Trainer();

  /// Collective: one user half, one item half, then the metrics. After
  /// solve_user_half() (or a restore between halves), only the item half.
  IterationRecord iterate();

  /// Collective: the user half of the next iteration alone (solve, all-gather),
  /// so that a run can stop, and checkpoint, between the halves.
  void solve_user_half();
  /// True from solve_user_half() until iterate() completes that iteration.
  bool mid_iteration() const { return mid_iteration_; }

  /// Reads this rank's part of saved factors into `tables`: the rows of the
  /// blocks that `rank` owns under `layouts`, on both sides (as
  /// read_owned_blocks does). Throws on any problem, possibly after some
  /// rows were overwritten.
  using FactorReader = std::function<void(const PerSide<SideLayout>& layouts, int rank, PerSide<FactorTable>& tables)>;

  /// Collective. Resuming (resume.hpp): each rank reads its own rows with
  /// `read`. Where it succeeded on every rank, the rows are all-gathered, the
  /// progress becomes (iterations_done, mid_iteration) and "" is returned.
  /// The factors are all the state ALS carries from one half to the next, so
  /// training continues bit-identically. Where it threw on any rank, every
  /// rank returns the same message (try_collectively) and the trainer is as
  /// constructed: the initial factors drawn again over whatever the read
  /// overwrote, at iteration 0, so that the caller may try an older
  /// checkpoint or start fresh.
  [[nodiscard]] std::string restore(const FactorReader& read, int iterations_done, bool mid_iteration);

  const Manifest& manifest() const { return manifest_; }
  const SideLayout& layout(Side side) const { return layouts_[side]; }
  const PerSide<SideLayout>& layouts() const { return layouts_; }
  /// This rank's table of one side: whole where the side is replicated, its
  /// own rows (indexed by dense id from their first) where routed.
  const FactorTable& factors(Side side) const { return factors_[side]; }
  /// Whether a side is routed (--exchange, decided once for the run).
  bool routed(Side side) const { return routed_[side]; }
  /// Collective: the whole of one side on every rank (for tests and tools
  /// that can afford it; training never needs it).
  FactorTable gathered_factors(Side side) const;
  /// The routing of the side a half reads while solving `solving` (empty
  /// where that side is replicated).
  const RoutePlan& plan(Side solving) const { return plan_[solving]; }
  /// The heavy rows of the side being solved (heavy_rows.hpp).
  const HeavyRows& heavy(Side solving) const { return heavy_[solving]; }
  /// The routing of the test split's items (empty unless items are routed).
  const RoutePlan& test_plan() const { return test_plan_; }
  const PerSide<FactorTable>& all_factors() const { return factors_; }
  /// The training ratings the solves use per own row of each side (the
  /// dataset's less the validation split's), by id - layout(side).of(rank).first_row:
  /// what the model's blocks record as training_ratings.
  const PerSide<std::vector<std::int64_t>>& training_ratings() const { return training_ratings_; }
  int iterations_done() const { return iteration_; }
  /// Collective: precision, recall and NDCG sums at each of `ks` over the
  /// test split's users, each user's training items excluded (ranking.hpp);
  /// the same bits on every rank and for any P.
  std::vector<RankingSums> ranking_metrics(const std::vector<int>& ks) const;
  /// Collective: the same for the popularity baseline (items ranked by
  /// their number of training entries), the figure a model must beat.
  std::vector<RankingSums> popularity_metrics(const std::vector<int>& ks) const;
  /// Bytes this rank holds in ratings and factors (the memory model).
  std::int64_t model_bytes() const;

  /// Training ratings held out as the validation split (whole job; 0
  /// without --validation-fraction).
  std::int64_t validation_ratings() const { return validation_ratings_; }
  /// The training ratings' spread around the mean where --lambda-units
  /// spread scales the factors' lambda by it; 1 otherwise.
  double rating_spread() const { return rating_spread_; }
  /// What the solves use: lambda, the biases' lambda, the regularizer.
  const SolveParams& solve_params() const { return params_; }
  /// Early stopping: keeps a copy of this rank's factors, as they are after
  /// the iteration just done, as the best so far (twice the factors' memory).
  void keep_as_best();
  /// The iteration keep_as_best() last kept; -1 if none.
  int best_iteration() const { return best_.iteration; }
  /// Puts the kept factors back, the progress at their iteration: the
  /// state a run that stopped there by --iterations ends in.
  void restore_best();
  /// Collective, for a resumed run whose best iteration is behind it: reads
  /// the factors after `iterations` (its checkpoint) with `read` as the
  /// kept best, the current factors and progress unchanged. "" or the
  /// agreed problem, as restore().
  [[nodiscard]] std::string load_best(const FactorReader& read, int iterations);

 private:
  struct Local;   // one side's local ratings and solve order
  struct Moved {  // what one exchange moved
    double seconds = 0;
    std::int64_t sent = 0, received = 0;  // bytes, to and from other ranks
    Moved& operator+=(const Moved& o) {
      seconds += o.seconds, sent += o.sent, received += o.received;
      return *this;
    }
  };
  struct HalfResult {
    double seconds = 0;  // solves, without the routed rounds' exchange
    Moved routed;        // rows received for this half (routed fixed side)
    std::int64_t retries = 0;
    double squared_error = 0;  // of this rank's rows' ratings, after their solve
    PhaseSeconds phases;       // summed over this rank's threads
  };
  // The initial factors (FactorTable::init_random) over both whole tables.
  void draw_initial_factors();
  // Sets the progress to iterations_done, between the halves if mid_iteration.
  void set_progress(int iterations_done, bool mid_iteration);
  HalfResult solve_half(Side side);
  // Solves order[begin, end) of a side's local rows against `fixed`, whose
  // first `fixed_rows` rows are current.
  void solve_rows(Side side, const FactorTable& fixed, std::int64_t fixed_rows, std::size_t begin, std::size_t end,
                  std::int64_t& retries, double& squared_error);
  // Solves the side's heavy rows from their parts (heavy_rows.hpp; trainer_heavy.cpp),
  // exchanged where the fixed side is routed.
  Moved solve_heavy(Side side, std::int64_t& retries, double& squared_error);
  // Receives round `round` of a plan's rows of `from` into received_.
  Moved route(const RoutePlan& plan, Side from, int round);
  Moved exchange(Side side);
  // Implicit: forms gramian_ of `fixed` (its blocks' partials all-gathered where it is routed).
  Moved form_gramian(Side fixed);
  IterationRecord evaluate(double local_train_squared_error, Moved& moved);
  // This rank's error sums over held-out ratings by user (the test or the
  // validation split), through `plan` where the items are routed.
  ErrorSums held_out_errors(const CsrBlock& by_user, const RoutePlan& plan, Moved& moved);
  // Whether the iteration just finished is one the ranking metrics are due at.
  bool ranking_due() const;
  // ranking_metrics, counting in `moved` what routed items' ranking moves (ranking_routed.hpp).
  std::vector<RankingSums> ranking_metrics(const std::vector<int>& ks, Moved& moved) const;

  const Comm& comm_;
  TrainConfig config_;
  Manifest manifest_;
  PerSide<SideLayout> layouts_;
  SolveParams params_;
  PerSide<FactorTable> factors_;
  PerSide<std::unique_ptr<Local>> local_;
  CsrBlock test_by_user_;
  // Routed items, implicit with a test split: the own test users' training
  // items by dense id, for the ranking (the solves' copy holds chunk positions).
  CsrBlock ranking_train_;
  CsrBlock validation_by_user_;          // held out of the solves (validation_split.hpp)
  std::int64_t validation_ratings_ = 0;  // whole job
  double rating_spread_ = 1.0;
  struct Best {  // early stopping: the best iteration's factors
    int iteration = -1;
    PerSide<FactorTable> factors;
  } best_;
  // Which rows have training ratings: the own user rows (local index); all
  // items where they are replicated (a routed side's test rows bring theirs).
  PerSide<std::vector<std::uint8_t>> known_;
  PerSide<std::vector<std::int64_t>> training_ratings_;  // own rows' degrees, after the validation split
  PerSide<bool> routed_{false, false};
  PerSide<RoutePlan> plan_;         // [s]: routing of other(s) while solving s
  PerSide<HeavyRows> heavy_;        // [s]: s's heavy rows and their parts' exchange
  RoutePlan test_plan_;             // routed items: the test split's items
  RoutePlan validation_plan_;       // ... and the validation split's
  FactorTable received_;            // a routed chunk's rows (the exchange buffer)
  std::vector<RowSolver> solvers_;  // one per OpenMP thread
  HalfFactors half_fixed_;          // the fixed side in half precision (params_.cg_half)
  ImplicitGramian gramian_;         // implicit mode: w0 Y^T Y of the fixed side, per half
  double flops_per_iteration_ = 0;  // whole job
  int iteration_ = 0;
  bool mid_iteration_ = false;
  HalfResult user_half_;  // of the iteration in progress, while mid_iteration_
  Moved user_exchange_;
};

}  // namespace dals
