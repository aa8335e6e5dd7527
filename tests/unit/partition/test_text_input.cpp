// dals-partition's text input: field splitting, values, and reading byte
// ranges of plain and gzip files (every line read exactly once, whatever
// the cut).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "dals/core/error.hpp"
#include "dals/partition/text_format.hpp"
#include "dals/partition/text_reader.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

class TempFiles {
 public:
  TempFiles() : dir_(fs::temp_directory_path() / ("dals-text-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~TempFiles() { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string gzip(const std::string& name, const std::vector<std::string>& members) const {
    const std::string path = (dir_ / name).string();
    std::remove(path.c_str());
    for (const auto& m : members) {  // each member a separate gzip stream, appended
      gzFile f = gzopen(path.c_str(), "ab");
      gzwrite(f, m.data(), static_cast<unsigned>(m.size()));
      gzclose(f);
    }
    return path;
  }

 private:
  fs::path dir_;
};

std::vector<std::string> split(const TextFormat& format, const std::string& line, int count = -1) {
  FieldSplitter splitter(format);
  const char* problem = splitter.split(line, count);
  if (problem != nullptr) return {std::string("ERROR: ") + problem};
  std::vector<std::string> out;
  for (auto f : splitter.fields()) out.emplace_back(f);
  return out;
}

using V = std::vector<std::string>;

// Two quoted fields with "" inside, on a splitter's first line: the second
// one's unquoted copy grew the storage of the first, and the first field's
// view pointed into freed memory (found by fuzz/text_line_fuzzer.cpp under
// AddressSanitizer; dals-partition could read another id than the line's).
// The fields are read after memory of the freed size is reused and filled,
// so a dangling view shows here without a sanitizer too.
TEST(FieldSplitter, QuotedFieldsKeepTheirTextWhenMoreFollow) {
  TextFormat csv;
  FieldSplitter splitter(csv);
  ASSERT_EQ(splitter.split("\"u\"\"1\",\"i\"\"2\",\"r\"\"3\",5", -1), nullptr);
  std::vector<std::vector<std::string>> reuse;
  for (int i = 0; i < 8; ++i) reuse.emplace_back(std::vector<std::string>(1 + i % 4, std::string(12, 'X')));
  V fields;
  for (auto f : splitter.fields()) fields.emplace_back(f);
  EXPECT_EQ(fields, (V{"u\"1", "i\"2", "r\"3", "5"}));
}

TEST(FieldSplitter, SeparatorsQuotesAndBlanks) {
  TextFormat csv;
  EXPECT_EQ(split(csv, "1,2,3.5"), (V{"1", "2", "3.5"}));
  EXPECT_EQ(split(csv, " a , b ,c"), (V{"a", "b", "c"}));  // blanks around unquoted fields go
  EXPECT_EQ(split(csv, "a,,c,"), (V{"a", "", "c", ""}));
  EXPECT_EQ(split(csv, "a,b,c,d,e", 2), (V{"a", "b"}));  // the rest is not split
  EXPECT_EQ(split(csv, "\"x,y\",\"say \"\"hi\"\"\",3"), (V{"x,y", "say \"hi\"", "3"}));
  EXPECT_EQ(split(csv, "\" padded \" ,2"), (V{" padded ", "2"}));
  EXPECT_EQ(split(csv, "\"open,2,3"), (V{"ERROR: unterminated quoted field"}));
  EXPECT_EQ(split(csv, "\"a\"b,2"), (V{"ERROR: unexpected text after a closing quote"}));

  TextFormat tsv;
  set_separator(tsv, "\\t");
  EXPECT_EQ(tsv.separator, "\t");
  EXPECT_EQ(split(tsv, "a\t\tc"), (V{"a", "", "c"}));  // tabs separate, never trimmed
  EXPECT_EQ(split(tsv, "a b\tc"), (V{"a b", "c"}));

  TextFormat colons;
  set_separator(colons, "::");
  EXPECT_EQ(split(colons, "1::1193::5::978300760"), (V{"1", "1193", "5", "978300760"}));
  EXPECT_EQ(split(colons, "a:b::c"), (V{"a:b", "c"}));

  TextFormat ws;
  set_separator(ws, "whitespace");
  EXPECT_TRUE(ws.whitespace);
  EXPECT_EQ(split(ws, "  1 \t 2   3  "), (V{"1", "2", "3"}));
  EXPECT_EQ(split(ws, "\"a b\" c"), (V{"a b", "c"}));

  TextFormat bad;
  EXPECT_THROW(set_separator(bad, ""), Error);
  EXPECT_THROW(set_separator(bad, "\""), Error);
}

TEST(Values, RatingsAndTimestamps) {
  float v = 0;
  EXPECT_EQ(parse_rating("4", v), nullptr);
  EXPECT_EQ(v, 4.0f);
  EXPECT_EQ(parse_rating("+3.5", v), nullptr);
  EXPECT_EQ(v, 3.5f);
  EXPECT_EQ(parse_rating("-1e2", v), nullptr);
  EXPECT_EQ(v, -100.0f);
  EXPECT_STREQ(parse_rating("nan", v), "rating is not finite");
  EXPECT_STREQ(parse_rating("inf", v), "rating is not finite");
  EXPECT_STREQ(parse_rating("abc", v), "rating is not a number");
  EXPECT_STREQ(parse_rating("4 stars", v), "rating is not a number");
  EXPECT_STREQ(parse_rating("", v), "rating is empty");
  EXPECT_STREQ(parse_rating("1e60", v), "rating is too large for float32 (above 3.4e38)");
  EXPECT_STREQ(parse_rating("-1e60", v), "rating is too large for float32 (above 3.4e38)");
  EXPECT_STREQ(parse_rating("2.2250738585072014e-308", v),
               "rating is too small for float32 (nonzero below 1.2e-38; write 0 as 0)");

  std::int64_t t = 0;
  EXPECT_EQ(parse_timestamp("964982703", t), nullptr);
  EXPECT_EQ(t, 964982703);
  EXPECT_EQ(parse_timestamp("1970-01-02", t), nullptr);
  EXPECT_EQ(t, 86400);
  EXPECT_EQ(parse_timestamp("2005-09-06", t), nullptr);  // Netflix prize dates
  EXPECT_EQ(t, 1125964800);
  EXPECT_EQ(parse_timestamp("2005-09-06T01:02:03Z", t), nullptr);
  EXPECT_EQ(t, 1125964800 + 3723);
  EXPECT_EQ(parse_timestamp("2005-09-06 01:02", t), nullptr);
  EXPECT_EQ(t, 1125964800 + 3720);
  EXPECT_EQ(parse_timestamp("12.9", t), nullptr);
  EXPECT_EQ(t, 12);
  EXPECT_NE(parse_timestamp("2005-13-01", t), nullptr);
  EXPECT_NE(parse_timestamp("yesterday", t), nullptr);
  EXPECT_EQ(cut_line(std::string(100, 'x'), 10), "xxxxxxxxxx...");
}

std::vector<std::pair<std::uint64_t, std::string>> read_range(const std::string& path, bool gzip, std::uint64_t begin,
                                                              std::uint64_t end, std::size_t buffer = 4096) {
  LineReader reader(path, gzip, begin, end, buffer);
  std::vector<std::pair<std::uint64_t, std::string>> out;
  TextLine line;
  while (reader.next(line)) out.emplace_back(line.offset, line.too_long ? "TOO LONG" : std::string(line.text));
  return out;
}

TEST(LineReader, EveryCutReadsEveryLineOnce) {
  TempFiles files;
  const std::string text =
      "u,i,r\r\n1,2,3\r\n\r\nlonger line here,5,4\nlast,1,1";  // CRLF, a blank line, no final newline
  const std::string path = files.write("cut.csv", text);
  const auto whole = read_range(path, false, 0, text.size());
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(whole[0].second, "u,i,r");  // '\r' dropped
  EXPECT_EQ(whole[2].second, "");
  EXPECT_EQ(whole[4], (std::pair<std::uint64_t, std::string>{text.rfind("last"), "last,1,1"}));
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    auto a = read_range(path, false, 0, cut), b = read_range(path, false, cut, text.size());
    a.insert(a.end(), b.begin(), b.end());
    EXPECT_EQ(a, whole) << "cut at byte " << cut;
  }
}

TEST(LineReader, GzipMembersAndLongLines) {
  TempFiles files;
  const std::string path = files.gzip("two.csv.gz", {"a,1,1\nb,2,2\n", "c,3,3\n"});
  EXPECT_TRUE(is_gzip_file(path));
  EXPECT_FALSE(is_gzip_file(files.write("plain.csv", "a,1,1\n")));
  const auto lines = read_range(path, true, 0, std::numeric_limits<std::uint64_t>::max());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], (std::pair<std::uint64_t, std::string>{12, "c,3,3"}));
  EXPECT_EQ(count_lines_before(path, true, 12), 2);
  EXPECT_EQ(line_at(path, true, 6), "b,2,2");

  // A line longer than the buffer is reported (its start) and skipped.
  const std::string big = "x,1,1\n" + std::string(10000, 'y') + "\nz,2,2\n";
  const auto long_lines = read_range(files.write("long.csv", big), false, 0, big.size(), 4096);
  ASSERT_EQ(long_lines.size(), 3u);
  EXPECT_EQ(long_lines[1].second, "TOO LONG");
  EXPECT_EQ(long_lines[2].second, "z,2,2");

  // A truncated gzip file is an error naming the file.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string cut = files.write("cut.csv.gz", bytes.substr(0, bytes.size() - 12));
  try {
    read_range(cut, true, 0, std::numeric_limits<std::uint64_t>::max());
    ADD_FAILURE() << "no error for a truncated gzip file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.csv.gz: truncated gzip data"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dals
