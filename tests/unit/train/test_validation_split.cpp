// The validation split and the early-stopping rule.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "dals/data/csr.hpp"
#include "dals/train/early_stopping.hpp"
#include "dals/train/validation_split.hpp"

namespace dals {
namespace {

// Every (user, item) of a 40 x 30 grid where (u + 2 i) % 3 == 0, values u + i / 100.
std::vector<Triplet> grid(bool by_user) {
  std::vector<Triplet> t;
  for (int u = 0; u < 40; ++u)
    for (int i = 0; i < 30; ++i)
      if ((u + 2 * i) % 3 == 0) {
        const float v = static_cast<float>(u) + static_cast<float>(i) / 100.f;
        t.push_back(by_user ? Triplet{u, i, v} : Triplet{i, u, v});
      }
  return t;
}

TEST(ValidationSplit, BothCopiesOfARatingAgreeAndNothingIsLostOrDuplicated) {
  CsrBlock by_user = csr_from_triplets(0, 40, 30, grid(true));
  CsrBlock by_item = csr_from_triplets(0, 30, 40, grid(false));
  const std::int64_t all = by_user.nnz();
  const CsrBlock held_u = split_off_validation(by_user, Side::users, 5, 0.25);
  const CsrBlock held_i = split_off_validation(by_item, Side::items, 5, 0.25);
  by_user.validate("kept by user");
  held_u.validate("held by user");
  by_item.validate("kept by item");
  EXPECT_EQ(by_user.nnz() + held_u.nnz(), all);
  EXPECT_EQ(held_u.nnz(), held_i.nnz());
  EXPECT_GT(held_u.nnz(), all / 8);  // about a quarter
  EXPECT_LT(held_u.nnz(), all / 2);
  EXPECT_EQ(held_u.rows(), 40);
  // The held ratings by user, transposed, are the held ratings by item.
  std::vector<Triplet> a = csr_to_triplets(held_u), b = csr_to_triplets(held_i);
  for (Triplet& t : b) std::swap(t.row, t.col);
  ASSERT_EQ(a.size(), b.size());
  std::sort(b.begin(), b.end(),
            [](const Triplet& x, const Triplet& y) { return x.row != y.row ? x.row < y.row : x.col < y.col; });
  for (std::size_t n = 0; n < a.size(); ++n) {
    EXPECT_EQ(a[n].row, b[n].row);
    EXPECT_EQ(a[n].col, b[n].col);
    EXPECT_EQ(a[n].value, b[n].value);
    EXPECT_TRUE(is_validation_rating(5, 0.25, a[n].row, a[n].col));
  }
  for (const Triplet& t : csr_to_triplets(by_user)) EXPECT_FALSE(is_validation_rating(5, 0.25, t.row, t.col));
}

TEST(ValidationSplit, ABlockOfLaterRowsSplitsAsTheWholeDoes) {
  // Rows 20..39 alone (another rank's block) hold out the same ratings.
  std::vector<Triplet> later;
  for (const Triplet& t : grid(true))
    if (t.row >= 20) later.push_back(t);
  CsrBlock part = csr_from_triplets(20, 20, 30, later);
  const CsrBlock held = split_off_validation(part, Side::users, 9, 0.3);
  for (const Triplet& t : csr_to_triplets(held)) EXPECT_TRUE(is_validation_rating(9, 0.3, t.row, t.col));
  for (const Triplet& t : csr_to_triplets(part)) EXPECT_FALSE(is_validation_rating(9, 0.3, t.row, t.col));
}

TEST(ValidationSplit, ZeroFractionHoldsNothingAndSeedsDiffer) {
  CsrBlock by_user = csr_from_triplets(0, 40, 30, grid(true));
  const std::int64_t all = by_user.nnz();
  EXPECT_EQ(split_off_validation(by_user, Side::users, 5, 0.0).nnz(), 0);
  EXPECT_EQ(by_user.nnz(), all);
  int differ = 0;
  for (const Triplet& t : grid(true))
    differ += is_validation_rating(1, 0.5, t.row, t.col) != is_validation_rating(2, 0.5, t.row, t.col);
  EXPECT_GT(differ, 0);
}

TEST(EarlyStopping, StopsPatienceIterationsAfterTheBestAndKeepsTheEarliestOfEqualOnes) {
  EarlyStopping e(2);
  EXPECT_TRUE(e.observe(1, 0.9));
  EXPECT_TRUE(e.observe(2, 0.8));
  EXPECT_FALSE(e.observe(3, 0.8));  // equal: not better
  EXPECT_FALSE(e.should_stop(3));
  EXPECT_FALSE(e.observe(4, 0.85));
  EXPECT_TRUE(e.should_stop(4));
  EXPECT_EQ(e.best_iteration(), 2);
  EXPECT_DOUBLE_EQ(e.best_rmse(), 0.8);
  EXPECT_FALSE(e.observe(5, std::numeric_limits<double>::quiet_NaN()));
}

TEST(EarlyStopping, OffNeverStops) {
  EarlyStopping off(0);
  off.observe(1, 1.0);
  EXPECT_FALSE(off.should_stop(100));
  EarlyStopping none(3);
  EXPECT_FALSE(none.should_stop(10));  // nothing observed yet
}

}  // namespace
}  // namespace dals
