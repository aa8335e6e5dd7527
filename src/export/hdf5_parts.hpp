#pragma once
// dals-export --format hdf5 --parts (hdf5_parts.cpp): part files per block,
// written by the ranks that own them, and model.h5 as virtual datasets
// over them.
#include <string>
#include <vector>

#include "dals/checkpoint/run_state.hpp"
#include "dals/core/types.hpp"
#include "dals/data/manifest.hpp"
#include "dals/mpi/comm.hpp"

namespace dals::export_internal {

struct PartsSummary {
  PerSide<std::int64_t> trained_rows{0, 0};  ///< this rank's blocks' (sum them over ranks)
  PerSide<bool> string_ids{false, false};
};

/// This rank's blocks of both sides (the training's layout over P) as
/// STAGING/parts/{users,items}-BBBBB.h5, each checked as dals-train reads
/// it (ranges, k, checksums against state.json); rank 0 also the users
/// fold-in added, as parts/added_users.h5. Error naming the file.
PartsSummary write_parts(const Comm& comm, const std::string& model_dir, const std::string& data_dir, const Manifest& m,
                         const SavedState& state, bool with_item_bias, const std::string& staging);

/// PATH (model.h5): every array a virtual dataset over the parts, then
/// global_mean and the attributes, as in the single file.
void write_virtual_model(const std::string& path, const Manifest& m, const SavedState& state, bool with_item_bias,
                         const PerSide<bool>& string_ids);

/// The part files' names, relative to OUT, in the order of the manifest
/// (and parts/added_users.h5 last where the model has added users).
std::vector<std::string> part_files(const Manifest& m, const SavedState& state);

}  // namespace dals::export_internal
