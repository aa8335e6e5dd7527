#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "dals/core/error.hpp"
#include "dals/export/npz_writer.hpp"

namespace dals {
namespace {

std::string dict_of(const std::string& header) { return header.substr(10); }

TEST(NpyHeader, IsNumpysVersion1LayoutPaddedTo64Bytes) {
  const std::string h = npy_header("<f4", {2, 3});
  ASSERT_EQ(h.size() % 64, 0u);
  EXPECT_EQ(h.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t len = static_cast<unsigned char>(h[8]) | static_cast<unsigned char>(h[9]) << 8;
  EXPECT_EQ(len + 10, h.size());
  EXPECT_EQ(dict_of(h).rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u);
  EXPECT_EQ(h.back(), '\n');
  // A 1-D shape is a one-element tuple, a 0-d one the empty tuple.
  EXPECT_NE(npy_header("<i8", {5}).find("'shape': (5,), }"), std::string::npos);
  EXPECT_NE(npy_header("<f8", {}).find("'shape': (), }"), std::string::npos);
}

// The CRC-32 of zip (reflected 0xEDB88320), bit by bit: a reference apart from zlib's.
std::uint32_t crc32_reference(const std::string& s) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (const unsigned char b : s) {
    c ^= b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

std::uint64_t le(const std::string& s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s.at(at + i));
  return v;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class NpzWriterTest : public ::testing::Test {
 protected:
  std::string path = (std::filesystem::temp_directory_path() /
                      ("dals-npz-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".npz"))
                         .string();
  void TearDown() override { std::filesystem::remove(path); }
};

TEST_F(NpzWriterTest, StoredEntriesWithTheirCrcAndACentralDirectory) {
  const std::vector<float> data{1.f, 2.f, 3.f};
  {
    NpzWriter npz(path);
    npz.add("x", "<f4", {3}, std::as_bytes(std::span<const float>(data)));
    npz.finish();
  }
  const std::string z = file_bytes(path);
  const std::string entry = npy_header("<f4", {3}) + std::string(reinterpret_cast<const char*>(data.data()), 12);
  ASSERT_EQ(le(z, 0, 4), 0x04034b50u);  // local header
  EXPECT_EQ(le(z, 8, 2), 0u);           // stored
  EXPECT_EQ(le(z, 14, 4), crc32_reference(entry));
  EXPECT_EQ(le(z, 18, 4), entry.size());
  EXPECT_EQ(z.substr(30, le(z, 26, 2)), "x.npy");
  EXPECT_EQ(z.substr(30 + 5, entry.size()), entry);
  const std::size_t end = z.size() - 22;
  ASSERT_EQ(le(z, end, 4), 0x06054b50u);  // end of central directory
  EXPECT_EQ(le(z, end + 10, 2), 1u);
  const std::size_t cd = le(z, end + 16, 4);
  EXPECT_EQ(cd, 30 + 5 + entry.size());
  EXPECT_EQ(le(z, cd, 4), 0x02014b50u);
  EXPECT_EQ(le(z, cd + 16, 4), crc32_reference(entry));
  EXPECT_EQ(le(z, cd + 42, 4), 0u);  // the entry's offset
}

TEST_F(NpzWriterTest, Zip64RecordsFromTheThreshold) {
  {
    NpzWriter npz(path);
    npz.set_zip64_threshold(0);
    const std::vector<std::int64_t> v{7};
    npz.add("a", "<i8", {1}, std::as_bytes(std::span<const std::int64_t>(v)));
    npz.finish();
  }
  const std::string z = file_bytes(path);
  EXPECT_EQ(le(z, 4, 2), 45u);           // version needed 4.5
  EXPECT_EQ(le(z, 18, 4), 0xFFFFFFFFu);  // sizes in the zip64 extra field
  EXPECT_EQ(le(z, 30 + 5, 2), 1u);       // its id
  const std::size_t end = z.size() - 22, locator = end - 20;
  EXPECT_EQ(le(z, locator, 4), 0x07064b50u);
  EXPECT_EQ(le(z, le(z, locator + 8, 8), 4), 0x06064b50u);  // the zip64 end record it points to
}

TEST_F(NpzWriterTest, AnEntryMustGetExactlyItsDeclaredBytes) {
  NpzWriter npz(path);
  npz.begin("a", 4);
  EXPECT_THROW(npz.write("12345", 5), Error);
  npz.write("12", 2);
  EXPECT_THROW(npz.finish(), Error);  // two bytes short
}

TEST(NpzWriter, AnUnwritablePathIsAnErrorNamingIt) {
  try {
    NpzWriter npz("/nonexistent-dir/x.npz");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.npz: cannot create"), std::string::npos);
  }
}

}  // namespace
}  // namespace dals
