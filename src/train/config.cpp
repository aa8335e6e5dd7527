#include "dals/train/config.hpp"

#include <boost/program_options.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "dals/core/error.hpp"
#include "dals/core/version.hpp"

namespace dals {
namespace po = boost::program_options;

namespace {
std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}
}  // namespace

void TrainConfig::validate() const {
  if (data.empty()) throw Error("--data is required: the dataset directory to train on");
  if (output.empty()) throw Error("--output is required: the model directory to write");
  if (factors < 1 || factors > 4096) throw Error("--factors must be in [1, 4096], got " + std::to_string(factors));
  if (!(lambda >= 0.0) || !std::isfinite(lambda)) throw Error("--lambda must be >= 0, got " + format_number(lambda));
  if (iterations < 0) throw Error("--iterations must be >= 0, got " + std::to_string(iterations));
  if (cg_steps < 1 || cg_steps > 1000) throw Error("--cg-steps must be in [1, 1000], got " + std::to_string(cg_steps));
  if (threads < 0) throw Error("--threads must be >= 0 (0 = all cores), got " + std::to_string(threads));
  if (checkpoint_every < 0)
    throw Error("--checkpoint-every must be >= 0 (0 = only at the end), got " + std::to_string(checkpoint_every));
  if (keep_checkpoints < 1) throw Error("--keep-checkpoints must be >= 1, got " + std::to_string(keep_checkpoints));
  if (time_limit < 0) throw Error("--time-limit must be >= 0 seconds (0 = none), got " + std::to_string(time_limit));
  if (resume == "auto" && checkpoint_dir.empty())
    throw Error("--resume auto needs --checkpoint-dir: the directory to look for checkpoints in");
  if (time_limit > 0 && checkpoint_dir.empty())
    throw Error("--time-limit needs --checkpoint-dir: a run stopped by the time limit saves a checkpoint there");
  if (!checkpoint_dir.empty()) {
    // The model is published by renaming OUTPUT.tmp to OUTPUT: checkpoints
    // inside it would block that (or, with --force, be replaced by it).
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path ckpt = fs::weakly_canonical(checkpoint_dir, ec), out = fs::weakly_canonical(output, ec);
    auto within = [](const fs::path& inner, const fs::path& outer) {
      auto o = outer.begin(), i = inner.begin();
      for (; o != outer.end() && i != inner.end() && *o == *i; ++o, ++i) {}
      return o == outer.end();
    };
    if (within(ckpt, out) || within(out, ckpt))
      throw Error("--checkpoint-dir " + checkpoint_dir + " and --output " + output +
                  " must not contain each other: give the checkpoints a directory of their own");
  }
}

std::string TrainConfig::hyperparameters_json() const {
  nlohmann::json j = {{"factors", factors},
                      {"lambda", lambda},
                      {"regularization", regularization_name(regularization)},
                      {"bias", !no_bias},
                      {"solver", solver_name(solver)},
                      {"cg_steps", cg_steps},
                      {"seed", seed}};
  // Only CG reads half precision; a Cholesky run's options do not mention it.
  if (solver == Solver::cg) j["cg_precision"] = precision_name(cg_precision);
  return j.dump();
}

namespace {

// Boost parses enums through operator>> on the value string.
template <class E>
struct EnumArg {
  E value;
};

template <class E>
std::istream& operator>>(std::istream& in, EnumArg<E>& arg) {
  std::string token;
  in >> token;
  for (const auto& [name, value] : EnumNames<E>::table)
    if (token == name) {
      arg.value = value;
      return in;
    }
  in.setstate(std::ios::failbit);
  return in;
}

template <class E>
std::ostream& operator<<(std::ostream& out, const EnumArg<E>& arg) {
  return out << enum_name(arg.value);
}

}  // namespace

ParseOutcome parse_train_config(int argc, const char* const* argv, TrainConfig& config, std::string& out) {
  TrainConfig defaults;
  EnumArg<Regularization> reg{defaults.regularization};
  EnumArg<Solver> solver{defaults.solver};
  EnumArg<Precision> cg_precision{defaults.cg_precision};
  bool show_help = false, show_version = false;

  // The one table of options: name, binding with its default, help text.
  po::options_description model("Model");
  model.add_options()
      ("factors,k", po::value(&config.factors)->default_value(defaults.factors),
       "factor rank k: latent dimensions per user and item")
      ("lambda", po::value(&config.lambda)->default_value(defaults.lambda, "0.1"),
       "regularization strength (>= 0)")
      ("regularization", po::value(&reg)->default_value(reg),
       "l2: lambda*(|x|^2+b^2) per row; weighted (ALS-WR): the same times the row's rating count")
      ("solver", po::value(&solver)->default_value(solver),
       "cholesky: exact solve of each row's (k+1)x(k+1) system; cg: a few conjugate-gradient steps, "
       "warm-started from the previous value, O(n_i k) per step")
      ("cg-steps", po::value(&config.cg_steps)->default_value(defaults.cg_steps), "conjugate-gradient steps per row (--solver cg)")
      ("cg-precision", po::value(&cg_precision)->default_value(cg_precision),
       "half: CG reads the fixed side's factors from a half-precision copy (half the memory traffic; "
       "the solve stays in float); float: as stored (--solver cg)")
      ("no-bias", po::bool_switch(&config.no_bias), "drop user and item biases (the global mean stays)")
      ("seed", po::value(&config.seed)->default_value(defaults.seed), "seed of the initial factors");
  po::options_description run("Run");
  run.add_options()
      ("data", po::value(&config.data), "dataset directory (from dals-partition, dals-generate or dals-import)")
      ("output,o", po::value(&config.output), "model directory to write (written atomically)")
      ("iterations", po::value(&config.iterations)->default_value(defaults.iterations),
       "ALS iterations (each: a user half and an item half)")
      ("threads", po::value(&config.threads)->default_value(defaults.threads),
       "OpenMP threads per rank; 0 = OMP_NUM_THREADS, else all cores")
      ("force", po::bool_switch(&config.force), "replace an existing --output directory")
      ("quiet", po::bool_switch(&config.quiet), "no per-iteration lines (the header and the summary stay)");
  po::options_description checkpoints("Checkpoints");
  checkpoints.add_options()
      ("checkpoint-dir", po::value(&config.checkpoint_dir),
       "write checkpoints here (CKPT/iter-000012/...); also enables stopping on SIGTERM/SIGUSR1 with a checkpoint "
       "(exit code 3)")
      ("checkpoint-every", po::value(&config.checkpoint_every)->default_value(defaults.checkpoint_every),
       "iterations between checkpoints; one is always written after the last iteration (0: only then, and when "
       "stopped)")
      ("keep-checkpoints", po::value(&config.keep_checkpoints)->default_value(defaults.keep_checkpoints),
       "complete checkpoints to keep; older ones are deleted once a newer one is complete")
      ("resume", po::value(&config.resume),
       "auto: continue from the newest usable checkpoint in --checkpoint-dir (none: start fresh); PATH: from that "
       "checkpoint or model directory")
      ("resume-override", po::bool_switch(&config.resume_override),
       "resume even if lambda, regularization, bias, solver or seed changed (recorded in state.json); k and the "
       "dataset can never change")
      ("time-limit", po::value(&config.time_limit)->default_value(defaults.time_limit),
       "seconds this run may take: checkpoint and exit 3 before then, judged from the measured half-iteration and "
       "checkpoint times (0: none; SLURM_JOB_END_TIME also counts)");
  po::options_description general("General");
  general.add_options()
      ("config", po::value(&config.config_file), "INI file with the same options (name = value); the command line wins")
      ("help,h", po::bool_switch(&show_help), "show this help")
      ("version", po::bool_switch(&show_version), "show the version");
  po::options_description all("Usage: mpirun -n P dals-train --data DIR --output DIR [options]\n"
                              "Trains a matrix-factorization model by alternating least squares");
  all.add(run).add(model).add(checkpoints).add(general);

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, all), vm);
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) throw UsageError{path + ": cannot open config file"};
      try {
        // Stored after the command line: po::store keeps the first value, so the command line wins.
        po::store(po::parse_config_file(file, all), vm);
      } catch (const po::error& e) {
        throw UsageError{path + ": " + e.what()};
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError{e.what()};
  }
  config.regularization = reg.value;
  config.solver = solver.value;
  config.cg_precision = cg_precision.value;
  if (show_help) {
    std::ostringstream text;
    text << all;
    out = text.str();
    return ParseOutcome::help_shown;
  }
  if (show_version) {
    out = std::string("dals-train ") + kVersion + "\n";
    return ParseOutcome::help_shown;
  }
  try {
    config.validate();
  } catch (const Error& e) {
    throw UsageError{e.what()};
  }
  return ParseOutcome::run;
}

}  // namespace dals
