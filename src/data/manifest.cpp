#include "dals/data/manifest.hpp"

#include <climits>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/json_reader.hpp"

namespace dals {
using nlohmann::json;

namespace {

json blocks_to_json(const std::vector<BlockInfo>& blocks) {
  json out = json::array();
  for (const auto& b : blocks)
    out.push_back({{"first", b.first}, {"rows", b.rows}, {"nnz", b.nnz}, {"checksum", to_hex(b.checksum)}});
  return out;
}

// "feedback": absent in every manifest written before it existed (ratings).
Feedback feedback_from_json(const JsonReader& j) {
  if (!j.json_value().contains("feedback")) return Feedback::ratings;
  const std::string text = j.get_string("feedback");
  for (const auto& [name, value] : EnumNames<Feedback>::table)
    if (text == name) return value;
  j.fail("feedback", "is \"" + text.substr(0, 20) + "\", expected \"ratings\" or \"events\"");
}

// A block checksum: 1 to 16 hexadecimal digits, as to_hex writes it.
std::uint64_t hex64(const JsonReader& b, const char* key) {
  const std::string text = b.get_string(key);
  if (text.empty() || text.size() > 16 || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    b.fail(key, "is \"" + text.substr(0, 20) + "\", expected 1 to 16 hexadecimal digits");
  return std::stoull(text, nullptr, 16);
}

std::vector<BlockInfo> blocks_from_json(const JsonReader& split, const char* key) {
  std::vector<BlockInfo> out;
  for (const JsonReader& b : split.objects(key)) {
    BlockInfo info;
    info.first = b.get_int("first", 0, kMaxSideRows);
    info.rows = b.get_int("rows", 0, INT32_MAX);  // a block's rows are counted in 32 bits (layout.hpp)
    info.nnz = b.get_int("nnz", 0, JsonReader::kMaxInt);
    info.checksum = hex64(b, "checksum");
    out.push_back(info);
  }
  return out;
}

json split_to_json(const SplitInfo& s) {
  return {{"ratings", s.ratings},
          {"user_blocks", blocks_to_json(s.user_blocks)},
          {"item_blocks", blocks_to_json(s.item_blocks)}};
}

SplitInfo split_from_json(const JsonReader& in) {
  SplitInfo s;
  s.ratings = in.get_int("ratings", 0, JsonReader::kMaxInt);
  s.user_blocks = blocks_from_json(in, "user_blocks");
  s.item_blocks = blocks_from_json(in, "item_blocks");
  return s;
}

std::uint64_t hash_split(std::uint64_t h, const SplitInfo& s) {
  h = hash_combine(h, static_cast<std::uint64_t>(s.ratings));
  for (const auto* blocks : {&s.user_blocks, &s.item_blocks})
    for (const auto& b : *blocks) {
      h = hash_combine(h, static_cast<std::uint64_t>(b.first));
      h = hash_combine(h, static_cast<std::uint64_t>(b.rows));
      h = hash_combine(h, static_cast<std::uint64_t>(b.nnz));
      h = hash_combine(h, b.checksum);
    }
  return h;
}

void validate_split(const std::string& where, const char* split, const SplitInfo& s, const Manifest& m) {
  for (Side side : {Side::users, Side::items}) {
    const auto& blocks = s.blocks(side);
    if (static_cast<int>(blocks.size()) != m.blocks)
      throw Error(where + ": " + split + " has " + std::to_string(blocks.size()) + " " + side_name(side) +
                  " blocks, expected " + std::to_string(m.blocks));
    std::int64_t next = 0, nnz = 0;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      if (blocks[b].first != next || blocks[b].rows < 0 || blocks[b].nnz < 0)
        throw Error(where + ": " + split + " " + side_name(side) + " block " + std::to_string(b) +
                    " does not continue the previous block");
      // nnz <= ratings so far, so this compares without overflow (a sum of two large counts could wrap to the total).
      if (blocks[b].nnz > s.ratings - nnz)
        throw Error(where + ": " + split + " " + side_name(side) + " blocks hold more than " +
                    std::to_string(s.ratings) + " ratings, the split's total");
      next += blocks[b].rows;
      nnz += blocks[b].nnz;
    }
    if (next != m.rows(side))
      throw Error(where + ": " + split + " " + side_name(side) + " blocks cover " + std::to_string(next) +
                  " ids, expected " + std::to_string(m.rows(side)));
    if (nnz != s.ratings)
      throw Error(where + ": " + split + " " + side_name(side) + " blocks hold " + std::to_string(nnz) +
                  " ratings, expected " + std::to_string(s.ratings));
  }
}

}  // namespace

std::string Manifest::compute_fingerprint() const {
  std::uint64_t h = 0x64616c73;  // "dals"
  h = hash_combine(h, static_cast<std::uint64_t>(version));
  h = hash_combine(h, static_cast<std::uint64_t>(users));
  h = hash_combine(h, static_cast<std::uint64_t>(items));
  h = hash_combine(h, static_cast<std::uint64_t>(blocks));
  h = checksum64(&mean, sizeof mean, h);
  if (feedback == Feedback::events) h = hash_combine(h, 0x6576656e7473);  // "events"
  h = hash_split(h, train);
  h = hash_combine(h, has_test ? 1 : 0);
  if (has_test) h = hash_split(h, test);
  return to_hex(h);
}

void Manifest::validate(const std::string& where) const {
  if (version != kFormatVersion)
    throw Error(where + ": format version " + std::to_string(version) + " is not supported (expected " +
                std::to_string(kFormatVersion) + ")");
  if (users <= 0 || items <= 0) throw Error(where + ": users and items must be positive");
  if (users > kMaxSideRows || items > kMaxSideRows)
    throw Error(where + ": more than 2^40 users or items is not supported");
  if (blocks <= 0) throw Error(where + ": blocks must be positive");
  validate_split(where, "train", train, *this);
  if (has_test) validate_split(where, "test", test, *this);
  for (Side side : {Side::users, Side::items})
    for (std::size_t b = 0; has_test && b < train.blocks(side).size(); ++b)
      if (train.blocks(side)[b].first != test.blocks(side)[b].first ||
          train.blocks(side)[b].rows != test.blocks(side)[b].rows)
        throw Error(where + ": test " + side_name(side) + " block " + std::to_string(b) +
                    " does not match the training block's id range");
  if (fingerprint != compute_fingerprint())
    throw Error(where + ": fingerprint " + fingerprint + " does not match the manifest's contents (" +
                compute_fingerprint() + "): the manifest was edited or damaged");
}

Manifest read_manifest(const std::string& dir) {
  const std::string path = dir + "/manifest.json";
  std::string text;
  require_regular_file(path);
  try {
    text = read_text_file(path);
  } catch (const Error&) {
    throw Error(path + ": cannot read the dataset manifest (is " + dir + " a dataset directory?)");
  }
  return parse_manifest(text, path);
}

Manifest parse_manifest(const std::string& text, const std::string& path) {
  Manifest m;
  const json doc = parse_json_text(text, path);
  const JsonReader j(doc, path);
  if (j.get_string("format") != "dals-dataset") throw Error(path + ": not a dals dataset manifest");
  // The ranges are the widest any field may hold; validate() then checks them against each other.
  m.version = static_cast<int>(j.get_int("version", 0, INT32_MAX));
  m.users = j.get_int("users", 0, JsonReader::kMaxInt);
  m.items = j.get_int("items", 0, JsonReader::kMaxInt);
  m.blocks = static_cast<int>(j.get_int("blocks", 0, INT32_MAX));
  m.mean = j.get_double("mean");
  m.feedback = feedback_from_json(j);
  m.train = split_from_json(j.object("train"));
  m.has_test = j.has("test");
  if (m.has_test) m.test = split_from_json(j.object("test"));
  m.fingerprint = j.get_string("fingerprint");
  m.provenance_json = j.has("provenance") ? j.object("provenance").json_value().dump() : "{}";
  m.validate(path);
  return m;
}

bool has_dataset_manifest(const std::string& dir) {
  const std::string path = dir + "/manifest.json";
  std::error_code ec;
  // A regular file of a plausible size only: a FIFO would block the read.
  if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) > (256u << 20) || ec)
    return false;
  try {
    const json j = json::parse(read_text_file(path));
    return j.is_object() && j.contains("format") && j.at("format") == "dals-dataset";
  } catch (const std::exception&) {
    return false;
  }
}

void write_manifest(const std::string& dir, const Manifest& m) {
  json j;
  j["format"] = "dals-dataset";
  j["version"] = m.version;
  j["users"] = m.users;
  j["items"] = m.items;
  j["ratings"] = m.train.ratings;
  j["blocks"] = m.blocks;
  j["mean"] = m.mean;
  j["feedback"] = enum_name(m.feedback);
  j["fingerprint"] = m.fingerprint;
  j["train"] = split_to_json(m.train);
  j["test"] = m.has_test ? split_to_json(m.test) : json(nullptr);
  j["provenance"] = m.provenance_json.empty() ? json::object() : json::parse(m.provenance_json);
  write_file_atomic(dir + "/manifest.json", j.dump(1) + "\n");
}

}  // namespace dals
