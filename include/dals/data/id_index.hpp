#pragma once
/// @file id_index.hpp
/// @brief Raw id -> dense id, reading one id block instead of every map.
///
/// dals-partition orders dense ids by order hash (id_keys.hpp), so block b
/// holds exactly the ids whose order hash lies in [first_hash[b],
/// first_hash[b + 1]), and inside the block the ids are sorted by it. The
/// per-side index file
///
///     DATA/ids/users/index.h5   attributes id_type ("int64" | "string"),
///                               order ("dals-key-hash-v1"), seed;
///                               dataset first_hash (uint64, B entries,
///                               first_hash[0] = 0, non-decreasing)
///
/// is all a lookup needs besides that one block: hash the raw id, find its
/// block by binary search over first_hash, binary search the block. Datasets
/// without an index (dals-generate, dals-import) are searched block by block.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dals/data/dataset.hpp"
#include "dals/data/manifest.hpp"

namespace dals {

inline constexpr const char* kOrderName = "dals-key-hash-v1";

/// DATA/ids/users/index.h5 or DATA/ids/items/index.h5.
std::string id_index_path(const std::string& dir, Side side);

struct IdIndex {
  std::string id_type;                    ///< "int64" or "string"
  std::uint64_t seed = 0;                 ///< seed of the order hash
  std::vector<std::uint64_t> first_hash;  ///< B entries
  /// The block whose hash range holds `hash`.
  int block_of_hash(std::uint64_t hash) const;
};

void write_id_index(const std::string& path, const IdIndex& index);
/// Reads and checks an index (B entries, first_hash[0] = 0, non-decreasing).
IdIndex read_id_index(const std::string& path, int blocks);

/// @brief Looks raw ids up in a dataset directory; keeps the last block read.
class IdLookup {
 public:
  IdLookup(const std::string& dir, Side side);
  /// The dense id of a raw id (its text: "42", "alice"), nullopt if absent.
  std::optional<std::int64_t> dense_id(std::string_view raw);
  /// True if the dataset has an index (else lookups scan every block).
  bool indexed() const { return indexed_; }

 private:
  void load(int block);
  std::optional<std::int64_t> search_block(int block, std::string_view raw);
  std::optional<std::int64_t> search_sorted(std::uint64_t hash, std::string_view raw);

  std::string dir_;
  Side side_;
  Manifest manifest_;
  bool indexed_ = false;
  IdIndex index_;
  int loaded_ = -1;
  bool loaded_strings_ = false;
  std::vector<std::int64_t> ints_;
  StringIds strings_;
};

}  // namespace dals
