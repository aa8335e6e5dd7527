// Spill stores: what fits stays in memory, what does not goes to disk, and
// readers see every part in append order either way.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <numeric>

#include "dals/partition/spill.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> part_paths(const ScratchDir& dir, int parts) {
  std::vector<std::string> paths;
  for (int p = 0; p < parts; ++p) paths.push_back(dir.file("part" + std::to_string(p)));
  return paths;
}

// Appends 0..n-1 round robin to `parts` parts and checks both readers.
void fill_and_check(std::uint64_t pool_bytes, bool expect_files) {
  ScratchDir dir(fs::temp_directory_path() / ("dals-spill-" + std::to_string(::getpid())));
  MemoryPool pool(pool_bytes);
  constexpr int kParts = 5;
  constexpr std::int64_t n = 200000;
  {
    SpillStore store(part_paths(dir, kParts), pool);
    for (std::int64_t v = 0; v < n; ++v) store.append(static_cast<std::size_t>(v % kParts), &v, sizeof v);
    EXPECT_EQ(pool.spilled > 0, expect_files);
    // The pool may be exceeded by the spill threshold at most.
    EXPECT_LE(pool.used, pool.cap + kParts * (64u << 10) + (1u << 20));
    for (int p = 0; p < kParts; ++p) {
      EXPECT_EQ(store.size(p), n / kParts * sizeof(std::int64_t));
      std::int64_t next = p;
      store.read<std::int64_t>(static_cast<std::size_t>(p), [&](std::span<const std::int64_t> chunk) {
        for (std::int64_t v : chunk) {
          EXPECT_EQ(v, next);
          next += kParts;
        }
      });
      EXPECT_EQ(next, n + p);
    }
    const std::vector<std::int64_t> part3 = store.take<std::int64_t>(3);
    ASSERT_EQ(part3.size(), static_cast<std::size_t>(n / kParts));
    for (std::size_t i = 0; i < part3.size(); ++i) EXPECT_EQ(part3[i], static_cast<std::int64_t>(3 + i * kParts));
    EXPECT_EQ(store.size(3), 0u);
    EXPECT_FALSE(fs::exists(store.path(3)));
  }
  EXPECT_EQ(pool.used, 0u);  // everything given back
  const std::string path = dir.path();
  dir.remove();
  EXPECT_FALSE(fs::exists(path));
}

TEST(SpillStore, StaysInMemoryWhenItFits) { fill_and_check(64 << 20, false); }

TEST(SpillStore, SpillsWhenThePoolIsFull) { fill_and_check(256 << 10, true); }

}  // namespace
}  // namespace dals
