// Storage for the tables read at random: aligned as promised, usable as a
// std::vector's allocator. Whether the kernel grants huge pages is its
// choice (THP may be off), so only the advice's preconditions are tested.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <numeric>
#include <vector>

#include "dals/core/huge_pages.hpp"

namespace dals {
namespace {

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

TEST(HugePages, LargeAllocationsStartOnAHugePage) {
  for (std::size_t bytes : {kHugePageBytes, kHugePageBytes + 1, 5 * kHugePageBytes + 12345}) {
    void* p = allocate_for_random_reads(bytes);
    EXPECT_EQ(address(p) % kHugePageBytes, 0u) << bytes;
    static_cast<char*>(p)[bytes - 1] = 1;  // the whole size is usable
    std::free(p);
  }
}

TEST(HugePages, SmallAllocationsStartOnACacheLine) {
  for (std::size_t bytes : {std::size_t{0}, std::size_t{1}, std::size_t{100}, kHugePageBytes - 1}) {
    void* p = allocate_for_random_reads(bytes);
    ASSERT_NE(p, nullptr) << bytes;
    EXPECT_EQ(address(p) % 64, 0u) << bytes;
    std::free(p);
  }
}

TEST(HugePages, TheMemoryModelCountsTheRounding) {
  EXPECT_EQ(bytes_for_random_reads(0), 0u);
  EXPECT_EQ(bytes_for_random_reads(1), 64u);
  EXPECT_EQ(bytes_for_random_reads(kHugePageBytes - 1), kHugePageBytes);
  EXPECT_EQ(bytes_for_random_reads(kHugePageBytes + 1), 2 * kHugePageBytes);
  EXPECT_THROW(bytes_for_random_reads(SIZE_MAX - 5), std::bad_alloc);
}

TEST(HugePages, VectorsGrowAndKeepTheirValues) {
  std::vector<float, HugePageAllocator<float>> v;
  for (int i = 0; i < 1'000'000; ++i) v.push_back(static_cast<float>(i));
  EXPECT_EQ(address(v.data()) % kHugePageBytes, 0u);
  double total = std::accumulate(v.begin(), v.end(), 0.0);
  EXPECT_EQ(total, 999999.0 * 1000000.0 / 2);
}

}  // namespace
}  // namespace dals
