// MODEL/added_users.h5 (added_users.hpp): written and read back bit for
// bit, integer and string ids; a file that does not match state.json's
// record, or holds what no fold-in writes, is refused naming it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "../error_of.hpp"
#include "dals/checkpoint/added_users.hpp"
#include "dals/core/error.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;
using unit_test::error_of;

constexpr int kAddedK = 2;
constexpr std::int64_t kAddedItems = 10;

AddedUsers two_users(bool string_ids) {
  AddedUsers a;
  a.string_ids = string_ids;
  a.k = kAddedK;
  const float r0[kAddedK + 1] = {0.5f, -1.25f, 0.125f}, r1[kAddedK + 1] = {3.f, 1e-7f, -2.f};
  a.append(string_ids ? "new user" : "900001", r0, {1, 4, 9});
  a.append(string_ids ? "u-2" : "-7", r1, {0});
  return a;
}

class AddedUsersFile : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dals-added-users-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / kAddedUsersFile).string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  AddedUsersExpect expect(std::int64_t count, std::uint64_t sum, int string_ids) const {
    return {count, sum, kAddedK, kAddedItems, string_ids};
  }
  fs::path dir_;
  std::string path_;
};

TEST_F(AddedUsersFile, RoundTripsBothIdTypes) {
  for (const bool strings : {false, true}) {
    const AddedUsers a = two_users(strings);
    const std::uint64_t sum = write_added_users(path_, a);
    const AddedUsers b = read_added_users(path_, expect(2, sum, strings ? 1 : 0));
    EXPECT_EQ(b.ids, a.ids);
    EXPECT_EQ(b.string_ids, strings);
    EXPECT_EQ(std::memcmp(b.rows.data(), a.rows.data(), a.rows.size() * sizeof(float)), 0);
    EXPECT_EQ(b.training_ratings, (std::vector<std::int64_t>{3, 1}));
    EXPECT_EQ(b.rated, a.rated);
    EXPECT_EQ(b.rated_block(kAddedItems).indptr, (std::vector<std::int64_t>{0, 3, 4}));
    EXPECT_EQ(b.table().row(1)[kAddedK], -2.f);
  }
}

TEST_F(AddedUsersFile, RefusesWhatStateJsonDoesNotRecord) {
  const std::uint64_t sum = write_added_users(path_, two_users(false));
  EXPECT_NE(error_of([&] { read_added_users(path_, expect(3, sum, 0)); }).find("state.json records 3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_added_users(path_, expect(2, sum ^ 1, 0)); }).find("checksum mismatch"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_added_users(path_, expect(2, sum, 1)); }).find("user ids are strings"),
            std::string::npos);
  const std::string missing = (dir_ / "none.h5").string();
  EXPECT_NE(error_of([&] { read_added_users(missing, expect(2, sum, 0)); }).find(missing + ": missing"),
            std::string::npos);
}

TEST_F(AddedUsersFile, RefusesDamage) {
  AddedUsers a = two_users(false);
  a.ids[1] = a.ids[0];  // one user twice
  std::uint64_t sum = write_added_users(path_, a);
  EXPECT_NE(error_of([&] { read_added_users(path_, expect(2, sum, 0)); }).find("added twice"), std::string::npos);

  a = two_users(false);
  sum = write_added_users(path_, a);
  AddedUsersExpect fewer = expect(2, sum, 0);
  fewer.items = 5;  // item 9 beyond
  EXPECT_NE(error_of([&] { read_added_users(path_, fewer); }).find("rated items"), std::string::npos);

  a.rows[1] = std::nanf("");
  sum = write_added_users(path_, a);
  const std::string e = error_of([&] { read_added_users(path_, expect(2, sum, 0)); });
  EXPECT_EQ(e.rfind(path_, 0), 0u) << e;
  EXPECT_NE(e.find("non-finite"), std::string::npos) << e;
}

TEST(AddedUsers, ModelWithoutRecordMustHaveNoFile) {
  const fs::path dir = fs::temp_directory_path() / ("dals-added-model-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  SavedState s;
  s.factors = kAddedK;
  s.items = kAddedItems;
  EXPECT_EQ(read_model_added_users(dir.string(), s, -1).count(), 0);
  write_added_users((dir / kAddedUsersFile).string(), two_users(false));
  EXPECT_NE(error_of([&] { read_model_added_users(dir.string(), s, -1); }).find("records no added users"),
            std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dals
