// dals-recommend --fold-in FILE --update-model OUT: the model with the
// folded-in users of the dataset given their new factors, and those it lacks
// added (MODEL/added_users.h5, added_users.hpp), published as a new model
// directory by the one model writer (checkpoint/model_io).
#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "dals/checkpoint/added_users.hpp"
#include "dals/checkpoint/model_io.hpp"
#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "recommend_input.hpp"

namespace dals::recommend_internal {

UpdateCounts write_updated_model(const Comm& comm, const RecommendConfig& c, StagedDir& model_out, const Manifest& m,
                                 const SavedState& saved, const std::string& state_text, RankInput& in,
                                 const FoldInInput& fold, const FactorTable& solved) {
  // Every rank gets every solved row (a fold-in file is small beside the
  // model), then replaces those of its own users.
  const auto users = static_cast<std::int64_t>(fold.users.size());
  const int k = solved.k();
  FactorTable all(users, k);
  std::vector<std::int64_t> firsts(comm.size()), counts(comm.size());
  for (int r = 0; r < comm.size(); ++r) {
    firsts[r] = users * r / comm.size();
    counts[r] = users * (r + 1) / comm.size() - firsts[r];
  }
  std::copy(solved.data(), solved.data() + solved.rows() * solved.stride(), all.row(firsts[comm.rank()]));
  comm.allgather_rows(all.data(), all.stride(), firsts, counts);

  const OwnedRange own = SideLayout(m.train.user_blocks, comm.size()).of(comm.rank());
  std::unordered_map<std::string, std::int64_t> dense;
  dense.reserve(in.user_ids.size());
  for (std::size_t r = 0; r < in.user_ids.size(); ++r) dense.emplace(in.user_ids[r], own.first_row + r);
  const bool string_users = string_ids(c.data, Side::users);
  std::int64_t totals[2] = {0, 0};  // updated, in the dataset but without a known item (kept)
  // Whether each fold-in user is one of the dataset's: every rank must
  // agree on the users it adds, and each knows only its own.
  std::vector<std::uint8_t> in_dataset(users, 0);
  for (std::int64_t u = 0; u < users; ++u) {
    const auto found = dense.find(canonical_id(fold.users[u], !string_users));
    if (found == dense.end()) continue;
    in_dataset[u] = 1;
    if (fold.history.degree(u) == 0) {
      ++totals[1];
      continue;
    }
    std::copy(all.row(u), all.row(u) + all.stride(), in.tables.users.row(found->second));
    // The new model records a folded-in user's training ratings as the
    // known items its factor was solved from.
    in.ratings.users[found->second - own.first_row] = fold.history.degree(u);
    ++totals[0];
  }
  comm.allreduce_inplace(std::span<std::int64_t>(totals, 2), MPI_SUM);
  comm.allreduce_inplace(std::span<std::uint8_t>(in_dataset), MPI_MAX);
  UpdateCounts result{totals[0], totals[1]};

  // The others: added users of the model carried over and updated, new ones
  // appended in file order (every rank alike; rank 0 writes the file).
  AddedUsers added;
  run_collectively(comm, [&] {
    added = read_model_added_users(c.model, saved, string_users ? 1 : 0);
    std::unordered_map<std::string, std::int64_t> index;
    for (std::int64_t a = 0; a < added.count(); ++a) index.emplace(added.ids[a], a);
    for (std::int64_t u = 0; u < users; ++u) {
      if (in_dataset[u]) continue;
      const std::string id = canonical_id(fold.users[u], !string_users);
      const auto found = index.find(id);
      if (fold.history.degree(u) == 0) {
        // Nothing to solve from: an added user keeps its factors, a new one is not added.
        ++(found == index.end() ? result.not_added : result.kept);
        continue;
      }
      const std::vector<std::int32_t> items(fold.history.indices.begin() + fold.history.indptr[u],
                                            fold.history.indices.begin() + fold.history.indptr[u + 1]);
      if (found != index.end()) {
        added.replace(found->second, all.row(u), items);
        ++result.added_updated;
        continue;
      }
      std::int64_t value = 0;
      const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
      if (!string_users && (ec != std::errc() || end != id.data() + id.size()))
        throw Error(c.fold_in + ": user id '" + id + "' is not an integer, as the user ids of " + c.data +
                    " are: it cannot be added to the model");
      index.emplace(id, added.count());
      added.append(id, all.row(u), items);
      ++result.added;
    }
    if (saved.users + added.count() > INT32_MAX)
      throw Error(c.fold_in + ": " + std::to_string(added.count()) + " added users would pass 2^31 - 1 users");
  });

  const PerSide<SideLayout> layouts{SideLayout(m.train.user_blocks, comm.size()),
                                    SideLayout(m.train.item_blocks, comm.size())};
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    create_factor_subdirs(model_out.staging());
    const std::string metrics = c.model + "/metrics.jsonl";
    if (std::filesystem::is_regular_file(metrics))
      write_file_atomic(model_out.staging() + "/metrics.jsonl", read_text_file(metrics));
  });
  const PerSide<RowCounts> counts_view{RowCounts{own.first_row, in.ratings.users}, RowCounts{0, in.ratings.items}};
  publish_factor_dir(comm, model_out, FactorView{m, layouts, in.tables, counts_view}, [&](const BlockChecksums& sums) {
    nlohmann::json state = nlohmann::json::parse(state_text);
    state.erase("checksum");
    state["format"] = "dals-model";
    for (Side side : kBothSides) {
      nlohmann::json list = nlohmann::json::array();
      for (const std::uint64_t sum : sums[side]) list.push_back(to_hex(sum));
      state["block_checksums"][side_name(side)] = list;
    }
    // Rank 0 writes the added users beside the blocks before COMPLETE.
    state.erase("added_users");
    if (added.count() > 0) {
      const std::uint64_t sum = write_added_users(model_out.staging() + "/" + kAddedUsersFile, added);
      state["added_users"] = {{"count", added.count()}, {"checksum", to_hex(sum)}};
    }
    state["fold_in"] = {{"model", c.model},
                        {"file", c.fold_in},
                        {"users_updated", result.updated},
                        {"users_kept_without_known_items", result.kept},
                        {"users_added", result.added},
                        {"added_users_updated", result.added_updated},
                        {"users_not_added_without_known_items", result.not_added},
                        {"added_users", added.count()}};
    // As run_state.cpp seals a state.json: the checksum of every other field.
    const std::string body = state.dump();
    state["checksum"] = to_hex(checksum64(body.data(), body.size()));
    return state.dump(1) + "\n";
  });
  return result;
}

}  // namespace dals::recommend_internal
