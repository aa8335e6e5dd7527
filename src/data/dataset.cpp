#include "dals/data/dataset.hpp"

#include <cstdio>
#include <filesystem>

#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/data/hdf5_file.hpp"

namespace dals {
namespace fs = std::filesystem;

std::string block_file_name(int block) {
  char name[32];
  std::snprintf(name, sizeof name, "block-%05d.h5", block);
  return name;
}

namespace {
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
  std::uint64_t h = checksum_of(std::span<const std::int64_t>(block.indptr));
  h = checksum_of(std::span<const std::int32_t>(block.indices), h);
  return checksum_of(std::span<const float>(block.values), h);
}

BlockInfo write_ratings_block(const std::string& path, const CsrBlock& block) {
  H5File f = H5File::create(path);
  f.set_attribute("first_row", block.first_row);
  f.set_attribute("num_cols", block.num_cols);
  f.write("indptr", std::span<const std::int64_t>(block.indptr));
  f.write("indices", std::span<const std::int32_t>(block.indices));
  f.write("values", std::span<const float>(block.values));
  f.close();
  return BlockInfo{block.first_row, block.rows(), block.nnz(), block_checksum(block)};
}

CsrBlock read_ratings_block(const std::string& path, const BlockInfo& expected, std::int64_t num_cols) {
  H5File f = H5File::open(path);
  CsrBlock block;
  block.first_row = f.int_attribute("first_row");
  block.num_cols = f.int_attribute("num_cols");
  if (block.first_row != expected.first)
    throw Error(path + ": block starts at id " + std::to_string(block.first_row) + " but the manifest says " +
                std::to_string(expected.first));
  if (block.num_cols != num_cols)
    throw Error(path + ": block has " + std::to_string(block.num_cols) + " columns but the manifest says " +
                std::to_string(num_cols));
  block.indptr = f.read<std::int64_t>("indptr");
  if (block.rows() != expected.rows)
    throw Error(path + ": block has " + std::to_string(block.rows()) + " rows but the manifest says " +
                std::to_string(expected.rows));
  block.indices = f.read<std::int32_t>("indices");
  block.values = f.read<float>("values");
  if (block.nnz() != expected.nnz)
    throw Error(path + ": block holds " + std::to_string(block.nnz()) + " ratings but the manifest says " +
                std::to_string(expected.nnz));
  block.validate(path);
  if (block_checksum(block) != expected.checksum)
    throw Error(path + ": contents do not match the manifest's checksum (file replaced or manifest stale)");
  return block;
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
  auto ids = f.read<std::int64_t>("raw_ids");
  if (static_cast<std::int64_t>(ids.size()) != expected.rows)
    throw Error(path + ": id block has " + std::to_string(ids.size()) + " ids, expected " +
                std::to_string(expected.rows));
  return ids;
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
  ids.offsets = f.read<std::int64_t>("raw_offsets");
  ids.bytes = f.read<char>("raw_bytes");
  if (ids.size() != expected.rows)
    throw Error(path + ": id block has " + std::to_string(ids.size()) + " ids, expected " +
                std::to_string(expected.rows));
  const auto total = static_cast<std::int64_t>(ids.bytes.size());
  for (std::size_t r = 0; r < ids.offsets.size(); ++r)
    if ((r == 0 && ids.offsets[r] != 0) || (r > 0 && ids.offsets[r] < ids.offsets[r - 1]) || ids.offsets[r] > total ||
        (r + 1 == ids.offsets.size() && ids.offsets[r] != total))
      throw Error(path + ": raw_offsets are not monotone offsets into raw_bytes");
  return ids;
}

std::string id_block_type(const std::string& path) { return H5File::open(path).string_attribute("id_type"); }

}  // namespace dals
