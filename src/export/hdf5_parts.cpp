// dals-export --format hdf5 --parts: a model too large for one node. Each
// rank reads only the blocks it owns (the training's layout over P) and
// writes each as a part file, OUT/parts/users-BBBBB.h5 and items-BBBBB.h5,
// with the arrays model.h5 holds for those rows; rank 0 then writes
// OUT/model.h5 whose arrays are HDF5 virtual datasets over the parts (the
// same names, shapes and types as the single file: h5py, h5dump and any
// HDF5 1.10 reader see one file; the parts are found relative to model.h5's
// directory, so OUT can be moved whole). One part per dataset block, not
// per rank: the files are the same bytes for any P. The users fold-in
// added (added_users.hpp) are one more part, parts/added_users.h5, mapped
// after the dataset's users as model.h5 holds them. No rank holds more
// than its own blocks (the largest block's rows, ids and flags at a time).
#include <filesystem>

#include "dals/checkpoint/added_users.hpp"
#include "dals/checkpoint/model_check.hpp"
#include "dals/checkpoint/model_io.hpp"
#include "dals/core/error.hpp"
#include "dals/data/dataset.hpp"
#include "dals/train/layout.hpp"
#include "hdf5_parts.hpp"
#include "hdf5_writer.hpp"

namespace dals::export_internal {

namespace {

constexpr const char* kAddedPart = "parts/added_users.h5";

std::string part_name(Side side, int block) {
  char name[32];
  std::snprintf(name, sizeof name, "parts/%s-%05d.h5", side == Side::users ? "users" : "items", block);
  return name;
}

}  // namespace

PartsSummary write_parts(const Comm& comm, const std::string& model_dir, const std::string& data_dir, const Manifest& m,
                         const SavedState& state, bool with_item_bias, const std::string& staging) {
  PartsSummary summary;
  const int k = state.factors;
  for (Side side : kBothSides) {
    const bool strings = side_has_string_ids(data_dir, m, side);
    summary.string_ids[side] = strings;
    const auto& blocks = m.train.blocks(side);
    const OwnedRange own = SideLayout(blocks, comm.size()).of(comm.rank());
    for (int b = own.first_block; b < own.end_block; ++b) {
      const BlockInfo& info = blocks[b];
      const std::string path = factor_block_path(model_dir, side, b);
      FactorTable table(info.first, info.rows, k);
      std::optional<std::vector<std::int64_t>> counts;
      const std::uint64_t sum = read_factor_block(path, info.first, info.rows, table, &counts);
      if (!state.blocks[side].empty()) check_block_checksum(path, state.blocks[side][b], sum);
      if (!counts)
        throw Error(path +
                    ": no training_ratings (a model of an older dals): export it without --parts, which "
                    "takes the trained rows from the dataset");
      std::vector<std::uint8_t> trained(static_cast<std::size_t>(info.rows), 0);
      for (std::int64_t r = 0; r < info.rows; ++r) {
        trained[r] = (*counts)[r] > 0;
        if (trained[r]) {
          ++summary.trained_rows[side];
        } else {  // untrained rows are exported as zeros, as in model.h5
          std::fill(table.row(info.first + r), table.row(info.first + r) + table.stride(), 0.f);
        }
      }
      Writer w(staging + "/" + part_name(side, b));
      write_side_arrays(w, side, table, read_block_raw_ids(data_dir, info, side, b, strings), trained, k,
                        with_item_bias);
      w.close();
    }
  }
  // The users fold-in added (after the dataset's m, as in model.h5): one
  // more part, rank 0's; each was solved from a known item, so trained.
  if (comm.is_root() && state.added_users > 0) {
    const AddedUsers added = read_model_added_users(model_dir, state, summary.string_ids.users ? 1 : 0);
    FactorTable table(m.users, added.count(), k);
    std::copy(added.rows.begin(), added.rows.end(), table.row(m.users));
    RawIds ids;
    ids.is_string = summary.string_ids.users;
    for (const std::string& id : added.ids) {
      if (ids.is_string)
        ids.strings.push_back(id);
      else
        ids.ints.push_back(std::stoll(id));
    }
    const std::vector<std::uint8_t> trained(static_cast<std::size_t>(added.count()), 1);
    summary.trained_rows.users += added.count();
    Writer w(staging + "/" + kAddedPart);
    write_side_arrays(w, Side::users, table, ids, trained, k, with_item_bias);
    w.close();
  }
  return summary;
}

void write_virtual_model(const std::string& path, const Manifest& m, const SavedState& state, bool with_item_bias,
                         const PerSide<bool>& string_ids) {
  Writer w(path);
  const int k = state.factors;
  for (Side side : kBothSides) {
    const std::string s = side == Side::users ? "user" : "item";
    std::vector<Writer::Part> parts;
    for (int b = 0; b < m.blocks; ++b) {
      const BlockInfo& info = m.train.blocks(side)[b];
      parts.push_back({part_name(side, b), info.first, info.rows});
    }
    std::int64_t rows = m.rows(side);
    if (side == Side::users && state.added_users > 0) {
      parts.push_back({kAddedPart, rows, state.added_users});
      rows += state.added_users;
    }
    w.virtual_dataset(s + "_factors", H5T_NATIVE_FLOAT, rows, k, parts);
    w.virtual_dataset(s + "_bias", H5T_NATIVE_FLOAT, rows, 0, parts);
    if (string_ids[side]) {
      H5Id type = w.utf8_type();
      w.virtual_dataset(s + "_ids", type.get(), rows, 0, parts);
    } else {
      w.virtual_dataset(s + "_ids", H5T_NATIVE_INT64, rows, 0, parts);
    }
    w.virtual_dataset(s + "_trained", H5T_NATIVE_UINT8, rows, 0, parts);
    if (side == Side::items) w.virtual_dataset("item_factors_ip", H5T_NATIVE_FLOAT, rows, k + 1, parts);
  }
  write_model_attributes(w, state, with_item_bias);
  w.close();
}

std::vector<std::string> part_files(const Manifest& m, const SavedState& state) {
  std::vector<std::string> files;
  for (Side side : kBothSides)
    for (int b = 0; b < m.blocks; ++b) files.push_back(part_name(side, b));
  if (state.added_users > 0) files.push_back(kAddedPart);
  return files;
}

}  // namespace dals::export_internal
