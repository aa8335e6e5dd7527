// Which rows of a model were trained: the blocks' training_ratings, or the
// dataset's counts for a model written before the blocks recorded them.
#include "dals/checkpoint/trained_rows.hpp"

#include <optional>

#include "dals/checkpoint/model_io.hpp"
#include "dals/core/log.hpp"
#include "dals/data/dataset.hpp"

namespace dals {

std::vector<std::int64_t> dataset_training_ratings(const std::string& data_dir, const Manifest& m, Side side,
                                                   int first_block, int end_block) {
  std::vector<std::int64_t> out;
  const auto& blocks = m.train.blocks(side);
  for (int b = first_block; b < end_block; ++b) {
    // Ids of any width: the degrees are all that is read.
    const WideCsrBlock block =
        read_wide_ratings_block(ratings_path(data_dir, Split::train, side, b), blocks[b], m.rows(other(side)));
    for (std::int64_t r = 0; r < block.rows(); ++r) out.push_back(block.indptr[r + 1] - block.indptr[r]);
  }
  return out;
}

void note_counts_from_dataset(const std::string& model_dir, const std::string& data_dir) {
  static bool noted = false;  // one line per process, not per block range
  if (noted) return;
  noted = true;
  Log::info(
      "%s: written before models recorded their training ratings per row; counting them from %s's training split "
      "(with any --validation-fraction entries)",
      model_dir.c_str(), data_dir.c_str());
}

std::vector<std::int64_t> read_factor_blocks_counted(const std::string& model_dir, const std::string& data_dir,
                                                     const Manifest& m, const SavedState& s, Side side, int first_block,
                                                     int end_block, FactorTable& table) {
  const auto& blocks = m.train.blocks(side);
  std::vector<std::int64_t> counts;
  bool every_block = true;
  for (int b = first_block; b < end_block; ++b) {
    const std::string path = factor_block_path(model_dir, side, b);
    std::optional<std::vector<std::int64_t>> block_counts;
    const std::uint64_t sum = read_factor_block(path, blocks[b].first, blocks[b].rows, table, &block_counts);
    if (!s.blocks[side].empty()) check_block_checksum(path, s.blocks[side][b], sum);
    if (block_counts)
      counts.insert(counts.end(), block_counts->begin(), block_counts->end());
    else
      every_block = false;
  }
  if (every_block) return counts;
  note_counts_from_dataset(model_dir, data_dir);
  return dataset_training_ratings(data_dir, m, side, first_block, end_block);
}

}  // namespace dals
