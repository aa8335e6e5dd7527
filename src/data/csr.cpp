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
  if (num_cols < 0 || num_cols > std::numeric_limits<std::int32_t>::max())
    throw Error(where + ": column count " + std::to_string(num_cols) + " out of range");
  // All of indptr first: starting at 0, ending at nnz and monotone, every
  // row's range then lies inside indices and values.
  for (std::int64_t r = 0; r < rows(); ++r)
    if (indptr[r + 1] < indptr[r])
      throw Error(where + ": indptr is not monotone at row " + std::to_string(first_row + r));
  for (std::int64_t r = 0; r < rows(); ++r) {
    const std::int64_t begin = indptr[r], end = indptr[r + 1];
    for (std::int64_t p = begin; p < end; ++p) {
      const std::int32_t c = indices[p];
      if (c < 0 || c >= num_cols)
        throw Error(where + ": index " + std::to_string(c) + " out of range [0, " + std::to_string(num_cols) +
                    ") in row " + std::to_string(first_row + r));
      if (p > begin && c <= indices[p - 1])
        throw Error(where + ": indices not strictly increasing in row " + std::to_string(first_row + r));
      if (!std::isfinite(values[p])) throw Error(where + ": non-finite value in row " + std::to_string(first_row + r));
    }
  }
}

void CsrBlock::append(const CsrBlock& next) {
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
  CsrBlock block;
  block.first_row = first_row;
  block.num_cols = num_cols;
  block.indptr.assign(rows + 1, 0);
  block.indices.reserve(triplets.size());
  block.values.reserve(triplets.size());
  for (std::size_t t = 0; t < triplets.size(); ++t) {
    const Triplet& e = triplets[t];
    if (e.row < first_row || e.row >= first_row + rows)
      throw Error("internal: triplet row " + std::to_string(e.row) + " outside block");
    if (t > 0 && e.row == triplets[t - 1].row && e.col == triplets[t - 1].col)
      throw Error("duplicate rating for (" + std::to_string(e.row) + ", " + std::to_string(e.col) + ")");
    block.indptr[e.row - first_row + 1]++;
    block.indices.push_back(static_cast<std::int32_t>(e.col));
    block.values.push_back(e.value);
  }
  for (std::int64_t r = 0; r < rows; ++r) block.indptr[r + 1] += block.indptr[r];
  return block;
}

std::vector<Triplet> csr_to_triplets(const CsrBlock& block) {
  std::vector<Triplet> out;
  out.reserve(block.nnz());
  for (std::int64_t r = 0; r < block.rows(); ++r)
    for (std::int64_t p = block.indptr[r]; p < block.indptr[r + 1]; ++p)
      out.push_back({block.first_row + r, block.indices[p], block.values[p]});
  return out;
}

}  // namespace dals
