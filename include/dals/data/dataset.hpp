#pragma once
/// @file dataset.hpp
/// @brief Files of a dataset directory: rating blocks and id maps.
///
///     DATA/manifest.json
///     DATA/by-user/block-00007.h5       CSR of block 7's users
///     DATA/by-item/block-00007.h5       CSC: the same ratings by item
///     DATA/test/by-user/..., test/by-item/...   held-out ratings (optional)
///     DATA/ids/users/block-00007.h5     dense -> raw id; ids/items likewise

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dals/core/staged_dir.hpp"
#include "dals/data/csr.hpp"
#include "dals/data/manifest.hpp"

namespace dals {

/// "block-00007.h5"
std::string block_file_name(int block);

/// Path of a rating block file of a dataset directory.
std::string ratings_path(const std::string& dir, Split split, Side side, int block);

/// Path of an id-map block file.
std::string ids_path(const std::string& dir, Side side, int block);

/// A dataset, for StagedDir's --force rule: a directory whose manifest.json
/// is a dals dataset manifest (has_dataset_manifest). Every dataset writer
/// (dals-import, dals-generate, dals-partition) publishes with it.
OutputKind dataset_output_kind();

/// Creates the sub-directories of a new dataset directory.
void create_dataset_dirs(const std::string& dir, bool with_test);

/// Writes one rating block (indptr int64, indices int32, values float32, plus
/// first_row and num_cols attributes) and returns the BlockInfo the manifest
/// must record for it. A compacted block (csr.hpp) is written with its
/// dense ids, as int64.
BlockInfo write_ratings_block(const std::string& path, const CsrBlock& block);

/// Reads one rating block and checks it against what the manifest says
/// (id range, nnz, checksum, column count) and against CsrBlock::validate().
/// Every problem is an Error naming the file. The block's columns are dense
/// ids, whichever width the file stores: a block whose other side has 2^31
/// rows or more is an Error here (read_wide_ratings_block reads it).
CsrBlock read_ratings_block(const std::string& path, const BlockInfo& expected, std::int64_t num_cols);

/// As read_ratings_block, with ids of any width (the trainer compacts them:
/// compact_columns).
WideCsrBlock read_wide_ratings_block(const std::string& path, const BlockInfo& expected, std::int64_t num_cols);

/// Whether a rating block file stores its column ids as int64.
bool ratings_block_is_wide(const std::string& path);

/// The checksum the manifest records for a block: of its offsets, its ids
/// as the file stores them (int64 for a compacted or wide block) and values.
std::uint64_t block_checksum(const CsrBlock& block);
std::uint64_t block_checksum(const WideCsrBlock& block);

/// The degree of each row of a rating block, from its offsets alone (no
/// checksum: for a planner that reads the whole block again later).
/// Offsets that do not start at 0, decrease, or end elsewhere than at the
/// manifest's nnz are an Error naming the file.
std::vector<std::int64_t> read_ratings_degrees(const std::string& path, const BlockInfo& expected);

/// Checks, from the file's size alone, that a rating block file can hold
/// what the manifest says of it ((rows + 1) offsets, nnz indices and
/// values): a reader may then size its buffers from the manifest without
/// trusting a count the files do not back. Error naming the file and both
/// sizes.
void check_ratings_block_size(const std::string& path, const BlockInfo& expected);

/// Writes the raw ids of a block's dense ids (raw_ids[d - first]).
void write_id_block(const std::string& path, std::int64_t first, const std::vector<std::int64_t>& raw_ids);

/// Reads an id-map block written by write_id_block (an Error for a string block).
std::vector<std::int64_t> read_id_block(const std::string& path, const BlockInfo& expected);

/// @brief Raw string ids of one block: id first + r is bytes[offsets[r], offsets[r + 1]).
struct StringIds {
  std::vector<std::int64_t> offsets{0};
  std::vector<char> bytes;
  std::int64_t size() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
  std::string_view at(std::int64_t r) const {
    return {bytes.data() + offsets[r], static_cast<std::size_t>(offsets[r + 1] - offsets[r])};
  }
  void push_back(std::string_view id) {
    bytes.insert(bytes.end(), id.begin(), id.end());
    offsets.push_back(static_cast<std::int64_t>(bytes.size()));
  }
};

/// A string id block (dals-partition, for ids that are not all integers):
/// attribute id_type "string", datasets raw_offsets (int64) and raw_bytes (char).
void write_string_id_block(const std::string& path, std::int64_t first, const StringIds& ids);

/// Reads a string id block, checking offsets and size against `expected`.
StringIds read_string_id_block(const std::string& path, const BlockInfo& expected);

/// The id_type attribute of an id block: "int64" or "string".
std::string id_block_type(const std::string& path);

}  // namespace dals
