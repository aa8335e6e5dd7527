#pragma once
/// @file factors.hpp
/// @brief One side's factors and biases: a whole side, a rank's own rows,
/// or a compact table of received rows.

#include <cstdint>
#include <vector>

#include "dals/core/huge_pages.hpp"
#include "dals/core/types.hpp"

namespace dals {

/// @brief rows x (k + 1) floats, row-major: the k factors of a row followed
/// by its bias. Keeping the bias in the row lets one all-gather move both,
/// and one memcpy gather a row together with the value its solve needs.
///
/// A table holds rows [first_row, first_row + rows) and is indexed by their
/// ids: a replicated side from 0, a routed side's own rows (trainer.hpp)
/// from the rank's first row. The solve kernels read the fixed side from
/// data() by index, so a fixed table always starts at 0 (whole, or compact:
/// the received rows, indexed by position).
class FactorTable {
 public:
  FactorTable() = default;
  FactorTable(std::int64_t rows, int k) : FactorTable(0, rows, k) {}
  FactorTable(std::int64_t first_row, std::int64_t rows, int k)
      : first_(first_row), rows_(rows), k_(k), data_(static_cast<std::size_t>(rows) * (k + 1), 0.f) {}

  std::int64_t first_row() const { return first_; }
  std::int64_t end_row() const { return first_ + rows_; }
  std::int64_t rows() const { return rows_; }
  int k() const { return k_; }
  int stride() const { return k_ + 1; }
  float* row(std::int64_t i) { return data_.data() + (i - first_) * stride(); }
  const float* row(std::int64_t i) const { return data_.data() + (i - first_) * stride(); }
  float bias(std::int64_t i) const { return row(i)[k_]; }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  /// Bytes of the rows (the allocation holding them: bytes_for_random_reads(bytes())).
  std::size_t bytes() const { return data_.size() * sizeof(float); }

  /// Initial factors of rows [first, end): entries N(0, 1/k) drawn from the
  /// counter-based generator keyed by (seed, side, dense id, index), so they
  /// do not depend on which rank draws them. Biases start at zero.
  void init_random(std::uint64_t seed, Side side, std::int64_t first, std::int64_t end);

 private:
  std::int64_t first_ = 0;
  std::int64_t rows_ = 0;
  int k_ = 0;
  // Read at random by every gather: huge pages (huge_pages.hpp).
  std::vector<float, HugePageAllocator<float>> data_;
};

}  // namespace dals
