// checksum64 guards every array on disk: a flipped bit anywhere must change
// it. The four-lane loop takes 32 bytes a step; a lane that skipped or
// repeated its 8 bytes would leave a quarter of every file unguarded, so
// every byte position of several strides and of the tail is flipped here.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "dals/core/checksum.hpp"

namespace dals {
namespace {

TEST(Checksum, EveryByteOfEveryLaneAndOfTheTailCounts) {
  for (std::size_t size : {7ul, 31ul, 32ul, 100ul, 131ul}) {
    std::vector<unsigned char> data(size);
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<unsigned char>(i * 37 + 11);
    const std::uint64_t base = checksum64(data.data(), size);
    for (std::size_t i = 0; i < size; ++i) {
      for (unsigned bit : {0u, 7u}) {
        auto flipped = data;
        flipped[i] ^= static_cast<unsigned char>(1u << bit);
        EXPECT_NE(checksum64(flipped.data(), size), base) << "size " << size << ", byte " << i << ", bit " << bit;
      }
    }
  }
}

TEST(Checksum, SwappedLanesDiffer) {
  // Bytes 0-7 and 8-15 exchanged: each lane must see its own bytes.
  std::vector<std::uint64_t> a = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<std::uint64_t> b = {2, 1, 3, 4, 6, 5, 7, 8};
  EXPECT_NE(checksum_of(std::span<const std::uint64_t>(a)), checksum_of(std::span<const std::uint64_t>(b)));
  std::vector<std::uint64_t> c = {1, 2, 4, 3, 5, 6, 8, 7};
  EXPECT_NE(checksum_of(std::span<const std::uint64_t>(a)), checksum_of(std::span<const std::uint64_t>(c)));
}

TEST(Checksum, SeedAndLengthMatter) {
  std::vector<unsigned char> zeros(64, 0);
  std::set<std::uint64_t> seen;
  for (std::size_t n = 0; n <= 64; ++n) seen.insert(checksum64(zeros.data(), n));
  EXPECT_EQ(seen.size(), 65u);  // a run of zeros of each length is its own value
  EXPECT_NE(checksum64(zeros.data(), 64, 1), checksum64(zeros.data(), 64, 0));
}

}  // namespace
}  // namespace dals
