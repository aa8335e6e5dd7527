// The model, its raw ids and its trained rows, gathered whole for export.
#include <algorithm>

#include "dals/checkpoint/added_users.hpp"
#include "dals/checkpoint/model_check.hpp"
#include "dals/checkpoint/model_io.hpp"
#include "dals/checkpoint/trained_rows.hpp"
#include "dals/core/error.hpp"
#include "dals/export/export_model.hpp"

namespace dals {

namespace {

RawIds read_raw_ids(const std::string& data, const Manifest& m, Side side) {
  RawIds ids;
  ids.is_string = side_has_string_ids(data, m, side);
  for (int b = 0; b < m.blocks; ++b) {
    RawIds block = read_block_raw_ids(data, m.train.blocks(side)[b], side, b, ids.is_string);
    if (ids.is_string) {
      for (std::int64_t r = 0; r < block.size(); ++r) ids.strings.push_back(block.strings.at(r));
    } else {
      ids.ints.insert(ids.ints.end(), block.ints.begin(), block.ints.end());
    }
  }
  if (ids.size() != m.rows(side))
    throw Error(data + ": the " + side_name(side) + " id maps hold " + std::to_string(ids.size()) + " ids for " +
                std::to_string(m.rows(side)) + " rows");
  return ids;
}

// A model written before its blocks recorded training_ratings: which rows
// have training ratings, both sides from the dataset's by-user blocks
// (every one read and checked as training reads it).
PerSide<std::vector<std::uint8_t>> read_trained(const std::string& data, const Manifest& m) {
  PerSide<std::vector<std::uint8_t>> trained{std::vector<std::uint8_t>(m.users, 0),
                                             std::vector<std::uint8_t>(m.items, 0)};
  for (int b = 0; b < m.blocks; ++b) {
    const BlockInfo& info = m.train.user_blocks[b];
    const CsrBlock block = read_ratings_block(ratings_path(data, Split::train, Side::users, b), info, m.items);
    for (std::int64_t r = 0; r < block.rows(); ++r) trained.users[block.first_row + r] = block.degree(r) > 0;
    for (const std::int32_t j : block.indices) trained.items[j] = 1;
  }
  return trained;
}

// The users fold-in added (added_users.hpp), after the dataset's: their
// rows, raw ids and trained flags (each was solved from a known item).
void append_added_users(const std::string& model_dir, const AddedUsers& added, ExportModel& out) {
  if (added.count() == 0) return;
  RawIds& ids = out.ids[Side::users];
  if (added.string_ids != ids.is_string)
    throw Error(model_dir + "/" + kAddedUsersFile + ": its ids are " + (added.string_ids ? "strings" : "integers") +
                ", the dataset's user ids are not");
  const FactorTable& old = out.tables[Side::users];
  FactorTable all(old.rows() + added.count(), old.k());
  std::copy(old.data(), old.data() + old.rows() * old.stride(), all.data());
  std::copy(added.rows.begin(), added.rows.end(), all.row(old.rows()));
  out.tables[Side::users] = std::move(all);
  for (std::int64_t a = 0; a < added.count(); ++a) {
    if (ids.is_string)
      ids.strings.push_back(added.ids[a]);
    else
      ids.ints.push_back(std::stoll(added.ids[a]));
    out.trained[Side::users].push_back(1);
  }
}

}  // namespace

bool side_has_string_ids(const std::string& data, const Manifest& m, Side side) {
  for (int b = 0; b < m.blocks; ++b)
    if (id_block_type(ids_path(data, side, b)) == "string") return true;
  return false;
}

RawIds read_block_raw_ids(const std::string& data, const BlockInfo& info, Side side, int block, bool as_strings) {
  RawIds ids;
  ids.is_string = as_strings;
  const std::string path = ids_path(data, side, block);
  if (id_block_type(path) == "string") {
    ids.strings = read_string_id_block(path, info);
  } else if (as_strings) {  // integer blocks beside string ones: their decimal text
    for (const std::int64_t v : read_id_block(path, info)) ids.strings.push_back(std::to_string(v));
  } else {
    ids.ints = read_id_block(path, info);
  }
  return ids;
}

ExportModel load_export_model(const std::string& model_dir, const std::string& data_dir) {
  ExportModel out;
  const Manifest m = read_manifest(data_dir);
  out.state = read_model_state_for(model_dir, data_dir, m);
  out.implicit = is_implicit_model(out.state);
  out.with_item_bias = !out.implicit && out.state.bias;
  Model model = read_model(model_dir);
  out.tables = std::move(model.tables);
  // A row the model records no training rating for kept its random initial
  // factors (trained_rows.hpp).
  if (model.training_ratings.users && model.training_ratings.items) {
    for (Side side : kBothSides)
      for (const std::int64_t count : *model.training_ratings[side]) out.trained[side].push_back(count > 0);
  } else {
    note_counts_from_dataset(model_dir, data_dir);
    out.trained = read_trained(data_dir, m);
  }
  for (Side side : kBothSides) out.ids[side] = read_raw_ids(data_dir, m, side);
  append_added_users(model_dir, model.added, out);
  for (Side side : kBothSides) {
    FactorTable& t = out.tables[side];
    for (std::int64_t i = 0; i < t.rows(); ++i) {
      if (out.trained[side][i]) {
        ++out.trained_rows[side];
      } else {
        std::fill(t.row(i), t.row(i) + t.stride(), 0.f);
      }
    }
  }
  return out;
}

}  // namespace dals
