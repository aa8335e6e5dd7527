#include "dals/run/train_run.hpp"

#include <omp.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "dals/checkpoint/checkpoint.hpp"
#include "dals/checkpoint/crash_point.hpp"
#include "dals/checkpoint/model_io.hpp"
#include "dals/checkpoint/resume.hpp"
#include "dals/checkpoint/run_state.hpp"
#include "dals/core/checksum.hpp"
#include "dals/core/log.hpp"
#include "dals/core/memory.hpp"
#include "dals/core/version.hpp"
#include "dals/data/manifest.hpp"
#include "dals/mpi/watchdog.hpp"
#include "dals/run/preemption.hpp"
#include "dals/run/tune.hpp"
#include "dals/train/early_stopping.hpp"
#include "dals/train/trainer.hpp"

namespace dals {

namespace {

// Every rank must train the same thing: a rank started with other options
// (a stale config file on one node) would silently desynchronize the job.
void check_same_config(const Comm& comm, const TrainConfig& config) {
  const std::string text = config.agreement_text();  // every option the table does not mark local
  const std::uint64_t mine = checksum64(text.data(), text.size());
  const std::uint64_t lowest = comm.allreduce(mine, MPI_MIN), highest = comm.allreduce(mine, MPI_MAX);
  run_collectively(comm, [&] {
    if (lowest != highest) throw Error("ranks were started with different options (configuration hash differs)");
  });
}

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// "1.2/3.4": megabytes received and sent.
std::string megabytes(std::int64_t in, std::int64_t out) {
  return fmt("%.1f", static_cast<double>(in) / 1e6) + "/" + fmt("%.1f", static_cast<double>(out) / 1e6);
}

std::string progress_line(const IterationRecord& r) {
  std::string line = "iter " + std::to_string(r.iteration);
  if (r.implicit) {
    line += "  loss " + fmt("%.6g", r.objective);
    if (!std::isnan(r.precision)) {
      const std::string at = "@" + std::to_string(r.eval_k) + " ";
      line += "  precision" + at + fmt("%.4f", r.precision) + "  recall" + at + fmt("%.4f", r.recall) + "  ndcg" + at +
              fmt("%.4f", r.ndcg);
    }
  } else {
    // The objective is what ALS lowers at every iteration; the training
    // RMSE alone may rise while the regularizer falls.
    line += "  train_rmse " + fmt("%.4f", r.train_rmse) + "  objective " + fmt("%.6g", r.objective);
    if (!std::isnan(r.test_rmse))
      line += "  test_rmse " + fmt("%.4f", r.test_rmse) + "  test_mae " + fmt("%.4f", r.test_mae);
    if (!std::isnan(r.validation_rmse)) line += "  validation_rmse " + fmt("%.4f", r.validation_rmse);
  }
  line += "  users " + fmt("%.3fs", r.user_seconds) + "  items " + fmt("%.3fs", r.item_seconds) + "  exchange " +
          fmt("%.3fs", r.exchange_seconds) + " (" + fmt("%.1f", static_cast<double>(r.exchange_bytes_received) / 1e6) +
          " MB in, " + fmt("%.1f", static_cast<double>(r.exchange_bytes_sent) / 1e6) + " out; in/out by half: users " +
          megabytes(r.user_half_bytes_received, r.user_half_bytes_sent) + ", items " +
          megabytes(r.item_half_bytes_received, r.item_half_bytes_sent) +
          (r.held_out_bytes_received + r.held_out_bytes_sent > 0
               ? ", held-out " + megabytes(r.held_out_bytes_received, r.held_out_bytes_sent)
               : std::string()) +
          ")  " + fmt("%.1f", r.gflops) + " GFLOP/s";
  if (r.ridge_retries > 0) line += "  ridge_retries " + std::to_string(r.ridge_retries);
  return line;
}

// Rank 0: what is trained, on what, and how the loading went. Collective
// (the model's memory is the largest of any rank's).
void print_header(const Comm& comm, const TrainConfig& config, const Trainer& trainer, const ResumeOutcome& resumed,
                  double load_seconds) {
  const Manifest& m = trainer.manifest();
  const std::int64_t model_bytes = comm.max(trainer.model_bytes());
  // The routed sides' plans: chunks and received rows of the busiest rank.
  std::string exchange_line;
  for (Side side : kBothSides) {
    const Side reader = other(side);
    if (!trainer.routed(side)) {
      exchange_line += std::string(exchange_line.empty() ? "" : "; ") + side_name(side) + " all-gathered";
      continue;
    }
    const RouteStats& st = trainer.plan(reader).stats();
    std::int64_t figures[4] = {st.chunks, st.rows_received, st.rows_remote, st.max_chunk_rows};
    comm.allreduce_inplace(std::span<std::int64_t>(figures, 4), MPI_MAX);
    const double duplication =
        st.distinct_rows > 0 ? static_cast<double>(st.rows_received) / static_cast<double>(st.distinct_rows) : 1.0;
    const double worst_duplication = comm.max(duplication);
    exchange_line += std::string(exchange_line.empty() ? "" : "; ") + side_name(side) + " routed (" +
                     std::to_string(figures[0]) + (figures[0] == 1 ? " chunk" : " chunks") + ", " +
                     std::to_string(figures[1]) + " rows received, " + std::to_string(figures[2]) +
                     " from other ranks, duplication " + fmt("%.2f", worst_duplication) + "; the largest over ranks)";
  }
  // Implicit with a test split: the baseline the ranking metrics are to beat.
  RankingSums popular;
  if (config.implicit && m.has_test && m.test.ratings > 0)
    popular = trainer.popularity_metrics({config.eval_k}).front();
  if (!comm.is_root()) return;
  Log::info("dals-train %s: %lld users x %lld items, %lld ratings (%lld test), %d blocks; %d rank%s x %d thread%s",
            kVersion, static_cast<long long>(m.users), static_cast<long long>(m.items),
            static_cast<long long>(m.train.ratings), static_cast<long long>(m.has_test ? m.test.ratings : 0), m.blocks,
            comm.size(), comm.size() == 1 ? "" : "s", omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s");
  Log::info(
      "k=%d lambda=%g regularization=%s bias=%s solver=%s seed=%llu; loaded in %.2fs; model memory %.1f MiB per rank",
      config.factors, config.lambda,
      config.regularization == Regularization::power ? ("power(" + fmt("%g", config.lambda_exponent) + ")").c_str()
                                                     : regularization_name(config.regularization),
      config.no_bias ? "no" : "yes",
      config.solver == Solver::cg
          ? ("cg(" + std::to_string(config.cg_steps) + " steps, " + precision_name(config.cg_precision) + " gathers)")
                .c_str()
          : "cholesky",
      static_cast<unsigned long long>(config.seed), load_seconds, model_bytes / 1048576.0);
  Log::info("exchange: %s", exchange_line.c_str());
  std::string heavy_line;
  for (Side side : kBothSides) {
    const HeavyRows& heavy = trainer.heavy(side);
    if (heavy.threshold() == kNoHeavyRows) continue;
    heavy_line += std::string(heavy_line.empty() ? "" : ", ") + std::to_string(heavy.total()) + " " + side_name(side) +
                  " of >= " + std::to_string(heavy.threshold()) + " ratings";
  }
  if (!heavy_line.empty())
    Log::info("heavy rows: %s, solved from normal equations summed per block of the other side%s", heavy_line.c_str(),
              trainer.routed(Side::users) || trainer.routed(Side::items) ? " (sent as parts where it is routed)" : "");
  if (trainer.rating_spread() != 1.0 || (!config.implicit && config.lambda_units == LambdaUnits::spread))
    Log::info("lambda in units of the ratings' spread around the mean, %.4f: the factors' lambda %g, the biases' %g",
              trainer.rating_spread(), trainer.solve_params().lambda, trainer.solve_params().effective_bias_lambda());
  if (config.implicit) {
    std::string confidence =
        "1 + " + fmt("%g", config.alpha) +
        (config.confidence == Confidence::log ? " log(1 + r/" + fmt("%g", config.epsilon) + ")" : " r");
    Log::info("implicit feedback: confidence %s, unobserved weight %g, no biases; ranking metrics at K=%d",
              confidence.c_str(), config.unobserved_weight, config.eval_k);
    if (popular.users > 0) {
      const double n = static_cast<double>(popular.users);
      const std::string at = "@" + std::to_string(config.eval_k) + " ";
      Log::info("popularity baseline on the test split (%lld users): precision%s%.4f  recall%s%.4f  ndcg%s%.4f",
                static_cast<long long>(popular.users), at.c_str(), popular.precision / n, at.c_str(),
                popular.recall / n, at.c_str(), popular.ndcg / n);
    }
  }
  if (resumed.resumed)
    Log::info("resumed from %s at %s: %.1f MB in %.3fs", resumed.path.c_str(), resumed.progress.describe().c_str(),
              resumed.bytes / 1e6, resumed.seconds);
}

// MODEL/metrics.jsonl, in the staging directory: the iterations of earlier
// runs (a resumed one's), then one record per iteration as it finishes,
// flushed at once so that a killed run keeps what it trained. Rank 0 only;
// on the other ranks every call is a no-op.
class MetricsLog {
 public:
  MetricsLog(const Comm& comm, const std::string& dir, const std::vector<std::string>& earlier) {
    if (!comm.is_root()) return;
    file_.open(dir + "/metrics.jsonl");
    for (const auto& line : earlier) file_ << line << "\n";
    file_ << std::flush;
  }
  void append(const std::string& record) {
    if (file_.is_open()) file_ << record << "\n" << std::flush;
  }
  void close() {
    if (file_.is_open()) file_.close();
  }

 private:
  std::ofstream file_;
};

struct LoopOutcome {
  IterationRecord last;      ///< of the last iteration this run trained
  bool trained_any = false;  ///< false if the run resumed at --iterations already
  // --early-stopping ended the run: the model is the best iteration's.
  bool stopped_early = false;
  int ran_iterations = 0;
  double best_validation_rmse = 0;
};

// The iterations up to --iterations, with their progress lines, metrics and
// checkpoints. A stop (signal or deadline) is agreed at a half-iteration
// boundary: the run then saves where it is and ends with its own exit code.
LoopOutcome train_iterations(const Comm& comm, const TrainConfig& config, Trainer& trainer, RunHistory& history,
                             MetricsLog& metrics, const ResumeOutcome& resumed, double start, double load_seconds) {
  Checkpointer checkpoints(comm, config);
  checkpoints.resumed_from(resumed);
  StopControl stop(comm, config, start, load_seconds);
  if (!config.quiet && !stop.deadline_text().empty()) Log::info("%s", stop.deadline_text().c_str());
  auto stop_requested = [&] { return checkpoints.enabled() && stop.should_stop(checkpoints.slowest_write_seconds()); };
  auto stop_here = [&] {
    const std::string path = checkpoints.write(trainer, history);
    Log::notice("stopped by %s after %s; checkpoint %s; continue with --resume auto", stop.reason().c_str(),
                Progress{trainer.iterations_done(), trainer.mid_iteration()}.describe().c_str(), path.c_str());
    // Not a failure, but the same way out: every rank is here together and
    // leaves with the same code, after the staging directory is removed.
    throw AgreedFailure{kExitPreempted};
  };

  LoopOutcome outcome;
  const int first_iteration = trainer.iterations_done();
  // --early-stopping: the iterations before a resume count, from their
  // metrics; the best of them comes back from its checkpoint, kept for it.
  EarlyStopping early(config.early_stopping);
  if (early.enabled()) {
    for (const std::string& line : history.metrics) {
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("validation_rmse") && j["validation_rmse"].is_number())
        early.observe(j.value("iteration", 0), j["validation_rmse"].get<double>());
    }
    if (early.best_iteration() >= 0) {
      checkpoints.keep_best(early.best_iteration());
      if (early.best_iteration() == trainer.iterations_done() && !trainer.mid_iteration())
        trainer.keep_as_best();
      else
        load_best_checkpoint(comm, config, trainer, early.best_iteration());
    }
  }
  auto stopped_early = [&] { return early.should_stop(trainer.iterations_done()) && !trainer.mid_iteration(); };
  if (stop_requested()) stop_here();  // signalled while loading
  while (trainer.iterations_done() < config.iterations && !stopped_early()) {
    if (!trainer.mid_iteration()) {
      signal_point("user-half", comm.rank());  // for the preemption test only (crash_point.hpp)
      trainer.solve_user_half();
      if (stop_requested()) stop_here();
    }
    outcome.last = trainer.iterate();
    history.metrics.push_back(outcome.last.to_json());
    if (!config.quiet) Log::info("%s", progress_line(outcome.last).c_str());
    metrics.append(history.metrics.back());
    const bool best = early.observe(trainer.iterations_done(), outcome.last.validation_rmse);
    if (best) {
      trainer.keep_as_best();
      checkpoints.keep_best(trainer.iterations_done());
    }
    if (checkpoints.due(trainer.iterations_done()) || (best && checkpoints.enabled())) {
      const double t = MPI_Wtime();
      checkpoints.write(trainer, history);
      stop.exclude(MPI_Wtime() - t);
    }
    if (trainer.iterations_done() < config.iterations && !stopped_early() && stop_requested()) stop_here();
  }
  outcome.trained_any = trainer.iterations_done() > first_iteration;
  if (stopped_early()) {
    // The model is the best iteration's; its checkpoint is on disk already.
    outcome.stopped_early = true;
    outcome.ran_iterations = trainer.iterations_done();
    outcome.best_validation_rmse = early.best_rmse();
    if (comm.is_root() && !config.quiet)
      Log::info(
          "early stopping: no lower validation RMSE in %d iterations; the model is iteration %d's "
          "(validation_rmse %.4f)",
          config.early_stopping, early.best_iteration(), early.best_rmse());
    trainer.restore_best();
    // state.json describes the model: its iterations and their records
    // (metrics.jsonl keeps every iteration run).
    history.metrics.resize(static_cast<std::size_t>(trainer.iterations_done()));
    return outcome;
  }
  if (checkpoints.enabled()) checkpoints.write(trainer, history);  // the final state (a no-op if written above)
  return outcome;
}

// Publishes the model (collective), then rank 0 prints the summary.
void publish_and_report(const Comm& comm, const TrainConfig& config, StagedDir& out, const Trainer& trainer,
                        const RunHistory& history, const LoopOutcome& loop, double start) {
  const PerSide<RowCounts> counts = own_training_ratings(trainer, comm.rank());
  publish_factor_dir(
      comm, out, FactorView{trainer.manifest(), trainer.layouts(), trainer.all_factors(), counts},
      [&](const BlockChecksums& blocks) { return state_json(trainer, config, history, "dals-model", blocks); });
  const std::int64_t peak = comm.max(peak_rss_bytes());
  std::string rmse;
  if (loop.trained_any && loop.last.implicit) {
    rmse = "; loss " + fmt("%.6g", loop.last.objective);
    if (!std::isnan(loop.last.precision))
      rmse += "; precision@" + std::to_string(loop.last.eval_k) + " " + fmt("%.4f", loop.last.precision) + "; ndcg@" +
              std::to_string(loop.last.eval_k) + " " + fmt("%.4f", loop.last.ndcg);
  } else if (loop.trained_any) {
    rmse = "; train_rmse " + fmt("%.4f", loop.last.train_rmse);
    if (!std::isnan(loop.last.test_rmse)) rmse += "; test_rmse " + fmt("%.4f", loop.last.test_rmse);
  }
  if (loop.stopped_early)
    rmse = "; stopped early after " + std::to_string(loop.ran_iterations) + ": the model is iteration " +
           std::to_string(trainer.iterations_done()) + "'s, validation_rmse " + fmt("%.4f", loop.best_validation_rmse);
  Log::info("done: %d iterations in %.2fs%s; peak memory %.1f MiB per rank",
            loop.stopped_early ? trainer.iterations_done() : config.iterations, MPI_Wtime() - start, rmse.c_str(),
            peak / 1048576.0);
  Log::info("model: %s", config.output.c_str());
}

}  // namespace

void run_training(const Comm& comm, const TrainConfig& given) {
  // The dataset says whether it holds ratings or events: implicit mode and
  // its defaults follow (config.hpp), before anything is agreed or recorded.
  TrainConfig config = given;
  bool events = false;
  run_collectively(comm, [&] { events = read_manifest(config.data).feedback == Feedback::events; });
  const std::string mode_notice = apply_feedback_defaults(config, events);
  if (comm.is_root() && !mode_notice.empty()) Log::info("%s", mode_notice.c_str());
  // Early: a signal while loading counts too. Without checkpoints a stop
  // signal ends the run as it always would.
  std::optional<StopSignals> stop_signals;
  if (!config.checkpoint_dir.empty()) stop_signals.emplace();
  check_same_config(comm, config);
  // Ends the job (exit 4) where an exchange stalls: a dead link would hang it.
  const ExchangeWatchdog watchdog(comm.rank(), config.exchange_timeout);
  // The model's directory is checked and staged before any data is read, so
  // a bad --output (it exists, is not a model, its parent is read-only)
  // fails now, not after the training. If the run fails, every rank has
  // agreed to stop (AgreedFailure) before rank 0's `out` removes MODEL.tmp:
  // a failed run leaves nothing half-written behind.
  StagedDir out(config.output, config.force, model_output_kind());
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    out.create();
    create_factor_subdirs(out.staging());
  });
  if (!config.tune.empty()) {
    run_collectively(
        comm, [&] { check_tune(config); }, 2);
    config = tune_search(comm, config);
  }
  const double start = MPI_Wtime();
  Trainer trainer(comm, config);
  RunHistory history;
  const ResumeOutcome resumed = resume_training(comm, config, trainer, history);

  const double load_seconds = MPI_Wtime() - start;
  print_header(comm, config, trainer, resumed, load_seconds);
  MetricsLog metrics(comm, out.staging(), history.metrics);
  const LoopOutcome loop = train_iterations(comm, config, trainer, history, metrics, resumed, start, load_seconds);
  metrics.close();
  publish_and_report(comm, config, out, trainer, history, loop, start);
}

}  // namespace dals
