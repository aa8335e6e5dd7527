// dals-test-fuzz-mutate: one seeded mutation of one file, in place, for the
// fuzz test (tests/cli/fuzz_inputs.sh). The same (mode, file, seed) always
// makes the same edit, so a failing case can be replayed from the log.
//
//   dals-test-fuzz-mutate flip FILE SEED          XOR 1 to 8 bytes at seeded offsets
//   dals-test-fuzz-mutate truncate FILE SEED      cut FILE to a seeded length < size - 1
//   dals-test-fuzz-mutate hdf5 FILE SEED          one HDF5-level edit: an attribute made an
//                                                 array, given another type or value, or
//                                                 removed; a dataset removed, reshaped,
//                                                 retyped, declared huge (never written) or
//                                                 given extreme values under a fixed checksum
//   dals-test-fuzz-mutate json FILE SEED [resum]  one JSON type or range edit of one value
//                                                 (string for number, fraction, boolean, huge,
//                                                 null, missing key, wrong container...);
//                                                 resum: state.json's checksum is recomputed,
//                                                 so the typed reader behind it is reached
//   dals-test-fuzz-mutate text FILE SEED          one line of a rating dump edited: a field
//                                                 replaced by a hostile token, fields added or
//                                                 removed, lines joined, control bytes...
//
// Prints one line, "expect=fail: WHAT" when no reader may accept the result
// (a file or value dals needs is gone or of the wrong kind) or "expect=any:
// WHAT" when the result may still be valid. Exit 0; 3 when FILE offers
// nothing this mode can edit; 1 with a one-line error otherwise.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/data/hdf5_file.hpp"
#include "fuzz_mutate.hpp"

namespace fs = std::filesystem;
using dals::Error;
using dals::H5Id;
using nlohmann::json;

namespace fuzz {

std::mt19937_64 rng;
std::uint64_t below(std::uint64_t n) {
  return n == 0 ? 0 : std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng);
}

}  // namespace fuzz

namespace {

using fuzz::below;
using fuzz::Nothing;
using fuzz::pick;
using fuzz::rng;

std::string slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file + ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void spit(const std::string& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())) || !out.flush())
    throw Error(file + ": cannot write");
}

std::string flip(const std::string& file) {
  std::string bytes = slurp(file);
  if (bytes.empty()) throw Nothing{};
  const int n = 1 + static_cast<int>(below(8));
  std::string what = "flipped";
  for (int i = 0; i < n; ++i) {
    const std::uint64_t at = below(bytes.size());
    const auto mask = static_cast<unsigned char>(1 + below(255));
    bytes[at] = static_cast<char>(static_cast<unsigned char>(bytes[at]) ^ mask);
    // append(), not "a" + b: GCC 12 warns falsely (-Wrestrict) on the latter here.
    what.append(" ").append(std::to_string(at)).append("^").append(std::to_string(mask));
  }
  spit(file, bytes);
  return "expect=any: " + what;
}

std::string truncate(const std::string& file) {
  const auto size = fs::file_size(file);
  if (size < 2) throw Nothing{};
  // Never size - 1: a text file cut by its last newline only is still whole.
  const std::uint64_t keep = below(size - 1);
  fs::resize_file(file, keep);
  return "expect=fail: truncated " + std::to_string(size) + " -> " + std::to_string(keep) + " bytes";
}

// ---------------------------------------------------------------- JSON

void collect_paths(const json& v, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
  if (!at.empty()) out.push_back(at);
  if (v.is_object())
    for (auto it = v.begin(); it != v.end(); ++it) collect_paths(it.value(), at / it.key(), out);
  else if (v.is_array())
    for (std::size_t i = 0; i < v.size(); ++i) collect_paths(v[i], at / i, out);
}

std::string json_edit(const std::string& file, bool resum) {
  json doc;
  try {
    doc = json::parse(slurp(file));
  } catch (const json::exception&) {
    throw Nothing{};  // not JSON: nothing to edit at that level
  }
  std::vector<json::json_pointer> paths;
  collect_paths(doc, json::json_pointer(), paths);
  if (paths.empty()) throw Nothing{};
  const json::json_pointer at = pick(paths);
  json& v = doc[at];
  std::string what;
  switch (below(10)) {
    case 0:
      v = v.is_number() ? json(v.dump()) : json("abc");
      what = "a string";
      break;
    case 1:
      v = v.is_number() ? json(v.get<double>() + 0.5) : json(2000.5);
      what = "a fraction";
      break;
    case 2:
      v = below(2) == 0;
      what = "a boolean";
      break;
    case 3: {
      const std::vector<json> huge{json(std::uint64_t{1} << 63),
                                   json(std::numeric_limits<std::uint64_t>::max()),
                                   json(std::numeric_limits<std::int64_t>::min()),
                                   json(4294967300LL),
                                   json(1e308),
                                   json(-1),
                                   json(2147483648LL),
                                   json(0)};
      v = pick(huge);
      what = "the number " + v.dump();
      break;
    }
    case 4:
      v = nullptr;
      what = "null";
      break;
    case 5: {
      const json::json_pointer parent = at.parent_pointer();
      json& p = doc[parent];
      if (p.is_object())
        p.erase(at.back());
      else
        p.erase(static_cast<std::size_t>(std::stoull(at.back())));
      what = "removed";
      break;
    }
    case 6:
      v = v.is_array() ? json::object() : json::array({v});
      what = v.is_array() ? "an array around it" : "an object";
      break;
    case 7:
      if (v.is_number_integer()) {
        v = v.is_number_unsigned() ? json(v.get<std::uint64_t>() + 1) : json(v.get<std::int64_t>() + 1);
        what = "one more (" + v.dump() + ")";
      } else if (v.is_string()) {
        v = pick(std::vector<std::string>{"", std::string(5000, 'z'), "\x1b[2J\x1b[31mred", "0000000000000000",
                                          "ffffffffffffffffff"});
        what = "another string";
      } else {
        v = json::array();
        what = "an empty array";
      }
      break;
    case 8:
      if (v.is_array() && !v.empty()) {
        v.push_back(v.back());
        what = "its last element repeated";
      } else {
        v = json::object({{"x", 1}});
        what = "an unexpected object";
      }
      break;
    default:
      if (doc[at.parent_pointer()].is_object()) {
        doc[at.parent_pointer()]["unexpected_key"] = 1;
        what = "a sibling key added";
      } else {
        v = -v.dump().size();
        what = "a negative number";
      }
      break;
  }
  if (resum && doc.is_object() && doc.contains("checksum")) {
    json body = doc;
    body.erase("checksum");
    const std::string text = body.dump();
    doc["checksum"] = dals::to_hex(dals::checksum64(text.data(), text.size()));
    what += " (checksum recomputed)";
  }
  spit(file, doc.dump(1) + "\n");
  return "expect=any: " + at.to_string() + ": " + what;
}

// ---------------------------------------------------------------- text

std::string text_edit(const std::string& file) {
  std::string text = slurp(file);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.size() < 2) throw Nothing{};
  const std::size_t at = 1 + below(lines.size() - 1);  // not the header
  std::string& line = lines[at];
  const std::vector<std::string> tokens{"",
                                        "nan",
                                        "inf",
                                        "-inf",
                                        "1e39",
                                        "-0",
                                        "9223372036854775807",
                                        "9223372036854775808",
                                        "-9223372036854775809",
                                        "0x10",
                                        "\"unterminated",
                                        "\"a\"\"b\"",
                                        "\"5\"x",
                                        "\x1b[31m",
                                        "\xff\xfe",
                                        "\xc3",
                                        std::string(300, 'u'),
                                        std::string(1, '\0'),
                                        "\r",
                                        " 5 ",
                                        "1,2",
                                        "2020-13-45",
                                        "1.5e-45"};
  std::string what;
  switch (below(6)) {
    case 0: {  // one field replaced by a hostile token
      std::vector<std::string> fields;
      std::size_t start = 0;
      for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
        fields.push_back(line.substr(start, comma - start));
      fields.push_back(line.substr(start));
      const std::size_t f = below(fields.size());
      const std::string& token = pick(tokens);
      fields[f] = token;
      line.clear();
      for (std::size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + fields[i];
      what = "field " + std::to_string(f) + " replaced (" + std::to_string(token.size()) + " bytes)";
      break;
    }
    case 1:
      line += "," + pick(tokens);
      what = "a field added";
      break;
    case 2:
      line = line.substr(0, line.rfind(','));
      what = "the last field removed";
      break;
    case 3:
      if (at + 1 < lines.size()) {
        line += lines[at + 1];
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(at) + 1);
      }
      what = "joined with the next line";
      break;
    case 4:
      line.insert(below(line.size() + 1), pick(tokens));
      what = "a token inserted";
      break;
    default:
      line = std::string(100000 + below(100000), '7');
      what = "a line of " + std::to_string(line.size()) + " digits";
      break;
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  spit(file, out);
  return "expect=any: line " + std::to_string(at + 1) + ": " + what;
}

int usage() {
  std::fputs("usage: dals-test-fuzz-mutate flip|truncate|hdf5|text FILE SEED | json FILE SEED [resum]\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) return usage();
  const std::string mode = argv[1], file = argv[2];
  try {
    rng.seed(std::stoull(argv[3]));
    std::string what;
    if (mode == "flip" && argc == 4)
      what = flip(file);
    else if (mode == "truncate" && argc == 4)
      what = truncate(file);
    else if (mode == "hdf5" && argc == 4)
      what = fuzz::hdf5_edit(file);
    else if (mode == "json")
      what = json_edit(file, argc == 5 && std::string(argv[4]) == "resum");
    else if (mode == "text" && argc == 4)
      what = text_edit(file);
    else
      return usage();
    std::printf("%s\n", what.c_str());
  } catch (const Nothing&) {
    std::printf("expect=any: nothing to edit\n");
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dals-test-fuzz-mutate: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
