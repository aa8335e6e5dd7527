#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "dals/train/evaluation.hpp"

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

// Every width class of the dot (whole vectors of 16, a tail, both): the
// prediction within a float sum's rounding bound of the product in double,
// and the same for the same pair of rows wherever they sit in the tables.
TEST(Predict, FactorDotMatchesDoubleSumsForAnyK) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (int k = 1; k <= 70; ++k) {
    FactorTable users(3, k), items(2, k);
    for (int i = 0; i < 3; ++i)
      for (int d = 0; d < k; ++d) users.row(i)[d] = normal(gen);
    for (int j = 0; j < 2; ++j)
      for (int d = 0; d < k; ++d) items.row(j)[d] = normal(gen);
    for (int d = 0; d < k; ++d) users.row(2)[d] = users.row(0)[d];
    double exact = 0, magnitude = 0;
    for (int d = 0; d < k; ++d) {
      const double term = static_cast<double>(users.row(0)[d]) * items.row(1)[d];
      exact += term, magnitude += std::abs(term);
    }
    const double got = predict(users, items, 0, 1, 0.0, true, true);
    EXPECT_NEAR(got, exact, 2.0 * (k + 1) * std::ldexp(1.0, -24) * magnitude) << "k=" << k;
    EXPECT_EQ(predict(users, items, 2, 1, 0.0, true, true), got) << "k=" << k;
  }
}

TEST(Evaluation, ErrorAndRegularizerOverLocalRows) {
  FactorTable users(2, 1), items(2, 1);
  users.row(0)[0] = 1.f;  // b = 0
  users.row(1)[0] = 2.f;  // row without ratings: not regularized
  items.row(0)[0] = 0.5f;
  items.row(1)[0] = 1.f;
  CsrBlock by_user = csr_from_triplets(0, 2, 2, {{0, 0, 3.f}, {0, 1, 4.f}});
  std::vector<std::uint8_t> known_users = {1, 0}, known_items = {1, 1};
  ErrorSums e = rating_error(by_user, users, items, 3.0, known_users, known_items);
  // predictions 3.5 and 4.0: errors -0.5 and 0
  EXPECT_DOUBLE_EQ(e.squared_error, 0.25);
  EXPECT_DOUBLE_EQ(e.absolute_error, 0.5);  // the MAE's sum: |-0.5| + 0
  EXPECT_EQ(e.count, 2);
  SolveParams weighted{1, 0.5, Regularization::weighted, true};
  EXPECT_DOUBLE_EQ(regularization_value(by_user, users, weighted, 0), 0.5 * 2 * 1.0);
  SolveParams l2{1, 0.5, Regularization::l2, true};
  EXPECT_DOUBLE_EQ(regularization_value(by_user, users, l2, 0), 0.5 * 1.0);
}

}  // namespace
}  // namespace dals
