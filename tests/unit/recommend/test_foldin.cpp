#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "dals/core/error.hpp"
#include "dals/recommend/foldin.hpp"
#include "dals/recommend/lists.hpp"
#include "dals/recommend/similar.hpp"

namespace dals {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / ("dals-foldin-" + name)).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

struct Items {
  std::vector<std::string> ids{"10", "11", "12", "13"};
  std::vector<std::uint8_t> trained{1, 1, 0, 1};  // item 12 has no training ratings
  FoldInItems view(bool integer = true) {
    FoldInItems v;
    v.ids = &ids;
    v.trained = &trained;
    v.integer_ids = integer;
    return v;
  }
};

TEST(FoldInRead, FieldsDuplicatesUnknownAndOrder) {
  Items items;
  const std::string path =
      write_temp("read.txt",
                 "# comment\n"
                 "bob,13,4.5\n"
                 "alice 11 2\r\n"
                 "\n"
                 "bob\t010  1\n"          // blanks; "010" is item 10
                 "bob,13,3,1700000000\n"  // a repeat: explicit keeps the last value; a timestamp is ignored
                 "carol,12,5\n"           // an item without training ratings: unknown
                 "alice,99,1\n");         // not an item at all
  const FoldInInput in = read_fold_in(path, items.view(), false, false);
  ASSERT_EQ(in.users, (std::vector<std::string>{"bob", "alice", "carol"}));
  EXPECT_EQ(in.entries, 6);
  EXPECT_EQ(in.unknown_entries, 2);
  ASSERT_EQ(in.history.rows(), 3);
  EXPECT_NO_THROW(in.history.validate("fold-in"));
  ASSERT_EQ(in.history.degree(0), 2);  // bob: items 10 and 13, by dense id
  EXPECT_EQ(in.history.indices[0], 0);
  EXPECT_EQ(in.history.values[0], 1.0f);
  EXPECT_EQ(in.history.indices[1], 3);
  EXPECT_EQ(in.history.values[1], 3.0f);
  EXPECT_EQ(in.history.degree(1), 1);  // alice: item 11
  EXPECT_EQ(in.history.indices[2], 1);
  EXPECT_EQ(in.history.degree(2), 0);  // carol: no known item
  std::remove(path.c_str());
}

TEST(FoldInRead, ImplicitSumsRepeatsAndDefaultsToOneEvent) {
  Items items;
  const std::string path = write_temp("implicit.txt", "u 10\nu 10 2\nu 011\n");
  const FoldInInput in = read_fold_in(path, items.view(), true, false);
  ASSERT_EQ(in.history.degree(0), 2);
  EXPECT_EQ(in.history.values[0], 3.0f);  // 1 + 2 events of item 10
  EXPECT_EQ(in.history.values[1], 1.0f);
  std::remove(path.c_str());
}

TEST(FoldInRead, StringIdsAreMatchedExactly) {
  Items items;
  const std::string path = write_temp("strings.txt", "u,010,1\nu,10,2\n");
  const FoldInInput in = read_fold_in(path, items.view(false), false, false);
  EXPECT_EQ(in.unknown_entries, 1);
  EXPECT_EQ(in.history.degree(0), 1);
  std::remove(path.c_str());
}

TEST(FoldInRead, MalformedLinesNameFileAndLine) {
  Items items;
  auto message = [&](const std::string& text, bool implicit, bool header = false) {
    const std::string path = write_temp("bad.txt", text);
    std::string what;
    try {
      read_fold_in(path, items.view(), implicit, header);
    } catch (const Error& e) {
      what = e.what();
    }
    std::remove(path.c_str());
    return what.substr(what.find(':') == std::string::npos ? 0 : what.rfind("bad.txt"));
  };
  EXPECT_EQ(message("u 10 1\nu 10\n", false), "bad.txt:2: expected `user item value`, got 2 fields");
  EXPECT_EQ(message("u 10 x\n", false), "bad.txt:1: value 'x' is not a finite number");
  EXPECT_EQ(message("u 10 inf\n", false), "bad.txt:1: value 'inf' is not a finite number");
  EXPECT_EQ(message("u 10 -1\n", true), "bad.txt:1: value -1 must be > 0 for an implicit model (an event or a count)");
  EXPECT_EQ(message("user item value\nu 10 1\n", false, true), "");  // the header is skipped
  EXPECT_NE(message("user item value\nu 10 1\n", false), "");
}

// The fold-in of an explicit user with biases is the minimizer of
//   sum_j (r_j - mu - c_j - v_j . u - b)^2 + lambda n (|u|^2 + b^2),
// solved here independently with Eigen.
TEST(FoldIn, ExplicitMatchesTheNormalEquations) {
  const int k = 3, n = 12;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  FactorTable items(n, k);
  for (int j = 0; j < n; ++j)
    for (int d = 0; d <= k; ++d) items.row(j)[d] = normal(rng);
  CsrBlock history;
  history.num_cols = n;
  for (int j : {1, 4, 5, 9, 11}) history.indices.push_back(j), history.values.push_back(1.f + j % 5);
  history.indptr = {0, 5, 5, 7};
  history.indices.push_back(2), history.values.push_back(3.f);
  history.indices.push_back(3), history.values.push_back(4.f);
  const double mean = 3.1;
  for (const char* reg : {"weighted", "l2"}) {
    SolveParams params = fold_in_params(
        std::string(R"({"factors": 3, "lambda": 0.3, "regularization": ")") + reg + R"(", "bias": true})",
        "state.json");
    const FactorTable out = fold_in(history, 0, 3, items, params, mean);
    for (std::int64_t r : {0, 2}) {
      const std::int64_t deg = history.degree(r);
      Eigen::MatrixXd y(deg, k + 1);
      Eigen::VectorXd t(deg);
      for (std::int64_t p = 0; p < deg; ++p) {
        const std::int32_t j = history.indices[history.indptr[r] + p];
        for (int d = 0; d < k; ++d) y(p, d) = items.row(j)[d];
        y(p, k) = 1;
        t(p) = history.values[history.indptr[r] + p] - mean - items.bias(j);
      }
      const double ridge = 0.3 * (std::string(reg) == "weighted" ? deg : 1);
      const Eigen::MatrixXd a = y.transpose() * y + ridge * Eigen::MatrixXd::Identity(k + 1, k + 1);
      const Eigen::VectorXd x = a.ldlt().solve(y.transpose() * t);
      for (int d = 0; d <= k; ++d) EXPECT_NEAR(out.row(r)[d], x(d), 1e-4) << reg << " row " << r << " entry " << d;
    }
    for (int d = 0; d <= k; ++d) EXPECT_EQ(out.row(1)[d], 0.f) << "a user without entries: zero factors and bias";
  }
}

TEST(FoldIn, ParamsFromHyperparameters) {
  const SolveParams p = fold_in_params(
      R"({"factors": 8, "lambda": 0.02, "regularization": "weighted", "bias": false, "feedback": "implicit",
          "alpha": 2.5, "confidence": "log", "epsilon": 0.5, "unobserved_weight": 0.25, "solver": "cg"})",
      "m/state.json");
  EXPECT_EQ(p.k, 8);
  EXPECT_TRUE(p.implicit);
  EXPECT_EQ(p.solver, Solver::cholesky);
  EXPECT_EQ(p.confidence, Confidence::log);
  EXPECT_DOUBLE_EQ(p.alpha, 2.5);
  EXPECT_DOUBLE_EQ(p.epsilon, 0.5);
  EXPECT_DOUBLE_EQ(p.unobserved_weight, 0.25);
  EXPECT_THROW(fold_in_params(R"({"factors": 8, "regularization": "weighted", "bias": true})", "m/state.json"), Error);
  EXPECT_THROW(fold_in_params(R"({"factors": 8, "lambda": 1, "regularization": "odd", "bias": true})", "s"), Error);
}

TEST(Similar, NormalizedRows) {
  FactorTable t(3, 2);
  t.row(0)[0] = 3, t.row(0)[1] = 4, t.row(0)[2] = 9;  // the bias is dropped
  t.row(2)[0] = -2;
  const FactorTable n = normalized_rows(t);
  EXPECT_FLOAT_EQ(n.row(0)[0], 0.6f);
  EXPECT_FLOAT_EQ(n.row(0)[1], 0.8f);
  EXPECT_EQ(n.row(0)[2], 0.f);
  EXPECT_EQ(n.row(1)[0], 0.f);  // zero stays zero
  EXPECT_EQ(n.row(2)[0], -1.f);
}

TEST(Lists, FallbackListForUsersWithoutEntries) {
  FactorTable users(2, 1), items(3, 1);
  users.row(0)[0] = 1;
  for (int j = 0; j < 3; ++j) items.row(j)[0] = static_cast<float>(j);
  CsrBlock train;
  train.num_cols = 3;
  train.indptr = {0, 1, 1};
  train.indices = {2};
  train.values = {1.f};
  const std::vector<std::pair<std::int32_t, float>> popular{{1, 9.f}, {0, 4.f}};
  ListSpec spec;
  spec.k = 2;
  spec.fallback = &popular;
  std::string text;
  const ListCounts counts = write_lists(users, items, train, {0, 1}, {"a", "b"}, {"x", "y", "z"}, spec,
                                        [&](const std::string& s) { text += s; });
  EXPECT_EQ(text, "a\ty\t1\t1\na\tx\t0\t2\nb\ty\t9\t1\nb\tx\t4\t2\n");
  EXPECT_EQ(counts.fallback, 1);
  EXPECT_EQ(counts.no_training, 0);
}

}  // namespace
}  // namespace dals
