// Hostile HDF5 files: attributes of the wrong shape, type or size and arrays
// declaring more elements than they hold must be clean Errors naming the
// file and the attribute or dataset, never a crash or an allocation the
// file does not back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <vector>

#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/hdf5_file.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

class Hostile : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dals-hostile-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "block-00000.h5").string();
    CsrBlock block;
    block.first_row = 0;
    block.num_cols = 5;
    block.indptr = {0, 2, 3};
    block.indices = {1, 4, 0};
    block.values = {1.f, 2.f, 3.f};
    info_ = write_ratings_block(path_, block);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Opens the file for writing, hands `edit` its id, closes it.
  void edit(const std::function<void(hid_t)>& change) const {
    H5Id file(H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_GE(file.get(), 0);
    change(file.get());
  }

  std::string error_reading() const {
    try {
      read_ratings_block(path_, info_, 5);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
  std::string path_;
  BlockInfo info_;
};

// Replaces attribute `name` of `object` with one of `type` over `space`,
// filled with `fill` bytes.
void replace_attribute(hid_t object, const char* name, hid_t type, hid_t space, std::size_t bytes) {
  if (H5Aexists(object, name) > 0) H5Adelete(object, name);
  H5Id attr(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  ASSERT_GE(attr.get(), 0);
  std::vector<unsigned char> data(bytes, 0x41);
  if (bytes > 0) {
    ASSERT_GE(H5Awrite(attr.get(), type, data.data()), 0);
  }
}

// `count` elements where one is expected: 4,096 of 8 bytes are 32 KB over
// one number if read blindly.
void array_attribute(hid_t object, const char* name, hid_t type, std::size_t element, hsize_t count = 4096) {
  const hsize_t dims[1] = {count};
  H5Id space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  replace_attribute(object, name, type, space.get(), count * element);
}

TEST_F(Hostile, ArrayWhereAScalarIntegerAttributeBelongs) {
  for (const char* name : {"first_row", "num_cols"}) {
    SetUp();
    edit([&](hid_t file) { array_attribute(file, name, H5T_NATIVE_INT64, 8); });
    const std::string err = error_reading();
    EXPECT_EQ(err.rfind(path_ + ": ", 0), 0u) << err;
    EXPECT_NE(err.find(std::string("attribute '") + name + "'"), std::string::npos) << err;
    EXPECT_NE(err.find("4096"), std::string::npos) << err;
  }
}

TEST_F(Hostile, ArrayWhereADatasetChecksumBelongs) {
  edit([&](hid_t file) {
    H5Id dset(H5Dopen2(file, "indices", H5P_DEFAULT), H5Dclose);
    array_attribute(dset.get(), "checksum", H5T_NATIVE_UINT64, 8);
  });
  const std::string err = error_reading();
  EXPECT_EQ(err.rfind(path_ + ": ", 0), 0u) << err;
  EXPECT_NE(err.find("'indices'"), std::string::npos) << err;
  EXPECT_NE(err.find("attribute 'checksum'"), std::string::npos) << err;
}

TEST_F(Hostile, WrongTypeClassOrSizeOfAScalarAttribute) {
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  edit([&](hid_t file) { replace_attribute(file, "first_row", H5T_NATIVE_DOUBLE, space.get(), 8); });
  std::string err = error_reading();
  EXPECT_NE(err.find(path_ + ": attribute 'first_row'"), std::string::npos) << err;
  SetUp();
  // A 64-byte string where a number belongs.
  H5Id text(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(text.get(), 64);
  edit([&](hid_t file) { replace_attribute(file, "num_cols", text.get(), space.get(), 64); });
  err = error_reading();
  EXPECT_NE(err.find(path_ + ": attribute 'num_cols'"), std::string::npos) << err;
  SetUp();
  // An empty (null) dataspace holds no number at all.
  H5Id null_space(H5Screate(H5S_NULL), H5Sclose);
  edit([&](hid_t file) { replace_attribute(file, "first_row", H5T_NATIVE_INT64, null_space.get(), 0); });
  err = error_reading();
  EXPECT_NE(err.find(path_ + ": attribute 'first_row'"), std::string::npos) << err;
}

TEST_F(Hostile, StringAttributesAreScalarBoundedAndFixedLength) {
  const std::string path = (dir_ / "strings.h5").string();
  {
    H5File f = H5File::create(path);
    f.set_attribute("id_type", std::string("int64"));
    f.close();
  }
  auto error_of = [&] {
    try {
      H5File::open(path).string_attribute("id_type");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  auto with_file = [&](const std::function<void(hid_t)>& change) {
    H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_GE(file.get(), 0);
    change(file.get());
  };
  EXPECT_EQ(error_of(), "");
  // 1,024 strings of 16 bytes where one belongs.
  H5Id text(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(text.get(), 16);
  with_file([&](hid_t file) { array_attribute(file, "id_type", text.get(), 16, 1024); });
  std::string err = error_of();
  EXPECT_NE(err.find(path + ": attribute 'id_type'"), std::string::npos) << err;
  // One string of 60,000 bytes (near HDF5's 64 KB limit for an attribute
  // in the object header): more than any attribute of ours holds.
  H5Id huge(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(huge.get(), 60000);
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  with_file([&](hid_t file) { replace_attribute(file, "id_type", huge.get(), space.get(), 60000); });
  err = error_of();
  EXPECT_NE(err.find(path + ": attribute 'id_type'"), std::string::npos) << err;
  // A variable-length string reads as a pointer, not as its characters.
  H5Id vlen(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(vlen.get(), H5T_VARIABLE);
  with_file([&](hid_t file) {
    if (H5Aexists(file, "id_type") > 0) H5Adelete(file, "id_type");
    H5Id attr(H5Acreate2(file, "id_type", vlen.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    const char* value = "int64";
    ASSERT_GE(H5Awrite(attr.get(), vlen.get(), &value), 0);
  });
  err = error_of();
  EXPECT_NE(err.find(path + ": attribute 'id_type'"), std::string::npos) << err;
}

// Replaces dataset `name` with a chunked one of `count` elements of `type`;
// chunks are written only if `write` (else the file stays small).
void replace_with_chunked(hid_t file, const char* name, hid_t type, hsize_t count, bool write) {
  ASSERT_GE(H5Ldelete(file, name, H5P_DEFAULT), 0);
  const hsize_t dims[1] = {count}, chunk[1] = {std::min<hsize_t>(count, 1 << 16)};
  H5Id space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  H5Id plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  ASSERT_GE(H5Pset_chunk(plist.get(), 1, chunk), 0);
  H5Id dset(H5Dcreate2(file, name, type, space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT), H5Dclose);
  ASSERT_GE(dset.get(), 0);
  if (write) {
    std::vector<unsigned char> zeros(count * H5Tget_size(type), 0);
    ASSERT_GE(H5Dwrite(dset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()), 0);
  }
  H5Id aspace(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id attr(H5Acreate2(dset.get(), "checksum", H5T_NATIVE_UINT64, aspace.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const std::uint64_t sum = 0;
  ASSERT_GE(H5Awrite(attr.get(), H5T_NATIVE_UINT64, &sum), 0);
}

// 2^34 indices (64 GB) declared by a chunked dataset never written: the
// file stays a few KB, and reading it must not try to allocate them.
TEST_F(Hostile, HugeDeclaredExtentIsAnErrorBeforeAnyAllocation) {
  edit([&](hid_t file) { replace_with_chunked(file, "indices", H5T_NATIVE_INT32, hsize_t{1} << 34, false); });
  EXPECT_LT(fs::file_size(path_), 1u << 20);
  std::string err;
  EXPECT_NO_THROW(err = error_reading());
  EXPECT_EQ(err.rfind(path_ + ": block holds 17179869184 ratings but the manifest says 3", 0), 0u) << err;
}

// Exactly the count the manifest says, but never written: HDF5 would read
// the chunks as fill values (zeros), and with the checksum of those zeros
// set the array would pass every other check. The bytes the file stores
// must cover the declared extent.
TEST_F(Hostile, AnExtentTheFileDoesNotStoreIsAnError) {
  edit([&](hid_t file) {
    replace_with_chunked(file, "values", H5T_NATIVE_FLOAT, 3, false);
    H5Id dset(H5Dopen2(file, "values", H5P_DEFAULT), H5Dclose);
    ASSERT_GE(dset.get(), 0);
    const std::vector<float> zeros(3, 0.f);
    const std::uint64_t sum = checksum_of(std::span<const float>(zeros));
    H5Id attr(H5Aopen(dset.get(), "checksum", H5P_DEFAULT), H5Aclose);
    ASSERT_GE(H5Awrite(attr.get(), H5T_NATIVE_UINT64, &sum), 0);
  });
  const std::string err = error_reading();
  EXPECT_EQ(err.rfind(path_ + ": dataset 'values' declares 3 elements (12 bytes) but the file stores 0 bytes", 0), 0u)
      << err;
}

// A size the file does back (every chunk written) but the manifest does
// not: checked against the manifest's count, not only the file's size.
TEST_F(Hostile, ExtentMustBeWhatTheManifestSays) {
  edit([&](hid_t file) { replace_with_chunked(file, "values", H5T_NATIVE_FLOAT, 100000, true); });
  const std::string err = error_reading();
  EXPECT_EQ(err.rfind(path_ + ": dataset 'values' declares 100000 elements but the manifest says 3", 0), 0u) << err;
}

// A 1-D array stored as 2-D (3 x 1), the same values under a valid
// checksum: the fuzz test found it accepted. dals writes 1-D arrays 1-D.
TEST_F(Hostile, TwoDimensionsWhereOneBelongs) {
  edit([&](hid_t file) {
    H5Id old(H5Dopen2(file, "values", H5P_DEFAULT), H5Dclose);
    float values[3];
    std::uint64_t sum = 0;
    ASSERT_GE(H5Dread(old.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), 0);
    H5Id attr(H5Aopen(old.get(), "checksum", H5P_DEFAULT), H5Aclose);
    ASSERT_GE(H5Aread(attr.get(), H5T_NATIVE_UINT64, &sum), 0);
    attr.reset();
    old.reset();
    ASSERT_GE(H5Ldelete(file, "values", H5P_DEFAULT), 0);
    const hsize_t dims[2] = {3, 1};
    H5Id space(H5Screate_simple(2, dims, nullptr), H5Sclose);
    H5Id dset(H5Dcreate2(file, "values", H5T_NATIVE_FLOAT, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
              H5Dclose);
    ASSERT_GE(H5Dwrite(dset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), 0);
    H5Id scalar(H5Screate(H5S_SCALAR), H5Sclose);
    H5Id sum_attr(H5Acreate2(dset.get(), "checksum", H5T_NATIVE_UINT64, scalar.get(), H5P_DEFAULT, H5P_DEFAULT),
                  H5Aclose);
    ASSERT_GE(H5Awrite(sum_attr.get(), H5T_NATIVE_UINT64, &sum), 0);
  });
  const std::string err = error_reading();
  EXPECT_EQ(err.rfind(path_ + ": dataset 'values' is 2-D (3 x 1), expected 1-D", 0), 0u) << err;
}

// The manifest sizes the trainer's buffers: a block's count must be backed
// by its file's bytes before anything is reserved for it.
TEST_F(Hostile, ManifestCountsMustBeBackedByTheBlockFile) {
  EXPECT_NO_THROW(check_ratings_block_size(path_, info_));
  BlockInfo huge = info_;
  huge.nnz = std::int64_t{1} << 40;
  std::string err;
  try {
    check_ratings_block_size(path_, huge);
  } catch (const Error& e) {
    err = e.what();
  }
  EXPECT_EQ(err.rfind(path_ + ": ", 0), 0u) << err;
  EXPECT_NE(err.find("1099511627776 ratings"), std::string::npos) << err;
  EXPECT_NE(err.find(std::to_string(fs::file_size(path_)) + " bytes"), std::string::npos) << err;
}

}  // namespace
}  // namespace dals
