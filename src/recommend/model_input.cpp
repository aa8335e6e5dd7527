// What every mode of dals-recommend reads: the model checked against the
// dataset, a rank's rows, and the part files it writes.
#include "model_input.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/model_io.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/inspect.hpp"

namespace dals::recommend_internal {

namespace fs = std::filesystem;

ModelInfo read_checked_model(const RecommendConfig& c, const Manifest& m) {
  if (!fs::exists(c.model + "/COMPLETE")) throw Error(c.model + ": not a complete model (no COMPLETE file)");
  const std::string path = c.model + "/state.json";
  ModelInfo info;
  info.state = parse_state(read_text_file(path), path);
  const SavedState& s = info.state;
  if (s.fingerprint != m.fingerprint)
    throw Error(path + ": dataset fingerprint " + s.fingerprint + " is not that of " + c.data + " (" + m.fingerprint +
                "): the model was trained on another dataset");
  // The fingerprint covers the shape; block ranges too, but a hand-edited
  // state.json could still disagree, and the blocks are read by them.
  const PerSide<const std::vector<std::int64_t>*> firsts{&s.user_block_firsts, &s.item_block_firsts};
  for (Side side : kBothSides) {
    const auto& blocks = m.train.blocks(side);
    bool same = firsts[side]->size() == blocks.size();
    for (std::size_t b = 0; same && b < blocks.size(); ++b) same = (*firsts[side])[b] == blocks[b].first;
    if (!same || s.users != m.users || s.items != m.items)
      throw Error(path + ": its " + side_name(side) + " blocks are not those of " + c.data + "/manifest.json");
  }
  info.implicit = nlohmann::json::parse(s.hyperparameters).value("feedback", "explicit") == "implicit";
  return info;
}

void read_factor_blocks(const RecommendConfig& c, const Manifest& m, const SavedState& s, Side side, int first_block,
                        int end_block, FactorTable& table) {
  const auto& blocks = m.train.blocks(side);
  for (int b = first_block; b < end_block; ++b) {
    const std::string path = factor_block_path(c.model, side, b);
    const std::uint64_t sum = read_factor_block(path, blocks[b].first, blocks[b].rows, table);
    if (!s.blocks[side].empty()) check_block_checksum(path, s.blocks[side][b], sum);
  }
}

// One raw id per line (blank lines and a trailing \r ignored), looked up in
// the dataset: the dense ids found, sorted and without repeats.
std::vector<std::int64_t> read_id_file(const std::string& path, const std::string& data, Side side, std::int64_t& lines,
                                       std::int64_t& unknown) {
  const std::string text = read_text_file(path);
  IdLookup lookup(data, side);
  std::vector<std::int64_t> dense;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string id = text.substr(start, end - start);
    start = end + 1;
    while (!id.empty() && (id.back() == '\r' || id.back() == ' ' || id.back() == '\t')) id.pop_back();
    if (id.empty()) continue;
    ++lines;
    const auto found = lookup.dense_id(id);
    if (found)
      dense.push_back(*found);
    else
      ++unknown;
  }
  std::sort(dense.begin(), dense.end());
  dense.erase(std::unique(dense.begin(), dense.end()), dense.end());
  return dense;
}

RankInput read_rank_input(const RecommendConfig& c, const Manifest& m, const SavedState& s, const OwnedRange& own) {
  RankInput in;
  // Whole tables, rows indexed by dense id as rank_top_k takes them; only
  // this rank's user rows are read (the others stay zero).
  in.tables = PerSide<FactorTable>{FactorTable(m.users, s.factors), FactorTable(m.items, s.factors)};
  read_factor_blocks(c, m, s, Side::users, own.first_block, own.end_block, in.tables.users);
  read_factor_blocks(c, m, s, Side::items, 0, m.blocks, in.tables.items);
  const auto& blocks = m.train.user_blocks;
  in.train.first_row = own.first_row;
  in.train.num_cols = m.items;
  for (int b = own.first_block; b < own.end_block; ++b) {
    in.train.append(read_ratings_block(ratings_path(c.data, Split::train, Side::users, b), blocks[b], m.items));
    const std::string path = ids_path(c.data, Side::users, b);
    if (id_block_type(path) == "string") {
      const StringIds ids = read_string_id_block(path, blocks[b]);
      for (std::int64_t r = 0; r < ids.size(); ++r) in.user_ids.emplace_back(ids.at(r));
    } else {
      for (const std::int64_t v : read_id_block(path, blocks[b])) in.user_ids.push_back(std::to_string(v));
    }
  }
  in.item_ids = raw_id_texts(c.data, m, Side::items);
  return in;
}

std::string part_name(int rank, const std::string& format) {
  char name[32];
  std::snprintf(name, sizeof name, "part-%05d.", rank);
  return name + format;
}

void write_part(const std::string& path,
                const std::function<void(const std::function<void(const std::string&)>&)>& fill) {
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file) throw Error(path + ": cannot create: " + std::strerror(errno));
  fill([&](const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size())
      throw Error(path + ": cannot write: " + std::strerror(errno));
  });
  if (std::fclose(file.release()) != 0) throw Error(path + ": cannot write: " + std::strerror(errno));
}

}  // namespace dals::recommend_internal
