// read_manifest on manifest.json fields of the wrong type or out of range:
// each is an Error naming the file and the key, never a library message or
// a silently narrowed number.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/manifest.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// A valid one-block dataset manifest of 2000 users and 3 items.
Manifest small_manifest() {
  Manifest m;
  m.users = 2000;
  m.items = 3;
  m.blocks = 1;
  m.mean = 3.5;
  m.train.ratings = 10;
  m.train.user_blocks = {{0, 2000, 10, 0x1234}};
  m.train.item_blocks = {{0, 3, 10, 0x5678}};
  m.fingerprint = m.compute_fingerprint();
  return m;
}

class ManifestJson : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dals-manifest-json-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write_manifest(dir_.string(), small_manifest());
    good_ = json::parse(read_text_file((dir_ / "manifest.json").string()));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // read_manifest of the good manifest with `edit` applied must fail naming
  // the file and `key`.
  template <class Edit>
  void expect_rejected(Edit edit, const std::string& key) {
    json j = good_;
    edit(j);
    std::ofstream(dir_ / "manifest.json") << j.dump(1);
    try {
      read_manifest(dir_.string());
      ADD_FAILURE() << "accepted: " << j.dump();
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find((dir_ / "manifest.json").string() + ": "), std::string::npos) << what;
      EXPECT_NE(what.find(key), std::string::npos) << "no key " << key << " in: " << what;
      EXPECT_EQ(what.find("json.exception"), std::string::npos) << what;
    }
  }

  fs::path dir_;
  json good_;
};

TEST_F(ManifestJson, GoodManifestReads) { EXPECT_EQ(read_manifest(dir_.string()).users, 2000); }

TEST_F(ManifestJson, IntegerBeyond32BitsIsNotNarrowed) {
  // 2^32 + 1 read into an int would be 1, the true block count.
  expect_rejected([](json& j) { j["blocks"] = 4294967297LL; }, "blocks");
}

TEST_F(ManifestJson, BooleanIsNoNumber) {
  expect_rejected([](json& j) { j["version"] = true; }, "version");
}

TEST_F(ManifestJson, FractionIsNoInteger) {
  expect_rejected([](json& j) { j["users"] = 2000.5; }, "users");
}

TEST_F(ManifestJson, WrongTypeAndNull) {
  expect_rejected([](json& j) { j["items"] = "3"; }, "items");
  expect_rejected([](json& j) { j["mean"] = nullptr; }, "mean");
  expect_rejected([](json& j) { j["train"] = json::array(); }, "train");
  expect_rejected([](json& j) { j["fingerprint"] = 12; }, "fingerprint");
  expect_rejected([](json& j) { j["train"]["user_blocks"][0]["checksum"] = 4660; }, "train.user_blocks[0].checksum");
  expect_rejected([](json& j) { j["train"]["item_blocks"][0] = nullptr; }, "train.item_blocks[0]");
  expect_rejected([](json& j) { j["provenance"] = 3; }, "provenance");
}

TEST_F(ManifestJson, NegativeCount) {
  expect_rejected([](json& j) { j["train"]["user_blocks"][0]["nnz"] = -10; }, "train.user_blocks[0].nnz");
  expect_rejected([](json& j) { j["train"]["ratings"] = -1; }, "train.ratings");
}

TEST_F(ManifestJson, BlockCountsThatWrapAroundAreRejected) {
  // INT64_MAX + INT64_MAX + 12 wraps to 10 in 64 bits, the split's total:
  // a sum that overflows would accept counts no file can hold.
  Manifest m = small_manifest();
  m.blocks = 3;
  m.train.user_blocks = {{0, 1000, INT64_MAX, 1}, {1000, 999, INT64_MAX, 2}, {1999, 1, 12, 3}};
  m.train.item_blocks = {{0, 1, 4, 4}, {1, 1, 3, 5}, {2, 1, 3, 6}};
  m.fingerprint = m.compute_fingerprint();
  write_manifest(dir_.string(), m);
  try {
    read_manifest(dir_.string());
    ADD_FAILURE() << "accepted block counts that overflow";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("manifest.json: train users blocks hold more than 10 ratings"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ManifestJson, ChecksumMustBeHex) {
  expect_rejected([](json& j) { j["train"]["user_blocks"][0]["checksum"] = "12zz"; }, "train.user_blocks[0].checksum");
}

TEST_F(ManifestJson, MissingKey) {
  expect_rejected([](json& j) { j.erase("users"); }, "users");
}

}  // namespace
}  // namespace dals
