#pragma once
/// @file dataset_builder.hpp
/// @brief Writes a whole dataset from ratings held in memory.
///
/// For small inputs (tests, a CSV that fits in memory); the streaming
/// writers (dals-generate, dals-partition) produce the same layout.

#include <cstdint>
#include <string>
#include <vector>

#include "dals/data/manifest.hpp"

namespace dals {

struct RawRating {
  std::int64_t user;  ///< raw user id
  std::int64_t item;  ///< raw item id
  float value;
};

struct BuildOptions {
  int blocks = 4;
  double test_fraction = 0.0;  ///< each rating goes to the test split with this probability
  std::uint64_t seed = 1;      ///< keys the dense-id permutation and the split
  std::string provenance_json = "{}";
  Feedback feedback = Feedback::ratings;  ///< events: every value must be positive
  bool force = false;                     ///< replace an existing dataset (StagedDir's --force rule)
};

/// Assigns dense ids (a seeded hash order of the raw ids, so popular rows
/// spread over blocks), cuts blocks balanced by ratings + rows, splits off
/// the test set and writes DIR.tmp, then renames it to DIR (StagedDir: an
/// existing DIR is replaced only with options.force, and only if it is a
/// dataset or empty).
/// Duplicate (user, item) pairs are an Error. Returns the manifest written.
Manifest build_dataset(const std::string& dir, const std::vector<RawRating>& ratings, const BuildOptions& options);

}  // namespace dals
