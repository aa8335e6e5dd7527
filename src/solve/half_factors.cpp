#include "dals/solve/half_factors.hpp"

#include <new>

#include "dals/solve/simd_vectors.hpp"
#include "dals/solve/tile_kernels.hpp"

namespace dals {

void HalfFactors::reserve(std::int64_t rows, int k) {
  const std::size_t halves = static_cast<std::size_t>(rows) * tile_stride(k);
  if (halves > capacity_) {
    // Rows start on cache lines (a 64-factor row is exactly two of them),
    // and the table, read at random, sits in huge pages (huge_pages.hpp).
    data_.reset(static_cast<std::uint16_t*>(allocate_for_random_reads(halves * sizeof(std::uint16_t))));
    capacity_ = halves;
  }
  biases_.reserve(static_cast<std::size_t>(rows));
}

void HalfFactors::assign(const FactorTable& table, std::int64_t rows) {
  reserve(rows, table.k());
  rows_ = rows;
  k_ = table.k();
  stride_ = tile_stride(k_);
  biases_.resize(static_cast<std::size_t>(rows_));
  const int k = k_, stride = stride_;
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < rows_; ++i) {
    const float* src = table.row(table.first_row() + i);
    std::uint16_t* dst = data_.get() + i * stride;
    // Sixteen factors at a time; the last group padded with zeros (a whole
    // vector from src could run into the next row).
    for (int d = 0; d < stride; d += 16) {
      simd::Vec16 v{};
      if (d + 16 <= k)
        v = simd::load(src + d);
      else
        for (int j = 0; d + j < k; ++j) v[j] = src[d + j];
      simd::store_half(dst + d, v);
    }
    biases_[i] = src[k];
  }
}

}  // namespace dals
