#include "dals/train/validation_split.hpp"

#include "dals/core/rng.hpp"

namespace dals {

namespace {
// The hash's salt: dals-import's test split uses 3, dals-partition's 3 and
// 4, so a validation split is independent of a test split of the same seed.
constexpr std::uint64_t kValidationSalt = 11;
}  // namespace

bool is_validation_rating(std::uint64_t seed, double fraction, std::int64_t user, std::int64_t item) {
  return to_unit(key_hash(seed, kValidationSalt, static_cast<std::uint64_t>(user), static_cast<std::uint64_t>(item))) <
         fraction;
}

CsrBlock split_off_validation(CsrBlock& block, Side side, std::uint64_t seed, double fraction) {
  CsrBlock held;
  held.first_row = block.first_row;
  held.num_cols = block.num_cols;
  held.column_ids = block.column_ids;  // a compacted block's positions, as its own
  held.indptr.assign(1, 0);
  if (fraction <= 0) {
    held.indptr.assign(static_cast<std::size_t>(block.rows()) + 1, 0);
    return held;
  }
  // Compacted in place: the kept entries move forward, never past a read.
  std::int64_t kept = 0;
  for (std::int64_t r = 0; r < block.rows(); ++r) {
    const std::int64_t begin = block.indptr[r], end = block.indptr[r + 1];
    block.indptr[r] = kept;
    for (std::int64_t p = begin; p < end; ++p) {
      const std::int64_t row = block.first_row + r, col = block.column(p);
      const bool held_out = side == Side::users ? is_validation_rating(seed, fraction, row, col)
                                                : is_validation_rating(seed, fraction, col, row);
      if (held_out) {
        held.indices.push_back(block.indices[p]);
        held.values.push_back(block.values[p]);
      } else {
        block.indices[kept] = block.indices[p];
        block.values[kept] = block.values[p];
        ++kept;
      }
    }
    held.indptr.push_back(static_cast<std::int64_t>(held.indices.size()));
  }
  block.indptr[block.rows()] = kept;
  block.indices.resize(kept);
  block.values.resize(kept);
  block.indices.shrink_to_fit();
  block.values.shrink_to_fit();
  return held;
}

}  // namespace dals
