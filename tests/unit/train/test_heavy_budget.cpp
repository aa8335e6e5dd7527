#include <gtest/gtest.h>

#include <algorithm>

#include "dals/train/heavy_rows.hpp"

namespace dals {
namespace {

TEST(HeavyBudget, AllowedRowsKeepTheirPartsWithinAnEighthOfTheFixedTable) {
  // k = 64: a part is 2,211 floats (8,844 B), a row 260 B. 1,000,000 fixed
  // rows over 64 blocks: 260 MB / 8 over 566,016 B of parts a heavy row.
  EXPECT_EQ(heavy_rows_allowed(1000000, 64, 64), 57);
  // The Netflix shape's users (480,189 of them) allow 27 heavy items.
  EXPECT_EQ(heavy_rows_allowed(480189, 64, 64), 27);
  // A small fixed side allows one, then none.
  EXPECT_EQ(heavy_rows_allowed(17770, 64, 64), 1);
  EXPECT_EQ(heavy_rows_allowed(1000, 64, 64), 0);
}

TEST(HeavyBudget, TheMostRatedRowsWithinTheBudget) {
  const std::vector<std::int64_t> degrees = {500, 9000, 700, 9000, 1200, 300000, 800};
  // All fit: the base stands.
  EXPECT_EQ(heavy_threshold_within_budget(degrees, 300, 7), 300);
  EXPECT_EQ(heavy_threshold_within_budget(degrees, 300, 100), 300);
  // Three allowed: 300,000 and the two of 9,000; 1,200 is the fourth.
  EXPECT_EQ(heavy_threshold_within_budget(degrees, 300, 3), 1201);
  // Two allowed: the tie at 9,000 cannot be split, so only 300,000.
  EXPECT_EQ(heavy_threshold_within_budget(degrees, 300, 2), 9001);
  EXPECT_EQ(heavy_threshold_within_budget(degrees, 300, 1), 9001);
  // None allowed: above the most rated row.
  EXPECT_EQ(heavy_threshold_within_budget(degrees, 300, 0), 300001);
  // Candidates are the degrees at or above the base: with none, the base.
  EXPECT_EQ(heavy_threshold_within_budget({300000, 150000}, 100000, 1), 150001);
  EXPECT_EQ(heavy_threshold_within_budget({}, 64, 0), 64);
  // "none" stays none.
  EXPECT_EQ(heavy_threshold_within_budget(degrees, kNoHeavyRows, 0), kNoHeavyRows);
}

TEST(HeavyBudget, TheOrderOfTheCandidatesDoesNotMatter) {
  std::vector<std::int64_t> degrees;
  for (std::int64_t d = 1000; d < 1100; ++d) degrees.push_back((d * 37) % 1000 + 1000);
  const std::int64_t t = heavy_threshold_within_budget(degrees, 1000, 10);
  std::reverse(degrees.begin(), degrees.end());
  EXPECT_EQ(heavy_threshold_within_budget(degrees, 1000, 10), t);
  std::int64_t heavy = 0;
  for (const std::int64_t d : degrees) heavy += d >= t;
  EXPECT_EQ(heavy, 10);
}

}  // namespace
}  // namespace dals
