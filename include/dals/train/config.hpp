#pragma once
/// @file config.hpp
/// @brief dals-train's options: one struct, the single source of truth.
///
/// Each field's default lives here; its option name, help text and use
/// live in one table (train_options() in config.cpp, an OptionTable), from
/// which the command line, the `--config FILE` parser (INI: `name = value`,
/// same names without dashes), --help, the hyper-parameters of state.json
/// and the cross-rank agreement text are all made; validate() checks
/// values and combinations and names the offending option.

#include <cstdint>
#include <string>

#include "dals/core/enum_names.hpp"
#include "dals/core/option_table.hpp"
#include "dals/solve/solve_params.hpp"

namespace dals {

/// What --lambda is measured in (explicit ratings): `spread` multiplies the
/// factors' lambda by the training ratings' spread around the mean, so that
/// one value serves 1-5 stars and -10..+10 (ratings scaled by s scale the
/// factors by sqrt(s) each and the error by s^2: the factors' ridge must
/// scale by s, the biases' by 1, which the biases' lambda then is);
/// `absolute` takes lambda as given, as before.
enum class LambdaUnits { spread, absolute };
template <>
struct EnumNames<LambdaUnits> {
  static constexpr std::pair<const char*, LambdaUnits> table[] = {{"spread", LambdaUnits::spread},
                                                                  {"absolute", LambdaUnits::absolute}};
};

/// How each side's updated rows reach the ranks that need them (trainer.hpp).
enum class ExchangeMode { allgather, routed, automatic };
template <>
struct EnumNames<ExchangeMode> {
  static constexpr std::pair<const char*, ExchangeMode> table[] = {
      {"auto", ExchangeMode::automatic}, {"allgather", ExchangeMode::allgather}, {"routed", ExchangeMode::routed}};
};

/// --exchange auto replicates a side whose table takes at most this share
/// of the memory per rank (the node's memory over its ranks) and routes the
/// other: a typical dump's items (10^7 x 65 floats, 2.6 GB) are replicated
/// on a 256 GB node of 32 ranks, its 10^9 users (260 GB) routed.
inline constexpr double kReplicateShare = 0.125;
/// --exchange-buffer's default: the received rows of one routed chunk
/// (4 M rows at k = 64); a chunk of Netflix-shaped users is 31 MB.
inline constexpr std::int64_t kDefaultExchangeBuffer = std::int64_t{1} << 30;
/// --exchange-timeout's default, seconds: the largest exchange step at the
/// planned size (a replicated 10^7-item table, 2.6 GB received per rank, or
/// one 1 GiB routed chunk) takes about 21 s on 1 Gb/s Ethernet and 2 s on
/// 10 Gb/s; 600 s is 30 times the slower, for congestion and the wait for
/// the slowest rank, and short beside a job of hours.
inline constexpr double kDefaultExchangeTimeout = 600;

struct TrainConfig {
  std::string data;         ///< dataset directory
  std::string output;       ///< model directory to write
  std::string config_file;  ///< optional INI file of the same options
  int factors = 64;         ///< k
  // lambda n^0.5: chosen on two dumps and two kinds of split (docs/model.md,
  // tools/bench-quality.sh), where weighted's 0.1 fell 1.2% short of the best
  // on filmtrust and l2 loses on MovieLens' per-user splits.
  double lambda = 1.0;  ///< regularization strength
  Regularization regularization = Regularization::power;
  double lambda_exponent = 0.5;        ///< nu of lambda * n^nu (Regularization::power)
  bool lambda_exponent_given = false;  ///< --lambda-exponent was given (else --regularization decides)
  LambdaUnits lambda_units = LambdaUnits::spread;
  double bias_lambda = -1.0;          ///< the biases' lambda; < 0: the factors' lambda
  bool lambda_given = false;          ///< --lambda was given (else implicit mode picks its own)
  bool regularization_given = false;  ///< --regularization was given
  // Implicit feedback (row_solver.hpp's solve_implicit); an events dataset
  // (manifest "feedback": "events") sets it (apply_feedback_defaults).
  bool implicit = false;
  Confidence confidence = Confidence::linear;
  double alpha = 1.0;              ///< c = 1 + alpha f(r)
  double epsilon = 1.0;            ///< f(r) = log(1 + r / epsilon) with --confidence log
  double unobserved_weight = 1.0;  ///< w0: the weight of every unobserved cell
  int eval_k = 10;                 ///< cut-off of the ranking metrics
  int eval_every = 0;              ///< iterations between ranking evaluations; 0 = after the last only
  Solver solver = Solver::cholesky;
  int cg_steps = 3;                          ///< conjugate-gradient steps per row and half-iteration
  Precision cg_precision = Precision::half;  ///< of the fixed factors CG reads
  int iterations = 10;
  std::uint64_t seed = 42;
  // Validation (validation_split.hpp) and early stopping (early_stopping.hpp)
  double validation_fraction = 0.0;  ///< share of the training ratings held out of the solves
  std::uint64_t validation_seed = 1;
  int early_stopping = 0;    ///< stop after this many iterations without a better validation RMSE; 0 = off
  std::string tune;          ///< a grid of options to search (run/tune.hpp); "" = train once
  std::string tune_results;  ///< where the search's table goes as JSON; "" = printed only
  int threads = 0;           ///< OpenMP threads per rank; 0 = OMP_NUM_THREADS or all cores
  bool no_bias = false;      ///< drop the user and item biases (the mean stays)
  bool force = false;        ///< replace an existing output directory
  bool quiet = false;        ///< no per-iteration lines
  ExchangeMode exchange = ExchangeMode::automatic;
  std::int64_t exchange_buffer = kDefaultExchangeBuffer;  ///< bytes of received rows per routed chunk
  std::int64_t heavy_rows = -1;  ///< --heavy-rows: the degree of a heavy row (heavy_rows.hpp); -1 auto, 0 off
  double exchange_timeout = kDefaultExchangeTimeout;  ///< seconds one exchange may take; 0 = unwatched
  // Checkpoints, resume, preemption (checkpoint.hpp, resume.hpp, preemption.hpp)
  std::string checkpoint_dir;    ///< where checkpoints go; "" = none
  int checkpoint_every = 1;      ///< iterations between checkpoints; 0 = only at the end and when stopped
  int keep_checkpoints = 2;      ///< complete checkpoints kept (the newest)
  std::string resume;            ///< "" = start fresh, "auto" = newest usable in checkpoint_dir, or a path
  bool resume_override = false;  ///< resume even if hyper-parameters other than k changed
  int time_limit = 0;            ///< seconds: checkpoint and stop before this much time has passed; 0 = none

  /// Throws Error naming the option if a value is out of range.
  void validate() const;
  /// --lambda-exponent nu as a regularization: 0 is l2, 1 weighted, power
  /// between; an error where --regularization says otherwise.
  void resolve_regularization();
  /// The options that define the model, as a JSON object (for state.json).
  std::string hyperparameters_json() const;
  /// Every option that must be the same on every rank, as one text.
  std::string agreement_text() const;
};

/// Implicit mode's own defaults: lambda and the regularization where not
/// given (the weighted ridge counts every cell there, so its scale is
/// another than explicit's), no biases.
/// Chosen on ml-latest-small (ratings >= 4) and filmtrust as events, split
/// seed 1 (docs/model.md; reported on split seed 7): weighted's ridge
/// lambda (n_i + w0 n_other) does not need to grow with the dump as l2's does.
inline constexpr double kImplicitLambda = 0.02;
inline constexpr Regularization kImplicitRegularization = Regularization::weighted;

/// Sets implicit mode where the dataset holds events, and implicit mode's
/// defaults (kImplicitLambda, ...) where it is on. Returns a line for the
/// user where it changed the mode ("" otherwise).
std::string apply_feedback_defaults(TrainConfig& config, bool dataset_holds_events);

/// dals-train's one option table.
const OptionTable<TrainConfig>& train_options();

/// Parses argv and, if given, --config FILE (the command line wins). On
/// --help/--version, prints to `out` and returns help_shown. Throws
/// UsageError for unknown options, bad values and failed validation.
ParseOutcome parse_train_config(int argc, const char* const* argv, TrainConfig& config, std::string& out);

}  // namespace dals
