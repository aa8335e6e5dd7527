// Raw ids: canonical integers, order hashes and their inverse, and raw ->
// dense lookups in datasets written by dals-partition and dals-import.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "dals/core/rng.hpp"
#include "dals/data/dataset_builder.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/id_keys.hpp"
#include "dals/data/inspect.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/partition/partition.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

TEST(IdKeys, CanonicalIntegers) {
  EXPECT_EQ(parse_canonical_int("0"), 0);
  EXPECT_EQ(parse_canonical_int("42"), 42);
  EXPECT_EQ(parse_canonical_int("-7"), -7);
  EXPECT_EQ(parse_canonical_int("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_canonical_int("-9223372036854775808"), INT64_MIN);
  for (const char* s : {"", "-", "007", "+7", "-0", " 1", "1 ", "9223372036854775808", "-9223372036854775809",
                        "99999999999999999999", "1e3", "0x10", "abc"})
    EXPECT_FALSE(parse_canonical_int(s).has_value()) << s;
}

TEST(IdKeys, OrderHashIsInvertibleAndMatchesImport) {
  for (std::uint64_t seed : {0ull, 1ull, 12345ull})
    for (std::uint64_t k = 0; k < 2000; ++k) {
      const std::uint64_t key = k * 0x9E3779B97F4A7C15ULL + (k & 1);
      for (Side side : {Side::users, Side::items})
        EXPECT_EQ(key_of_order_hash(seed, side, order_hash(seed, side, key)), key);
      EXPECT_EQ(unmix64(mix64(key)), key);
    }
  // dals-import orders dense ids by key_hash(seed, 1 or 2, raw): the same.
  EXPECT_EQ(order_hash(3, Side::users, 1001), key_hash(3, 1, 1001));
  EXPECT_EQ(order_hash(3, Side::items, 1001), key_hash(3, 2, 1001));
  EXPECT_EQ(raw_id_key("-5", 9), static_cast<std::uint64_t>(-5));
  EXPECT_EQ(raw_id_key("alice", 9), string_id_key("alice", 9));
  EXPECT_NE(string_id_key("alice", 9), string_id_key("alice", 10));  // a new seed resolves a collision
}

TEST(IdKeys, Utf8) {
  EXPECT_EQ(utf8_problem("alice"), nullptr);
  EXPECT_EQ(utf8_problem("Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"), nullptr);
  EXPECT_STREQ(utf8_problem("bad\xff"), "is not valid UTF-8");
  EXPECT_STREQ(utf8_problem("\xc0\xaf"), "is not valid UTF-8");      // overlong '/'
  EXPECT_STREQ(utf8_problem("\xed\xa0\x80"), "is not valid UTF-8");  // a surrogate
  EXPECT_STREQ(utf8_problem("tab\there"), "contains a control character");
}

class Scratch {
 public:
  Scratch() : dir_(fs::temp_directory_path() / ("dals-ids-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() { fs::remove_all(dir_); }
  std::string operator/(const std::string& name) const { return (dir_ / name).string(); }

 private:
  fs::path dir_;
};

// Every raw id of the dataset is found at its dense id; ids not in it are not.
void expect_lookups(const std::string& data, Side side, const std::vector<std::string>& absent) {
  const Manifest m = read_manifest(data);
  const auto raw = raw_id_texts(data, m, side);
  IdLookup lookup(data, side);
  for (std::size_t d = 0; d < raw.size(); ++d)
    EXPECT_EQ(lookup.dense_id(raw[d]), static_cast<std::int64_t>(d)) << raw[d];
  for (const auto& a : absent) EXPECT_FALSE(lookup.dense_id(a).has_value()) << a;
}

TEST(IdLookup, FindsEveryIdOfAPartitionedDataset) {
  Scratch s;
  {
    std::ofstream out(s / "ratings.csv");
    out << "user,item,rating\n";
    for (int u = 0; u < 300; ++u)
      for (int i = 0; i < 40; ++i)
        if ((u * 7 + i * 3) % 5 == 0) out << "user-" << u << ",\"item " << i << "\"," << 1 + (u + i) % 5 << "\n";
    out << "42,7,3\n";  // an integer user id among strings: a string map holds it as "42"
  }
  PartitionOptions o;
  o.inputs = {s / "ratings.csv"};
  o.header = true;
  o.output = s / "data";
  o.blocks = 8;
  o.quiet = true;
  o.seed = 5;
  const Comm comm;
  partition_dataset(comm, o);
  EXPECT_TRUE(IdLookup(o.output, Side::users).indexed());
  expect_lookups(o.output, Side::users, {"user-300", "user-", "43", "item 1"});
  expect_lookups(o.output, Side::items, {"item 40", "7 ", "user-1"});
  EXPECT_TRUE(IdLookup(o.output, Side::users).dense_id("42").has_value());
  EXPECT_TRUE(inspect_dataset(o.output).problems.empty());

  // Integer ids: int64 maps, the same rule.
  PartitionOptions ints = o;
  {
    std::ofstream out(s / "ints.csv");
    for (int u = 0; u < 200; ++u)
      for (int i = 0; i < 30; ++i)
        if ((u + i) % 4 == 0) out << -100 + u * 13 << "," << i * 1000003LL << ",4\n";
  }
  ints.inputs = {s / "ints.csv"};
  ints.header = false;
  ints.output = s / "ints";
  partition_dataset(comm, ints);
  expect_lookups(ints.output, Side::users, {"-99", "abc", "-100 "});
  expect_lookups(ints.output, Side::items, {"1", "-0"});
}

TEST(IdLookup, ScansDatasetsWithoutAnIndex) {
  Scratch s;
  std::vector<RawRating> ratings;
  for (int u = 0; u < 50; ++u)
    for (int i = 0; i < 20; ++i)
      if ((u + i) % 3 == 0) ratings.push_back({5000 + u, 70 + i, 3.0f});
  BuildOptions b;
  b.blocks = 3;
  build_dataset(s / "imported", ratings, b);
  EXPECT_FALSE(IdLookup(s / "imported", Side::users).indexed());
  expect_lookups(s / "imported", Side::users, {"4999", "x"});
  expect_lookups(s / "imported", Side::items, {"90"});
}

}  // namespace
}  // namespace dals
