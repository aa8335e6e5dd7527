#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/version.hpp"
#include "dals/recommend/eval.hpp"

namespace dals {

namespace fs = std::filesystem;

const OptionTable<EvalConfig>& eval_options() {
  using C = EvalConfig;
  constexpr OptionUse local = OptionUse::local;
  static const OptionTable<C> table = [] {
    OptionTable<C> t(
        "Usage: mpirun -n P dals-eval --model DIR --data DIR [options]\n"
        "Evaluates a trained model on its dataset's test split, a ratings file (--test-file) or held-out users\n"
        "folded in (--strong-generalization): RMSE and MAE (explicit models), precision, recall, MAP and NDCG\n"
        "at K and AUC, beside the bias-only, global-mean and popularity baselines",
        std::string("dals-eval ") + kVersion);
    t.add("Input", "model", &C::model, "model directory (dals-train --output)")
        .add("Input", "data", &C::data, "the dataset the model was trained on (its fingerprint must match)")
        .add("Input", "test-file", &C::test_file,
             "held-out entries `user item value` (raw ids, as --fold-in reads them) instead of the test split")
        .add("Input", "test-header", &C::test_header, "the --test-file or --strong-generalization file has a header")
        .add("Input", "strong-generalization", &C::strong_generalization,
             "held-out users' entries (users not in training): each folded in on a share and scored on the rest")
        .add("Input", "fold-in-fraction", &C::fold_in_fraction,
             "with --strong-generalization: each user's share of entries folded in, in (0, 1)")
        .add("Input", "seed", &C::seed,
             "with --strong-generalization: seed of the hash that splits each user's entries");
    t.add("Metrics", "k", &C::k_text, "cut-offs of the ranking metrics, comma-separated (10,20,50)")
        .add("Metrics", "cold-start", &C::cold_start,
             "drop: leave out test entries of users or items without training ratings; mean: predict them by mu "
             "plus the known bias")
        .add("Metrics", "min-item-ratings", &C::min_item_ratings,
             "candidates of both rankings: only items with at least this many training ratings (as dals-recommend "
             "--min-item-ratings)")
        .add("Metrics", "no-auc", &C::no_auc, "skip the AUC (it ranks every candidate item of every user)")
        .add("Output", "output,o", &C::output, "JSON file of the figures (written atomically)")
        .add("Output", "split-output", &C::split_output,
             "with --strong-generalization: TSV of each entry's part (fold-in or scored), raw ids")
        .add("Output", "force", &C::force, "replace an existing --output or --split-output written by dals-eval")
        .add("Run", "threads", &C::threads, "OpenMP threads per rank; 0 = OMP_NUM_THREADS, else all cores", local)
        .add("Run", "quiet", &C::quiet, "no table on standard output", local);
    return t;
  }();
  return table;
}

namespace {

std::vector<int> parse_ks(const std::string& text) {
  const std::string what = "--k must be a comma-separated list of integers in [1, 1000000], got '" + text + "'";
  std::vector<int> ks;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string field = text.substr(start, end - start);
    char* stop = nullptr;
    errno = 0;
    const long v = field.empty() ? 0 : std::strtol(field.c_str(), &stop, 10);
    if (field.empty() || *stop != '\0' || errno != 0 || v < 1 || v > 1000000) throw UsageError{what};
    ks.push_back(static_cast<int>(v));
    start = end + 1;
  }
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  return ks;
}

}  // namespace

ParseOutcome parse_eval_config(int argc, const char* const* argv, EvalConfig& config, std::string& text) {
  if (eval_options().parse(argc, argv, config, text) == ParseOutcome::help_shown) return ParseOutcome::help_shown;
  if (config.model.empty()) throw UsageError{"--model is required: the model directory to evaluate"};
  if (config.data.empty()) throw UsageError{"--data is required: the dataset the model was trained on"};
  config.ks = parse_ks(config.k_text);
  if (config.cold_start != "drop" && config.cold_start != "mean")
    throw UsageError{"--cold-start must be drop or mean, got '" + config.cold_start + "'"};
  if (!config.test_file.empty() && !config.strong_generalization.empty())
    throw UsageError{"--test-file and --strong-generalization are two protocols: give one"};
  if (!(config.fold_in_fraction > 0 && config.fold_in_fraction < 1))
    throw UsageError{"--fold-in-fraction must be in (0, 1), got " + std::to_string(config.fold_in_fraction)};
  if (!config.split_output.empty() && config.strong_generalization.empty())
    throw UsageError{"--split-output is the split of --strong-generalization: give that too"};
  if (config.min_item_ratings < 0)
    throw UsageError{"--min-item-ratings must be >= 0, got " + std::to_string(config.min_item_ratings)};
  if (config.threads < 0)
    throw UsageError{"--threads must be >= 0 (0 = all cores), got " + std::to_string(config.threads)};
  return ParseOutcome::run;
}

void check_eval_output(const std::string& path, bool force) {
  std::error_code ec;
  const fs::path p(path);
  const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) throw Error(path + ": its directory " + parent.string() + " does not exist");
  if (fs::is_symlink(p, ec)) throw Error(path + ": is a symbolic link (refused: the rename would replace the link)");
  if (!fs::exists(p, ec)) return;
  if (!force) throw Error(path + ": already exists (pass --force to replace it)");
  std::string problem;
  if (!fs::is_regular_file(p, ec) || fs::file_size(p, ec) > (1u << 24) || ec) {
    problem = "it is not a regular file of dals-eval's size";
  } else {
    try {
      const nlohmann::json j = nlohmann::json::parse(read_text_file(path));
      if (!j.is_object() || j.value("format", "") != "dals-eval") problem = "its \"format\" is not \"dals-eval\"";
    } catch (...) {
      problem = "it is not JSON";
    }
  }
  if (!problem.empty())
    throw Error(path + ": exists and is not a dals-eval output (" + problem + "); --force replaces only those");
}

void check_split_output(const std::string& path, bool force) {
  std::error_code ec;
  const fs::path p(path);
  const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) throw Error(path + ": its directory " + parent.string() + " does not exist");
  if (fs::is_symlink(p, ec)) throw Error(path + ": is a symbolic link (refused: the rename would replace the link)");
  if (!fs::exists(p, ec)) return;
  if (!force) throw Error(path + ": already exists (pass --force to replace it)");
  std::string first;
  if (fs::is_regular_file(p, ec)) {
    std::ifstream in(path);
    std::getline(in, first);
  }
  if (first != kSplitHeader)
    throw Error(path + ": exists and is not a dals-eval --split-output (its first line is not \"" + kSplitHeader +
                "\"); --force replaces only those");
}

}  // namespace dals
