#pragma once
/// @file added_users.hpp
/// @brief MODEL/added_users.h5: users that fold-in added to a model.
///
/// A model's factor blocks are the dataset's user blocks, by the dataset's
/// dense ids; a folded-in user the dataset lacks has no row there. dals-
/// recommend --update-model writes such users to one extra file beside the
/// blocks (rank 0 writes it: a fold-in file is small beside the model), so
/// every block and every reader of blocks stays as it is. Added user a has
/// the dense id users + a, after the dataset's, in order of first
/// appearance across the fold-ins that added them. state.json records the
/// file ("added_users": {"count", "checksum"}, inside its own checksum).
///
///     ids                int64 [a]        (id_type "int64": the dataset's user ids are integers)
///     id_offsets, id_bytes int64 [a + 1], char  (id_type "string")
///     factors            float32 [a, k]
///     biases             float32 [a]
///     training_ratings   int64 [a]        known items each was solved from (>= 1)
///     indptr, items      int64 [a + 1], int32  the items each rated (dense item ids,
///                                         increasing): never recommended to it

#include <cstdint>
#include <string>
#include <vector>

#include "dals/checkpoint/run_state.hpp"
#include "dals/data/csr.hpp"
#include "dals/solve/factors.hpp"

namespace dals {

inline constexpr const char* kAddedUsersFile = "added_users.h5";

struct AddedUsers {
  bool string_ids = false;  ///< the dataset's user ids are strings
  int k = 0;
  std::vector<std::string> ids;  ///< raw ids as text (canonical decimal for integer ids)
  std::vector<float> rows;       ///< count() rows of k factors and the bias
  std::vector<std::int64_t> training_ratings;
  std::vector<std::vector<std::int32_t>> rated;  ///< per user, increasing dense item ids

  std::int64_t count() const { return static_cast<std::int64_t>(ids.size()); }
  /// Appends a user (rated: increasing; training ratings: its size).
  void append(std::string id, const float* row, std::vector<std::int32_t> items);
  /// Replaces user a's row and items.
  void replace(std::int64_t a, const float* row, std::vector<std::int32_t> items);
  /// The rows as a table of count() rows from 0.
  FactorTable table() const;
  /// The rated items as a by-user block from row 0 (values 1).
  CsrBlock rated_block(std::int64_t items) const;
};

/// Writes `added` to `path` (fsynced); returns the checksum state.json records.
std::uint64_t write_added_users(const std::string& path, const AddedUsers& added);

/// What a reader expects of the file: state.json's record and the model's shape.
struct AddedUsersExpect {
  std::int64_t count = 0;
  std::uint64_t checksum = 0;
  int k = 0;
  std::int64_t items = 0;
  int string_ids = -1;  ///< 0 or 1: must be so (the dataset's id type); -1: either
};

/// Reads and checks the file: sizes, ids (unique, of the expected type),
/// finite factors, counts, items in range, every array's checksum and the
/// whole file's against state.json's. Error naming `path` otherwise.
AddedUsers read_added_users(const std::string& path, const AddedUsersExpect& expect);

/// A model's added users: none when state.json records none (then the file
/// must be absent), else MODEL/added_users.h5 read and checked. `string_ids`
/// as in AddedUsersExpect.
AddedUsers read_model_added_users(const std::string& model_dir, const SavedState& s, int string_ids);

}  // namespace dals
