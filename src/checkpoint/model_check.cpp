#include "dals/checkpoint/model_check.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/added_users.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"

namespace dals {

SavedState read_model_state_for(const std::string& model_dir, const std::string& data_dir, const Manifest& m) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) throw Error(model_dir + ": no such model directory");
  if (!fs::exists(model_dir + "/COMPLETE", ec)) throw Error(model_dir + ": not a complete model (no COMPLETE file)");
  const std::string path = model_dir + "/state.json";
  SavedState s = parse_state(read_text_file(path), path);
  if (s.fingerprint != m.fingerprint)
    throw Error(path + ": dataset fingerprint " + s.fingerprint + " is not that of " + data_dir + " (" + m.fingerprint +
                "): the model was trained on another dataset");
  // The fingerprint covers the shape and the block ranges, but a hand-edited
  // state.json could still disagree, and the blocks are read by them.
  const PerSide<const std::vector<std::int64_t>*> firsts{&s.user_block_firsts, &s.item_block_firsts};
  for (Side side : kBothSides) {
    const auto& blocks = m.train.blocks(side);
    bool same = firsts[side]->size() == blocks.size();
    for (std::size_t b = 0; same && b < blocks.size(); ++b) same = (*firsts[side])[b] == blocks[b].first;
    if (!same || s.users != m.users || s.items != m.items)
      throw Error(path + ": its " + side_name(side) + " blocks are not those of " + data_dir + "/manifest.json");
  }
  // Users fold-in added (added_users.hpp): the file exactly when recorded,
  // for every reader (those that use them read and check it whole).
  const std::string added = model_dir + "/" + kAddedUsersFile;
  if (s.added_users > 0 && !fs::is_regular_file(added, ec))
    throw Error(added + ": missing, but state.json records " + std::to_string(s.added_users) + " added users");
  if (s.added_users == 0 && fs::exists(added, ec))
    throw Error(added + ": present, but " + path + " records no added users");
  return s;
}

bool is_implicit_model(const SavedState& state) {
  const nlohmann::json h = nlohmann::json::parse(state.hyperparameters, nullptr, false);
  return h.is_object() && h.value("feedback", "explicit") == "implicit";
}

}  // namespace dals
