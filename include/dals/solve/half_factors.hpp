#pragma once
/// @file half_factors.hpp
/// @brief A half-precision copy of one side's factors, the table CG gathers
/// from (--cg-precision half).
///
/// CG's half-iterations are bound by gathering the fixed side's rows from
/// memory (a Netflix-shaped user table is 125 MB, read at random). This copy
/// holds each row's k factors as IEEE binary16, padded with zeros to
/// tile_stride(k), from a 64-byte aligned start (k = 64: each row is two
/// cache lines, against the five a float row with its bias spans), and the
/// biases apart, in float.
/// Rounding to nearest even is exact and elementwise, so the copy, and every
/// result computed from it, is the same on any number of ranks or threads.
/// Factors beyond half's range (|x| > 65504) become infinite, and CG then
/// keeps the solving row's previous value and counts it (row_solver.hpp).

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "dals/core/huge_pages.hpp"
#include "dals/solve/factors.hpp"

namespace dals {

class HalfFactors {
 public:
  /// Converts every row of `table`. Keeps its storage when it is large
  /// enough, so one copy can serve both sides in turn without reallocating.
  void assign(const FactorTable& table) { assign(table, table.rows()); }
  /// Converts the first `rows` rows of `table` (a routed chunk's received rows).
  void assign(const FactorTable& table, std::int64_t rows);
  /// Reserves room for `rows` rows of k factors (at most one allocation).
  void reserve(std::int64_t rows, int k);

  std::int64_t rows() const { return rows_; }
  int k() const { return k_; }
  /// Halves from one row to the next: k rounded up to 16.
  int stride() const { return stride_; }
  const std::uint16_t* data() const { return data_.get(); }
  const std::uint16_t* row(std::int64_t i) const { return data_.get() + i * stride_; }
  const float* biases() const { return biases_.data(); }
  /// Bytes held (factors and biases), for the memory model.
  std::size_t bytes() const {
    return bytes_for_random_reads(capacity_ * sizeof(std::uint16_t)) +
           bytes_for_random_reads(biases_.capacity() * sizeof(float));
  }

 private:
  struct Free {
    void operator()(std::uint16_t* p) const { std::free(p); }
  };
  std::int64_t rows_ = 0;
  int k_ = 0, stride_ = 0;
  std::size_t capacity_ = 0;  // halves allocated
  std::unique_ptr<std::uint16_t[], Free> data_;
  std::vector<float, HugePageAllocator<float>> biases_;
};

}  // namespace dals
