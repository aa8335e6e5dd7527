#pragma once
/// @file text_format.hpp
/// @brief Splitting a rating dump's line into fields and reading its values.
///
/// A line is split at a separator: one character (',' '\t' ';' ...), a
/// string ("::"), or runs of spaces and tabs (`whitespace`). A field that
/// starts with '"' is a quoted CSV field: it runs to the next lone '"' ("" is
/// a literal quote) and may contain the separator; quoted fields cannot span
/// lines. Unquoted fields are trimmed of spaces and tabs. A trailing '\r'
/// (CRLF files) is dropped before splitting.

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace dals {

/// @brief Which fields of a line are what (0-based; -1 = absent).
struct TextFormat {
  std::string separator = ",";  ///< the separator string; ignored if whitespace
  bool whitespace = false;      ///< runs of spaces and tabs separate fields
  int user = 0;
  int item = 1;
  int rating = 2;  ///< -1: implicit feedback, every line is worth 1
  int time = -1;   ///< -1: no timestamp column
  /// One more than the largest column used: fields past it are not split.
  int fields_needed() const;
  /// "','", "'\\t'", "'::'" or "whitespace", for messages.
  std::string separator_name() const;
};

/// Turns a --separator argument into a format's separator: "\\t" and "tab"
/// mean a tab, "whitespace" or "space" runs of blanks, anything else itself.
/// Throws Error for an empty separator or one containing '"' or a newline.
void set_separator(TextFormat& format, const std::string& argument);

/// @brief Splits lines into fields; keeps its buffers between lines, so a
/// line costs no allocation once the first few have been seen.
class FieldSplitter {
 public:
  explicit FieldSplitter(const TextFormat& format) : format_(format) {}
  /// Splits `line` into its first `count` fields (all of them if count < 0).
  /// Returns nullptr on success (fields() holds them: fewer than `count` if
  /// the line is short), else what is wrong ("unterminated quoted field").
  const char* split(std::string_view line, int count);
  const std::vector<std::string_view>& fields() const { return fields_; }

 private:
  const char* split_quoted(std::string_view line, std::size_t& pos, std::string_view& field);
  const TextFormat& format_;
  std::vector<std::string_view> fields_;
  // Storage of quoted fields with "" inside, which fields() views point
  // into: a deque, whose growth moves no element (a vector's moved them, and
  // a short string's bytes with it, leaving the views of earlier fields dangling).
  std::deque<std::string> unquoted_;
  std::size_t used_unquoted_ = 0;
};

/// A rating: a finite float, the whole field ("4", "3.5", "-1e2"). Returns
/// nullptr or what is wrong ("rating is not a number", "... is not finite").
const char* parse_rating(std::string_view text, float& value);

/// A timestamp: an integer (e.g. Unix seconds), a decimal (its floor), or an
/// ISO date "YYYY-MM-DD" with optional "[T ]HH:MM[:SS]" and 'Z' (seconds
/// since 1970-01-01 UTC). Returns nullptr or what is wrong.
const char* parse_timestamp(std::string_view text, std::int64_t& seconds);

/// `line` cut to at most `max` bytes (with "..." when cut), for messages.
std::string cut_line(std::string_view line, std::size_t max = 80);

}  // namespace dals
