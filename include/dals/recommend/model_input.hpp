#pragma once
/// @file model_input.hpp
/// @brief What the tools that use a model (dals-recommend, dals-eval) read:
/// the model checked against its dataset, a rank's user blocks (ratings,
/// raw ids) and factor blocks.

#include <string>
#include <vector>

#include "dals/checkpoint/run_state.hpp"
#include "dals/core/types.hpp"
#include "dals/data/csr.hpp"
#include "dals/data/manifest.hpp"
#include "dals/solve/factors.hpp"
#include "dals/train/layout.hpp"

namespace dals {

/// What a model directory says about itself, checked against the dataset.
struct CheckedModel {
  SavedState state;
  bool implicit = false;  ///< trained with --implicit (no biases, ranked by u . v)
};

/// Reads MODEL/state.json and checks it against the dataset DATA (manifest
/// `m`): a complete model (its COMPLETE file), the same fingerprint, shape
/// and block ranges. Error naming the file and what is wrong otherwise.
CheckedModel read_checked_model(const std::string& model_dir, const std::string& data_dir, const Manifest& m);

/// Reads the factor blocks [first_block, end_block) of `side` into `table`
/// (rows by dense id), each checked against the checksum state.json records.
void read_factor_blocks(const std::string& model_dir, const Manifest& m, const SavedState& s, Side side,
                        int first_block, int end_block, FactorTable& table);

/// The ratings of `split` of the user blocks `own` (by user), one CsrBlock.
CsrBlock read_user_rows(const std::string& data_dir, const Manifest& m, Split split, const OwnedRange& own);

/// The raw ids of the user blocks `own`, as text, in dense id order.
std::vector<std::string> read_user_id_texts(const std::string& data_dir, const Manifest& m, const OwnedRange& own);

}  // namespace dals
