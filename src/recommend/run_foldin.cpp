// dals-recommend --fold-in: users of a file solved against the model's items
// (foldin.hpp), then their lists, and their factors on request.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/model_io.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/data/dataset.hpp"
#include "dals/recommend/foldin.hpp"
#include "dals/recommend/lists.hpp"
#include "dals/train/ranking.hpp"
#include "item_filter.hpp"
#include "recommend_input.hpp"

namespace dals::recommend_internal {

namespace {

// Rows [first, end) of `block` as a block of its own, from row 0.
CsrBlock slice_rows(const CsrBlock& block, std::int64_t first, std::int64_t end) {
  CsrBlock out;
  out.num_cols = block.num_cols;
  out.indptr.assign(1, 0);
  const std::int64_t base = block.indptr[first];
  out.indices.assign(block.indices.begin() + base, block.indices.begin() + block.indptr[end]);
  out.values.assign(block.values.begin() + base, block.values.begin() + block.indptr[end]);
  for (std::int64_t r = first; r < end; ++r) out.indptr.push_back(block.indptr[r + 1] - base);
  return out;
}

std::string factors_name(int rank) {
  char name[32];
  std::snprintf(name, sizeof name, "factors-%05d.tsv", rank);
  return name;
}

}  // namespace

void run_fold_in(const Comm& comm, const RecommendConfig& c, StagedDir& out, const Manifest& m, const ModelInfo& model,
                 const ItemFilter& filter) {
  const SideLayout layout(m.train.user_blocks, comm.size());
  RankInput in;
  SolveParams params;
  FoldInInput fold;
  StagedDir model_out(c.update_model.empty() ? std::string(".") : c.update_model, c.force, model_output_kind());
  std::string state_text;
  run_collectively(comm, [&] {
    params = fold_in_params(model.state.hyperparameters, c.model + "/state.json", model.state.rating_spread);
    if (!c.update_model.empty()) {
      // Read now: the new model is sealed from it after the work.
      state_text = read_text_file(c.model + "/state.json");
      if (comm.is_root()) model_out.create();
    }
    in = read_rank_input(c, m, model.state, layout.of(comm.rank()));
  });
  // Items with training ratings (the others keep their random initial
  // factors: never folded in against nor listed), and how many each has
  // (the fallback's popularity), as the model records them.
  const std::vector<std::int64_t>& degree = in.ratings.items;
  std::vector<std::uint8_t> trained(m.items, 0);
  for (std::int64_t j = 0; j < m.items; ++j) trained[j] = degree[j] > 0;

  // Every rank reads the whole file (the same users in the same order), then
  // solves and lists its contiguous share of them: the parts in rank order
  // are the same for any P.
  run_collectively(comm, [&] {
    FoldInItems items;
    items.ids = &in.item_ids;
    items.trained = &trained;
    items.integer_ids = m.items > 0 && id_block_type(ids_path(c.data, Side::items, 0)) != "string";
    fold = read_fold_in(c.fold_in, items, model.implicit, c.fold_in_header);
  });
  const auto users = static_cast<std::int64_t>(fold.users.size());
  const std::int64_t first = users * comm.rank() / comm.size(), end = users * (comm.rank() + 1) / comm.size();
  const std::int64_t heavy_from =
      fold_in_heavy_threshold(model.state.hyperparameters, c.model + "/state.json",
                              static_cast<std::int64_t>(m.train.item_blocks.size()), model.state.heavy_users_from);
  const FactorTable solved =
      fold_in(fold.history, first, end, in.tables.items, params, m.mean, item_block_first(m), heavy_from);
  const CsrBlock history = slice_rows(fold.history, first, end);
  const std::vector<std::string> ids(fold.users.begin() + first, fold.users.begin() + end);

  // A user with no known item: zero factors and bias, and the most popular
  // items (by training ratings; ties to the lower id) as the list, their
  // score the number of training ratings.
  std::vector<std::pair<std::int32_t, float>> popular;
  // Listed items: those with at least --min-item-ratings training ratings.
  const int min_ratings = std::max(1, min_item_ratings_for(c, model.implicit));
  std::vector<std::uint8_t> listed(m.items, 0);
  // (--exclude-items and --candidate-items: the fallback's list too.)
  for (std::int64_t j = 0; j < m.items; ++j) listed[j] = degree[j] >= min_ratings;
  const std::int64_t filtered = filter.apply(listed);
  for (const std::int32_t j : popularity_order(degree)) {
    if (static_cast<int>(popular.size()) == c.k || degree[j] < min_ratings) break;
    if (listed[j]) popular.emplace_back(j, static_cast<float>(degree[j]));
  }
  ListSpec spec;
  spec.k = c.k;
  spec.candidates = &listed;
  spec.with_item_bias = !model.implicit && model.state.bias;
  spec.include_rated = c.include_rated;
  spec.separator = c.format == "csv" ? ',' : '\t';
  spec.fallback = &popular;
  std::vector<std::int64_t> chosen(end - first);
  for (std::int64_t r = 0; r < end - first; ++r) chosen[r] = r;

  ListCounts counts;
  run_collectively(comm, [&] {
    write_part(out.staging() + "/" + part_name(comm.rank(), c.format), [&](const auto& sink) {
      counts = write_lists(solved, in.tables.items, history, chosen, ids, in.item_ids, spec, sink);
    });
    if (!c.fold_in_factors) return;
    write_part(out.staging() + "/" + factors_name(comm.rank()), [&](const auto& sink) {
      std::string text;
      char number[32];
      for (std::int64_t r = 0; r < solved.rows(); ++r) {
        text = ids[r];
        const float* row = solved.row(r);
        for (int d = 0; d <= solved.k(); ++d) {
          std::snprintf(number, sizeof number, "\t%.9g", static_cast<double>(row[d]));
          text += number;
        }
        text += '\n';
        sink(text);
      }
    });
  });
  UpdateCounts update;
  if (!c.update_model.empty())
    update = write_updated_model(comm, c, model_out, m, model.state, state_text, in, fold, solved);
  std::int64_t totals[3] = {counts.users, counts.fallback, counts.lines};
  comm.allreduce_inplace(std::span<std::int64_t>(totals, 3), MPI_SUM);

  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (c.merge) {
      merge_parts(out.staging(), "part", comm.size(), c.format, "recommendations");
      if (c.fold_in_factors) merge_parts(out.staging(), "factors", comm.size(), "tsv", "factors");
    }
    nlohmann::json j = {
        {"format", kFormat},
        {"version", 1},
        {"mode", "fold-in"},
        {"k", c.k},
        {"columns", {"user", "item", "score", "rank"}},
        {"file_format", c.format},
        {"parts", c.merge ? 1 : comm.size()},
        {"merged", c.merge},
        {"min_item_ratings", min_item_ratings_for(c, model.implicit)},
        {"score", spec.with_item_bias ? "item bias + u . v" : "u . v"},
        {"include_rated", c.include_rated},
        {"model", c.model},
        {"dataset", c.data},
        {"dataset_fingerprint", m.fingerprint},
        {"feedback", model.implicit ? "implicit" : "explicit"},
        {"fold_in", c.fold_in},
        {"fold_in_entries", fold.entries},
        {"fold_in_unknown_item_entries", fold.unknown_entries},
        {"fold_in_users", users},
        {"fold_in_users_without_known_items", totals[1]},
        {"fallback", "zero factors and bias; the most popular items, scored by their training ratings"},
        {"factor_files",
         c.fold_in_factors ? nlohmann::json("factors-RRRRR.tsv: user f_1 .. f_k bias") : nlohmann::json(nullptr)},
        {"updated_model", c.update_model.empty() ? nlohmann::json(nullptr) : nlohmann::json(model_out.dest())},
        {"updated_model_users",
         {{"updated", update.updated},
          {"kept_without_known_items", update.kept},
          {"added", update.added},
          {"added_updated", update.added_updated},
          {"not_added_without_known_items", update.not_added}}},
        {"users_listed", totals[0]},
        {"lines", totals[2]},
        {"items_filtered_out", filtered},
    };
    j.update(filter.describe());
    write_file_atomic(out.staging() + "/" + kManifestName, j.dump(2) + "\n");
    out.publish();
  });
  if (fold.unknown_entries > 0)
    Log::warn("%s: %lld of %lld entries name an item not in the model (ignored)", c.fold_in.c_str(),
              static_cast<long long>(fold.unknown_entries), static_cast<long long>(fold.entries));
  if (!c.update_model.empty() && !c.quiet)
    Log::info(
        "model %s: %lld users updated, %lld without a known item kept, %lld added, %lld added before updated, %lld new "
        "without a known item not added",
        model_out.dest().c_str(), static_cast<long long>(update.updated), static_cast<long long>(update.kept),
        static_cast<long long>(update.added), static_cast<long long>(update.added_updated),
        static_cast<long long>(update.not_added));
  if (!c.quiet)
    Log::info(
        "fold-in: %lld users from %s (%lld entries, %lld of unknown items ignored; %lld users without a known item "
        "got the popularity list); top-%d in %s (%d parts, %lld lines)",
        static_cast<long long>(users), c.fold_in.c_str(), static_cast<long long>(fold.entries),
        static_cast<long long>(fold.unknown_entries), static_cast<long long>(totals[1]), c.k, out.dest().c_str(),
        comm.size(), static_cast<long long>(totals[2]));
}

}  // namespace dals::recommend_internal
