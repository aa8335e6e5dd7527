// The HDF5 list file (recommend/lists_h5.hpp): written and read back whole,
// integer and string raw ids, parts appended in order (--merge), and
// damage refused with the file named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "dals/core/error.hpp"
#include "dals/data/hdf5_file.hpp"
#include "dals/recommend/lists_h5.hpp"

namespace dals {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("dals-lists-h5-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

ListFile two_lines(bool strings, const std::string& a, const std::string& b) {
  ListFile f;
  f.user.strings = f.item.strings = strings;
  f.rows.user = {7, 7};
  f.rows.item = {3, 1};
  f.rows.score = {2.5f, -0.125f};
  f.rows.rank = {1, 2};
  f.user.push_back(a);
  f.user.push_back(a);
  f.item.push_back(b);
  f.item.push_back(strings ? b + "!" : "12");
  return f;
}

TEST(ListsH5, IntegerIdsRoundTrip) {
  const std::string path = temp_path("int.h5");
  write_list_file(path, two_lines(false, "1001", "-5"));
  const ListFile back = read_list_file(path);
  EXPECT_FALSE(back.user.strings);
  EXPECT_EQ(back.rows.user, (std::vector<std::int64_t>{7, 7}));
  EXPECT_EQ(back.rows.item, (std::vector<std::int32_t>{3, 1}));
  EXPECT_EQ(back.rows.score, (std::vector<float>{2.5f, -0.125f}));
  EXPECT_EQ(back.rows.rank, (std::vector<std::int32_t>{1, 2}));
  EXPECT_EQ(back.user.ints, (std::vector<std::int64_t>{1001, 1001}));
  EXPECT_EQ(back.item.ints, (std::vector<std::int64_t>{-5, 12}));
  std::filesystem::remove(path);
}

TEST(ListsH5, StringIdsAppendInOrder) {
  ListFile all = two_lines(true, "user a", "item,1");
  all.append(two_lines(true, "", "x"));
  ListFile empty;
  empty.user.strings = empty.item.strings = true;
  all.append(empty);
  const std::string path = temp_path("str.h5");
  write_list_file(path, all);
  const ListFile back = read_list_file(path);
  ASSERT_TRUE(back.item.strings);
  ASSERT_EQ(back.item.size(), 4);
  EXPECT_EQ(back.item.texts.at(0), "item,1");
  EXPECT_EQ(back.item.texts.at(1), "item,1!");
  EXPECT_EQ(back.item.texts.at(2), "x");
  EXPECT_EQ(back.item.texts.at(3), "x!");
  EXPECT_EQ(back.user.texts.at(1), "user a");
  EXPECT_EQ(back.user.texts.at(2), "");
  EXPECT_EQ(back.rows.rank, (std::vector<std::int32_t>{1, 2, 1, 2}));
  std::filesystem::remove(path);
}

TEST(ListsH5, RefusesMixedIdsNonIntegersAndShortColumns) {
  ListFile ints = two_lines(false, "1", "2");
  EXPECT_THROW(ints.append(two_lines(true, "a", "b")), Error);
  RawIdColumn column;
  EXPECT_THROW(column.push_back("12a"), Error);
  const std::string path = temp_path("bad.h5");
  ListFile shortened = two_lines(false, "1", "2");
  shortened.rows.score.pop_back();
  EXPECT_THROW(write_list_file(path, shortened), Error);
  // A file whose `lines` attribute disagrees with its arrays.
  {
    H5File f = H5File::create(path);
    f.set_attribute("format", std::string("dals-recommendations"));
    f.set_attribute("lines", std::int64_t{3});
    std::vector<std::int64_t> users = {1, 2};
    f.write("user_dense", std::span<const std::int64_t>(users));
    f.close();
  }
  try {
    read_list_file(path);
    ADD_FAILURE() << "a damaged file was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace dals
