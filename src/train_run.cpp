#include "dals/train_run.hpp"

#include <omp.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dals/checksum.hpp"
#include "dals/model_io.hpp"
#include "dals/trainer.hpp"
#include "dals/version.hpp"

namespace dals {
using nlohmann::json;

std::int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

namespace {

// Every rank must train the same thing: a rank started with other options
// (a stale config file on one node) would silently desynchronize the job.
void check_same_config(const Comm& comm, const TrainConfig& config) {
  const std::string text = config.hyperparameters_json() + config.data + "|" + config.output + "|" +
                           std::to_string(config.iterations);
  const std::uint64_t mine = checksum64(text.data(), text.size());
  const std::uint64_t lowest = comm.allreduce(mine, MPI_MIN), highest = comm.allreduce(mine, MPI_MAX);
  run_collectively(comm, "dals-train", [&] {
    if (lowest != highest) throw Error("ranks were started with different options (configuration hash differs)");
  });
}

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string progress_line(const IterationRecord& r) {
  std::string line = "iter " + std::to_string(r.iteration) + "  train_rmse " + fmt("%.4f", r.train_rmse);
  if (!std::isnan(r.test_rmse)) line += "  test_rmse " + fmt("%.4f", r.test_rmse);
  line += "  users " + fmt("%.3fs", r.user_seconds) + "  items " + fmt("%.3fs", r.item_seconds) + "  exchange " +
          fmt("%.3fs", r.exchange_seconds) + "  " + fmt("%.1f", r.gflops) + " GFLOP/s";
  if (r.ridge_retries > 0) line += "  ridge_retries " + std::to_string(r.ridge_retries);
  return line;
}

std::string state_json(const Trainer& trainer, const TrainConfig& config, const std::vector<std::string>& metrics) {
  const Manifest& m = trainer.manifest();
  json ds = {{"path", config.data},     {"fingerprint", m.fingerprint}, {"users", m.users},
             {"items", m.items},        {"blocks", m.blocks},           {"mean", m.mean},
             {"train_ratings", m.train.ratings}};
  std::vector<std::int64_t> user_firsts, item_firsts;
  for (const auto& b : m.train.user_blocks) user_firsts.push_back(b.first);
  for (const auto& b : m.train.item_blocks) item_firsts.push_back(b.first);
  ds["user_block_firsts"] = user_firsts;
  ds["item_block_firsts"] = item_firsts;
  json metric_array = json::array();
  for (const auto& line : metrics) metric_array.push_back(json::parse(line));
  json state = {{"format", "dals-model"},
                {"version", 1},
                {"dals_version", kVersion},
                {"iteration", trainer.iterations_done()},
                {"hyperparameters", json::parse(config.hyperparameters_json())},
                {"dataset", ds},
                {"metrics", metric_array}};
  return state.dump(1) + "\n";
}

}  // namespace

namespace {

// Everything after loading: the iterations, their report, the published model.
void train_and_publish(const Comm& comm, const TrainConfig& config, Trainer& trainer, double start) {
  const Manifest& m = trainer.manifest();
  const double load_seconds = MPI_Wtime() - start;
  const std::int64_t model_bytes = comm.max(trainer.model_bytes());

  std::ofstream metrics_file;
  if (comm.is_root()) {
    std::printf("dals-train %s: %lld users x %lld items, %lld ratings (%lld test), %d blocks; %d rank%s x %d thread%s\n",
                kVersion, static_cast<long long>(m.users), static_cast<long long>(m.items),
                static_cast<long long>(m.train.ratings), static_cast<long long>(m.has_test ? m.test.ratings : 0),
                m.blocks, comm.size(), comm.size() == 1 ? "" : "s", omp_get_max_threads(),
                omp_get_max_threads() == 1 ? "" : "s");
    std::printf("k=%d lambda=%g regularization=%s bias=%s seed=%llu; loaded in %.2fs; model memory %.1f MiB per rank\n",
                config.factors, config.lambda, regularization_name(config.regularization),
                config.no_bias ? "no" : "yes", static_cast<unsigned long long>(config.seed), load_seconds,
                model_bytes / 1048576.0);
    std::fflush(stdout);
    metrics_file.open(staging_dir(config.output) + "/metrics.jsonl");
  }

  std::vector<std::string> metrics;
  IterationRecord last;
  for (int it = 0; it < config.iterations; ++it) {
    last = trainer.iterate();
    metrics.push_back(last.to_json());
    if (comm.is_root()) {
      if (!config.quiet) {
        std::printf("%s\n", progress_line(last).c_str());
        std::fflush(stdout);
      }
      metrics_file << metrics.back() << "\n" << std::flush;
    }
  }
  if (comm.is_root()) metrics_file.close();

  publish_model(comm, config.output, m, trainer.layout(Side::users), trainer.layout(Side::items),
                trainer.factors(Side::users), trainer.factors(Side::items), state_json(trainer, config, metrics),
                config.force);
  const std::int64_t peak = comm.max(peak_rss_bytes());
  if (comm.is_root()) {
    std::printf("done: %d iterations in %.2fs", config.iterations, MPI_Wtime() - start);
    if (config.iterations > 0) {
      std::printf("; train_rmse %.4f", last.train_rmse);
      if (!std::isnan(last.test_rmse)) std::printf("; test_rmse %.4f", last.test_rmse);
    }
    std::printf("; peak memory %.1f MiB per rank\nmodel: %s\n", peak / 1048576.0, config.output.c_str());
  }
}

}  // namespace

void run_training(const Comm& comm, const TrainConfig& config) {
  check_same_config(comm, config);
  run_collectively(comm, "dals-train", [&] { check_output_available(comm, config.output, config.force); });
  const double start = MPI_Wtime();
  Trainer trainer(comm, config);
  run_collectively(comm, "dals-train", [&] { create_staging_dir(comm, config.output); });
  try {
    train_and_publish(comm, config, trainer, start);
  } catch (const AgreedFailure&) {
    remove_staging_dir(comm, config.output);  // a failed run leaves nothing half-written behind
    throw;
  }
}

}  // namespace dals
