#include "dals/data/csr.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dals/core/error.hpp"

namespace dals {

void CsrBlock::validate(const std::string& where) const {
  if (indptr.empty()) throw Error(where + ": indptr is empty");
  if (indptr.front() != 0) throw Error(where + ": indptr does not start at 0");
  if (indptr.back() != nnz())
    throw Error(where + ": indptr ends at " + std::to_string(indptr.back()) + " but there are " +
                std::to_string(nnz()) + " indices");
  if (values.size() != indices.size())
    throw Error(where + ": " + std::to_string(values.size()) + " values for " + std::to_string(indices.size()) +
                " indices");
  if (num_cols < 0 || (!compacted() && num_cols > std::numeric_limits<std::int32_t>::max()))
    throw Error(where + ": column count " + std::to_string(num_cols) + " out of range");
  for (std::size_t i = 0; i < column_ids.size(); ++i)
    if (column_ids[i] < 0 || column_ids[i] >= num_cols || (i > 0 && column_ids[i] <= column_ids[i - 1]))
      throw Error(where + ": compacted column ids not increasing within [0, " + std::to_string(num_cols) + ")");
  if (column_ids.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw Error(where + ": " + std::to_string(column_ids.size()) + " distinct columns, more than 2^31 - 1");
  const std::int64_t positions = compacted() ? static_cast<std::int64_t>(column_ids.size()) : num_cols;
  // All of indptr first: starting at 0, ending at nnz and monotone, every
  // row's range then lies inside indices and values.
  for (std::int64_t r = 0; r < rows(); ++r)
    if (indptr[r + 1] < indptr[r])
      throw Error(where + ": indptr is not monotone at row " + std::to_string(first_row + r));
  for (std::int64_t r = 0; r < rows(); ++r) {
    const std::int64_t begin = indptr[r], end = indptr[r + 1];
    for (std::int64_t p = begin; p < end; ++p) {
      const std::int32_t c = indices[p];
      if (c < 0 || c >= positions)
        throw Error(where + ": index " + std::to_string(c) + " out of range [0, " + std::to_string(positions) +
                    ") in row " + std::to_string(first_row + r));
      if (p > begin && c <= indices[p - 1])
        throw Error(where + ": indices not strictly increasing in row " + std::to_string(first_row + r));
      if (!std::isfinite(values[p])) throw Error(where + ": non-finite value in row " + std::to_string(first_row + r));
    }
  }
}

std::int64_t CsrBlock::column_bound(std::int64_t id) const {
  if (!compacted()) return std::clamp<std::int64_t>(id, 0, std::numeric_limits<std::int32_t>::max());
  return std::lower_bound(column_ids.begin(), column_ids.end(), id) - column_ids.begin();
}

void CsrBlock::append(const CsrBlock& next) {
  if (compacted() || next.compacted()) throw Error("internal: appending compacted blocks");
  if (next.first_row != first_row + rows())
    throw Error("internal: appending block starting at row " + std::to_string(next.first_row) + " after row " +
                std::to_string(first_row + rows()));
  const std::int64_t base = nnz();
  for (std::int64_t r = 1; r <= next.rows(); ++r) indptr.push_back(base + next.indptr[r]);
  indices.insert(indices.end(), next.indices.begin(), next.indices.end());
  values.insert(values.end(), next.values.begin(), next.values.end());
}

void CsrBlock::reserve(std::int64_t rows, std::int64_t nnz) {
  indptr.reserve(static_cast<std::size_t>(rows) + 1);
  indices.reserve(static_cast<std::size_t>(nnz));
  values.reserve(static_cast<std::size_t>(nnz));
}

CsrBlock csr_from_triplets(std::int64_t first_row, std::int64_t rows, std::int64_t num_cols,
                           std::vector<Triplet> triplets) {
  std::sort(triplets.begin(), triplets.end(),
            [](const Triplet& a, const Triplet& b) { return a.row != b.row ? a.row < b.row : a.col < b.col; });
  WideCsrBlock wide;  // ids of 32 bits go straight into a CsrBlock; wider ones through this
  CsrBlock block;
  const bool narrow = num_cols <= std::numeric_limits<std::int32_t>::max();
  block.first_row = wide.first_row = first_row;
  block.num_cols = wide.num_cols = num_cols;
  std::vector<std::int64_t>& indptr = narrow ? block.indptr : wide.indptr;
  std::vector<float>& values = narrow ? block.values : wide.values;
  indptr.assign(rows + 1, 0);
  (narrow ? block.indices.reserve(triplets.size()) : wide.indices.reserve(triplets.size()));
  values.reserve(triplets.size());
  for (std::size_t t = 0; t < triplets.size(); ++t) {
    const Triplet& e = triplets[t];
    if (e.row < first_row || e.row >= first_row + rows)
      throw Error("internal: triplet row " + std::to_string(e.row) + " outside block");
    if (t > 0 && e.row == triplets[t - 1].row && e.col == triplets[t - 1].col)
      throw Error("duplicate rating for (" + std::to_string(e.row) + ", " + std::to_string(e.col) + ")");
    indptr[e.row - first_row + 1]++;
    if (narrow)
      block.indices.push_back(static_cast<std::int32_t>(e.col));
    else
      wide.indices.push_back(e.col);
    values.push_back(e.value);
  }
  for (std::int64_t r = 0; r < rows; ++r) indptr[r + 1] += indptr[r];
  return narrow ? block : compact_columns(std::move(wide));
}

std::vector<Triplet> csr_to_triplets(const CsrBlock& block) {
  std::vector<Triplet> out;
  out.reserve(block.nnz());
  for (std::int64_t r = 0; r < block.rows(); ++r)
    for (std::int64_t p = block.indptr[r]; p < block.indptr[r + 1]; ++p)
      out.push_back({block.first_row + r, block.column(p), block.values[p]});
  return out;
}

void WideCsrBlock::validate(const std::string& where) const {
  if (indptr.empty()) throw Error(where + ": indptr is empty");
  if (indptr.front() != 0) throw Error(where + ": indptr does not start at 0");
  if (indptr.back() != nnz())
    throw Error(where + ": indptr ends at " + std::to_string(indptr.back()) + " but there are " +
                std::to_string(nnz()) + " indices");
  if (values.size() != indices.size())
    throw Error(where + ": " + std::to_string(values.size()) + " values for " + std::to_string(indices.size()) +
                " indices");
  if (num_cols < 0) throw Error(where + ": column count " + std::to_string(num_cols) + " out of range");
  for (std::int64_t r = 0; r < rows(); ++r)
    if (indptr[r + 1] < indptr[r])
      throw Error(where + ": indptr is not monotone at row " + std::to_string(first_row + r));
  for (std::int64_t r = 0; r < rows(); ++r)
    for (std::int64_t p = indptr[r]; p < indptr[r + 1]; ++p) {
      if (indices[p] < 0 || indices[p] >= num_cols)
        throw Error(where + ": index " + std::to_string(indices[p]) + " out of range [0, " + std::to_string(num_cols) +
                    ") in row " + std::to_string(first_row + r));
      if (p > indptr[r] && indices[p] <= indices[p - 1])
        throw Error(where + ": indices not strictly increasing in row " + std::to_string(first_row + r));
      if (!std::isfinite(values[p])) throw Error(where + ": non-finite value in row " + std::to_string(first_row + r));
    }
}

void WideCsrBlock::append(const WideCsrBlock& next) {
  if (next.first_row != first_row + rows())
    throw Error("internal: appending block starting at row " + std::to_string(next.first_row) + " after row " +
                std::to_string(first_row + rows()));
  const std::int64_t base = nnz();
  for (std::int64_t r = 1; r <= next.rows(); ++r) indptr.push_back(base + next.indptr[r]);
  indices.insert(indices.end(), next.indices.begin(), next.indices.end());
  values.insert(values.end(), next.values.begin(), next.values.end());
}

CsrBlock compact_columns(WideCsrBlock wide) {
  CsrBlock block;
  block.first_row = wide.first_row;
  block.num_cols = wide.num_cols;
  block.column_ids = wide.indices;
  std::sort(block.column_ids.begin(), block.column_ids.end());
  block.column_ids.erase(std::unique(block.column_ids.begin(), block.column_ids.end()), block.column_ids.end());
  block.column_ids.shrink_to_fit();  // 8 bytes a distinct id, not a rating, from here on
  if (block.column_ids.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw Error("the ratings of one rank's blocks reference " + std::to_string(block.column_ids.size()) +
                " distinct rows of the other side, more than 2^31 - 1: run on more ranks");
  block.indices.resize(wide.indices.size());
  for (std::size_t p = 0; p < wide.indices.size(); ++p)
    block.indices[p] = static_cast<std::int32_t>(
        std::lower_bound(block.column_ids.begin(), block.column_ids.end(), wide.indices[p]) - block.column_ids.begin());
  std::vector<std::int64_t>().swap(wide.indices);
  block.indptr = std::move(wide.indptr);
  block.values = std::move(wide.values);
  // No rating references nothing: an empty list means "not compacted", so a
  // block without ratings keeps a placeholder id (no position refers to it).
  if (block.column_ids.empty() && block.num_cols > 0) block.column_ids.push_back(0);
  return block;
}

WideCsrBlock widen_columns(const CsrBlock& block) {
  WideCsrBlock wide;
  wide.first_row = block.first_row;
  wide.num_cols = block.num_cols;
  wide.indptr = block.indptr;
  wide.indices.resize(block.indices.size());
  for (std::int64_t p = 0; p < block.nnz(); ++p) wide.indices[p] = block.column(p);
  wide.values = block.values;
  return wide;
}

CsrBlock expand_columns(CsrBlock block, const std::string& where) {
  if (!block.compacted()) return block;
  if (block.num_cols > std::numeric_limits<std::int32_t>::max())
    throw Error(where + ": the other side has " + std::to_string(block.num_cols) +
                " rows; this reads 32-bit ids (fewer than 2^31 rows), and only dals-train, with that side routed, "
                "reads more");
  for (std::int32_t& c : block.indices) c = static_cast<std::int32_t>(block.column_ids[c]);
  std::vector<std::int64_t>().swap(block.column_ids);
  return block;
}

}  // namespace dals
