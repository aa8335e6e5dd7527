#include "dals/data/inspect.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "dals/core/error.hpp"
#include "dals/core/rng.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/id_keys.hpp"

namespace dals {
namespace {

// Order-independent digest of a set of ratings: count and sum of mixes.
struct Digest {
  std::uint64_t count = 0, sum = 0;
  double values = 0;
  void add(std::int64_t user, std::int64_t item, float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, 4);
    ++count;
    sum += key_hash(0x696e7370, static_cast<std::uint64_t>(user), static_cast<std::uint64_t>(item), bits);
    values += value;
  }
};

double balance(const std::vector<BlockInfo>& blocks) {
  double max = 0, total = 0;
  for (const auto& b : blocks) {
    const double work = static_cast<double>(b.nnz + b.rows);
    max = std::max(max, work);
    total += work;
  }
  return total > 0 ? max / (total / static_cast<double>(blocks.size())) : 1.0;
}

std::string fixed(double x, const char* fmt) {
  char text[64];
  std::snprintf(text, sizeof text, fmt, x);
  return text;
}

// Checks one side's id blocks; with an index, also the hash order and ranges.
void check_ids(const std::string& dir, const Manifest& m, Side side, InspectReport& report) {
  const std::string index_path = id_index_path(dir, side);
  std::error_code ec;
  const bool indexed = std::filesystem::exists(index_path, ec);
  IdIndex index;
  if (indexed) {
    try {
      index = read_id_index(index_path, m.blocks);
    } catch (const Error& e) {
      report.problems.push_back(e.what());
      return;
    }
    ++report.files_checked;
  }
  std::vector<std::int64_t> all_ints;  // without an index: checked for repeats at the end
  for (int b = 0; b < m.blocks; ++b) {
    const std::string path = ids_path(dir, side, b);
    const BlockInfo& info = m.train.blocks(side)[b];
    try {
      const bool strings = id_block_type(path) == "string";
      if (indexed && (strings ? "string" : "int64") != index.id_type)
        throw Error(path + ": holds " + (strings ? "string" : "int64") + " ids but the index says " + index.id_type);
      StringIds texts;
      std::vector<std::int64_t> ints;
      if (strings)
        texts = read_string_id_block(path, info);
      else
        ints = read_id_block(path, info);
      ++report.files_checked;
      if (!indexed) {
        all_ints.insert(all_ints.end(), ints.begin(), ints.end());
        continue;
      }
      const std::uint64_t lo = index.first_hash[b];
      const std::uint64_t hi = b + 1 < m.blocks ? index.first_hash[b + 1] : ~std::uint64_t{0};
      std::uint64_t previous = 0;
      for (std::int64_t r = 0; r < info.rows; ++r) {
        const std::uint64_t key = strings ? raw_id_key(texts.at(r), index.seed) : static_cast<std::uint64_t>(ints[r]);
        const std::uint64_t h = order_hash(index.seed, side, key);
        if ((r > 0 && h <= previous) || h < lo || (h >= hi && b + 1 < m.blocks))
          // The order comes from the index's seed and first_hash, which no
          // checksum covers: either file may be the damaged one, so name both.
          throw Error(path + ": id of dense " + std::to_string(info.first + r) + " is out of the hash order of " +
                      index_path + " (raw -> dense lookups would miss it): the block or the index is damaged");
        previous = h;
      }
    } catch (const Error& e) {
      report.problems.push_back(e.what());
    }
  }
  std::sort(all_ints.begin(), all_ints.end());
  if (std::adjacent_find(all_ints.begin(), all_ints.end()) != all_ints.end())
    report.problems.push_back(dir + "/ids/" + side_name(side) + ": a raw id appears twice");
}

}  // namespace

InspectReport inspect_dataset(const std::string& dir) {
  InspectReport report;
  const Manifest m = read_manifest(dir);
  ++report.files_checked;
  std::ostringstream s;
  s << dir << ": dals dataset (format version " << m.version << "), fingerprint " << m.fingerprint << "\n";
  s << "  " << m.users << " users, " << m.items << " items, " << m.blocks
    << (m.blocks == 1 ? " block per side; " : " blocks per side; ") << m.train.ratings << " training ratings (mean "
    << fixed(m.mean, "%.4f") << ")";
  if (m.has_test) s << ", " << m.test.ratings << " test ratings";
  s << "\n  feedback: " << enum_name(m.feedback)
    << (m.feedback == Feedback::events ? " (implicit: each value counts what a user did with an item)"
                                       : " (explicit: each value is a rating)");
  s << "\n  balance by work (ratings + rows), largest block / mean: users "
    << fixed(balance(m.train.user_blocks), "%.3f") << ", items " << fixed(balance(m.train.item_blocks), "%.3f") << "\n";
  for (Split split : {Split::train, Split::test}) {
    if (split == Split::test && !m.has_test) continue;
    const SplitInfo& info = split == Split::train ? m.train : m.test;
    Digest digest[2];
    for (Side side : {Side::users, Side::items})
      for (int b = 0; b < m.blocks; ++b) {
        const std::string path = ratings_path(dir, split, side, b);
        try {
          const WideCsrBlock block = read_wide_ratings_block(path, info.blocks(side)[b], m.rows(other(side)));
          ++report.files_checked;
          // Events are counts: the trainer's confidence weights need them positive.
          if (m.feedback == Feedback::events) {
            const auto bad = std::count_if(block.values.begin(), block.values.end(), [](float v) { return !(v > 0); });
            if (bad > 0)
              report.problems.push_back(path + ": " + std::to_string(bad) +
                                        " values are not positive in an events dataset");
          }
          for (std::int64_t r = 0; r < block.rows(); ++r)
            for (std::int64_t p = block.indptr[r]; p < block.indptr[r + 1]; ++p) {
              const std::int64_t row = block.first_row + r, col = block.indices[p];
              digest[side == Side::users ? 0 : 1].add(side == Side::users ? row : col, side == Side::users ? col : row,
                                                      block.values[p]);
            }
        } catch (const Error& e) {
          report.problems.push_back(e.what());
        }
      }
    const char* name = split == Split::train ? "train" : "test";
    if (digest[0].count != digest[1].count || digest[0].sum != digest[1].sum)
      report.problems.push_back(dir + ": the " + std::string(name) +
                                " by-user and by-item blocks do not hold the same ratings");
    if (split == Split::train && digest[0].count > 0) {
      const double mean = digest[0].values / static_cast<double>(digest[0].count);
      if (std::fabs(mean - m.mean) > 1e-6 * std::max(1.0, std::fabs(mean)))
        report.problems.push_back(dir + "/manifest.json: mean " + std::to_string(m.mean) +
                                  " differs from the ratings' mean " + std::to_string(mean));
    }
  }
  for (Side side : {Side::users, Side::items}) check_ids(dir, m, side, report);
  for (Side side : {Side::users, Side::items}) {
    std::error_code ec;
    const bool indexed = std::filesystem::exists(id_index_path(dir, side), ec);
    std::string type = "?";
    try {
      type = id_block_type(ids_path(dir, side, 0));
    } catch (const Error&) {
    }
    s << "  " << side_name(side) << " ids: " << type << (indexed ? ", indexed (raw -> dense by hash)" : ", no index")
      << "\n";
  }
  try {
    const auto p = nlohmann::json::parse(m.provenance_json);
    // Free-form: a field of another type is shown as JSON, never an error.
    const auto text = [&](const char* key) { return p[key].is_string() ? p[key].get<std::string>() : p[key].dump(); };
    s << "  written by " << (p.contains("tool") ? text("tool") : "?");
    if (p.contains("command_line")) s << ": " << text("command_line");
    if (p.contains("sources"))
      s << " (" << p["sources"].size() << (p["sources"].size() == 1 ? " source file)" : " source files)");
    s << "\n";
  } catch (const std::exception&) {
  }
  report.summary = s.str();
  return report;
}

std::vector<std::string> raw_id_texts(const std::string& dir, const Manifest& m, Side side) {
  std::vector<std::string> out;
  out.reserve(m.rows(side));
  for (int b = 0; b < m.blocks; ++b) {
    const std::string path = ids_path(dir, side, b);
    const BlockInfo& info = m.train.blocks(side)[b];
    if (id_block_type(path) == "string") {
      const StringIds ids = read_string_id_block(path, info);
      for (std::int64_t r = 0; r < ids.size(); ++r) out.emplace_back(ids.at(r));
    } else {
      for (std::int64_t v : read_id_block(path, info)) out.push_back(std::to_string(v));
    }
  }
  return out;
}

namespace {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\" \t") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}
}  // namespace

void dump_ratings(const std::string& dir, Split split, Side side, std::FILE* out) {
  const Manifest m = read_manifest(dir);
  if (split == Split::test && !m.has_test) return;
  const auto users = raw_id_texts(dir, m, Side::users);
  const auto items = raw_id_texts(dir, m, Side::items);
  const SplitInfo& info = split == Split::train ? m.train : m.test;
  for (int b = 0; b < m.blocks; ++b) {
    const CsrBlock block =
        read_ratings_block(ratings_path(dir, split, side, b), info.blocks(side)[b], m.rows(other(side)));
    for (std::int64_t r = 0; r < block.rows(); ++r)
      for (std::int64_t p = block.indptr[r]; p < block.indptr[r + 1]; ++p) {
        const std::int64_t row = block.first_row + r, col = block.indices[p];
        const std::string& u = users[side == Side::users ? row : col];
        const std::string& i = items[side == Side::users ? col : row];
        char value[32];
        *std::to_chars(value, value + sizeof value - 1, block.values[p]).ptr = '\0';
        std::fprintf(out, "%s,%s,%s\n", csv_field(u).c_str(), csv_field(i).c_str(), value);
      }
  }
}

}  // namespace dals
