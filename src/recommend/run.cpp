#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/model_io.hpp"
#include "dals/checkpoint/run_state.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/inspect.hpp"
#include "dals/recommend/lists.hpp"
#include "dals/recommend/recommend.hpp"
#include "dals/train/layout.hpp"
#include "recommend_input.hpp"

namespace dals {

namespace fs = std::filesystem;

using namespace recommend_internal;

OutputKind recommendations_output_kind() {
  return {"dals-recommend output", [](const std::string& dir) -> std::string {
            const std::string path = dir + "/" + kManifestName;
            std::error_code ec;
            if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > (1u << 20) || ec)
              return std::string("it has no ") + kManifestName;
            try {
              const nlohmann::json j = nlohmann::json::parse(read_text_file(path));
              if (j.is_object() && j.value("format", "") == kFormat) return "";
            } catch (...) {
            }
            return std::string("its ") + kManifestName + " is not of format " + kFormat;
          }};
}

void run_recommend(const Comm& comm, const RecommendConfig& c) {
  if (c.threads > 0) omp_set_num_threads(c.threads);
  StagedDir out(c.output, c.force, recommendations_output_kind());
  Manifest m;
  ModelInfo model;
  std::vector<std::int64_t> wanted;
  std::int64_t id_lines = 0, unknown = 0;
  // Everything that can be refused before the work: the dataset, the model
  // against it, the users file, the output.
  run_collectively(comm, [&] {
    m = read_manifest(c.data);
    if (comm.size() > m.blocks)
      throw Error(c.data + ": " + std::to_string(comm.size()) + " ranks but the dataset has only " +
                  std::to_string(m.blocks) + (m.blocks == 1 ? " block" : " blocks") + " of users (P must be <= B)");
    model = read_checked_model(c, m);
    if (!c.users.empty()) wanted = read_id_file(c.users, c.data, Side::users, id_lines, unknown);
    if (comm.is_root()) out.create();
  });
  if (!c.fold_in.empty()) return run_fold_in(comm, c, out, m, model);
  if (c.similar_items || c.similar_users) return run_similar(comm, c, out, m, model);

  // The user blocks as training assigns them; the weight moves boundaries
  // between ranks only, never a list (ranking.hpp), so 1 will do.
  const SideLayout layout(m.train.user_blocks, comm.size());
  const OwnedRange own = layout.of(comm.rank());
  RankInput in;
  run_collectively(comm, [&] { in = read_rank_input(c, m, model.state, own); });

  std::vector<std::int64_t> chosen;
  if (c.users.empty()) {
    for (std::int64_t u = own.first_row; u < own.end_row; ++u) chosen.push_back(u);
  } else {
    for (const std::int64_t u : wanted)
      if (u >= own.first_row && u < own.end_row) chosen.push_back(u);
  }
  // Items with training ratings, from every rank's user rows: an item
  // without any keeps its random initial factors, so it is never listed.
  std::vector<std::uint8_t> trained(m.items, 0);
  for (const std::int32_t j : in.train.indices) trained[j] = 1;
  comm.allreduce_inplace(std::span<std::uint8_t>(trained), MPI_MAX);
  ListSpec spec;
  spec.k = c.k;
  spec.candidates = &trained;
  spec.with_item_bias = !model.implicit && model.state.bias;
  spec.include_rated = c.include_rated;
  spec.separator = c.format == "csv" ? ',' : '\t';

  ListCounts counts;
  run_collectively(comm, [&] {
    write_part(out.staging() + "/" + part_name(comm.rank(), c.format), [&](const auto& sink) {
      counts = write_lists(in.tables.users, in.tables.items, in.train, chosen, in.user_ids, in.item_ids, spec, sink);
    });
  });
  std::int64_t totals[3] = {counts.users, counts.no_training, counts.lines};
  comm.allreduce_inplace(std::span<std::int64_t>(totals, 3), MPI_SUM);

  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    const nlohmann::json j = {
        {"format", kFormat},
        {"version", 1},
        {"k", c.k},
        {"columns", {"user", "item", "score", "rank"}},
        {"file_format", c.format},
        {"parts", comm.size()},
        {"score", spec.with_item_bias ? "item bias + u . v" : "u . v"},
        {"include_rated", c.include_rated},
        {"model", c.model},
        {"dataset", c.data},
        {"dataset_fingerprint", m.fingerprint},
        {"feedback", model.implicit ? "implicit" : "explicit"},
        {"users_listed", totals[0]},
        {"users_without_training_ratings", totals[1]},
        {"lines", totals[2]},
        {"user_ids_given", c.users.empty() ? nlohmann::json(nullptr) : nlohmann::json(id_lines)},
        {"user_ids_unknown", c.users.empty() ? nlohmann::json(nullptr) : nlohmann::json(unknown)},
    };
    write_file_atomic(out.staging() + "/" + kManifestName, j.dump(2) + "\n");
    out.publish();
  });
  if (!c.users.empty() && unknown > 0)
    Log::warn("%s: %lld of %lld user ids are not in %s (skipped)", c.users.c_str(), static_cast<long long>(unknown),
              static_cast<long long>(id_lines), c.data.c_str());
  if (!c.quiet)
    Log::info("top-%d of %lld users in %s (%d parts, %lld lines); %lld users without training ratings got no list", c.k,
              static_cast<long long>(totals[0]), out.dest().c_str(), comm.size(), static_cast<long long>(totals[2]),
              static_cast<long long>(totals[1]));
}

}  // namespace dals
