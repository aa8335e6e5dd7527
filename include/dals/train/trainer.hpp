#pragma once
/// @file trainer.hpp
/// @brief Distributed ALS, explicit or implicit: data on ranks, half-iterations, exchange.
///
/// Rank r owns a contiguous run of user blocks (their ratings by user, CSR)
/// and of item blocks (by item, CSC), and holds all of U and V. A user half
/// solves the rank's user rows from V, heaviest rows first over OpenMP
/// threads, then all-gathers the updated rows of U; the item half mirrors it.
/// Each row's solve depends only on replicated data, so results are
/// bit-identical for any number of ranks and threads. Implicit mode adds,
/// per half, the fixed side's Gramian (formed from the replicated table on
/// every rank alike) and, where due, the ranking metrics of the test split.

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
#include "dals/train/layout.hpp"
#include "dals/train/ranking.hpp"

namespace dals {

/// What one iteration measured (times are the slowest rank's).
struct IterationRecord {
  int iteration = 0;
  double train_rmse = 0;
  double test_rmse = std::numeric_limits<double>::quiet_NaN();  ///< NaN without a test split
  double test_mae = std::numeric_limits<double>::quiet_NaN();   ///< mean absolute error, the same ratings
  double objective = 0;         ///< squared error + regularizer: never increases under exact ALS
  double user_seconds = 0;      ///< user half: solves
  double item_seconds = 0;      ///< item half: solves
  double exchange_seconds = 0;  ///< both all-gathers (includes waiting for the slowest rank)
  double gflops = 0;            ///< solve flops / solve seconds, whole job
  double gather_seconds = 0;    ///< per thread, both halves: copying fixed rows into tiles
  double gram_seconds = 0;      ///< per thread: SSYRK + SGEMV (Cholesky only)
  double factor_seconds = 0;    ///< per thread: Cholesky, or the CG steps
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
  const FactorTable& factors(Side side) const { return factors_[side]; }
  const PerSide<FactorTable>& all_factors() const { return factors_; }
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

 private:
  struct Local;  // one side's local ratings and solve order
  struct HalfResult {
    double seconds = 0;
    std::int64_t retries = 0;
    double squared_error = 0;  // of this rank's rows' ratings, after their solve
    PhaseSeconds phases;       // summed over this rank's threads
  };
  // The initial factors (FactorTable::init_random) over both whole tables.
  void draw_initial_factors();
  // Sets the progress to iterations_done, between the halves if mid_iteration.
  void set_progress(int iterations_done, bool mid_iteration);
  HalfResult solve_half(Side side);
  double exchange(Side side);
  IterationRecord evaluate(double local_train_squared_error) const;
  // Whether the iteration just finished is one the ranking metrics are due at.
  bool ranking_due() const;

  const Comm& comm_;
  TrainConfig config_;
  Manifest manifest_;
  PerSide<SideLayout> layouts_;
  SolveParams params_;
  PerSide<FactorTable> factors_;
  PerSide<std::unique_ptr<Local>> local_;
  CsrBlock test_by_user_;
  PerSide<std::vector<std::uint8_t>> known_;  // which rows have training ratings (all rows, every rank)
  std::vector<RowSolver> solvers_;            // one per OpenMP thread
  HalfFactors half_fixed_;                    // the fixed side in half precision (params_.cg_half)
  ImplicitGramian gramian_;                   // implicit mode: w0 Y^T Y of the fixed side, per half
  double flops_per_iteration_ = 0;            // whole job
  int iteration_ = 0;
  bool mid_iteration_ = false;
  HalfResult user_half_;  // of the iteration in progress, while mid_iteration_
  double user_exchange_ = 0;
};

}  // namespace dals
