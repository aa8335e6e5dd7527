#include <gtest/gtest.h>

#include "dals/core/error.hpp"
#include "dals/data/blocking.hpp"
#include "dals/data/dataset_builder.hpp"
#include "dals/train/layout.hpp"

namespace dals {
namespace {

TEST(Layout, EveryRankGetsAContiguousNonEmptyRun) {
  const std::vector<std::int64_t> costs = {100, 1, 1, 1, 1, 1, 1, 1000};
  for (int ranks = 1; ranks <= 8; ++ranks) {
    auto cuts = split_blocks(costs, ranks);
    ASSERT_EQ(cuts.size(), static_cast<std::size_t>(ranks + 1));
    EXPECT_EQ(cuts.front(), 0);
    EXPECT_EQ(cuts.back(), 8);
    for (int r = 0; r < ranks; ++r) EXPECT_LT(cuts[r], cuts[r + 1]) << "ranks=" << ranks << " r=" << r;
  }
}

TEST(Layout, EqualCostsSplitEvenly) {
  auto cuts = split_blocks(std::vector<std::int64_t>(12, 5), 4);
  EXPECT_EQ(cuts, (std::vector<int>{0, 3, 6, 9, 12}));
}

TEST(Layout, MoreRanksThanBlocksIsAnError) { EXPECT_THROW(split_blocks({1, 2}, 3), Error); }

TEST(Layout, SideLayoutCoversAllRows) {
  std::vector<BlockInfo> blocks = {{0, 10, 50, 0}, {10, 5, 60, 0}, {15, 20, 10, 0}};
  SideLayout layout(blocks, 2);
  EXPECT_EQ(layout.of(0).first_row, 0);
  EXPECT_EQ(layout.of(1).end_row, 35);
  EXPECT_EQ(layout.of(0).end_row, layout.of(1).first_row);
  EXPECT_EQ(layout.row_counts()[0] + layout.row_counts()[1], 35);
}

TEST(Layout, BalancedCutsBalanceCost) {
  std::vector<std::int64_t> costs(1000, 1);
  for (int i = 0; i < 1000; i += 10) costs[i] = 50;  // heavy rows spread out
  auto cuts = balanced_cuts(costs, 4);
  std::int64_t total = 0;
  for (auto c : costs) total += c;
  for (int b = 0; b < 4; ++b) {
    std::int64_t sum = 0;
    for (auto i = cuts[b]; i < cuts[b + 1]; ++i) sum += costs[i];
    EXPECT_NEAR(static_cast<double>(sum), total / 4.0, total * 0.05);
  }
}

}  // namespace
}  // namespace dals
