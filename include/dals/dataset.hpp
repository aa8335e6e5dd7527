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
#include <vector>

#include "dals/csr.hpp"
#include "dals/manifest.hpp"

namespace dals {

enum class Split { train, test };

/// "block-00007.h5"
std::string block_file_name(int block);

/// Path of a rating block file of a dataset directory.
std::string ratings_path(const std::string& dir, Split split, Side side, int block);

/// Path of an id-map block file.
std::string ids_path(const std::string& dir, Side side, int block);

/// Creates the sub-directories of a new dataset directory.
void create_dataset_dirs(const std::string& dir, bool with_test);

/// Writes one rating block (indptr int64, indices int32, values float32, plus
/// first_row and num_cols attributes) and returns the BlockInfo the manifest
/// must record for it.
BlockInfo write_ratings_block(const std::string& path, const CsrBlock& block);

/// Reads one rating block and checks it against what the manifest says
/// (id range, nnz, checksum, column count) and against CsrBlock::validate().
/// Every problem is an Error naming the file.
CsrBlock read_ratings_block(const std::string& path, const BlockInfo& expected, std::int64_t num_cols);

/// Writes the raw ids of a block's dense ids (raw_ids[d - first]).
void write_id_block(const std::string& path, std::int64_t first, const std::vector<std::int64_t>& raw_ids);

/// Reads an id-map block written by write_id_block.
std::vector<std::int64_t> read_id_block(const std::string& path, const BlockInfo& expected);

/// Combined checksum of a block's arrays, as recorded in the manifest.
std::uint64_t block_checksum(const CsrBlock& block);

}  // namespace dals
