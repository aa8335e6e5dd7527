// dals-partition, phase 1 (rank 0): which files, which format, who reads what.
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "dals/core/error.hpp"
#include "dals/partition/text_reader.hpp"
#include "internal.hpp"

namespace dals::part {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::uint64_t kAll = std::numeric_limits<std::uint64_t>::max();

bool has_wildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> expand(const std::string& pattern) {
  if (!has_wildcard(pattern)) return {pattern};
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
  std::vector<std::string> out;
  if (rc == 0)
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  if (out.empty()) throw Error(pattern + ": no file matches this pattern");
  std::sort(out.begin(), out.end());
  return out;
}

void add_files(std::vector<InputFile>& files, std::set<std::string>& seen, const std::vector<std::string>& patterns,
               bool test) {
  for (const auto& pattern : patterns)
    for (const auto& path : expand(pattern)) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) throw Error(path + ": cannot open: " + std::strerror(errno));
      if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, not a rating file");
      std::error_code ec;
      const std::string canonical = fs::weakly_canonical(path, ec).string();
      if (!seen.insert(canonical).second) {
        for (const auto& f : files)
          if (f.test != test && fs::weakly_canonical(f.path, ec).string() == canonical)
            throw Error(path + ": is both an --input and a --test-input file");
        continue;  // the same file named twice (e.g. by two globs) is read once
      }
      files.push_back({path, static_cast<std::uint64_t>(st.st_size), is_gzip_file(path), test});
    }
}

// The first `count` lines of a file (fewer if it is shorter).
std::vector<std::string> first_lines(const InputFile& f, int count) {
  LineReader reader(f.path, f.gzip, 0, kAll, 1 << 20);
  std::vector<std::string> lines;
  TextLine line;
  while (static_cast<int>(lines.size()) < count && reader.next(line)) lines.emplace_back(line.text);
  return lines;
}

std::string detect_separator(const std::string& line) {
  if (line.find("::") != std::string::npos) return "::";
  for (const char* s : {"\t", ",", ";", "|"})
    if (line.find(s) != std::string::npos) return s;
  return "whitespace";
}

// Resolves one column option: a 1-based index or a header name. -2: not given.
int resolve_column(const std::string& option, const std::string& value, const std::vector<std::string>& header,
                   const std::string& header_file) {
  if (value.empty()) return -2;
  if (value == "none" || value == "-") return -1;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const long index = std::stol(value);
    if (index < 1 || index > 4096) throw Error(option + " " + value + ": a column index must be in [1, 4096]");
    return static_cast<int>(index - 1);
  }
  if (header.empty())
    throw Error(option + " '" + value + "' names a header column: pass --header (or give a 1-based index)");
  for (std::size_t c = 0; c < header.size(); ++c)
    if (header[c] == value) return static_cast<int>(c);
  auto lower = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  for (std::size_t c = 0; c < header.size(); ++c)
    if (lower(header[c]) == lower(value)) return static_cast<int>(c);
  std::string names;
  for (const auto& h : header) names += (names.empty() ? "" : ", ") + h;
  throw Error(header_file + ":1: " + option + " '" + value + "': no such column in the header (columns: " + names +
              ")");
}

void resolve_columns(const PartitionOptions& o, TextFormat& f, const std::vector<std::string>& header,
                     const std::string& header_file) {
  f.user = 0;
  f.item = 1;
  f.rating = o.implicit ? -1 : 2;
  f.time = -1;
  if (!o.columns.empty()) {
    f.user = f.item = f.rating = f.time = -1;
    int index = 0;
    std::set<std::string> used;
    std::size_t start = 0;
    while (start <= o.columns.size()) {
      std::size_t comma = o.columns.find(',', start);
      if (comma == std::string::npos) comma = o.columns.size();
      const std::string name = o.columns.substr(start, comma - start);
      int* slot = name == "user"                          ? &f.user
                  : name == "item"                        ? &f.item
                  : name == "rating" || name == "count"   ? &f.rating
                  : name == "timestamp" || name == "time" ? &f.time
                                                          : nullptr;
      if (slot == nullptr && name != "-")
        throw Error("--columns: unknown field '" + name + "' (use user, item, rating, timestamp or -)");
      if (slot != nullptr && !used.insert(name).second) throw Error("--columns: '" + name + "' appears twice");
      if (slot != nullptr) *slot = index;
      ++index;
      start = comma + 1;
    }
    if (f.user < 0 || f.item < 0) throw Error("--columns must name a user and an item field");
    if (f.rating < 0 && !o.implicit) throw Error("--columns has no rating field (pass --implicit for event data)");
  }
  const int user = resolve_column("--user-column", o.user_column, header, header_file);
  const int item = resolve_column("--item-column", o.item_column, header, header_file);
  const int rating = resolve_column("--rating-column", o.rating_column, header, header_file);
  const int time = resolve_column("--time-column", o.time_column, header, header_file);
  if (user == -1 || item == -1)
    throw Error(std::string(user == -1 ? "--user-column " + o.user_column : "--item-column " + o.item_column) +
                ": the user and item columns cannot be 'none'");
  if (user >= 0) f.user = user;
  if (item >= 0) f.item = item;
  if (rating != -2) f.rating = rating;
  if (time != -2) f.time = time;
  if (f.rating < 0 && !o.implicit) throw Error("--rating-column none needs --implicit");
  const int cols[] = {f.user, f.item, f.rating, f.time};
  const char* const roles[] = {"user", "item", "rating", "time"};
  const std::string* const given[] = {&o.user_column, &o.item_column, &o.rating_column, &o.time_column};
  // What chose a role's field, for the message: its option, --columns or the default.
  const auto chosen_by = [&](int r) -> std::string {
    if (!given[r]->empty()) return "--" + std::string(roles[r]) + "-column " + *given[r];
    return (o.columns.empty() ? "the default " : "--columns' ") + std::string(roles[r]) + " column";
  };
  for (int a = 0; a < 4; ++a)
    for (int b = a + 1; b < 4; ++b)
      if (cols[a] >= 0 && cols[a] == cols[b])
        throw Error(chosen_by(b) + " and " + chosen_by(a) + " are the same field (" + std::to_string(cols[a] + 1) +
                    "): the user, item, rating and time columns must be different fields");
}

// Cuts the input into `ranks` shares of about equal weight (a gzip file
// weighs 4x its size: it inflates to about that and cannot be split).
std::vector<std::vector<WorkRange>> cut_work(const std::vector<InputFile>& files, int ranks) {
  std::vector<std::vector<WorkRange>> out(ranks);
  unsigned __int128 total = 0;
  std::vector<std::uint64_t> weight;
  for (const auto& f : files) {
    weight.push_back(f.gzip ? f.size * 4 : f.size);
    total += weight.back();
  }
  auto share_begin = [&](int r) { return total * static_cast<unsigned>(r) / static_cast<unsigned>(ranks); };
  unsigned __int128 at = 0;
  for (int i = 0; i < static_cast<int>(files.size()); ++i) {
    const unsigned __int128 lo = at, hi = at + weight[i];
    at = hi;
    if (weight[i] == 0) continue;
    if (files[i].gzip) {  // whole, to the rank whose share holds its middle
      const unsigned __int128 mid = lo + weight[i] / 2;
      int r = ranks - 1;
      while (r > 0 && share_begin(r) > mid) --r;
      out[r].push_back({i, 0, kAll});
      continue;
    }
    for (int r = 0; r < ranks; ++r) {
      const unsigned __int128 a = std::max(lo, share_begin(r)), b = std::min(hi, share_begin(r + 1));
      if (a < b) out[r].push_back({i, static_cast<std::uint64_t>(a - lo), static_cast<std::uint64_t>(b - lo)});
    }
  }
  return out;
}

}  // namespace

Plan make_plan(const PartitionOptions& o, int ranks) {
  Plan plan;
  std::set<std::string> seen;
  add_files(plan.files, seen, o.inputs, false);
  add_files(plan.files, seen, o.test_inputs, true);
  if (plan.files.size() >= (std::size_t{1} << kFileBits)) throw Error("too many input files (at most 2^20)");
  for (const auto& f : plan.files)
    if (!f.gzip && f.size >= (std::uint64_t{1} << kOffsetBits)) throw Error(f.path + ": larger than 16 TiB");
  plan.header = o.header;

  // The header (every file's first line, all equal) and a sample of data lines.
  std::vector<std::string> header_fields, sample;
  std::string header_line, header_file;
  std::uint64_t sample_bytes = 0, sample_lines = 0;
  for (const auto& f : plan.files) {
    const auto lines = first_lines(f, o.header ? 2 : 1);
    if (lines.empty()) continue;
    if (o.header) {
      if (header_file.empty()) {
        header_file = f.path;
        header_line = lines[0];
      } else if (lines[0] != header_line) {
        throw Error(f.path + ":1: header differs from the header of " + header_file + ": " + cut_line(lines[0]));
      }
    }
    if (sample.empty() && static_cast<int>(lines.size()) > (o.header ? 1 : 0)) sample.push_back(lines.back());
  }
  if (!plan.files.empty()) {  // average line length, for the bucket count
    LineReader reader(plan.files[0].path, plan.files[0].gzip, 0, kAll, 1 << 20);
    TextLine line;
    while (sample_bytes < (1u << 20) && reader.next(line)) sample_bytes += line.text.size() + 1, ++sample_lines;
  }
  if (o.separator == "auto")
    set_separator(plan.format, sample.empty() ? "," : detect_separator(sample[0]));
  else
    set_separator(plan.format, o.separator);
  if (o.header && !header_file.empty()) {
    FieldSplitter splitter(plan.format);
    if (const char* problem = splitter.split(header_line, -1))
      throw Error(header_file + ":1: " + problem + ": " + cut_line(header_line));
    for (auto field : splitter.fields()) header_fields.emplace_back(field);
  }
  resolve_columns(o, plan.format, header_fields, header_file.empty() ? "input" : header_file);

  std::uint64_t total = 0;
  for (const auto& f : plan.files) total += f.gzip ? f.size * 4 : f.size;
  const double line_bytes = sample_lines > 0 ? static_cast<double>(sample_bytes) / sample_lines : 20.0;
  plan.estimated_lines = static_cast<std::uint64_t>(static_cast<double>(total) / std::max(line_bytes, 4.0)) + 1;
  plan.ranges = cut_work(plan.files, ranks);
  return plan;
}

std::string Plan::to_json() const {
  json j;
  for (const auto& f : files) j["files"].push_back({f.path, f.size, f.gzip, f.test});
  j["separator"] = format.separator;
  j["whitespace"] = format.whitespace;
  j["columns"] = {format.user, format.item, format.rating, format.time};
  j["header"] = header;
  j["estimated_lines"] = estimated_lines;
  for (const auto& mine : ranges) {
    json r = json::array();
    for (const auto& w : mine) r.push_back({w.file, w.begin, w.end});
    j["ranges"].push_back(r);
  }
  return j.dump();
}

Plan Plan::from_json(const std::string& text) {
  const json j = json::parse(text);
  Plan p;
  for (const auto& f : j.value("files", json::array()))
    p.files.push_back({f[0].get<std::string>(), f[1].get<std::uint64_t>(), f[2].get<bool>(), f[3].get<bool>()});
  p.format.separator = j["separator"].get<std::string>();
  p.format.whitespace = j["whitespace"].get<bool>();
  p.format.user = j["columns"][0];
  p.format.item = j["columns"][1];
  p.format.rating = j["columns"][2];
  p.format.time = j["columns"][3];
  p.header = j["header"];
  p.estimated_lines = j["estimated_lines"];
  for (const auto& r : j["ranges"]) {
    p.ranges.emplace_back();
    for (const auto& w : r)
      p.ranges.back().push_back({w[0].get<int>(), w[1].get<std::uint64_t>(), w[2].get<std::uint64_t>()});
  }
  return p;
}

}  // namespace dals::part
