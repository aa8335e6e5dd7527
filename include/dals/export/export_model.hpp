#pragma once
/// @file export_model.hpp
/// @brief A model gathered whole for export, and the three writers.
///
/// What every export format holds, read once by load_export_model: both
/// factor tables (untrained rows already zeroed), the raw ids and the
/// trained flags. Each writer turns it into one format's files.

#include <cstdint>
#include <string>
#include <vector>

#include "dals/checkpoint/run_state.hpp"
#include "dals/core/types.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/manifest.hpp"
#include "dals/solve/factors.hpp"

namespace dals {

/// The raw ids of one side: integers (ints) or strings (strings), as the
/// dataset's id maps hold them. A side whose blocks mix both (not written
/// by dals-partition, but valid) is all strings.
struct RawIds {
  bool is_string = false;
  std::vector<std::int64_t> ints;
  StringIds strings;
  std::int64_t size() const { return is_string ? strings.size() : static_cast<std::int64_t>(ints.size()); }
  std::string text(std::int64_t r) const { return is_string ? std::string(strings.at(r)) : std::to_string(ints[r]); }
};

struct ExportModel {
  SavedState state;
  bool implicit = false;
  /// Scores use the item bias (explicit models with biases), as dals-recommend's do.
  bool with_item_bias = false;
  /// Rows with no training rating: factors and bias zero here.
  PerSide<FactorTable> tables;
  PerSide<std::vector<std::uint8_t>> trained;  ///< 1: the row has training ratings
  PerSide<std::int64_t> trained_rows{0, 0};
  PerSide<RawIds> ids;
};

/// A side's raw ids are strings if any of its id blocks holds strings.
bool side_has_string_ids(const std::string& data_dir, const Manifest& m, Side side);

/// One id block of a side (checked against `info`), as strings when
/// `as_strings` (integer blocks then as their decimal text).
RawIds read_block_raw_ids(const std::string& data_dir, const BlockInfo& info, Side side, int block, bool as_strings);

/// Reads the model (every block, checked) and, from the dataset it must
/// match, the raw ids and training counts; zeroes untrained rows. One
/// process. Error naming the file on any problem.
ExportModel load_export_model(const std::string& model_dir, const std::string& data_dir);

/// OUT/model.h5 (HDF5 C API; string ids as variable-length UTF-8).
void write_hdf5_export(const std::string& path, const ExportModel& model);

/// OUT/model.npz: uncompressed .npy entries (npz_writer.hpp).
void write_npz_export(const std::string& path, const ExportModel& model);

/// OUT/users.tsv, OUT/items.tsv: a header line "id f_1 .. f_k bias", then
/// one line per trained row in dense id order, each float as the shortest
/// text that reads back as the same float32.
void write_tsv_export(const std::string& dir, const ExportModel& model);

}  // namespace dals
