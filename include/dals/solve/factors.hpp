#pragma once
/// @file factors.hpp
/// @brief One side's factors and biases, replicated on every rank.

#include <cstdint>
#include <vector>

#include "dals/core/huge_pages.hpp"
#include "dals/core/types.hpp"

namespace dals {

/// @brief rows x (k + 1) floats, row-major: the k factors of a row followed
/// by its bias. Keeping the bias in the row lets one all-gather move both,
/// and one memcpy gather a row together with the value its solve needs.
class FactorTable {
 public:
  FactorTable() = default;
  FactorTable(std::int64_t rows, int k) : rows_(rows), k_(k), data_(static_cast<std::size_t>(rows) * (k + 1), 0.f) {}

  std::int64_t rows() const { return rows_; }
  int k() const { return k_; }
  int stride() const { return k_ + 1; }
  float* row(std::int64_t i) { return data_.data() + i * stride(); }
  const float* row(std::int64_t i) const { return data_.data() + i * stride(); }
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
  std::int64_t rows_ = 0;
  int k_ = 0;
  // Read at random by every gather: huge pages (huge_pages.hpp).
  std::vector<float, HugePageAllocator<float>> data_;
};

}  // namespace dals
