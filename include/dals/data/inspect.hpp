#pragma once
/// @file inspect.hpp
/// @brief dals-inspect: a dataset's summary, a full check of its files, and
/// its ratings as text with raw ids.

#include <cstdio>
#include <string>
#include <vector>

#include "dals/data/dataset.hpp"
#include "dals/data/manifest.hpp"

namespace dals {

struct InspectReport {
  std::string summary;                ///< several lines: shape, blocks, balance, ids, provenance
  std::vector<std::string> problems;  ///< one line each, naming the file; empty if all is well
  int files_checked = 0;
};

/// Reads the manifest (an Error if it is unreadable or inconsistent), then
/// checks every file against it: each rating block (checksums, id ranges,
/// sortedness, finite values, the manifest's counts), that the by-user and
/// by-item blocks of each split hold the same ratings, that the training
/// mean matches, and each id block (size, type, and for indexed datasets the
/// hash order and ranges that raw -> dense lookups rely on).
///
/// Memory is one block at a time: the two orientations are compared by an
/// order-independent hash of their (user, item, value) triplets (a sum of
/// 64-bit mixes, so a difference goes unnoticed with probability ~2^-64).
InspectReport inspect_dataset(const std::string& dir);

/// Writes "raw user,raw item,rating" lines of a split, in the order of the
/// `side` blocks (by user: users in dense order, items ascending in each).
/// Raw string ids with a comma, quote or space are CSV-quoted.
void dump_ratings(const std::string& dir, Split split, Side side, std::FILE* out);

/// Raw ids of all the dense ids of one side, as text, in dense order.
std::vector<std::string> raw_id_texts(const std::string& dir, const Manifest& manifest, Side side);

}  // namespace dals
