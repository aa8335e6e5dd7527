#include <gtest/gtest.h>

#include "dals/evaluation.hpp"

namespace dals {
namespace {

TEST(Predict, FullModelAndColdStartFallbacks) {
  FactorTable users(2, 2), items(2, 2);
  // user 0: u = (1, 2), b = 0.5; item 1: v = (3, -1), c = -0.25
  users.row(0)[0] = 1.f, users.row(0)[1] = 2.f, users.row(0)[2] = 0.5f;
  items.row(1)[0] = 3.f, items.row(1)[1] = -1.f, items.row(1)[2] = -0.25f;
  const double mu = 3.0;
  EXPECT_DOUBLE_EQ(predict(users, items, 0, 1, mu, true, true), 3.0 + 0.5 - 0.25 + (3.0 - 2.0));
  EXPECT_DOUBLE_EQ(predict(users, items, 0, 1, mu, false, true), 3.0 - 0.25);  // unknown user: mu + c_j
  EXPECT_DOUBLE_EQ(predict(users, items, 0, 1, mu, true, false), 3.0 + 0.5);   // unknown item: mu + b_i
  EXPECT_DOUBLE_EQ(predict(users, items, 0, 1, mu, false, false), 3.0);
}

TEST(Evaluation, ErrorAndRegularizerOverLocalRows) {
  FactorTable users(2, 1), items(2, 1);
  users.row(0)[0] = 1.f;   // b = 0
  users.row(1)[0] = 2.f;   // row without ratings: not regularized
  items.row(0)[0] = 0.5f;
  items.row(1)[0] = 1.f;
  CsrBlock by_user = csr_from_triplets(0, 2, 2, {{0, 0, 3.f}, {0, 1, 4.f}});
  std::vector<std::uint8_t> known_users = {1, 0}, known_items = {1, 1};
  ErrorSums e = rating_error(by_user, users, items, 3.0, known_users, known_items);
  // predictions 3.5 and 4.0: errors -0.5 and 0
  EXPECT_DOUBLE_EQ(e.squared_error, 0.25);
  EXPECT_EQ(e.count, 2);
  SolveParams weighted{1, 0.5, Regularization::weighted, true};
  EXPECT_DOUBLE_EQ(regularization_value(by_user, users, weighted), 0.5 * 2 * 1.0);
  SolveParams l2{1, 0.5, Regularization::l2, true};
  EXPECT_DOUBLE_EQ(regularization_value(by_user, users, l2), 0.5 * 1.0);
}

}  // namespace
}  // namespace dals
