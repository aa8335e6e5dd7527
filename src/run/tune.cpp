#include "dals/run/tune.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "dals/core/error.hpp"
#include "dals/core/log.hpp"
#include "dals/train/early_stopping.hpp"
#include "dals/train/trainer.hpp"

namespace dals {

namespace {

// Options a combination may not set: where the job reads and writes, how it
// runs, and the search's own.
const std::set<std::string> kNotTunable = {
    "data",           "output",           "config",           "force",          "quiet",           "threads",
    "checkpoint-dir", "checkpoint-every", "keep-checkpoints", "resume",         "resume-override", "time-limit",
    "tune",           "tune-results",     "exchange",         "exchange-buffer"};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const std::string& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

// The base configuration with one combination's options set, as dals-train
// would parse them.
TrainConfig with_options(const TrainConfig& base, const std::vector<std::string>& words) {
  TrainConfig c = base;
  std::vector<const char*> argv{"dals-train"};
  for (const std::string& w : words) argv.push_back(w.c_str());
  std::string text;
  try {
    train_options().parse(static_cast<int>(argv.size()), argv.data(), c, text);
    c.tune.clear();
    c.tune_results.clear();
    c.resolve_regularization();
    c.validate();
  } catch (const UsageError& e) {
    throw Error("--tune: " + joined(words) + ": " + e.message);
  } catch (const Error& e) {
    throw Error("--tune: " + joined(words) + ": " + e.what());
  }
  return c;
}

struct Trial {
  std::vector<std::string> options;
  int best_iteration = 0;
  double validation_rmse = 0;
  double test_rmse = 0;  // at the best iteration: printed, never used to choose
  int iterations_run = 0;
  double seconds = 0;
};

// Rank 0: the table as JSON, written beside and renamed into place.
void write_results(const std::string& path, const std::vector<Trial>& trials, std::size_t winner,
                   const TrainConfig& final_config) {
  nlohmann::json j;
  j["format"] = "dals-tune-results";
  j["winner"] = winner;
  j["final"] = {{"options", joined(trials[winner].options)},
                {"iterations", final_config.iterations},
                {"validation_fraction", final_config.validation_fraction}};
  for (const Trial& t : trials)
    j["trials"].push_back({{"options", joined(t.options)},
                           {"best_iteration", t.best_iteration},
                           {"validation_rmse", t.validation_rmse},
                           {"test_rmse", t.test_rmse},
                           {"iterations_run", t.iterations_run},
                           {"seconds", t.seconds}});
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) throw Error(path + ": cannot write the tuning results");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(path + ": cannot write the tuning results: " + ec.message());
}

}  // namespace

std::vector<TuneAxis> parse_tune_grid(const std::string& text) {
  std::vector<TuneAxis> axes;
  std::set<std::string> seen;
  std::set<std::string> known;
  for (const OptionRow& row : train_options().rows()) known.insert(row.long_name());
  for (const std::string& part : split(text, ';')) {
    const std::string item = trim(part);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw Error("--tune: '" + item + "' is not OPTION=V1,V2,... (e.g. lambda=0.05,0.1)");
    TuneAxis axis{trim(item.substr(0, eq)), {}};
    if (axis.option.rfind("--", 0) == 0) axis.option = axis.option.substr(2);
    if (axis.option == "k") axis.option = "factors";
    if (!known.count(axis.option)) throw Error("--tune: '" + axis.option + "' is not a dals-train option");
    if (kNotTunable.count(axis.option)) throw Error("--tune: --" + axis.option + " cannot be searched");
    if (!seen.insert(axis.option).second) throw Error("--tune: " + axis.option + " is given twice");
    for (const std::string& v : split(item.substr(eq + 1), ','))
      if (!trim(v).empty()) axis.values.push_back(trim(v));
    if (axis.values.empty()) throw Error("--tune: " + axis.option + " has no values");
    axes.push_back(std::move(axis));
  }
  if (axes.empty()) throw Error("--tune: no option to search (e.g. --tune \"lambda=0.05,0.1;factors=16,64\")");
  return axes;
}

std::vector<std::vector<std::string>> tune_combinations(const std::vector<TuneAxis>& axes) {
  std::vector<std::vector<std::string>> out{{}};
  for (const TuneAxis& axis : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& prefix : out)
      for (const std::string& v : axis.values) {
        auto words = prefix;
        words.push_back("--" + axis.option);
        words.push_back(v);
        next.push_back(std::move(words));
      }
    out = std::move(next);
  }
  return out;
}

void check_tune(const TrainConfig& base) {
  for (const auto& words : tune_combinations(parse_tune_grid(base.tune))) with_options(base, words);
}

TrainConfig tune_search(const Comm& comm, const TrainConfig& base) {
  const auto combinations = tune_combinations(parse_tune_grid(base.tune));
  TrainConfig searched = base;
  if (searched.validation_fraction <= 0) searched.validation_fraction = 0.1;
  if (searched.early_stopping <= 0) searched.early_stopping = 3;
  searched.checkpoint_dir.clear();
  searched.resume.clear();
  searched.time_limit = 0;
  if (comm.is_root())
    Log::info(
        "tune: %zu configurations on a validation split of %g (seed %llu), early stopping after %d, up to %d "
        "iterations",
        combinations.size(), searched.validation_fraction, static_cast<unsigned long long>(searched.validation_seed),
        searched.early_stopping, searched.iterations);
  std::vector<Trial> trials;
  for (const auto& words : combinations) {
    const TrainConfig c = with_options(searched, words);
    const double start = MPI_Wtime();
    Trainer trainer(comm, c);
    EarlyStopping early(c.early_stopping);
    Trial trial{words};
    while (trainer.iterations_done() < c.iterations && !early.should_stop(trainer.iterations_done())) {
      const IterationRecord r = trainer.iterate();
      if (early.observe(r.iteration, r.validation_rmse)) trial.test_rmse = r.test_rmse;
    }
    trial.best_iteration = early.best_iteration();
    trial.validation_rmse = early.best_rmse();
    trial.iterations_run = trainer.iterations_done();
    trial.seconds = comm.max(MPI_Wtime() - start);
    if (comm.is_root())
      Log::info("tune: %-50s best iteration %2d  validation_rmse %.4f  (test_rmse %.4f)  %.2fs", joined(words).c_str(),
                trial.best_iteration, trial.validation_rmse, trial.test_rmse, trial.seconds);
    trials.push_back(std::move(trial));
  }
  std::size_t winner = 0;
  for (std::size_t t = 1; t < trials.size(); ++t)
    if (trials[t].validation_rmse < trials[winner].validation_rmse) winner = t;
  // The winner again, on every training rating (unless the user asked for
  // a validation split), for as many iterations as it took to its best.
  TrainConfig final_config = with_options(base, trials[winner].options);
  final_config.iterations = std::max(1, trials[winner].best_iteration);
  if (comm.is_root()) {
    Log::info("tune: the best is %s at iteration %d (validation_rmse %.4f); training it on %s",
              joined(trials[winner].options).c_str(), trials[winner].best_iteration, trials[winner].validation_rmse,
              base.validation_fraction > 0 ? "the same ratings" : "every training rating");
  }
  run_collectively(comm, [&] {
    if (comm.is_root() && !base.tune_results.empty()) write_results(base.tune_results, trials, winner, final_config);
  });
  return final_config;
}

}  // namespace dals
