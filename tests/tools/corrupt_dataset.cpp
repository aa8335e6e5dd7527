// dals-test-corrupt: damages a dataset directory in place, one way per run,
// so the command-line tests can check that every reader catches it.
//
//   dals-test-corrupt flip-byte FILE DATASET   flip one byte inside DATASET's raw data
//                                              (the array's checksum must catch it)
//   dals-test-corrupt truncate FILE            cut FILE to half its size
//   dals-test-corrupt index-out-of-range DATA  by-user block 0 gets an index >= n; the
//                                              block checksum and manifest fingerprint
//                                              are updated, so only the range check can
//                                              catch it
//   dals-test-corrupt wide-index-past-32-bits DATA
//                                              by-item block 0 (of int64 ids, as
//                                              dals-generate --wide-ids writes) gets an
//                                              index 2^32 above a valid one, which 32 bits
//                                              would read as that valid id; checksums updated
//   dals-test-corrupt manifest-huge-users DATA the last user block gains rows up to 2^31 - 1
//                                              (fingerprint updated): 2^31 users or more,
//                                              in the manifest only
//   dals-test-corrupt indptr-not-monotone DATA likewise, indptr decreases at one row
//   dals-test-corrupt change-value DATA        by-user block 0's first rating changes (checksums
//                                              updated): by-user and by-item then disagree
//   dals-test-corrupt manifest-nnz DATA        the manifest moves one rating from by-user
//                                              block 1 to block 0 (totals and fingerprint
//                                              stay consistent), so only the comparison of
//                                              block 0's file with the manifest catches it
//   dals-test-corrupt array-attribute FILE OBJECT NAME
//                                              attribute NAME of OBJECT ("/" for the file,
//                                              else a dataset) becomes 4,096 int64s
//   dals-test-corrupt huge-extent FILE DATASET COUNT
//                                              DATASET is replaced by a chunked one declaring
//                                              COUNT elements, never written (the file stays
//                                              small), with the old checksum attribute
//   dals-test-corrupt set-float FILE DATASET VALUE
//                                              element 0 of a float DATASET becomes VALUE
//                                              (nan, inf, 3e38...); its checksum is updated
//   dals-test-corrupt manifest-huge-ratings DATA
//                                              train block 0 of both sides and the total
//                                              gain 2^40 ratings (fingerprint updated): a
//                                              manifest the block files do not back
//   dals-test-corrupt manifest-mean DATA       the manifest's mean grows by 0.01 (fingerprint
//                                              updated), so only a comparison with the
//                                              ratings themselves catches it
//
// Test-only: it trusts its input dataset to be good and says on stdout what
// it changed. Exit 0 on success, 1 with a one-line error otherwise.
#include <hdf5.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/hdf5_file.hpp"
#include "dals/data/manifest.hpp"

namespace fs = std::filesystem;

namespace {

using dals::Error;

// Where DATASET's bytes live in FILE: its offset and storage size. Only
// contiguous, allocated datasets have one (everything dals writes is).
void raw_extent(const std::string& file, const std::string& dataset, haddr_t& offset, hsize_t& size) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  dals::H5Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (f.get() < 0) throw Error(file + ": cannot open as HDF5 (" + dals::h5_last_error() + ")");
  dals::H5Id d(H5Dopen2(f.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (d.get() < 0) throw Error(file + ": no dataset '" + dataset + "' (" + dals::h5_last_error() + ")");
  offset = H5Dget_offset(d.get());
  size = H5Dget_storage_size(d.get());
  if (offset == HADDR_UNDEF || size == 0)
    throw Error(file + ": dataset '" + dataset + "' has no contiguous raw data to damage");
}

void flip_byte(const std::string& file, const std::string& dataset) {
  haddr_t offset = 0;
  hsize_t size = 0;
  raw_extent(file, dataset, offset, size);
  const std::uint64_t at = static_cast<std::uint64_t>(offset) + static_cast<std::uint64_t>(size) / 2;
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  if (!io) throw Error(file + ": cannot open for writing");
  io.seekg(static_cast<std::streamoff>(at));
  char byte = 0;
  if (!io.get(byte)) throw Error(file + ": cannot read byte " + std::to_string(at));
  const char flipped = static_cast<char>(byte ^ 0x5a);
  io.seekp(static_cast<std::streamoff>(at));
  if (!io.put(flipped) || !io.flush()) throw Error(file + ": cannot write byte " + std::to_string(at));
  std::printf("%s: flipped byte %llu (dataset '%s', raw data at %llu, %llu bytes)\n", file.c_str(),
              static_cast<unsigned long long>(at), dataset.c_str(), static_cast<unsigned long long>(offset),
              static_cast<unsigned long long>(size));
}

void truncate_file(const std::string& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) throw Error(file + ": cannot stat: " + ec.message());
  fs::resize_file(file, size / 2, ec);
  if (ec) throw Error(file + ": cannot truncate: " + ec.message());
  std::printf("%s: truncated from %llu to %llu bytes\n", file.c_str(), static_cast<unsigned long long>(size),
              static_cast<unsigned long long>(size / 2));
}

// Rewrites train by-user block `b` after `change` altered it (without any
// validation), and records its new checksum in the manifest so the block
// checksum and the fingerprint both agree with the damaged file.
template <class Change>
void rewrite_user_block(const std::string& dir, int b, Change change) {
  dals::Manifest m = dals::read_manifest(dir);
  if (b >= m.blocks) throw Error(dir + ": dataset has no by-user block " + std::to_string(b));
  const std::string path = dals::ratings_path(dir, dals::Split::train, dals::Side::users, b);
  dals::BlockInfo& info = m.train.user_blocks[b];
  dals::CsrBlock block = dals::read_ratings_block(path, info, m.items);
  const std::string what = change(block);
  const dals::BlockInfo written = dals::write_ratings_block(path, block);
  info.checksum = written.checksum;
  m.fingerprint = m.compute_fingerprint();
  dals::write_manifest(dir, m);
  std::printf("%s: %s (manifest checksum and fingerprint updated)\n", path.c_str(), what.c_str());
}

void index_out_of_range(const std::string& dir) {
  rewrite_user_block(dir, 0, [&](dals::CsrBlock& block) {
    // The last index of the first non-empty row: raising it to n keeps the
    // row strictly increasing, so the range check is the one that fails.
    for (std::int64_t r = 0; r < block.rows(); ++r)
      if (block.degree(r) > 0) {
        const std::int64_t p = block.indptr[r + 1] - 1;
        const std::int32_t old = block.indices[p];
        block.indices[p] = static_cast<std::int32_t>(block.num_cols);
        return "row " + std::to_string(block.first_row + r) + ": index " + std::to_string(old) + " -> " +
               std::to_string(block.num_cols) + " (n = " + std::to_string(block.num_cols) + ")";
      }
    throw Error("by-user block 0 has no ratings to damage");
  });
}

void wide_index_past_32_bits(const std::string& dir) {
  dals::Manifest m = dals::read_manifest(dir);
  const std::string path = dals::ratings_path(dir, dals::Split::train, dals::Side::items, 0);
  dals::BlockInfo& info = m.train.item_blocks[0];
  if (!dals::ratings_block_is_wide(path)) throw Error(path + ": stores 32-bit ids (generate with --wide-ids)");
  dals::WideCsrBlock block = dals::read_wide_ratings_block(path, info, m.users);
  for (std::int64_t r = 0; r < block.rows(); ++r)
    if (block.indptr[r + 1] > block.indptr[r]) {
      // The row's last id: 2^32 more keeps the row increasing.
      const std::int64_t p = block.indptr[r + 1] - 1, old = block.indices[p];
      block.indices[p] = old + (std::int64_t{1} << 32);
      const dals::BlockInfo written = dals::write_ratings_block(path, dals::compact_columns(block));
      info.checksum = written.checksum;
      m.fingerprint = m.compute_fingerprint();
      dals::write_manifest(dir, m);
      std::printf("%s: row %lld: index %lld -> %lld (manifest checksum and fingerprint updated)\n", path.c_str(),
                  static_cast<long long>(block.first_row + r), static_cast<long long>(old),
                  static_cast<long long>(block.indices[p]));
      return;
    }
  throw Error(path + ": no ratings to damage");
}

void indptr_not_monotone(const std::string& dir) {
  rewrite_user_block(dir, 0, [&](dals::CsrBlock& block) {
    // indptr[i] = indptr[i-1] - 1 for an interior i: row i-1 ends before it
    // begins, every earlier row is untouched, and indptr still starts at 0
    // and ends at nnz, so the monotonicity check is the one that fails.
    for (std::int64_t i = 1; i < block.rows(); ++i)
      if (block.indptr[i - 1] >= 1) {
        const std::int64_t old = block.indptr[i];
        block.indptr[i] = block.indptr[i - 1] - 1;
        return "indptr[" + std::to_string(i) + "] " + std::to_string(old) + " -> " + std::to_string(block.indptr[i]) +
               " (row " + std::to_string(block.first_row + i - 1) + ")";
      }
    throw Error("by-user block 0 is too small to make indptr non-monotone");
  });
}

void change_value(const std::string& dir) {
  rewrite_user_block(dir, 0, [&](dals::CsrBlock& block) {
    // A valid block with valid checksums that no longer agrees with the
    // by-item blocks: only comparing the two orientations can tell.
    if (block.values.empty()) throw Error("by-user block 0 has no ratings to change");
    block.values[0] += 1.0f;
    return std::string("first rating's value +1");
  });
}

void manifest_nnz(const std::string& dir) {
  dals::Manifest m = dals::read_manifest(dir);
  if (m.blocks < 2) throw Error(dir + ": manifest-nnz needs at least 2 blocks");
  auto& blocks = m.train.user_blocks;
  if (blocks[1].nnz < 1) throw Error(dir + ": by-user block 1 has no ratings to move");
  // Move one rating between two blocks of the same side: the totals stay
  // right, so Manifest::validate() passes, and only block 0's reader notices.
  blocks[0].nnz += 1;
  blocks[1].nnz -= 1;
  m.fingerprint = m.compute_fingerprint();
  dals::write_manifest(dir, m);
  std::printf("%s/manifest.json: train by-user block 0 nnz %lld -> %lld, block 1 %lld -> %lld\n", dir.c_str(),
              static_cast<long long>(blocks[0].nnz - 1), static_cast<long long>(blocks[0].nnz),
              static_cast<long long>(blocks[1].nnz + 1), static_cast<long long>(blocks[1].nnz));
}

dals::H5Id open_rw(const std::string& file) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  dals::H5Id f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  if (f.get() < 0) throw Error(file + ": cannot open as HDF5 for writing (" + dals::h5_last_error() + ")");
  return f;
}

void array_attribute(const std::string& file, const std::string& object, const std::string& name) {
  dals::H5Id f = open_rw(file);
  dals::H5Id dset;
  hid_t target = f.get();
  if (object != "/") {
    dset = dals::H5Id(H5Dopen2(f.get(), object.c_str(), H5P_DEFAULT), H5Dclose);
    if (dset.get() < 0) throw Error(file + ": no dataset '" + object + "'");
    target = dset.get();
  }
  if (H5Aexists(target, name.c_str()) > 0) H5Adelete(target, name.c_str());
  const hsize_t dims[1] = {4096};
  dals::H5Id space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  dals::H5Id attr(H5Acreate2(target, name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  std::vector<std::int64_t> values(4096, 0x4141414141414141);
  if (attr.get() < 0 || H5Awrite(attr.get(), H5T_NATIVE_INT64, values.data()) < 0)
    throw Error(file + ": cannot write attribute '" + name + "' (" + dals::h5_last_error() + ")");
  std::printf("%s: attribute '%s' of %s is now 4096 int64s\n", file.c_str(), name.c_str(), object.c_str());
}

void huge_extent(const std::string& file, const std::string& dataset, const std::string& count_text) {
  const hsize_t count = std::stoull(count_text);
  dals::H5Id f = open_rw(file);
  dals::H5Id old(H5Dopen2(f.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (old.get() < 0) throw Error(file + ": no dataset '" + dataset + "'");
  dals::H5Id type(H5Dget_type(old.get()), H5Tclose);
  std::uint64_t sum = 0;
  dals::H5Id sum_attr(H5Aopen(old.get(), "checksum", H5P_DEFAULT), H5Aclose);
  if (sum_attr.get() >= 0) H5Aread(sum_attr.get(), H5T_NATIVE_UINT64, &sum);
  sum_attr.reset();
  old.reset();
  if (H5Ldelete(f.get(), dataset.c_str(), H5P_DEFAULT) < 0) throw Error(file + ": cannot delete '" + dataset + "'");
  const hsize_t dims[1] = {count}, chunk[1] = {1 << 16};
  dals::H5Id space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  dals::H5Id plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_chunk(plist.get(), 1, chunk);
  dals::H5Id dset(H5Dcreate2(f.get(), dataset.c_str(), type.get(), space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT),
                  H5Dclose);
  if (dset.get() < 0) throw Error(file + ": cannot create '" + dataset + "' (" + dals::h5_last_error() + ")");
  dals::H5Id aspace(H5Screate(H5S_SCALAR), H5Sclose);
  dals::H5Id attr(H5Acreate2(dset.get(), "checksum", H5T_NATIVE_UINT64, aspace.get(), H5P_DEFAULT, H5P_DEFAULT),
                  H5Aclose);
  if (attr.get() < 0 || H5Awrite(attr.get(), H5T_NATIVE_UINT64, &sum) < 0)
    throw Error(file + ": cannot write the checksum of '" + dataset + "'");
  std::printf("%s: dataset '%s' now declares %llu elements, none written\n", file.c_str(), dataset.c_str(),
              static_cast<unsigned long long>(count));
}

void set_float(const std::string& file, const std::string& dataset, const std::string& value_text) {
  const float value = std::stof(value_text);
  std::vector<float> data;
  std::uint64_t cols = 0;
  {
    dals::H5File f = dals::H5File::open(file);
    data = f.read<float>(dataset, &cols);
  }
  if (data.empty()) throw Error(file + ": dataset '" + dataset + "' is empty");
  data[0] = value;
  dals::H5Id f = open_rw(file);
  dals::H5Id dset(H5Dopen2(f.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (dset.get() < 0 || H5Dwrite(dset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    throw Error(file + ": cannot write '" + dataset + "'");
  const std::uint64_t sum = dals::checksum_of(std::span<const float>(data));
  dals::H5Id attr(H5Aopen(dset.get(), "checksum", H5P_DEFAULT), H5Aclose);
  if (attr.get() < 0 || H5Awrite(attr.get(), H5T_NATIVE_UINT64, &sum) < 0)
    throw Error(file + ": cannot update the checksum of '" + dataset + "'");
  std::printf("%s: %s[0] = %s (checksum updated)\n", file.c_str(), dataset.c_str(), value_text.c_str());
}

void manifest_huge_ratings(const std::string& dir) {
  dals::Manifest m = dals::read_manifest(dir);
  constexpr std::int64_t kMore = std::int64_t{1} << 40;
  m.train.ratings += kMore;
  m.train.user_blocks[0].nnz += kMore;
  m.train.item_blocks[0].nnz += kMore;
  m.fingerprint = m.compute_fingerprint();
  dals::write_manifest(dir, m);
  std::printf("%s/manifest.json: train ratings and block 0 of each side +2^40\n", dir.c_str());
}

void manifest_huge_users(const std::string& dir) {
  dals::Manifest m = dals::read_manifest(dir);
  // The last user block grows to 2^31 - 1 rows (the most a block has): the
  // users then number 2^31 or more, which no block file backs.
  dals::BlockInfo& last = m.train.user_blocks.back();
  last.rows = std::numeric_limits<std::int32_t>::max();
  if (m.has_test) m.test.user_blocks.back().rows = last.rows;
  m.users = last.first + last.rows;
  m.fingerprint = m.compute_fingerprint();
  dals::write_manifest(dir, m);
  std::printf("%s/manifest.json: %lld users\n", dir.c_str(), static_cast<long long>(m.users));
}

void manifest_mean(const std::string& dir) {
  dals::Manifest m = dals::read_manifest(dir);
  const double before = m.mean;
  m.mean += 0.01;
  m.fingerprint = m.compute_fingerprint();
  dals::write_manifest(dir, m);
  std::printf("%s/manifest.json: mean %.17g -> %.17g\n", dir.c_str(), before, m.mean);
}

int usage() {
  std::fputs(
      "usage: dals-test-corrupt flip-byte FILE DATASET | truncate FILE | index-out-of-range DATA |\n"
      "       manifest-huge-users DATA | wide-index-past-32-bits DATA | indptr-not-monotone DATA | change-value DATA | "
      "manifest-nnz DATA | "
      "manifest-mean DATA |\n"
      "       array-attribute FILE OBJECT NAME | huge-extent FILE DATASET COUNT |\n"
      "       set-float FILE DATASET VALUE | manifest-huge-ratings DATA\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string mode = argv[1];
  try {
    if (mode == "flip-byte" && argc == 4)
      flip_byte(argv[2], argv[3]);
    else if (mode == "truncate" && argc == 3)
      truncate_file(argv[2]);
    else if (mode == "index-out-of-range" && argc == 3)
      index_out_of_range(argv[2]);
    else if (mode == "manifest-huge-users" && argc == 3)
      manifest_huge_users(argv[2]);
    else if (mode == "wide-index-past-32-bits" && argc == 3)
      wide_index_past_32_bits(argv[2]);
    else if (mode == "indptr-not-monotone" && argc == 3)
      indptr_not_monotone(argv[2]);
    else if (mode == "manifest-nnz" && argc == 3)
      manifest_nnz(argv[2]);
    else if (mode == "manifest-mean" && argc == 3)
      manifest_mean(argv[2]);
    else if (mode == "change-value" && argc == 3)
      change_value(argv[2]);
    else if (mode == "array-attribute" && argc == 5)
      array_attribute(argv[2], argv[3], argv[4]);
    else if (mode == "huge-extent" && argc == 5)
      huge_extent(argv[2], argv[3], argv[4]);
    else if (mode == "set-float" && argc == 5)
      set_float(argv[2], argv[3], argv[4]);
    else if (mode == "manifest-huge-ratings" && argc == 3)
      manifest_huge_ratings(argv[2]);
    else
      return usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dals-test-corrupt: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
