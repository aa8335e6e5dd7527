#pragma once
/// @file lists_h5.hpp
/// @brief Top-K lists as an HDF5 file (dals-recommend --format hdf5).
///
///     part-RRRRR.h5 / recommendations.h5 (--merge): one entry per line
///       attributes  format "dals-recommendations", lines, user_id_type and
///                   item_id_type ("int64" | "string", as the dataset's id
///                   maps hold them)
///       user_dense  int64    dense user id
///       item_dense  int32    dense item id
///       rank        int32    1 the best
///       score       float32  the score the text formats print
///       user        int64    raw user id (user_id_type int64), or
///       user_offsets, user_bytes  int64 lines + 1 offsets into char bytes
///                   (string ids, as the dataset's string id blocks)
///       item / item_offsets, item_bytes   likewise
///
/// Every array carries H5File's checksum attribute.

#include <cstdint>
#include <string>
#include <vector>

#include "dals/data/dataset.hpp"
#include "dals/recommend/lists.hpp"

namespace dals {

/// One column of raw ids, integers or strings.
struct RawIdColumn {
  bool strings = false;
  std::vector<std::int64_t> ints;  ///< !strings: one per line
  StringIds texts;                 ///< strings: one per line
  std::int64_t size() const { return strings ? texts.size() : static_cast<std::int64_t>(ints.size()); }
  /// Appends one id given as text (an integer's decimal text when !strings;
  /// Error if it is not one).
  void push_back(const std::string& text);
  /// Appends `other`'s ids (of the same kind; Error otherwise).
  void append(const RawIdColumn& other);
};

/// What one list file holds.
struct ListFile {
  ListRows rows;
  RawIdColumn user, item;
  /// Appends `other`'s lines (the parts of --merge, in rank order).
  void append(const ListFile& other);
};

/// Writes `f` to `path` (created or truncated); Error naming the path.
void write_list_file(const std::string& path, const ListFile& f);

/// Reads and checks a list file (sizes, offsets, id types); Error naming
/// the path and what is wrong.
ListFile read_list_file(const std::string& path);

}  // namespace dals
