// HDF5 layer and dataset files: round trips, and damage that must be caught.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "../error_of.hpp"
#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/dataset_builder.hpp"
#include "dals/data/hdf5_file.hpp"
#include "dals/data/manifest.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("dals-unit-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

using unit_test::error_of;

// Flips one byte in the raw data of a dataset (found with H5Dget_offset).
void flip_data_byte(const std::string& path, const std::string& dataset) {
  haddr_t offset;
  {
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t dset = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    offset = H5Dget_offset(dset);
    H5Dclose(dset);
    H5Fclose(file);
  }
  ASSERT_NE(offset, HADDR_UNDEF);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset) + 4);
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset) + 4);
  f.put(static_cast<char>(c ^ 0x10));
}

TEST(Checksum, DetectsSingleBitChangesAndDependsOnLength) {
  std::vector<float> a(1000, 1.5f);
  const auto base = checksum_of(std::span<const float>(a));
  for (std::size_t i : {0ul, 17ul, 999ul}) {
    auto b = a;
    b[i] = std::nextafter(b[i], 2.f);
    EXPECT_NE(checksum_of(std::span<const float>(b)), base) << i;
  }
  EXPECT_NE(checksum64(a.data(), 12), checksum64(a.data(), 16));
  EXPECT_EQ(checksum_of(std::span<const float>(a)), base);
}

TEST(Hdf5, ArraysAndAttributesRoundTrip) {
  TempDir dir;
  const std::string path = dir / "a.h5";
  std::vector<float> m = {1, 2, 3, 4, 5, 6};
  std::vector<std::int64_t> v = {-1, 0, 1ll << 40};
  {
    H5File f = H5File::create(path);
    f.write("matrix", std::span<const float>(m), 3);
    f.write("vector", std::span<const std::int64_t>(v));
    f.write("empty", std::span<const std::int32_t>());
    f.set_attribute("count", std::int64_t{42});
    f.set_attribute("scale", 0.25);
    f.set_attribute("name", std::string("dals"));
    f.close();
  }
  H5File f = H5File::open(path);
  std::uint64_t cols = 0;
  EXPECT_EQ(f.read<float>("matrix", &cols), m);
  EXPECT_EQ(cols, 3u);
  EXPECT_EQ(f.read<std::int64_t>("vector"), v);
  EXPECT_TRUE(f.read<std::int32_t>("empty").empty());
  EXPECT_EQ(f.int_attribute("count"), 42);
  EXPECT_EQ(f.double_attribute("scale"), 0.25);
  EXPECT_EQ(f.string_attribute("name"), "dals");
  EXPECT_NE(error_of([&] { f.read<float>("nope"); }).find("'nope' is missing"), std::string::npos);
  EXPECT_NE(error_of([&] { f.read<float>("vector"); }).find("wrong element type"), std::string::npos);
}

TEST(Hdf5, FlippedByteIsAChecksumMismatchNamingTheFile) {
  TempDir dir;
  const std::string path = dir / "b.h5";
  std::vector<float> values(256, 3.f);
  {
    H5File f = H5File::create(path);
    f.write("values", std::span<const float>(values));
    f.close();
  }
  flip_data_byte(path, "values");
  const std::string err = error_of([&] { H5File::open(path).read<float>("values"); });
  EXPECT_NE(err.find(path + ": dataset 'values': checksum mismatch"), std::string::npos) << err;
}

TEST(Hdf5, TruncatedAndMissingFilesAreClearErrors) {
  TempDir dir;
  const std::string path = dir / "c.h5";
  std::vector<double> values(4096, 1.0);
  {
    H5File f = H5File::create(path);
    f.write("values", std::span<const double>(values));
    f.close();
  }
  fs::resize_file(path, fs::file_size(path) / 2);
  std::string err = error_of([&] { H5File::open(path).read<double>("values"); });
  EXPECT_EQ(err.rfind(path + ": ", 0), 0u) << err;
  err = error_of([&] { H5File::open(dir / "missing.h5"); });
  EXPECT_NE(err.find("missing.h5: cannot open"), std::string::npos) << err;
}

std::vector<RawRating> sample_ratings() {
  std::vector<RawRating> r;
  for (int u = 0; u < 40; ++u)
    for (int i = 0; i < 30; ++i)
      if ((u * 7 + i * 3) % 5 == 0) r.push_back({1000 + u, 50 + i * 2, static_cast<float>(1 + (u + i) % 5)});
  return r;
}

TEST(Dataset, BuildWritesBothOrientationsWithTheSameRatings) {
  TempDir dir;
  const std::string data = dir / "data";
  auto ratings = sample_ratings();
  BuildOptions options;
  options.blocks = 3;
  options.test_fraction = 0.2;
  Manifest written = build_dataset(data, ratings, options);
  Manifest m = read_manifest(data);
  EXPECT_EQ(m.fingerprint, written.fingerprint);
  EXPECT_EQ(m.train.ratings + m.test.ratings, static_cast<std::int64_t>(ratings.size()));
  EXPECT_TRUE(m.has_test);
  for (Split split : {Split::train, Split::test}) {
    const SplitInfo& info = split == Split::train ? m.train : m.test;
    std::vector<Triplet> by_user, by_item;
    for (int b = 0; b < m.blocks; ++b) {
      for (auto t :
           csr_to_triplets(read_ratings_block(ratings_path(data, split, Side::users, b), info.user_blocks[b], m.items)))
        by_user.push_back(t);
      for (auto t :
           csr_to_triplets(read_ratings_block(ratings_path(data, split, Side::items, b), info.item_blocks[b], m.users)))
        by_item.push_back({t.col, t.row, t.value});
    }
    auto key = [](const Triplet& a, const Triplet& b) { return a.row != b.row ? a.row < b.row : a.col < b.col; };
    std::sort(by_user.begin(), by_user.end(), key);
    std::sort(by_item.begin(), by_item.end(), key);
    ASSERT_EQ(by_user.size(), by_item.size());
    EXPECT_EQ(static_cast<std::int64_t>(by_user.size()), info.ratings);
    for (std::size_t i = 0; i < by_user.size(); ++i) {
      EXPECT_EQ(by_user[i].row, by_item[i].row);
      EXPECT_EQ(by_user[i].col, by_item[i].col);
      EXPECT_EQ(by_user[i].value, by_item[i].value);
    }
  }
  // Raw ids map back: every raw user id appears exactly once across blocks.
  std::vector<std::int64_t> raw;
  for (int b = 0; b < m.blocks; ++b)
    for (auto id : read_id_block(ids_path(data, Side::users, b), m.train.user_blocks[b])) raw.push_back(id);
  std::sort(raw.begin(), raw.end());
  EXPECT_EQ(raw.size(), 40u);
  EXPECT_EQ(raw.front(), 1000);
  EXPECT_EQ(raw.back(), 1039);
}

TEST(Dataset, ReaderRejectsABlockTheManifestDoesNotDescribe) {
  TempDir dir;
  const std::string data = dir / "data";
  BuildOptions options;
  options.blocks = 2;
  build_dataset(data, sample_ratings(), options);
  Manifest m = read_manifest(data);
  BlockInfo wrong = m.train.user_blocks[0];
  wrong.nnz += 1;
  std::string err =
      error_of([&] { read_ratings_block(ratings_path(data, Split::train, Side::users, 0), wrong, m.items); });
  EXPECT_NE(err.find("by-user/block-00000.h5: block holds"), std::string::npos) << err;
  wrong = m.train.user_blocks[0];
  wrong.checksum ^= 1;
  err = error_of([&] { read_ratings_block(ratings_path(data, Split::train, Side::users, 0), wrong, m.items); });
  EXPECT_NE(err.find("do not match the manifest's checksum"), std::string::npos) << err;
}

TEST(Manifest, EditedManifestFailsItsFingerprint) {
  TempDir dir;
  const std::string data = dir / "data";
  BuildOptions options;
  options.blocks = 2;
  build_dataset(data, sample_ratings(), options);
  Manifest m = read_manifest(data);
  m.mean += 0.5;
  write_manifest(data, m);
  std::string err = error_of([&] { read_manifest(data); });
  EXPECT_NE(err.find("manifest.json: fingerprint"), std::string::npos) << err;
  err = error_of([&] { read_manifest(dir / "nothing-here"); });
  EXPECT_NE(err.find("nothing-here/manifest.json: cannot read"), std::string::npos) << err;
}

}  // namespace
}  // namespace dals
