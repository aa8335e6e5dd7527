#include <stdexcept>
#include <string>

#include "dals/core/error.hpp"
#include "dals/core/staged_dir.hpp"
#include "dals/core/version.hpp"
#include "dals/recommend/recommend.hpp"

namespace dals {

const OptionTable<RecommendConfig>& recommend_options() {
  using C = RecommendConfig;
  constexpr OptionUse local = OptionUse::local;
  static const OptionTable<C> table = [] {
    OptionTable<C> t(
        "Usage: mpirun -n P dals-recommend --model DIR --data DIR --output DIR [options]\n"
        "Writes the top-K items of every user (or of the given ones) from a trained model, with raw ids",
        std::string("dals-recommend ") + kVersion);
    t.add("Input", "model", &C::model, "model directory (dals-train --output)")
        .add("Input", "data", &C::data, "the dataset the model was trained on (its fingerprint must match)")
        .add("Input", "users", &C::users,
             "file of raw user ids, one per line, to recommend for (default: every user); unknown ids are counted");
    t.add("Fold-in", "fold-in", &C::fold_in,
          "file of `user item value` lines (raw ids; comma or blank separated): solve these users' factors against "
          "the model's items with the training's regularization, then list their top-K (not any user of the dataset)")
        .add("Fold-in", "fold-in-header", &C::fold_in_header, "the --fold-in file's first line is a header")
        .add("Fold-in", "fold-in-factors", &C::fold_in_factors,
             "also write the solved factors: factors-RRRRR.tsv, lines user f_1 .. f_k bias")
        .add("Fold-in", "update-model", &C::update_model,
             "also write a new model directory (atomically; --force replaces a model): --model with the fold-in "
             "users that are users of --data given their fold-in factors, and the others added (added_users.h5)");
    t.add("Similar", "similar-items", &C::similar_items,
          "list the top-K items most similar to each item (cosine of the item factors) instead of users' lists")
        .add("Similar", "similar-users", &C::similar_users, "the same for users (cosine of the user factors)")
        .add("Similar", "items", &C::items,
             "file of raw item ids, one per line, to list similar items for (default: every item)");
    t.add("Lists", "k", &C::k, "items per user")
        .add("Lists", "include-rated", &C::include_rated, "also rank the items a user rated in training")
        .add("Lists", "min-item-ratings", &C::min_item_ratings_text,
             "never list an item with fewer training ratings (users' lists); auto: " +
                 std::to_string(kAutoMinItemRatings) + " for explicit models, 0 for implicit ones")
        .add("Lists", "exclude-items", &C::exclude_items,
             "file of raw item ids, one per line, never listed (users' lists, --fold-in, --similar-items); unknown "
             "ids are counted")
        .add("Lists", "candidate-items", &C::candidate_items,
             "file of raw item ids, one per line: only these items are listed (users' lists, --fold-in, "
             "--similar-items); unknown ids are counted")
        .add("Output", "output,o", &C::output, "directory to write: part-RRRRR.tsv per rank (written atomically)")
        .add("Output", "format", &C::format,
             "tsv or csv: lines of user, item, score, rank (raw ids); hdf5: part-RRRRR.h5 of those columns and the "
             "dense ids")
        .add("Output", "merge", &C::merge,
             "rank 0 concatenates the parts in rank order into one recommendations.tsv|csv|h5 (small outputs)")
        .add("Output", "force", &C::force, "replace an existing --output written by dals-recommend")
        .add("Run", "threads", &C::threads, "OpenMP threads per rank; 0 = OMP_NUM_THREADS, else all cores", local)
        .add("Run", "quiet", &C::quiet, "no summary line", local);
    return t;
  }();
  return table;
}

ParseOutcome parse_recommend_config(int argc, const char* const* argv, RecommendConfig& config, std::string& text) {
  if (recommend_options().parse(argc, argv, config, text) == ParseOutcome::help_shown) return ParseOutcome::help_shown;
  if (config.model.empty()) throw UsageError{"--model is required: the model directory to recommend from"};
  if (config.data.empty()) throw UsageError{"--data is required: the dataset the model was trained on"};
  if (config.output.empty()) throw UsageError{"--output is required: the directory to write the lists to"};
  if (config.k < 1 || config.k > 1000000)
    throw UsageError{"--k must be in [1, 1000000], got " + std::to_string(config.k)};
  if (config.format != "tsv" && config.format != "csv" && config.format != "hdf5")
    throw UsageError{"--format must be tsv, csv or hdf5, got '" + config.format + "'"};
  if (config.min_item_ratings_text != "auto") {
    const std::string& t = config.min_item_ratings_text;
    std::size_t used = 0;
    long v = -1;
    try {
      v = std::stol(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (t.empty() || used != t.size() || v < 0 || v > 1000000000)
      throw UsageError{"--min-item-ratings must be auto or an integer in [0, 1e9], got '" + t + "'"};
    config.min_item_ratings = static_cast<int>(v);
  }
  const int modes = !config.fold_in.empty() + config.similar_items + config.similar_users;
  if (config.format == "hdf5" && modes > 0)
    throw UsageError{
        "--format hdf5 writes users' top-K lists; --fold-in, --similar-items and --similar-users write "
        "tsv or csv"};
  if (config.min_item_ratings >= 0 && (config.similar_items || config.similar_users))
    throw UsageError{
        "--min-item-ratings restricts users' lists; --similar-items and --similar-users have no use "
        "for it"};
  if ((!config.exclude_items.empty() || !config.candidate_items.empty()) && config.similar_users)
    throw UsageError{"--exclude-items and --candidate-items restrict the items listed; --similar-users lists users"};
  if (modes > 1) throw UsageError{"--fold-in, --similar-items and --similar-users exclude each other"};
  if (modes > 0 && !config.users.empty())
    throw UsageError{
        "--users lists users of the dataset; with --fold-in, --similar-items or --similar-users it has no use"};
  if (!config.items.empty() && !config.similar_items) throw UsageError{"--items needs --similar-items"};
  if ((config.fold_in_header || config.fold_in_factors || !config.update_model.empty()) && config.fold_in.empty())
    throw UsageError{"--fold-in-header, --fold-in-factors and --update-model need --fold-in FILE"};
  if (!config.update_model.empty() &&
      (normalize_output_path(config.update_model) == normalize_output_path(config.model) ||
       normalize_output_path(config.update_model) == normalize_output_path(config.output)))
    throw UsageError{"--update-model must name a new directory, not --model or --output"};
  if (config.threads < 0)
    throw UsageError{"--threads must be >= 0 (0 = all cores), got " + std::to_string(config.threads)};
  return ParseOutcome::run;
}

}  // namespace dals
