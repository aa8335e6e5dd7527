#pragma once
/// @file manifest.hpp
/// @brief DATA/manifest.json: the table of contents of a dataset.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dals/core/enum_names.hpp"
#include "dals/core/types.hpp"

namespace dals {

/// @brief What a dataset's values are: explicit ratings (stars, scores: any
/// finite value, the model predicts them) or implicit events (plays, clicks,
/// purchase counts: positive, the model ranks items by them).
enum class Feedback { ratings, events };
template <>
struct EnumNames<Feedback> {
  static constexpr std::pair<const char*, Feedback> table[] = {{"ratings", Feedback::ratings},
                                                               {"events", Feedback::events}};
};

/// @brief One block as the manifest records it.
struct BlockInfo {
  std::int64_t first = 0;      ///< first dense id of the block
  std::int64_t rows = 0;       ///< dense ids in the block
  std::int64_t nnz = 0;        ///< ratings stored in the block's file
  std::uint64_t checksum = 0;  ///< combined checksum of the block file's arrays
};

/// @brief Ratings of one split (train or test), blocked both ways.
struct SplitInfo {
  std::int64_t ratings = 0;
  std::vector<BlockInfo> user_blocks;  ///< B entries, by-user CSR files
  std::vector<BlockInfo> item_blocks;  ///< B entries, by-item CSC files
  const std::vector<BlockInfo>& blocks(Side side) const { return side == Side::users ? user_blocks : item_blocks; }
  std::vector<BlockInfo>& blocks(Side side) { return side == Side::users ? user_blocks : item_blocks; }
};

/// The most rows a side may have: 2^40, wide enough for 10^12 users. Dense
/// ids of 2^31 or more are stored as int64 (dataset.hpp); every product of
/// a row count with a row's bytes, (k + 1) 4 at k up to 2^20, stays within
/// int64.
constexpr std::int64_t kMaxSideRows = std::int64_t{1} << 40;

struct Manifest {
  static constexpr int kFormatVersion = 1;
  int version = kFormatVersion;
  std::int64_t users = 0;  ///< m
  std::int64_t items = 0;  ///< n
  int blocks = 0;          ///< B, per side
  double mean = 0.0;       ///< mu: mean of the training ratings
  /// manifest.json's "feedback"; a manifest without the key (every dataset
  /// written before it existed) holds ratings.
  Feedback feedback = Feedback::ratings;
  SplitInfo train;
  bool has_test = false;
  SplitInfo test;
  std::string fingerprint;      ///< hex hash of shape and every block checksum
  std::string provenance_json;  ///< free-form JSON object: tool, options, sources

  std::int64_t rows(Side side) const { return side == Side::users ? users : items; }

  /// Hash over the shape, the mean, the feedback kind and every block's
  /// checksum: two datasets with the same fingerprint hold the same ratings
  /// in the same layout. The feedback kind enters only when it is events, so
  /// the fingerprint of every ratings dataset (which checkpoints are bound
  /// to) is what it was before the kind was recorded.
  std::string compute_fingerprint() const;

  /// Throws Error("<where>: ...") if blocks do not tile [0, m) and [0, n),
  /// counts disagree, or the fingerprint does not match the contents.
  void validate(const std::string& where) const;
};

/// Reads and validates DIR/manifest.json.
Manifest read_manifest(const std::string& dir);

/// Parses and validates TEXT, the contents of the manifest at PATH (which
/// names it in errors): what read_manifest does once the file is read.
Manifest parse_manifest(const std::string& text, const std::string& path);

/// Whether DIR/manifest.json is a regular file holding a JSON object with
/// "format": "dals-dataset". It says what a directory is (for --force), not
/// whether the dataset is sound: read_manifest checks that.
bool has_dataset_manifest(const std::string& dir);

/// Writes DIR/manifest.json atomically (temporary name, fsync, rename).
void write_manifest(const std::string& dir, const Manifest& manifest);

}  // namespace dals
