#pragma once
/// @file csr.hpp
/// @brief Compressed sparse rows: the in-memory form of one side's ratings.
///
/// The same type holds a user block by rows (CSR) and an item block by
/// columns (CSC, i.e. the CSR of the transpose). Row ids are global dense ids
/// starting at first_row; column ids are dense ids of the other side, stored
/// as 32-bit integers (each side must have fewer than 2^31 rows, checked
/// when a dataset is written or read) to halve the memory of the hot arrays.

#include <cstdint>
#include <string>
#include <vector>

namespace dals {

struct Triplet {
  std::int64_t row;
  std::int64_t col;
  float value;
};

struct CsrBlock {
  std::int64_t first_row = 0;           ///< global dense id of local row 0
  std::int64_t num_cols = 0;            ///< size of the other side: every index is < num_cols
  std::vector<std::int64_t> indptr{0};  ///< rows() + 1 offsets, indptr[0] == 0
  std::vector<std::int32_t> indices;    ///< column ids, strictly increasing within a row
  std::vector<float> values;            ///< one finite value per index

  std::int64_t rows() const { return static_cast<std::int64_t>(indptr.size()) - 1; }
  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
  std::int64_t degree(std::int64_t local_row) const { return indptr[local_row + 1] - indptr[local_row]; }

  /// Throws Error("<where>: ...") naming the first violated invariant:
  /// indptr starts at 0, is monotone and ends at nnz; indices in range and
  /// strictly increasing within each row; values finite.
  void validate(const std::string& where) const;

  /// Appends the rows of `next`, which must start where this block ends.
  void append(const CsrBlock& next);
  /// Room for `rows` rows and `nnz` ratings in all, so that appends up to
  /// them never reallocate.
  void reserve(std::int64_t rows, std::int64_t nnz);
};

/// @brief Builds a block of `rows` rows from triplets whose rows lie in
/// [first_row, first_row + rows). Sorts by (row, col); duplicate pairs are an
/// Error (callers resolve duplicates before building).
CsrBlock csr_from_triplets(std::int64_t first_row, std::int64_t rows, std::int64_t num_cols,
                           std::vector<Triplet> triplets);

/// @brief All (row, col, value) entries of a block, rows as global ids.
std::vector<Triplet> csr_to_triplets(const CsrBlock& block);

}  // namespace dals
