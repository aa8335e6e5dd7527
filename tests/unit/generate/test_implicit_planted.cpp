// dals-generate --implicit plants a preference that is personal, not only
// popularity: an implicit ALS (Hu, Koren, Volinsky 2008; a dense Eigen
// reference here, not the trainer) fitted to the training events ranks the
// held-out events far better than popularity does (items by training
// count). With --implicit-pool 1 (users keep what popularity drew, the
// planted factors decide nothing) the same ALS does not: the margin comes
// from the planted preference, so the check can fail.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "dals/data/dataset.hpp"
#include "dals/data/manifest.hpp"
#include "dals/generate/generate.hpp"
#include "dals/mpi/comm.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

struct Events {
  std::int64_t users = 0, items = 0;
  std::vector<std::vector<std::pair<int, float>>> train;  // per user: (item, count)
  std::vector<std::vector<int>> test;                     // per user: held-out items
};

Events read_events(const std::string& dir) {
  const Manifest m = read_manifest(dir);
  EXPECT_EQ(m.feedback, Feedback::events);
  Events e;
  e.users = m.users;
  e.items = m.items;
  e.train.resize(m.users);
  e.test.resize(m.users);
  for (Split split : {Split::train, Split::test})
    for (int b = 0; b < m.blocks; ++b) {
      const SplitInfo& info = split == Split::train ? m.train : m.test;
      const CsrBlock block = read_ratings_block(ratings_path(dir, split, Side::users, b), info.user_blocks[b], m.items);
      for (const Triplet& t : csr_to_triplets(block)) {
        EXPECT_GE(t.value, 1.0f);
        EXPECT_EQ(t.value, std::floor(t.value));
        if (split == Split::train)
          e.train[t.row].emplace_back(static_cast<int>(t.col), t.value);
        else
          e.test[t.row].push_back(static_cast<int>(t.col));
      }
    }
  return e;
}

// Precision@10 of held-out events, training items excluded from each ranking.
template <class Score>
double precision_at_10(const Events& e, Score score) {
  double sum = 0;
  int users = 0;
  std::vector<std::pair<double, int>> ranked;
  for (std::int64_t u = 0; u < e.users; ++u) {
    if (e.test[u].empty()) continue;
    std::vector<char> seen(e.items, 0);
    for (const auto& [j, count] : e.train[u]) seen[j] = 1;
    ranked.clear();
    for (int j = 0; j < e.items; ++j)
      if (!seen[j]) ranked.emplace_back(-score(u, j), j);  // ties to the lower id
    const std::size_t k = std::min<std::size_t>(10, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + k, ranked.end());
    int hits = 0;
    for (std::size_t t = 0; t < k; ++t)
      hits += std::count(e.test[u].begin(), e.test[u].end(), ranked[t].second) > 0 ? 1 : 0;
    sum += hits / 10.0;
    ++users;
  }
  return sum / users;
}

// Implicit ALS, confidence 1 + alpha * count, exact solves.
double als_precision(const Events& e, int k) {
  const double alpha = 1.0, lambda = 0.1;
  Eigen::MatrixXd X(e.users, k), Y(e.items, k);
  for (Eigen::Index r = 0; r < X.size(); ++r) X.data()[r] = 0.01 * std::sin(1.0 + r);
  for (Eigen::Index r = 0; r < Y.size(); ++r) Y.data()[r] = 0.01 * std::cos(1.0 + r);
  std::vector<std::vector<std::pair<int, float>>> by_item(e.items);
  for (std::int64_t u = 0; u < e.users; ++u)
    for (const auto& [j, count] : e.train[u]) by_item[j].emplace_back(static_cast<int>(u), count);
  const auto half = [&](Eigen::MatrixXd& solve, const Eigen::MatrixXd& fixed, const auto& rows) {
    const Eigen::MatrixXd gram = fixed.transpose() * fixed + lambda * Eigen::MatrixXd::Identity(k, k);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      Eigen::MatrixXd a = gram;
      Eigen::VectorXd b = Eigen::VectorXd::Zero(k);
      for (const auto& [j, count] : rows[r]) {
        const double c = 1.0 + alpha * count;
        a += (c - 1.0) * fixed.row(j).transpose() * fixed.row(j);
        b += c * fixed.row(j).transpose();
      }
      solve.row(static_cast<Eigen::Index>(r)) = a.ldlt().solve(b).transpose();
    }
  };
  for (int iteration = 0; iteration < 10; ++iteration) {
    half(X, Y, e.train);
    half(Y, X, by_item);
  }
  return precision_at_10(e, [&](std::int64_t u, int j) { return X.row(u).dot(Y.row(j)); });
}

double popularity_precision(const Events& e) {
  std::vector<double> count(e.items, 0.0);
  for (const auto& row : e.train)
    for (const auto& [j, c] : row) count[j] += 1;
  return precision_at_10(e, [&](std::int64_t, int j) { return count[j]; });
}

class ImplicitPlanted : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dals-implicit-planted-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  GenerateOptions options(const std::string& name) const {
    GenerateOptions o;
    o.users = 600;
    o.items = 400;
    o.ratings = 24000;
    o.true_rank = 8;
    o.test_fraction = 0.2;
    o.blocks = 2;
    o.seed = 11;
    o.implicit = true;
    o.output = (dir_ / name).string();
    return o;
  }

  fs::path dir_;
};

TEST_F(ImplicitPlanted, AlsBeatsPopularityByAWideMargin) {
  const Comm self(MPI_COMM_SELF);
  const GenerateOptions o = options("planted");
  generate_dataset(self, o);
  const Events e = read_events(o.output);
  const double popularity = popularity_precision(e), als = als_precision(e, 8);
  std::printf("planted implicit dataset: precision@10 implicit ALS %.4f, popularity %.4f (%.2fx)\n", als, popularity,
              als / popularity);
  EXPECT_GT(als, 1.8 * popularity) << "implicit ALS precision@10 " << als << ", popularity " << popularity;
}

TEST_F(ImplicitPlanted, WithoutAChoicePopularityIsAllThereIs) {
  const Comm self(MPI_COMM_SELF);
  GenerateOptions o = options("popularity-only");
  o.implicit_pool = 1.0;
  generate_dataset(self, o);
  const Events e = read_events(o.output);
  const double popularity = popularity_precision(e), als = als_precision(e, 8);
  EXPECT_LT(als, 1.2 * popularity) << "implicit ALS precision@10 " << als << ", popularity " << popularity;
}

}  // namespace
}  // namespace dals
