#pragma once
/// @file trained_rows.hpp
/// @brief Which rows of a model were trained: its blocks' training_ratings.
///
/// A row with no training ratings kept its random initial factors; tools
/// that score, rank or export rows must know which those are. The model's
/// blocks record each row's count (model_io.hpp); a model written before
/// they did has none, and its counts are then taken from the dataset's
/// training split (which then still includes what --validation-fraction
/// held out of the solves: the dataset does not know the split).

#include <cstdint>
#include <string>
#include <vector>

#include "dals/checkpoint/run_state.hpp"
#include "dals/core/types.hpp"
#include "dals/data/manifest.hpp"
#include "dals/solve/factors.hpp"

namespace dals {

/// Training ratings per row of blocks [first_block, end_block) of `side`,
/// counted from the dataset's training blocks of that side (by-user or
/// by-item): element id - blocks[first_block].first.
std::vector<std::int64_t> dataset_training_ratings(const std::string& data_dir, const Manifest& m, Side side,
                                                   int first_block, int end_block);

/// Reads the factor blocks [first_block, end_block) of `side` into `table`
/// (rows by dense id, each block checked against state.json's checksum) and
/// returns their rows' training ratings (element id - blocks[first_block].first):
/// the model's, or, for a model whose blocks lack them, the dataset's
/// (Log::info says so once per process). Error naming the file on any
/// problem.
std::vector<std::int64_t> read_factor_blocks_counted(const std::string& model_dir, const std::string& data_dir,
                                                     const Manifest& m, const SavedState& s, Side side, int first_block,
                                                     int end_block, FactorTable& table);

/// Logs, once per process, that `model_dir` predates training_ratings and
/// its trained rows come from `data_dir`.
void note_counts_from_dataset(const std::string& model_dir, const std::string& data_dir);

}  // namespace dals
