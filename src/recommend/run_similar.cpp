// dals-recommend --similar-items / --similar-users: each row's top-K rows of
// the same side by cosine (similar.hpp), written like the users' lists.
#include <nlohmann/json.hpp>

#include "dals/checkpoint/trained_rows.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/data/inspect.hpp"
#include "dals/recommend/lists.hpp"
#include "dals/recommend/similar.hpp"
#include "item_filter.hpp"
#include "recommend_input.hpp"

namespace dals::recommend_internal {

void run_similar(const Comm& comm, const RecommendConfig& c, StagedDir& out, const Manifest& m, const ModelInfo& model,
                 const ItemFilter& filter) {
  const Side side = c.similar_items ? Side::items : Side::users;
  const char* noun = c.similar_items ? "items" : "users";
  const SideLayout users_layout(m.train.user_blocks, comm.size());
  const SideLayout layout(m.train.blocks(side), comm.size());
  const OwnedRange own = layout.of(comm.rank());
  RankInput in;
  std::vector<std::int64_t> wanted;
  std::int64_t id_lines = 0, unknown = 0;
  std::vector<std::string> ids;  // raw ids of the whole side
  run_collectively(comm, [&] {
    in = read_rank_input(c, m, model.state, users_layout.of(comm.rank()));
    if (side == Side::users) {
      // Every user's factors and counts: the others' rows too.
      const OwnedRange mine = users_layout.of(comm.rank());
      std::vector<std::int64_t> all = read_factor_blocks_counted(c.model, c.data, m, model.state, Side::users, 0,
                                                                 mine.first_block, in.tables.users);
      all.insert(all.end(), in.ratings.users.begin(), in.ratings.users.end());
      const std::vector<std::int64_t> after = read_factor_blocks_counted(c.model, c.data, m, model.state, Side::users,
                                                                         mine.end_block, m.blocks, in.tables.users);
      all.insert(all.end(), after.begin(), after.end());
      in.ratings.users = std::move(all);
      ids = raw_id_texts(c.data, m, Side::users);
    } else {
      ids = in.item_ids;
    }
    if (!c.items.empty()) wanted = read_id_file(c.items, c.data, Side::items, id_lines, unknown);
  });
  // Rows with training ratings, as the model records them: only they are
  // listed and have lists (the others keep their random initial factors).
  std::vector<std::uint8_t> trained(m.rows(side), 0);
  for (std::int64_t r = 0; r < m.rows(side); ++r) trained[r] = in.ratings[side][r] > 0;

  const FactorTable unit = normalized_rows(in.tables[side]);
  // The rows this rank lists, each excluding itself; a row without training
  // ratings has no entry, so write_lists gives it no list and counts it.
  CsrBlock self;
  self.first_row = own.first_row;
  self.num_cols = m.rows(side);
  for (std::int64_t r = own.first_row; r < own.end_row; ++r) {
    if (trained[r]) self.indices.push_back(static_cast<std::int32_t>(r)), self.values.push_back(1.f);
    self.indptr.push_back(static_cast<std::int64_t>(self.indices.size()));
  }
  std::vector<std::int64_t> chosen;
  if (c.items.empty()) {
    for (std::int64_t r = own.first_row; r < own.end_row; ++r) chosen.push_back(r);
  } else {
    for (const std::int64_t r : wanted)
      if (r >= own.first_row && r < own.end_row) chosen.push_back(r);
  }
  const std::vector<std::string> own_ids(ids.begin() + own.first_row, ids.begin() + own.end_row);
  ListSpec spec;
  spec.k = c.k;
  // Listed: the trained rows, less --exclude-items, within --candidate-items
  // (items only: run_recommend refuses them with --similar-users). Which
  // rows get a list is --items' choice alone.
  std::vector<std::uint8_t> listed = trained;
  const std::int64_t filtered = filter.apply(listed);
  spec.candidates = &listed;
  spec.separator = c.format == "csv" ? ',' : '\t';

  ListCounts counts;
  run_collectively(comm, [&] {
    write_part(out.staging() + "/" + part_name(comm.rank(), c.format),
               [&](const auto& sink) { counts = write_lists(unit, unit, self, chosen, own_ids, ids, spec, sink); });
  });
  std::int64_t totals[3] = {counts.users, counts.no_training, counts.lines};
  comm.allreduce_inplace(std::span<std::int64_t>(totals, 3), MPI_SUM);

  const std::string mode = std::string("similar-") + noun;
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (c.merge) merge_parts(out.staging(), "part", comm.size(), c.format, "recommendations");
    nlohmann::json j = {
        {"format", kFormat},
        {"version", 1},
        {"mode", mode},
        {"k", c.k},
        {"columns",
         {c.similar_items ? "item" : "user", c.similar_items ? "similar_item" : "similar_user", "score", "rank"}},
        {"file_format", c.format},
        {"parts", c.merge ? 1 : comm.size()},
        {"merged", c.merge},
        {"score", "cosine of the factors (n_a . n_b, n = v / |v|)"},
        {"model", c.model},
        {"dataset", c.data},
        {"dataset_fingerprint", m.fingerprint},
        {"feedback", model.implicit ? "implicit" : "explicit"},
        {std::string(noun) + "_listed", totals[0]},
        {std::string(noun) + "_without_training_ratings", totals[1]},
        {"lines", totals[2]},
        {"item_ids_given", c.items.empty() ? nlohmann::json(nullptr) : nlohmann::json(id_lines)},
        {"item_ids_unknown", c.items.empty() ? nlohmann::json(nullptr) : nlohmann::json(unknown)},
        {"items_filtered_out", filtered},
    };
    j.update(filter.describe());
    write_file_atomic(out.staging() + "/" + kManifestName, j.dump(2) + "\n");
    out.publish();
  });
  if (!c.items.empty() && unknown > 0)
    Log::warn("%s: %lld of %lld item ids are not in %s (skipped)", c.items.c_str(), static_cast<long long>(unknown),
              static_cast<long long>(id_lines), c.data.c_str());
  if (!c.quiet)
    Log::info("%d most similar %s of %lld %s in %s (%d parts, %lld lines); %lld without training ratings got no list",
              c.k, noun, static_cast<long long>(totals[0]), noun, out.dest().c_str(), comm.size(),
              static_cast<long long>(totals[2]), static_cast<long long>(totals[1]));
}

}  // namespace dals::recommend_internal
