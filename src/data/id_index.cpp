#include "dals/data/id_index.hpp"

#include <algorithm>
#include <filesystem>

#include "dals/core/error.hpp"
#include "dals/data/hdf5_file.hpp"
#include "dals/data/id_keys.hpp"

namespace dals {

std::string id_index_path(const std::string& dir, Side side) { return dir + "/ids/" + side_name(side) + "/index.h5"; }

int IdIndex::block_of_hash(std::uint64_t hash) const {
  // Empty blocks repeat the next block's first hash; upper_bound skips them.
  auto it = std::upper_bound(first_hash.begin(), first_hash.end(), hash);
  return static_cast<int>(it - first_hash.begin()) - 1;
}

void write_id_index(const std::string& path, const IdIndex& index) {
  H5File f = H5File::create(path);
  f.set_attribute("id_type", index.id_type);
  f.set_attribute("order", std::string(kOrderName));
  f.set_attribute("seed", static_cast<std::int64_t>(index.seed));
  f.write("first_hash", std::span<const std::uint64_t>(index.first_hash));
  f.close();
}

IdIndex read_id_index(const std::string& path, int blocks) {
  H5File f = H5File::open(path);
  IdIndex index;
  index.id_type = f.string_attribute("id_type");
  if (index.id_type != "int64" && index.id_type != "string")
    throw Error(path + ": unknown id_type '" + index.id_type + "'");
  if (f.string_attribute("order") != kOrderName)
    throw Error(path + ": unknown id order '" + f.string_attribute("order") + "'");
  index.seed = static_cast<std::uint64_t>(f.int_attribute("seed"));
  index.first_hash = f.read<std::uint64_t>("first_hash");
  if (static_cast<int>(index.first_hash.size()) != blocks)
    throw Error(path + ": first_hash has " + std::to_string(index.first_hash.size()) + " entries, expected " +
                std::to_string(blocks));
  if (index.first_hash[0] != 0 || !std::is_sorted(index.first_hash.begin(), index.first_hash.end()))
    throw Error(path + ": first_hash must start at 0 and never decrease");
  return index;
}

IdLookup::IdLookup(const std::string& dir, Side side) : dir_(dir), side_(side), manifest_(read_manifest(dir)) {
  const std::string path = id_index_path(dir, side);
  std::error_code ec;
  indexed_ = std::filesystem::exists(path, ec);
  if (indexed_) index_ = read_id_index(path, manifest_.blocks);
}

void IdLookup::load(int block) {
  if (loaded_ == block) return;
  const std::string path = ids_path(dir_, side_, block);
  const BlockInfo& info = manifest_.train.blocks(side_)[block];
  loaded_strings_ = id_block_type(path) == "string";
  if (loaded_strings_)
    strings_ = read_string_id_block(path, info);
  else
    ints_ = read_id_block(path, info);
  loaded_ = block;
}

std::optional<std::int64_t> IdLookup::search_block(int block, std::string_view raw) {
  load(block);
  const std::int64_t first = manifest_.train.blocks(side_)[block].first;
  if (loaded_strings_) {
    for (std::int64_t r = 0; r < strings_.size(); ++r)
      if (strings_.at(r) == raw) return first + r;
    return std::nullopt;
  }
  const auto value = parse_canonical_int(raw);
  if (!value) return std::nullopt;
  auto it = std::find(ints_.begin(), ints_.end(), *value);
  if (it == ints_.end()) return std::nullopt;
  return first + (it - ints_.begin());
}

// Binary search of the loaded block, whose ids are sorted by order hash.
std::optional<std::int64_t> IdLookup::search_sorted(std::uint64_t hash, std::string_view raw) {
  const std::int64_t first = manifest_.train.blocks(side_)[loaded_].first;
  const std::int64_t rows = loaded_strings_ ? strings_.size() : static_cast<std::int64_t>(ints_.size());
  auto hash_at = [&](std::int64_t r) {
    const std::uint64_t key =
        loaded_strings_ ? raw_id_key(strings_.at(r), index_.seed) : static_cast<std::uint64_t>(ints_[r]);
    return order_hash(index_.seed, side_, key);
  };
  std::int64_t lo = 0, hi = rows;
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (hash_at(mid) < hash)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == rows || hash_at(lo) != hash) return std::nullopt;
  // Equal hashes, equal keys: check the text too (a string colliding with
  // a stored id must not be reported as that id).
  const bool same =
      loaded_strings_ ? strings_.at(lo) == raw : parse_canonical_int(raw) == std::optional<std::int64_t>(ints_[lo]);
  return same ? std::optional<std::int64_t>(first + lo) : std::nullopt;
}

std::optional<std::int64_t> IdLookup::dense_id(std::string_view raw) {
  if (!indexed_) {
    for (int b = 0; b < manifest_.blocks; ++b)
      if (auto found = search_block(b, raw)) return found;
    return std::nullopt;
  }
  if (index_.id_type == "int64" && !parse_canonical_int(raw)) return std::nullopt;
  const std::uint64_t hash = order_hash(index_.seed, side_, raw_id_key(raw, index_.seed));
  load(index_.block_of_hash(hash));
  return search_sorted(hash, raw);
}

}  // namespace dals
