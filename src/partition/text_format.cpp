#include "dals/partition/text_format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "dals/core/error.hpp"

namespace dals {

int TextFormat::fields_needed() const {
  int n = 0;
  for (int c : {user, item, rating, time}) n = std::max(n, c + 1);
  return n;
}

std::string TextFormat::separator_name() const {
  if (whitespace) return "whitespace";
  if (separator == "\t") return "'\\t'";
  return "'" + separator + "'";
}

void set_separator(TextFormat& format, const std::string& arg) {
  format.whitespace = arg == "whitespace" || arg == "space";
  // assign(1, c), not = "c": GCC 12 warns falsely (-Wrestrict) on the latter.
  if (format.whitespace)
    format.separator.assign(1, ' ');
  else if (arg == "\\t" || arg == "tab")
    format.separator.assign(1, '\t');
  else
    format.separator = arg;
  if (format.separator.empty()) throw Error("--separator must not be empty");
  if (format.separator.find_first_of("\"\n\r") != std::string::npos)
    throw Error("--separator must not contain a quote or a line break");
}

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

const char* FieldSplitter::split_quoted(std::string_view line, std::size_t& pos, std::string_view& field) {
  const std::size_t start = pos + 1;
  std::size_t close = line.find('"', start);
  if (close == std::string_view::npos) return "unterminated quoted field";
  if (close + 1 >= line.size() || line[close + 1] != '"') {  // the common case: no "" inside
    field = line.substr(start, close - start);
    pos = close + 1;
    return nullptr;
  }
  if (used_unquoted_ == unquoted_.size()) unquoted_.emplace_back();
  std::string& out = unquoted_[used_unquoted_++];
  out.clear();
  std::size_t i = start;
  while (true) {
    close = line.find('"', i);
    if (close == std::string_view::npos) return "unterminated quoted field";
    out.append(line.substr(i, close - i));
    if (close + 1 < line.size() && line[close + 1] == '"') {
      out.push_back('"');
      i = close + 2;
      continue;
    }
    pos = close + 1;
    field = out;
    return nullptr;
  }
}

const char* FieldSplitter::split(std::string_view line, int count) {
  fields_.clear();
  used_unquoted_ = 0;
  const std::string_view sep = format_.separator;
  const bool ws = format_.whitespace;
  // Blanks around a field are trimmed, except the separator itself (a tab).
  const bool trim_tabs = ws || sep.find('\t') == std::string_view::npos;
  auto blank = [&](char c) { return c == ' ' || (trim_tabs && c == '\t'); };
  const std::size_t n = line.size();
  std::size_t pos = 0;
  if (ws)
    while (pos < n && is_blank(line[pos])) ++pos;
  if (ws && pos == n) return nullptr;
  while (count < 0 || static_cast<int>(fields_.size()) < count) {
    while (pos < n && blank(line[pos])) ++pos;
    std::string_view field;
    std::size_t end;  // where the separator (or the line's end) is
    if (pos < n && line[pos] == '"') {
      if (const char* problem = split_quoted(line, pos, field)) return problem;
      const std::size_t after = pos;
      while (pos < n && blank(line[pos])) ++pos;
      const bool at_separator = pos == n || (ws ? pos > after : line.compare(pos, sep.size(), sep) == 0);
      if (!at_separator) return "unexpected text after a closing quote";
      end = ws ? after : pos;
    } else {
      if (ws) {
        end = pos;
        while (end < n && !is_blank(line[end])) ++end;
      } else if (sep.size() == 1) {
        // A plain loop: fields are a few bytes long, shorter than memchr's set-up.
        const char c = sep[0];
        end = pos;
        while (end < n && line[end] != c) ++end;
      } else {
        end = line.find(sep, pos);
        if (end == std::string_view::npos) end = n;
      }
      std::size_t last = end;
      while (last > pos && blank(line[last - 1])) --last;
      field = line.substr(pos, last - pos);
    }
    fields_.push_back(field);
    if (end >= n) break;
    if (ws) {
      pos = end;
      while (pos < n && is_blank(line[pos])) ++pos;
      if (pos == n) break;
    } else {
      pos = end + sep.size();
    }
  }
  return nullptr;
}

const char* parse_rating(std::string_view t, float& value) {
  if (t.empty()) return "rating is empty";
  if (t[0] == '+') t.remove_prefix(1);
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (end != t.data() + t.size() || t.empty()) return "rating is not a number";
  if (ec == std::errc::result_out_of_range) {
    // Beyond float32 either way. One public dump stores its zeros as
    // 2.2250738585072014e-308 (DBL_MIN): say which way, so that it can be fixed.
    double wide = 0;
    std::from_chars(t.data(), t.data() + t.size(), wide);
    return std::fabs(wide) < 1.0 ? "rating is too small for float32 (nonzero below 1.2e-38; write 0 as 0)"
                                 : "rating is too large for float32 (above 3.4e38)";
  }
  if (ec != std::errc()) return "rating is not a number";
  if (!std::isfinite(value)) return "rating is not finite";
  return nullptr;
}

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
// (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view t, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > t.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
    out = out * 10 + (t[i] - '0');
  }
  return true;
}

}  // namespace

const char* parse_timestamp(std::string_view t, std::int64_t& seconds) {
  if (t.empty()) return "timestamp is empty";
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seconds);
  if (ec == std::errc() && end == t.data() + t.size()) return nullptr;
  int year, month, day;
  if (t.size() >= 10 && t[4] == '-' && t[7] == '-' && digits(t, 0, 4, year) && digits(t, 5, 2, month) &&
      digits(t, 8, 2, day)) {
    if (month < 1 || month > 12 || day < 1 || day > 31) return "timestamp is not a valid date";
    int hh = 0, mm = 0, ss = 0;
    std::size_t pos = 10;
    if (pos < t.size() && (t[pos] == 'T' || t[pos] == ' ')) {
      if (!digits(t, pos + 1, 2, hh) || pos + 3 >= t.size() || t[pos + 3] != ':' || !digits(t, pos + 4, 2, mm))
        return "timestamp is not a valid date and time";
      pos += 6;
      if (pos < t.size() && t[pos] == ':') {
        if (!digits(t, pos + 1, 2, ss)) return "timestamp is not a valid date and time";
        pos += 3;
      }
      if (hh > 23 || mm > 59 || ss > 60) return "timestamp is not a valid date and time";
    }
    if (pos < t.size() && t[pos] == 'Z') ++pos;
    if (pos != t.size()) return "timestamp is not a valid date and time";
    seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + hh * 3600 +
              mm * 60 + ss;
    return nullptr;
  }
  double x = 0;
  auto [end2, ec2] = std::from_chars(t.data(), t.data() + t.size(), x);
  if (ec2 != std::errc() || end2 != t.data() + t.size() || !std::isfinite(x) || std::fabs(x) > 9.2e18)
    return "timestamp is not a number or a date";
  seconds = static_cast<std::int64_t>(std::floor(x));
  return nullptr;
}

std::string cut_line(std::string_view line, std::size_t max) {
  if (line.size() <= max) return std::string(line);
  return std::string(line.substr(0, max)) + "...";
}

}  // namespace dals
