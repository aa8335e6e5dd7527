#include "dals/recommend/model_input.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/model_check.hpp"
#include "dals/checkpoint/model_io.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"

namespace dals {

namespace fs = std::filesystem;

CheckedModel read_checked_model(const std::string& model_dir, const std::string& data_dir, const Manifest& m) {
  CheckedModel info;
  info.state = read_model_state_for(model_dir, data_dir, m);  // checkpoint/model_check, shared with dals-export
  info.implicit = is_implicit_model(info.state);
  return info;
}

void read_factor_blocks(const std::string& model_dir, const Manifest& m, const SavedState& s, Side side,
                        int first_block, int end_block, FactorTable& table) {
  const auto& blocks = m.train.blocks(side);
  for (int b = first_block; b < end_block; ++b) {
    const std::string path = factor_block_path(model_dir, side, b);
    const std::uint64_t sum = read_factor_block(path, blocks[b].first, blocks[b].rows, table);
    if (!s.blocks[side].empty()) check_block_checksum(path, s.blocks[side][b], sum);
  }
}

CsrBlock read_user_rows(const std::string& data_dir, const Manifest& m, Split split, const OwnedRange& own) {
  const auto& blocks = (split == Split::train ? m.train : m.test).user_blocks;
  CsrBlock rows;
  rows.first_row = own.first_row;
  rows.num_cols = m.items;
  for (int b = own.first_block; b < own.end_block; ++b)
    rows.append(read_ratings_block(ratings_path(data_dir, split, Side::users, b), blocks[b], m.items));
  return rows;
}

std::vector<std::string> read_user_id_texts(const std::string& data_dir, const Manifest& m, const OwnedRange& own) {
  std::vector<std::string> out;
  const auto& blocks = m.train.user_blocks;
  for (int b = own.first_block; b < own.end_block; ++b) {
    const std::string path = ids_path(data_dir, Side::users, b);
    if (id_block_type(path) == "string") {
      const StringIds ids = read_string_id_block(path, blocks[b]);
      for (std::int64_t r = 0; r < ids.size(); ++r) out.emplace_back(ids.at(r));
    } else {
      for (const std::int64_t v : read_id_block(path, blocks[b])) out.push_back(std::to_string(v));
    }
  }
  return out;
}

}  // namespace dals
