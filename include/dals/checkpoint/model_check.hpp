#pragma once
/// @file model_check.hpp
/// @brief A model directory checked against the dataset it was trained on.
///
/// Tools that use a model with its dataset (for the raw ids and the training
/// ratings) must be sure the two belong together before they index one by
/// the other: a model of another dataset has other dense ids, and its rows
/// would be given the wrong raw ids without any error.

#include <string>

#include "dals/checkpoint/run_state.hpp"
#include "dals/data/manifest.hpp"

namespace dals {

/// Reads MODEL/state.json (MODEL must hold COMPLETE) and checks that it was
/// trained on the dataset of `manifest` (read from `data_dir`): the same
/// fingerprint, shape and block ranges, and MODEL/added_users.h5 present
/// exactly when state.json records added users (added_users.hpp; read and
/// checked whole by the readers that use it). Error naming the file otherwise.
SavedState read_model_state_for(const std::string& model_dir, const std::string& data_dir, const Manifest& manifest);

/// True when the hyper-parameters say feedback "implicit".
bool is_implicit_model(const SavedState& state);

}  // namespace dals
