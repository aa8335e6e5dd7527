// dals-generate: the dataset it writes is consistent, follows the planted
// model, and is the same for any number of ranks.
//
// Every test runs its collectives (the generations) first and checks
// afterwards, so an assertion failing on one rank cannot leave the others
// waiting in a collective.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/manifest.hpp"
#include "dals/generate/generate.hpp"
#include "dals/mpi/comm.hpp"
#include "mpi_test_support.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

// A fresh directory that every rank of `comm` sees, removed at the end.
using mpi_test::SharedTempDir;

GenerateOptions small_options(const std::string& output) {
  GenerateOptions o;
  o.users = 300;
  o.items = 200;
  o.ratings = 6000;
  o.true_rank = 4;
  o.blocks = 4;
  o.test_fraction = 0.2;
  o.seed = 7;
  o.min_degree = 5;
  o.output = output;
  return o;
}

using RatingMap = std::map<std::pair<std::int64_t, std::int64_t>, float>;  // (user, item) -> value

// Every rating of one split, read from the blocks of one orientation.
RatingMap read_split(const std::string& dir, const Manifest& m, Split split, Side side) {
  const SplitInfo& info = split == Split::train ? m.train : m.test;
  RatingMap out;
  for (int b = 0; b < m.blocks; ++b) {
    const CsrBlock block =
        read_ratings_block(ratings_path(dir, split, side, b), info.blocks(side)[b], m.rows(other(side)));
    for (const Triplet& t : csr_to_triplets(block)) {
      const auto key = side == Side::users ? std::make_pair(t.row, t.col) : std::make_pair(t.col, t.row);
      EXPECT_TRUE(out.emplace(key, t.value).second) << "duplicate rating " << key.first << "," << key.second;
    }
  }
  return out;
}

TEST(Generate, WritesAConsistentDataset) {
  Comm comm;
  SharedTempDir tmp(comm, "dals-generate-test");
  ASSERT_FALSE(tmp.path().empty());
  const GenerateOptions o = small_options(tmp.path() + "/data");
  const GenerateResult result = generate_dataset(comm, o);

  const Manifest m = read_manifest(o.output);  // validates shape and fingerprint
  EXPECT_EQ(m.fingerprint, result.manifest.fingerprint);
  EXPECT_EQ(m.users, o.users);
  EXPECT_EQ(m.items, o.items);
  EXPECT_EQ(m.blocks, o.blocks);
  ASSERT_TRUE(m.has_test);
  EXPECT_FALSE(fs::exists(o.output + ".tmp"));
  EXPECT_FALSE(fs::exists(o.output + "/.scratch"));

  // Both orientations hold the same ratings, as many as the manifest says.
  const RatingMap train = read_split(o.output, m, Split::train, Side::users);
  const RatingMap test = read_split(o.output, m, Split::test, Side::users);
  EXPECT_EQ(train, read_split(o.output, m, Split::train, Side::items));
  EXPECT_EQ(test, read_split(o.output, m, Split::test, Side::items));
  EXPECT_EQ(static_cast<std::int64_t>(train.size()), m.train.ratings);
  EXPECT_EQ(static_cast<std::int64_t>(test.size()), m.test.ratings);

  // About the requested number of ratings, about the requested test share,
  // no pair in both splits.
  const double total = static_cast<double>(train.size() + test.size());
  EXPECT_NEAR(total, static_cast<double>(o.ratings), 0.02 * o.ratings);
  EXPECT_NEAR(static_cast<double>(test.size()) / total, o.test_fraction, 0.03);
  for (const auto& [key, value] : test) EXPECT_EQ(train.count(key), 0u);

  // Degrees: every user has at least min_degree ratings and at most half
  // the items; item popularity is skewed (a head far above the mean).
  std::vector<std::int64_t> user_degree(m.users, 0), item_degree(m.items, 0);
  double sum = 0;
  for (const auto& [key, value] : train) {
    ++user_degree[key.first];
    ++item_degree[key.second];
    sum += value;
  }
  for (const auto& [key, value] : test) ++user_degree[key.first], ++item_degree[key.second];
  for (std::int64_t u = 0; u < m.users; ++u) {
    EXPECT_GE(user_degree[u], o.min_degree) << "user " << u;
    EXPECT_LE(user_degree[u], o.items / 2) << "user " << u;
  }
  const double mean_item_degree = total / static_cast<double>(m.items);
  EXPECT_GT(static_cast<double>(*std::max_element(item_degree.begin(), item_degree.end())), 3 * mean_item_degree);

  // mu is the mean of the training ratings.
  EXPECT_NEAR(m.mean, sum / static_cast<double>(train.size()), 1e-9);

  // Blocks are balanced by training ratings + rows.
  for (Side side : {Side::users, Side::items}) {
    const double average = static_cast<double>(m.train.ratings + m.rows(side)) / m.blocks;
    for (const BlockInfo& b : m.train.blocks(side))
      EXPECT_NEAR(static_cast<double>(b.nnz + b.rows), average, 0.35 * average)
          << side_name(side) << " block at " << b.first;
  }

  // The id maps hold the documented raw ids.
  for (Side side : {Side::users, Side::items})
    for (int b = 0; b < m.blocks; ++b) {
      const BlockInfo& info = m.train.blocks(side)[b];
      const auto raw = read_id_block(ids_path(o.output, side, b), info);
      for (std::int64_t d = 0; d < info.rows; ++d) EXPECT_EQ(raw[d], generated_raw_id(side, info.first + d));
    }
}

TEST(Generate, SameDatasetForAnyRankCount) {
  Comm comm;
  SharedTempDir tmp(comm, "dals-generate-test");
  ASSERT_FALSE(tmp.path().empty());
  GenerateOptions all = small_options(tmp.path() + "/all");
  all.text_output = tmp.path() + "/all-text";
  const GenerateResult on_all = generate_dataset(comm, all);

  // The same on this rank alone, into a directory of its own.
  Comm self(MPI_COMM_SELF);
  GenerateOptions one = small_options(tmp.path() + "/self-" + std::to_string(comm.rank()));
  one.text_output = one.output + "-text";
  const GenerateResult on_one = generate_dataset(self, one);

  EXPECT_EQ(on_all.manifest.fingerprint, on_one.manifest.fingerprint);
  EXPECT_EQ(read_text_file(all.output + "/manifest.json"), read_text_file(one.output + "/manifest.json"));
  for (const char* split : {"-train.csv", "-test.csv"})
    EXPECT_EQ(read_text_file(all.text_output + split), read_text_file(one.text_output + split)) << split;

  // The text dump holds the dataset's ratings, with raw ids.
  const Manifest m = read_manifest(all.output);
  const RatingMap train = read_split(all.output, m, Split::train, Side::users);
  const std::string text = read_text_file(all.text_output + "-train.csv");
  EXPECT_EQ(text.rfind("user,item,rating\n", 0), 0u);
  EXPECT_EQ(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), train.size() + 1);
  const auto& [first_key, first_value] = *train.begin();
  char line[96];
  std::snprintf(line, sizeof line, "\n%lld,%lld,",
                static_cast<long long>(generated_raw_id(Side::users, first_key.first)),
                static_cast<long long>(generated_raw_id(Side::items, first_key.second)));
  const auto at = text.find(line);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(std::stof(text.substr(at + std::string(line).size())), first_value);
}

TEST(Generate, RatingsFollowThePlantedModel) {
  Comm comm;
  SharedTempDir tmp(comm, "dals-generate-test");
  ASSERT_FALSE(tmp.path().empty());
  GenerateOptions o = small_options(tmp.path() + "/plain");
  o.noise = 0.5;
  generate_dataset(comm, o);
  GenerateOptions rounded = small_options(tmp.path() + "/rounded");
  rounded.round = true;
  generate_dataset(comm, rounded);

  // Residuals against the planted model are the noise: mean 0, sd 0.5.
  const Manifest m = read_manifest(o.output);
  std::vector<PlantedRow> items;
  for (std::int64_t j = 0; j < o.items; ++j) items.push_back(planted_row(o, Side::items, j));
  double sum = 0, sum_sq = 0, n = 0;
  for (const auto& [key, value] : read_split(o.output, m, Split::train, Side::users)) {
    const double residual =
        value - planted_expected_rating(o, planted_row(o, Side::users, key.first), items[key.second]);
    sum += residual;
    sum_sq += residual * residual;
    ++n;
  }
  ASSERT_GT(n, 1000);
  const double mean = sum / n, sd = std::sqrt(sum_sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.05);
  EXPECT_NEAR(sd, o.noise, 0.05);

  // --round: integers in [1, 5], the same pairs as without it.
  const Manifest r = read_manifest(rounded.output);
  const RatingMap plain = read_split(o.output, m, Split::train, Side::users);
  const RatingMap whole = read_split(rounded.output, r, Split::train, Side::users);
  ASSERT_EQ(plain.size(), whole.size());
  for (auto p = plain.begin(), q = whole.begin(); p != plain.end(); ++p, ++q) {
    EXPECT_EQ(p->first, q->first);
    EXPECT_EQ(q->second, std::round(q->second));
    EXPECT_GE(q->second, 1.0f);
    EXPECT_LE(q->second, 5.0f);
  }
}

// Each item's rating count, train and test.
std::vector<double> item_degrees(const std::string& dir) {
  const Manifest m = read_manifest(dir);
  std::vector<double> degrees(m.items, 0.0);
  for (Split split : {Split::train, Split::test})
    for (const auto& [key, value] : read_split(dir, m, split, Side::users)) {
      (void)value;
      degrees[key.second] += 1;
    }
  return degrees;
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sa += a[i];
    sb += b[i];
    saa += a[i] * a[i];
    sbb += b[i] * b[i];
    sab += a[i] * b[i];
  }
  return (sab - sa * sb / n) / std::sqrt((saa - sa * sa / n) * (sbb - sb * sb / n));
}

// --implicit: events (the manifest says so) with positive integer counts,
// the same bits for any rank count, another dataset for another seed; the
// counts grow with the planted rating, and the chosen items are the ones
// their users' factors favour. (tests/unit/generate/test_implicit_planted.cpp:
// an implicit ALS on it beats popularity.)
TEST(Generate, ImplicitEventsFollowThePlantedModel) {
  Comm comm;
  SharedTempDir tmp(comm, "dals-generate-test");
  ASSERT_FALSE(tmp.path().empty());
  GenerateOptions all = small_options(tmp.path() + "/all");
  all.implicit = true;
  all.text_output = tmp.path() + "/all-text";
  const GenerateResult on_all = generate_dataset(comm, all);
  Comm self(MPI_COMM_SELF);
  GenerateOptions one = all;
  one.output = tmp.path() + "/self-" + std::to_string(comm.rank());
  one.text_output = one.output + "-text";
  const GenerateResult on_one = generate_dataset(self, one);
  GenerateOptions other_seed = all;
  other_seed.output = tmp.path() + "/other";
  other_seed.text_output.clear();
  ++other_seed.seed;
  const GenerateResult on_other = generate_dataset(comm, other_seed);
  GenerateOptions explicit_ratings = all;
  explicit_ratings.output = tmp.path() + "/ratings";
  explicit_ratings.text_output.clear();
  explicit_ratings.implicit = false;
  const GenerateResult rated = generate_dataset(comm, explicit_ratings);

  EXPECT_EQ(on_all.manifest.feedback, Feedback::events);
  EXPECT_EQ(rated.manifest.feedback, Feedback::ratings);
  EXPECT_EQ(on_all.manifest.fingerprint, on_one.manifest.fingerprint);
  EXPECT_EQ(read_text_file(all.output + "/manifest.json"), read_text_file(one.output + "/manifest.json"));
  for (const char* split : {"-train.csv", "-test.csv"})
    EXPECT_EQ(read_text_file(all.text_output + split), read_text_file(one.text_output + split)) << split;
  EXPECT_EQ(read_text_file(all.text_output + "-train.csv").rfind("user,item,count\n", 0), 0u);
  EXPECT_NE(on_all.manifest.fingerprint, on_other.manifest.fingerprint);

  const Manifest m = read_manifest(all.output);
  EXPECT_EQ(m.feedback, Feedback::events);
  const RatingMap train = read_split(all.output, m, Split::train, Side::users);
  const RatingMap test = read_split(all.output, m, Split::test, Side::users);
  EXPECT_EQ(train, read_split(all.output, m, Split::train, Side::items));
  EXPECT_NE(train, read_split(other_seed.output, on_other.manifest, Split::train, Side::users));
  const double total = static_cast<double>(train.size() + test.size());
  EXPECT_NEAR(total, static_cast<double>(all.ratings), 0.02 * all.ratings);
  EXPECT_NEAR(static_cast<double>(test.size()) / total, all.test_fraction, 0.03);

  // Counts: positive integers, larger where the planted rating is higher.
  // Chosen items: their planted dot product with the user is well above
  // zero (that of a random pair), as it is not for explicit ratings, whose
  // items popularity alone picks.
  std::vector<PlantedRow> items;
  for (std::int64_t j = 0; j < all.items; ++j) items.push_back(planted_row(all, Side::items, j));
  const auto dot = [&](const std::pair<std::int64_t, std::int64_t>& key) {
    const PlantedRow user = planted_row(all, Side::users, key.first);
    return planted_expected_rating(all, user, items[key.second]) - all.mean - user.bias - items[key.second].bias;
  };
  std::vector<double> counts, scores;
  for (const auto& [key, value] : train) {
    EXPECT_GE(value, 1.0f);
    EXPECT_EQ(value, std::round(value));
    counts.push_back(value);
    scores.push_back(dot(key));
  }
  double chosen = 0, popular = 0;
  for (const double s : scores) chosen += s / static_cast<double>(scores.size());
  const RatingMap rated_train = read_split(explicit_ratings.output, rated.manifest, Split::train, Side::users);
  for (const auto& [key, value] : rated_train) popular += dot(key) / static_cast<double>(rated_train.size());
  EXPECT_GT(correlation(counts, scores), 0.2);
  EXPECT_GT(chosen, 0.3) << "the mean planted dot product of chosen (user, item) pairs";
  EXPECT_LT(std::abs(popular), 0.1) << "the mean planted dot product of rated (user, item) pairs";
}

// Another seed is another dataset, item popularity included: with the same
// popularity weights, the item degrees of two seeds would differ only by the
// sampling noise and correlate strongly (item_skew 1.2: a few items are hits).
TEST(Generate, AnotherSeedGivesOtherItemPopularity) {
  Comm comm;
  SharedTempDir tmp(comm, "dals-generate-test");
  ASSERT_FALSE(tmp.path().empty());
  GenerateOptions a = small_options(tmp.path() + "/a"), again = small_options(tmp.path() + "/again"),
                  b = small_options(tmp.path() + "/b");
  for (GenerateOptions* o : {&a, &again, &b}) o->ratings = 20000;
  b.seed = a.seed + 1;
  for (const GenerateOptions* o : {&a, &again, &b}) generate_dataset(comm, *o);

  const std::vector<double> da = item_degrees(a.output), dagain = item_degrees(again.output),
                            db = item_degrees(b.output);
  EXPECT_EQ(da, dagain);  // the same seed, the same dataset
  ASSERT_EQ(da.size(), db.size());
  EXPECT_NE(da, db);
  const double r = correlation(da, db);
  EXPECT_LT(r, 0.5) << "the item degrees of seeds " << a.seed << " and " << b.seed << " correlate (r = " << r
                    << "): item popularity does not follow --seed";
}

// Runs a generation expected to fail on every rank; returns its exit code.
int failing_generation(const Comm& comm, const GenerateOptions& o) {
  try {
    generate_dataset(comm, o);
  } catch (const AgreedFailure& failure) {
    return failure.exit_code;
  }
  return 0;
}

TEST(Generate, FailsTogetherOnBadOptionsAndExistingOutput) {
  Comm comm;
  SharedTempDir tmp(comm, "dals-generate-test");
  ASSERT_FALSE(tmp.path().empty());
  GenerateOptions o = small_options(tmp.path() + "/data");

  GenerateOptions bad = o;
  bad.users = 0;
  EXPECT_EQ(failing_generation(comm, bad), 2);
  bad = o;
  bad.blocks = 201;  // more blocks than items
  EXPECT_EQ(failing_generation(comm, bad), 2);
  bad = o;
  bad.ratings = 100;  // below users x min_degree
  EXPECT_EQ(failing_generation(comm, bad), 2);

  generate_dataset(comm, o);
  const std::string first = read_manifest(o.output).fingerprint;
  o.seed = 8;
  EXPECT_EQ(failing_generation(comm, o), 1);  // exists, no --force
  comm.barrier();
  EXPECT_EQ(read_manifest(o.output).fingerprint, first);  // untouched
  comm.barrier();
  o.force = true;
  const GenerateResult replaced = generate_dataset(comm, o);
  EXPECT_NE(replaced.manifest.fingerprint, first);
  EXPECT_EQ(read_manifest(o.output).fingerprint, replaced.manifest.fingerprint);
  EXPECT_FALSE(fs::exists(o.output + ".tmp"));
}

TEST(Generate, ParsesTheCommandLine) {
  const char* argv[] = {"dals-generate", "--output", "/x/y",    "--users=50", "--items", "40",
                        "--ratings",     "900",      "--round", "--seed",     "12",      "--test-fraction=0"};
  GenerateOptions parsed;
  std::string text;
  EXPECT_EQ(parse_generate_options(static_cast<int>(std::size(argv)), argv, parsed, text), ParseOutcome::run);
  EXPECT_EQ(parsed.output, "/x/y");
  EXPECT_EQ(parsed.users, 50);
  EXPECT_EQ(parsed.items, 40);
  EXPECT_EQ(parsed.ratings, 900);
  EXPECT_TRUE(parsed.round);
  EXPECT_FALSE(parsed.force);
  EXPECT_EQ(parsed.seed, 12u);
  EXPECT_EQ(parsed.test_fraction, 0.0);
  EXPECT_EQ(parsed.blocks, GenerateOptions{}.blocks);
  EXPECT_NO_THROW(validate_generate_options(parsed));

  const char* help[] = {"dals-generate", "--help"};
  GenerateOptions h;
  EXPECT_EQ(parse_generate_options(2, help, h, text), ParseOutcome::help_shown);
  EXPECT_NE(text.find("--item-skew"), std::string::npos);
  EXPECT_NE(text.find("--implicit-pool"), std::string::npos);

  const char* bad_values[][3] = {{"dals-generate", "--users", "many"}, {"dals-generate", "--seed", "-1"}};
  for (const auto& bad : bad_values) {
    GenerateOptions b;
    try {
      parse_generate_options(3, bad, b, text);
      ADD_FAILURE() << "a malformed " << bad[1] << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(e.message.find(bad[1]), std::string::npos) << e.message;
    }
  }

  // Each invalid option is named in the message.
  const std::pair<void (*)(GenerateOptions&), const char*> cases[] = {
      {[](GenerateOptions& o) { o.output.clear(); }, "--output"},
      {[](GenerateOptions& o) { o.items = -1; }, "--items"},
      {[](GenerateOptions& o) { o.true_rank = 0; }, "--true-rank"},
      {[](GenerateOptions& o) { o.noise = -0.1; }, "--noise"},
      {[](GenerateOptions& o) { o.test_fraction = 1.0; }, "--test-fraction"},
      {[](GenerateOptions& o) { o.blocks = 0; }, "--blocks"},
      {[](GenerateOptions& o) { o.user_skew = -1; }, "--user-skew"},
      {[](GenerateOptions& o) { o.item_skew = NAN; }, "--item-skew"},
      {[](GenerateOptions& o) { o.min_degree = 600; }, "--min-degree"},
      {[](GenerateOptions& o) { o.ratings = 10'000'000; }, "--ratings"},
      {[](GenerateOptions& o) { o.implicit_pool = 0.5; }, "--implicit-pool"},
      {[](GenerateOptions& o) { o.implicit = o.round = true; }, "--round"},
  };
  for (const auto& [edit, option] : cases) {
    GenerateOptions o = small_options("/x/y");
    edit(o);
    try {
      validate_generate_options(o);
      ADD_FAILURE() << option << ": invalid value accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(option, 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace dals
