#include "dals/checkpoint/run_state.hpp"

#include <climits>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/json_reader.hpp"
#include "dals/core/version.hpp"
#include "dals/data/manifest.hpp"
#include "dals/train/trainer.hpp"

namespace dals {
using nlohmann::json;

std::string Progress::describe() const {
  std::string text = "iteration " + std::to_string(iterations);
  if (mid) text += " and the user half of " + std::to_string(iterations + 1);
  return text;
}

std::string state_json(const Trainer& trainer, const TrainConfig& config, const RunHistory& history, const char* format,
                       const BlockChecksums& blocks) {
  const Manifest& m = trainer.manifest();
  json ds = {{"path", config.data},
             {"fingerprint", m.fingerprint},
             {"users", m.users},
             {"items", m.items},
             {"blocks", m.blocks},
             {"mean", m.mean},
             {"train_ratings", m.train.ratings},
             // --lambda-units spread: the factors' lambda was lambda times this
             {"rating_spread", trainer.rating_spread()}};
  std::vector<std::int64_t> user_firsts, item_firsts;
  for (const auto& b : m.train.user_blocks) user_firsts.push_back(b.first);
  for (const auto& b : m.train.item_blocks) item_firsts.push_back(b.first);
  ds["user_block_firsts"] = user_firsts;
  ds["item_block_firsts"] = item_firsts;
  json metric_array = json::array();
  for (const auto& line : history.metrics) metric_array.push_back(json::parse(line));
  json block_sums = json::object();
  for (Side side : kBothSides) {
    json& list = block_sums[side_name(side)] = json::array();
    for (std::uint64_t sum : blocks[side]) list.push_back(to_hex(sum));
  }
  json state = {{"format", format},
                // 2: block checksums recorded
                {"version", 2},
                {"dals_version", kVersion},
                {"iteration", trainer.iterations_done()},
                // true: the user half of the next iteration is done too (a checkpoint taken between halves)
                {"user_half_done", trainer.mid_iteration()},
                {"target_iterations", config.iterations},
                {"hyperparameters", json::parse(config.hyperparameters_json())},
                {"dataset", ds},
                {"metrics", metric_array},
                {"resumes", json::parse(history.resumes)},
                {"block_checksums", block_sums}};
  // auto's thresholds depend on the training degrees: fold-in reads them here.
  json heavy_from = json::object();
  for (Side side : kBothSides) {
    const std::int64_t t = trainer.heavy(side).threshold();
    heavy_from[side_name(side)] = t == kNoHeavyRows ? json(nullptr) : json(t);
  }
  state["heavy_rows_from"] = heavy_from;
  // The blocks carry checksums; so does this file, whose every field counts
  // (a changed digit in "iteration" would silently skip iterations).
  state["checksum"] = to_hex(checksum64(state.dump().data(), state.dump().size()));
  return state.dump(1) + "\n";
}

SavedState parse_state(const std::string& text, const std::string& path, StateUse use) {
  SavedState s;
  json doc = parse_json_text(text, path);
  s.format = JsonReader(doc, path).get_string("format");
  if (s.format != "dals-model" && s.format != "dals-checkpoint")
    throw Error(path + ": not a dals model or checkpoint (format \"" + s.format + "\")");
  if (use == StateUse::checkpoint && s.format != "dals-checkpoint")
    throw Error(path + ": not a checkpoint (format \"" + s.format + "\")");
  const bool checkpoint = s.format == "dals-checkpoint";
  if (doc.contains("checksum")) {
    const std::string stored = JsonReader(doc, path).get_string("checksum");
    doc.erase("checksum");
    const std::string body = doc.dump(), computed = to_hex(checksum64(body.data(), body.size()));
    if (stored != computed)
      throw Error(path + ": checksum mismatch (stored " + stored + ", computed " + computed + "): the file is damaged");
  } else if (checkpoint || use != StateUse::read) {
    // Models of dals 0.1 had none: such a model may still be read (its
    // arrays carry their own checksums), never resumed, never a checkpoint.
    throw Error(path + ": no checksum" + (checkpoint ? "" : " (a model of dals 0.1 cannot be resumed)"));
  }
  const JsonReader state(doc, path);
  // 16 hex digits, as to_hex writes a checksum; `what` names it in the error.
  auto hex_of = [](const JsonReader& r, const std::string& key, const json& hex, const char* what) {
    const std::string digits = hex.is_string() ? hex.get<std::string>() : std::string();
    std::size_t used = 0;
    std::uint64_t value = 0;
    try {
      value = std::stoull(digits, &used, 16);
    } catch (const std::exception&) {
      used = 0;
    }
    if (digits.size() != 16 || used != 16) r.fail(key, "holds \"" + digits + "\", not a " + what + " of 16 hex digits");
    return value;
  };
  if (state.has("block_checksums")) {
    const JsonReader sums = state.object("block_checksums");
    for (Side side : kBothSides)
      for (const json& hex : sums.get_array(side_name(side)))
        s.blocks[side].push_back(hex_of(sums, side_name(side), hex, "block checksum"));
  } else if (checkpoint || (state.has("version") && state.get_int("version", 1, 1000) >= 2)) {
    throw Error(path + ": no block checksums");
  }
  s.progress.iterations = static_cast<int>(state.get_int("iteration", 0, INT32_MAX));
  s.progress.mid = state.get_bool("user_half_done", false);
  const JsonReader hyper = state.object("hyperparameters");
  s.hyperparameters = hyper.json_value().dump();
  s.factors = static_cast<int>(hyper.get_int("factors", 0, 4096));
  s.bias = hyper.get_bool("bias");
  const JsonReader ds = state.object("dataset");
  s.fingerprint = ds.get_string("fingerprint");
  s.users = ds.get_int("users", 1, kMaxSideRows);
  s.items = ds.get_int("items", 1, kMaxSideRows);
  s.mean = ds.get_double("mean");
  if (ds.has("rating_spread")) {  // older models: none (their lambda is absolute)
    s.rating_spread = ds.get_double("rating_spread");
    if (!(s.rating_spread > 0)) ds.fail("rating_spread", "must be > 0");
  }
  if (state.has("added_users")) {  // dals-recommend --update-model (added_users.hpp)
    const JsonReader added = state.object("added_users");
    // Dense ids users + a must stay within a side's limit.
    s.added_users = added.get_int("count", 1, kMaxSideRows - s.users);
    s.added_users_checksum = hex_of(added, "checksum", json(added.get_string("checksum")), "checksum");
  }
  if (state.has("heavy_rows_from")) {
    const JsonReader heavy = state.object("heavy_rows_from");
    for (Side side : kBothSides) {
      std::int64_t& t = side == Side::users ? s.heavy_users_from : s.heavy_items_from;
      const std::string name = side_name(side);
      t = heavy.json_value().contains(name) && heavy.json_value().at(name).is_null()
              ? kNoHeavyRows
              : heavy.get_int(name, 1, JsonReader::kMaxInt);
    }
  }
  s.user_block_firsts = ds.get_int_array("user_block_firsts", 0, kMaxSideRows);
  s.item_block_firsts = ds.get_int_array("item_block_firsts", 0, kMaxSideRows);
  for (const json& record : state.get_array("metrics")) s.history.metrics.push_back(record.dump());
  if (static_cast<int>(s.history.metrics.size()) != s.progress.iterations)
    throw Error(path + ": " + std::to_string(s.history.metrics.size()) + " metrics records for " +
                std::to_string(s.progress.iterations) + " iterations");
  s.history.resumes = state.has("resumes") ? state.get_array("resumes").dump() : "[]";
  const PerSide<std::size_t> block_count{s.user_block_firsts.size(), s.item_block_firsts.size()};
  for (Side side : kBothSides)
    if (!s.blocks[side].empty() || state.has("block_checksums"))
      if (s.blocks[side].size() != block_count[side])
        throw Error(path + ": " + std::to_string(s.blocks[side].size()) + " " + side_name(side) +
                    " block checksums for " + std::to_string(block_count[side]) + " blocks");
  return s;
}

std::string state_format(const std::string& dir) {
  std::error_code ec;
  const std::string path = dir + "/state.json";
  // Only a regular file of a plausible size is read: a FIFO would block, and
  // a huge file is no state.json of ours.
  if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) > (64u << 20) || ec)
    return "";
  try {
    const json state = json::parse(read_text_file(path));
    if (!state.is_object() || !state.contains("format") || !state.at("format").is_string()) return "";
    return state.at("format").get<std::string>();
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace dals
