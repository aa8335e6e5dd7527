#include "dals/data/dataset.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/hdf5_file.hpp"

namespace dals {
namespace fs = std::filesystem;

std::string block_file_name(int block) {
  char name[32];
  std::snprintf(name, sizeof name, "block-%05d.h5", block);
  return name;
}

namespace {
constexpr const char* kByManifest = "the manifest";
const char* orientation_dir(Side side) { return side == Side::users ? "by-user" : "by-item"; }
}  // namespace

std::string ratings_path(const std::string& dir, Split split, Side side, int block) {
  return dir + (split == Split::test ? "/test/" : "/") + orientation_dir(side) + "/" + block_file_name(block);
}

std::string ids_path(const std::string& dir, Side side, int block) {
  return dir + "/ids/" + side_name(side) + "/" + block_file_name(block);
}

OutputKind dataset_output_kind() {
  return {"dals dataset", [](const std::string& dir) -> std::string {
            std::error_code ec;
            if (!fs::exists(dir + "/manifest.json", ec)) return "it has no manifest.json";
            if (!has_dataset_manifest(dir)) return "its manifest.json is not a dals dataset manifest";
            return "";
          }};
}

void create_dataset_dirs(const std::string& dir, bool with_test) {
  std::error_code ec;
  for (const char* sub : {"by-user", "by-item", "ids/users", "ids/items"}) {
    fs::create_directories(dir + "/" + sub, ec);
    if (ec) throw Error(dir + "/" + sub + ": cannot create directory: " + ec.message());
  }
  if (with_test)
    for (const char* sub : {"test/by-user", "test/by-item"}) {
      fs::create_directories(dir + "/" + sub, ec);
      if (ec) throw Error(dir + "/" + sub + ": cannot create directory: " + ec.message());
    }
}

std::uint64_t block_checksum(const CsrBlock& block) {
  if (block.compacted()) return block_checksum(widen_columns(block));
  std::uint64_t h = checksum_of(std::span<const std::int64_t>(block.indptr));
  h = checksum_of(std::span<const std::int32_t>(block.indices), h);
  return checksum_of(std::span<const float>(block.values), h);
}

std::uint64_t block_checksum(const WideCsrBlock& block) {
  std::uint64_t h = checksum_of(std::span<const std::int64_t>(block.indptr));
  h = checksum_of(std::span<const std::int64_t>(block.indices), h);
  return checksum_of(std::span<const float>(block.values), h);
}

BlockInfo write_ratings_block(const std::string& path, const CsrBlock& block) {
  H5File f = H5File::create(path);
  f.set_attribute("first_row", block.first_row);
  f.set_attribute("num_cols", block.num_cols);
  f.write("indptr", std::span<const std::int64_t>(block.indptr));
  if (block.compacted()) {
    const WideCsrBlock wide = widen_columns(block);
    f.write("indices", std::span<const std::int64_t>(wide.indices));
  } else {
    f.write("indices", std::span<const std::int32_t>(block.indices));
  }
  f.write("values", std::span<const float>(block.values));
  f.close();
  return BlockInfo{block.first_row, block.rows(), block.nnz(), block_checksum(block)};
}

namespace {

// Opens a rating block and checks its attributes and declared sizes against
// the manifest, before anything is allocated from them.
H5File open_ratings_block(const std::string& path, const BlockInfo& expected, std::int64_t num_cols) {
  H5File f = H5File::open(path);
  const std::int64_t first_row = f.int_attribute("first_row"), cols = f.int_attribute("num_cols");
  if (first_row != expected.first)
    throw Error(path + ": block starts at id " + std::to_string(first_row) + " but the manifest says " +
                std::to_string(expected.first));
  if (cols != num_cols)
    throw Error(path + ": block has " + std::to_string(cols) + " columns but the manifest says " +
                std::to_string(num_cols));
  if (expected.rows < 0 || expected.nnz < 0)
    throw Error(path + ": the manifest gives the block " + std::to_string(expected.rows) + " rows and " +
                std::to_string(expected.nnz) + " ratings");
  // Each array must declare what the manifest says, checked before it is
  // allocated: a declared extent is the file's word only.
  const std::uint64_t offsets = f.elements("indptr"), ratings = f.elements("indices");
  if (offsets != static_cast<std::uint64_t>(expected.rows) + 1)
    throw Error(path + ": block has " + (offsets == 0 ? std::string("no indptr") : std::to_string(offsets - 1)) +
                " rows but the manifest says " + std::to_string(expected.rows));
  if (ratings != static_cast<std::uint64_t>(expected.nnz))
    throw Error(path + ": block holds " + std::to_string(ratings) + " ratings but the manifest says " +
                std::to_string(expected.nnz));
  return f;
}

// 64-bit ids are written where the other side has 2^31 rows or more (or
// asked for: dals-generate --wide-ids); a file of either is read.
bool stores_wide_ids(const H5File& f) {
  if (f.holds<std::int32_t>("indices")) return false;
  if (f.holds<std::int64_t>("indices")) return true;
  throw Error(f.path() + ": dataset 'indices' is neither int32 nor int64");
}

WideCsrBlock read_wide_file(H5File& f, const std::string& path, const BlockInfo& expected, std::int64_t num_cols) {
  WideCsrBlock block;
  block.first_row = expected.first;
  block.num_cols = num_cols;
  block.indptr =
      f.read_exact<std::int64_t>("indptr", static_cast<std::uint64_t>(expected.rows) + 1, nullptr, kByManifest);
  block.indices = f.read_exact<std::int64_t>("indices", static_cast<std::uint64_t>(expected.nnz), nullptr, kByManifest);
  block.values = f.read_exact<float>("values", static_cast<std::uint64_t>(expected.nnz), nullptr, kByManifest);
  block.validate(path);
  if (block_checksum(block) != expected.checksum)
    throw Error(path + ": contents do not match the manifest's checksum (file replaced or manifest stale)");
  return block;
}

CsrBlock read_narrow_file(H5File& f, const std::string& path, const BlockInfo& expected, std::int64_t num_cols) {
  CsrBlock block;
  block.first_row = expected.first;
  block.num_cols = num_cols;
  block.indptr =
      f.read_exact<std::int64_t>("indptr", static_cast<std::uint64_t>(expected.rows) + 1, nullptr, kByManifest);
  block.indices = f.read_exact<std::int32_t>("indices", static_cast<std::uint64_t>(expected.nnz), nullptr, kByManifest);
  block.values = f.read_exact<float>("values", static_cast<std::uint64_t>(expected.nnz), nullptr, kByManifest);
  block.validate(path);
  if (block_checksum(block) != expected.checksum)
    throw Error(path + ": contents do not match the manifest's checksum (file replaced or manifest stale)");
  return block;
}

}  // namespace

CsrBlock read_ratings_block(const std::string& path, const BlockInfo& expected, std::int64_t num_cols) {
  H5File f = open_ratings_block(path, expected, num_cols);
  if (!stores_wide_ids(f)) return read_narrow_file(f, path, expected, num_cols);
  CsrBlock block = compact_columns(read_wide_file(f, path, expected, num_cols));
  return expand_columns(std::move(block), path);
}

bool ratings_block_is_wide(const std::string& path) { return stores_wide_ids(H5File::open(path)); }

WideCsrBlock read_wide_ratings_block(const std::string& path, const BlockInfo& expected, std::int64_t num_cols) {
  H5File f = open_ratings_block(path, expected, num_cols);
  if (stores_wide_ids(f)) return read_wide_file(f, path, expected, num_cols);
  return widen_columns(read_narrow_file(f, path, expected, num_cols));
}

std::vector<std::int64_t> read_ratings_degrees(const std::string& path, const BlockInfo& expected) {
  check_ratings_block_size(path, expected);
  H5File f = H5File::open(path);
  if (f.elements("indptr") != static_cast<std::uint64_t>(expected.rows) + 1)
    throw Error(path + ": block's indptr does not hold the manifest's " + std::to_string(expected.rows) + " rows");
  std::vector<std::int64_t> indptr =
      f.read_exact<std::int64_t>("indptr", static_cast<std::uint64_t>(expected.rows) + 1, nullptr, kByManifest);
  if (indptr.front() != 0 || indptr.back() != expected.nnz)
    throw Error(path + ": indptr does not run from 0 to the manifest's " + std::to_string(expected.nnz) + " ratings");
  std::vector<std::int64_t> degrees(static_cast<std::size_t>(expected.rows));
  for (std::size_t r = 0; r < degrees.size(); ++r) {
    degrees[r] = indptr[r + 1] - indptr[r];
    if (degrees[r] < 0) throw Error(path + ": indptr decreases at row " + std::to_string(r));
  }
  return degrees;
}

void check_ratings_block_size(const std::string& path, const BlockInfo& expected) {
  require_regular_file(path);  // a FIFO's size would be read as 0, or hang a reader
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw Error(path + ": cannot read: " + ec.message());
  // int64 offsets, int32 indices and float values, stored whole and
  // unfiltered (H5File::read insists); 128 bits cannot overflow from two
  // int64 counts.
  const auto rows = static_cast<unsigned __int128>(std::max<std::int64_t>(expected.rows, 0));
  const auto nnz = static_cast<unsigned __int128>(std::max<std::int64_t>(expected.nnz, 0));
  const unsigned __int128 need = (rows + 1) * sizeof(std::int64_t) + nnz * (sizeof(std::int32_t) + sizeof(float));
  if (need > size)
    throw Error(path + ": the manifest says the block holds " + std::to_string(expected.nnz) + " ratings in " +
                std::to_string(expected.rows) + " rows, more than its " + std::to_string(size) +
                " bytes can store (manifest or block file damaged)");
}

void write_id_block(const std::string& path, std::int64_t first, const std::vector<std::int64_t>& raw_ids) {
  H5File f = H5File::create(path);
  f.set_attribute("first_row", first);
  f.set_attribute("id_type", std::string("int64"));
  f.write("raw_ids", std::span<const std::int64_t>(raw_ids));
  f.close();
}

std::vector<std::int64_t> read_id_block(const std::string& path, const BlockInfo& expected) {
  H5File f = H5File::open(path);
  if (f.int_attribute("first_row") != expected.first)
    throw Error(path + ": id block does not start at id " + std::to_string(expected.first));
  if (f.string_attribute("id_type") != "int64")
    throw Error(path + ": id block holds " + f.string_attribute("id_type") + " ids, not int64");
  if (expected.rows < 0) throw Error(path + ": the manifest gives the block " + std::to_string(expected.rows) + " ids");
  return f.read_exact<std::int64_t>("raw_ids", static_cast<std::uint64_t>(expected.rows), nullptr, kByManifest);
}

void write_string_id_block(const std::string& path, std::int64_t first, const StringIds& ids) {
  H5File f = H5File::create(path);
  f.set_attribute("first_row", first);
  f.set_attribute("id_type", std::string("string"));
  f.write("raw_offsets", std::span<const std::int64_t>(ids.offsets));
  f.write("raw_bytes", std::span<const char>(ids.bytes));
  f.close();
}

StringIds read_string_id_block(const std::string& path, const BlockInfo& expected) {
  H5File f = H5File::open(path);
  if (f.int_attribute("first_row") != expected.first)
    throw Error(path + ": id block does not start at id " + std::to_string(expected.first));
  if (f.string_attribute("id_type") != "string")
    throw Error(path + ": id block holds " + f.string_attribute("id_type") + " ids, not strings");
  StringIds ids;
  if (expected.rows < 0) throw Error(path + ": the manifest gives the block " + std::to_string(expected.rows) + " ids");
  ids.offsets =
      f.read_exact<std::int64_t>("raw_offsets", static_cast<std::uint64_t>(expected.rows) + 1, nullptr, kByManifest);
  // The bytes' count is the offsets' last (checked below); read() bounds it
  // by what the file stores.
  ids.bytes = f.read<char>("raw_bytes");
  const auto total = static_cast<std::int64_t>(ids.bytes.size());
  for (std::size_t r = 0; r < ids.offsets.size(); ++r)
    if ((r == 0 && ids.offsets[r] != 0) || (r > 0 && ids.offsets[r] < ids.offsets[r - 1]) || ids.offsets[r] > total ||
        (r + 1 == ids.offsets.size() && ids.offsets[r] != total))
      throw Error(path + ": raw_offsets are not monotone offsets into raw_bytes");
  return ids;
}

std::string id_block_type(const std::string& path) { return H5File::open(path).string_attribute("id_type"); }

}  // namespace dals
