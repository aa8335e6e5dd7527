// The half-precision copy CG gathers from: IEEE binary16 rounding to nearest
// even (checked against the compiler's _Float16), zero padding to the tile
// stride, 64-byte aligned rows, biases kept in float.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>

#include "dals/solve/half_factors.hpp"
#include "dals/solve/tile_kernels.hpp"

namespace dals {
namespace {

std::uint16_t half_bits(float x) {
  const _Float16 h = static_cast<_Float16>(x);
  std::uint16_t bits;
  std::memcpy(&bits, &h, sizeof bits);
  return bits;
}

FactorTable table_of(const std::vector<float>& values, int k) {
  const std::int64_t rows = static_cast<std::int64_t>((values.size() + k - 1) / k);
  FactorTable t(rows, k);
  for (std::size_t i = 0; i < values.size(); ++i) t.row(static_cast<std::int64_t>(i / k))[i % k] = values[i];
  for (std::int64_t r = 0; r < rows; ++r) t.row(r)[k] = 0.25f * static_cast<float>(r) - 1.1f;
  return t;
}

void expect_copy_of(const HalfFactors& half, const FactorTable& table) {
  const int k = table.k();
  ASSERT_EQ(half.rows(), table.rows());
  ASSERT_EQ(half.stride(), tile_stride(k));
  // The table starts on a cache line, so every row whose width is a
  // multiple of 32 halves (k = 64: two lines) does too.
  const std::uintptr_t align = std::gcd<std::uintptr_t>(2 * half.stride(), 64);
  for (std::int64_t r = 0; r < table.rows(); ++r) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(half.row(r)) % align, 0u) << "row " << r;
    for (int d = 0; d < k; ++d) {
      const float x = table.row(r)[d];
      if (std::isnan(x)) {
        EXPECT_EQ(half.row(r)[d] & 0x7c00, 0x7c00);  // a NaN stays a NaN
        EXPECT_NE(half.row(r)[d] & 0x03ff, 0);
      } else {
        EXPECT_EQ(half.row(r)[d], half_bits(x)) << "row " << r << " col " << d << " value " << x;
      }
    }
    for (int d = k; d < half.stride(); ++d) EXPECT_EQ(half.row(r)[d], 0) << "padding of row " << r;
    EXPECT_EQ(half.biases()[r], table.row(r)[k]);
  }
}

TEST(HalfFactors, RoundsToNearestEvenLikeFloat16) {
  // Ties both ways, subnormals, values that overflow to infinity, signed
  // zeros, a NaN, and random values over many binades.
  std::vector<float> values = {1.0f,
                               1.0f + 0x1p-11f,      // tie: rounds down to even
                               1.0f + 3 * 0x1p-11f,  // tie: rounds up to even
                               1.0f + 0x1p-11f + 0x1p-20f,
                               -2.5f,
                               0.0f,
                               -0.0f,
                               3e-5f,
                               6e-8f,
                               1e-9f,
                               65504.f,
                               65520.f,  // rounds to infinity
                               -1e6f,
                               std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN()};
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> exponent(-30.f, 17.f), mantissa(-1.f, 1.f);
  while (values.size() < 16 * 40) values.push_back(mantissa(gen) * std::exp2(exponent(gen)));
  for (int k : {16, 64}) {
    const FactorTable table = table_of(values, k);
    HalfFactors half;
    half.assign(table);
    expect_copy_of(half, table);
  }
}

TEST(HalfFactors, PadsEveryWidthToTheTileStride) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.f, 0.5f);
  for (int k : {1, 10, 15, 17, 37, 160, 170}) {
    std::vector<float> values(static_cast<std::size_t>(k) * 23);
    for (float& v : values) v = normal(gen);
    const FactorTable table = table_of(values, k);
    HalfFactors half;
    half.assign(table);
    expect_copy_of(half, table);
  }
}

TEST(HalfFactors, ReusesItsStorageForASmallerTable) {
  std::vector<float> big(64 * 100, 0.5f), small(64 * 30, -0.75f);
  HalfFactors half;
  half.reserve(100, 64);
  const std::uint16_t* storage = half.data();
  half.assign(table_of(big, 64));
  EXPECT_EQ(half.data(), storage);
  const FactorTable second = table_of(small, 64);
  half.assign(second);
  EXPECT_EQ(half.data(), storage);
  expect_copy_of(half, second);
}

}  // namespace
}  // namespace dals
