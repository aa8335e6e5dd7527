#pragma once
/// @file csr.hpp
/// @brief Compressed sparse rows: the in-memory form of one side's ratings.
///
/// The same type holds a user block by rows (CSR) and an item block by
/// columns (CSC, i.e. the CSR of the transpose). Row ids are global dense ids
/// starting at first_row; column ids are dense ids of the other side, stored
/// as 32-bit integers to halve the memory of the hot arrays. Where the other
/// side has 2^31 rows or more (or a file stored its ids as int64), a block
/// is *compacted*: `column_ids` lists, sorted, the distinct dense ids its
/// ratings reference, and `indices` are positions in that list. Positions
/// keep the ids' order, so rows stay sorted and every consumer that only
/// compares or counts columns works unchanged; one that needs a dense id
/// reads column(p).

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
  /// Compacted blocks only: the dense id of each column position, strictly
  /// increasing, each < num_cols. Empty: indices are the dense ids.
  std::vector<std::int64_t> column_ids;

  std::int64_t rows() const { return static_cast<std::int64_t>(indptr.size()) - 1; }
  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
  std::int64_t degree(std::int64_t local_row) const { return indptr[local_row + 1] - indptr[local_row]; }
  bool compacted() const { return !column_ids.empty(); }
  /// The dense id of rating p's column, compacted or not.
  std::int64_t column(std::int64_t p) const { return compacted() ? column_ids[indices[p]] : indices[p]; }
  /// The least column value (id, or position of a compacted block) whose
  /// dense id is `id` or more: rows' columns below it are the ids below `id`.
  std::int64_t column_bound(std::int64_t id) const;

  /// Throws Error("<where>: ...") naming the first violated invariant:
  /// indptr starts at 0, is monotone and ends at nnz; indices in range and
  /// strictly increasing within each row; values finite; a compacted
  /// block's column_ids increasing and in range, its positions within them.
  void validate(const std::string& where) const;

  /// Appends the rows of `next`, which must start where this block ends.
  /// Neither may be compacted (compact_columns after appending instead).
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

/// @brief Ratings whose column ids need not fit 32 bits: what a block file
/// of int64 ids holds, before compact_columns makes a CsrBlock of it.
struct WideCsrBlock {
  std::int64_t first_row = 0;
  std::int64_t num_cols = 0;
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int64_t> indices;  ///< dense ids of the other side
  std::vector<float> values;

  std::int64_t rows() const { return static_cast<std::int64_t>(indptr.size()) - 1; }
  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
  /// As CsrBlock::validate, for ids of any width below num_cols.
  void validate(const std::string& where) const;
  /// Appends the rows of `next`, which must start where this block ends.
  void append(const WideCsrBlock& next);
};

/// @brief The compacted CsrBlock of `wide`'s ratings (column_ids: its
/// distinct ids, sorted). The ratings are the same; `wide` is consumed.
CsrBlock compact_columns(WideCsrBlock wide);

/// @brief The ratings of `block` with dense ids for columns.
WideCsrBlock widen_columns(const CsrBlock& block);

/// @brief `block` with its columns as dense ids again; an Error naming
/// `where` if one does not fit 32 bits.
CsrBlock expand_columns(CsrBlock block, const std::string& where);

}  // namespace dals
