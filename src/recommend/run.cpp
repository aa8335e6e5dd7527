#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "dals/checkpoint/added_users.hpp"
#include "dals/checkpoint/model_io.hpp"
#include "dals/checkpoint/run_state.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/inspect.hpp"
#include "dals/recommend/foldin.hpp"
#include "dals/recommend/lists.hpp"
#include "dals/recommend/lists_h5.hpp"
#include "dals/recommend/recommend.hpp"
#include "dals/train/layout.hpp"
#include "item_filter.hpp"
#include "recommend_input.hpp"

namespace dals {

namespace fs = std::filesystem;

using namespace recommend_internal;

OutputKind recommendations_output_kind() {
  return output_kind_by_manifest("dals-recommend output", kManifestName, kFormat);
}

namespace {

// Users whose lists a rank writes: its own of the dataset (a table and
// `train` by local id, first_user the dense id of local 0), or the model's
// added users (on the last rank, after its own: dense ids users + a).
struct UserRows {
  const FactorTable* table;
  const CsrBlock* train;
  const std::vector<std::string>* ids;
  std::int64_t first_user;
  std::vector<std::int64_t> chosen;
  ListSpec spec;
};

ListCounts& operator+=(ListCounts& a, const ListCounts& b) {
  a.users += b.users;
  a.no_training += b.no_training;
  a.fallback += b.fallback;
  a.lines += b.lines;
  return a;
}

// --format hdf5: this rank's lists gathered as columns (20 bytes a line,
// plus the raw ids: 16 more for integer ids), then written at once.
ListCounts write_list_part(const std::string& path, const std::vector<UserRows>& parts, const FactorTable& items,
                           const std::vector<std::string>& item_ids, bool string_users, bool string_items) {
  ListFile f;
  f.user.strings = string_users;
  f.item.strings = string_items;
  ListCounts counts;
  for (const UserRows& p : parts)
    counts += rank_lists(*p.table, items, *p.train, p.chosen, p.spec, [&](const ListRows& r) {
      const std::size_t start = f.rows.size();
      f.rows.append(r);
      for (std::size_t i = start; i < f.rows.size(); ++i) f.rows.user[i] += p.first_user;
      for (std::size_t i = 0; i < r.size(); ++i) {
        f.user.push_back((*p.ids)[r.user[i] - p.train->first_row]);
        f.item.push_back(item_ids[r.item[i]]);
      }
    });
  write_list_file(path, f);
  return counts;
}

}  // namespace

void run_recommend(const Comm& comm, const RecommendConfig& c) {
  if (c.threads > 0) omp_set_num_threads(c.threads);
  StagedDir out(c.output, c.force, recommendations_output_kind());
  Manifest m;
  ModelInfo model;
  std::vector<std::int64_t> wanted, wanted_added;  // dense ids; indexes of added users
  AddedUsers added;
  std::int64_t id_lines = 0, unknown = 0;
  ItemFilter filter;
  // Everything that can be refused before the work: the dataset, the model
  // against it, the users and item files, the output.
  run_collectively(comm, [&] {
    m = read_manifest(c.data);
    if (comm.size() > m.blocks)
      throw Error(c.data + ": " + std::to_string(comm.size()) + " ranks but the dataset has only " +
                  std::to_string(m.blocks) + (m.blocks == 1 ? " block" : " blocks") + " of users (P must be <= B)");
    model = read_checked_model(c, m);
    added = read_model_added_users(c.model, model.state, string_ids(c.data, Side::users) ? 1 : 0);
    if (!c.users.empty()) {
      // Ids the dataset lacks may be users fold-in added (added_users.hpp).
      std::vector<std::string> missing;
      wanted = read_id_file(c.users, c.data, Side::users, id_lines, unknown, &missing);
      std::unordered_map<std::string, std::int64_t> index;
      for (std::int64_t a = 0; a < added.count(); ++a) index.emplace(added.ids[a], a);
      const bool integer_ids = !string_ids(c.data, Side::users);
      for (const std::string& id : missing)
        if (const auto found = index.find(canonical_id(id, integer_ids)); found != index.end()) {
          wanted_added.push_back(found->second);
          --unknown;
        }
      std::sort(wanted_added.begin(), wanted_added.end());
      wanted_added.erase(std::unique(wanted_added.begin(), wanted_added.end()), wanted_added.end());
    }
    filter = read_item_filter(c);
    if (comm.is_root()) out.create();
  });
  if (!c.quiet) filter.report_unknown(c.data);
  if (!c.fold_in.empty()) return run_fold_in(comm, c, out, m, model, filter);
  if (c.similar_items || c.similar_users) return run_similar(comm, c, out, m, model, filter);

  // The user blocks as training assigns them; the weight moves boundaries
  // between ranks only, never a list (ranking.hpp), so 1 will do.
  const SideLayout layout(m.train.user_blocks, comm.size());
  const OwnedRange own = layout.of(comm.rank());
  // Only the rank's own user rows, by local id u - own.first_row.
  RankInput in;
  run_collectively(comm, [&] { in = read_rank_input_own_users(c, m, model.state, own); });

  std::vector<std::int64_t> chosen;
  if (c.users.empty()) {
    for (std::int64_t u = own.first_row; u < own.end_row; ++u) chosen.push_back(u - own.first_row);
  } else {
    for (const std::int64_t u : wanted)
      if (u >= own.first_row && u < own.end_row) chosen.push_back(u - own.first_row);
  }
  // Items' training ratings, as the model records them: an item without
  // any keeps its random initial factors, so it is never listed; one with
  // fewer than --min-item-ratings is not either (explicit models rank rare
  // items with high predicted stars first: README); then --exclude-items
  // and --candidate-items.
  const int min_ratings = min_item_ratings_for(c, model.implicit);
  const std::vector<std::int64_t>& degree = in.ratings.items;
  std::vector<std::uint8_t> candidates(m.items, 0);
  std::int64_t below = 0;
  for (std::int64_t j = 0; j < m.items; ++j) {
    candidates[j] = degree[j] >= std::max(1, min_ratings);
    below += degree[j] > 0 && !candidates[j];
  }
  const std::int64_t filtered = filter.apply(candidates);
  ListSpec spec;
  spec.k = c.k;
  spec.candidates = &candidates;
  spec.user_ratings = &in.ratings.users;
  spec.with_item_bias = !model.implicit && model.state.bias;
  spec.include_rated = c.include_rated;
  spec.separator = c.format == "csv" ? ',' : '\t';

  std::vector<UserRows> parts{{&in.tables.users, &in.train, &in.user_ids, own.first_row, std::move(chosen), spec}};
  // The model's added users, on the last rank after its own: the parts in
  // rank order are then in dense id order, the same lists for any P.
  const FactorTable added_table = added.table();
  const CsrBlock added_rated = added.rated_block(m.items);
  if (comm.rank() == comm.size() - 1 && added.count() > 0) {
    UserRows rows{&added_table, &added_rated, &added.ids, m.users, {}, spec};
    rows.spec.user_ratings = &added.training_ratings;
    if (c.users.empty())
      for (std::int64_t a = 0; a < added.count(); ++a) rows.chosen.push_back(a);
    else
      rows.chosen = wanted_added;
    parts.push_back(std::move(rows));
  }
  ListCounts counts;
  const std::string part = out.staging() + "/" + part_name(comm.rank(), c.format);
  run_collectively(comm, [&] {
    if (c.format == "hdf5") {
      counts = write_list_part(part, parts, in.tables.items, in.item_ids, string_ids(c.data, Side::users),
                               string_ids(c.data, Side::items));
      return;
    }
    write_part(part, [&](const auto& sink) {
      for (const UserRows& p : parts)
        counts += write_lists(*p.table, in.tables.items, *p.train, p.chosen, *p.ids, in.item_ids, p.spec, sink);
    });
  });
  std::int64_t totals[3] = {counts.users, counts.no_training, counts.lines};
  comm.allreduce_inplace(std::span<std::int64_t>(totals, 3), MPI_SUM);

  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (c.merge) merge_parts(out.staging(), "part", comm.size(), c.format, "recommendations");
    nlohmann::json j = {
        {"format", kFormat},
        {"version", 1},
        {"k", c.k},
        {"columns", {"user", "item", "score", "rank"}},
        {"file_format", c.format},
        {"parts", c.merge ? 1 : comm.size()},
        {"merged", c.merge},
        {"min_item_ratings", min_ratings},
        {"items_below_min_ratings", below},
        {"items_filtered_out", filtered},
        {"score", spec.with_item_bias ? "item bias + u . v" : "u . v"},
        {"include_rated", c.include_rated},
        {"model", c.model},
        {"dataset", c.data},
        {"dataset_fingerprint", m.fingerprint},
        {"feedback", model.implicit ? "implicit" : "explicit"},
        {"users_listed", totals[0]},
        {"added_users", added.count()},
        {"users_without_training_ratings", totals[1]},
        {"lines", totals[2]},
        {"user_ids_given", c.users.empty() ? nlohmann::json(nullptr) : nlohmann::json(id_lines)},
        {"user_ids_unknown", c.users.empty() ? nlohmann::json(nullptr) : nlohmann::json(unknown)},
    };
    j.update(filter.describe());
    write_file_atomic(out.staging() + "/" + kManifestName, j.dump(2) + "\n");
    out.publish();
  });
  if (!c.users.empty() && unknown > 0)
    Log::warn("%s: %lld of %lld user ids are not in %s (skipped)", c.users.c_str(), static_cast<long long>(unknown),
              static_cast<long long>(id_lines), c.data.c_str());
  if (!c.quiet)
    Log::info(
        "top-%d of %lld users in %s (%d parts, %lld lines); %lld users without training ratings got no list; "
        "--min-item-ratings %d left out %lld items with training ratings",
        c.k, static_cast<long long>(totals[0]), out.dest().c_str(), c.merge ? 1 : comm.size(),
        static_cast<long long>(totals[2]), static_cast<long long>(totals[1]), min_ratings,
        static_cast<long long>(below));
}

}  // namespace dals
