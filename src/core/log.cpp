#include "dals/core/log.hpp"

#include <cstdarg>
#include <cstdio>

namespace dals {

namespace {
// Length of the valid UTF-8 sequence at text[i] (2 to 4), or 0 if there is
// none: overlong forms, surrogates and code points past U+10FFFF are invalid.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
    if (lead == 0xe0) lo = 0xa0;
    if (lead == 0xed) hi = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
    if (lead == 0xf0) lo = 0x90;
    if (lead == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > text.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  // U+0080..U+009F are the C1 controls (0x9b is a one-byte CSI to some terminals).
  if (n == 2 && lead == 0xc2 && byte(i + 1) <= 0x9f) return 0;
  return n;
}
}  // namespace

std::string escape_control(std::string_view text) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const std::size_t n = c >= 0x80 ? utf8_length(text, i) : 0;
    if (n > 0) {
      out.append(text.substr(i, n));
      i += n;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    }
  }
  return out;
}

namespace {
std::string g_tool = "dals";
int g_rank = 0;

void print(std::FILE* out, const char* label, const char* format, va_list args) {
  // One fprintf for the whole line, so that ranks' lines do not interleave.
  va_list copy;
  va_copy(copy, args);
  const int size = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string text(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
  if (size > 0) std::vsnprintf(text.data(), text.size() + 1, format, args);
  if (out == stderr) text = escape_control(text);  // what reports bad input; stdout's lines are our own
  if (label && *label)
    std::fprintf(out, "%s: %s: %s\n", g_tool.c_str(), label, text.c_str());
  else if (label)
    std::fprintf(out, "%s: %s\n", g_tool.c_str(), text.c_str());
  else
    std::fprintf(out, "%s\n", text.c_str());
  std::fflush(out);
}
}  // namespace

void Log::set_tool(const std::string& name) { g_tool = name; }
void Log::set_rank(int rank) { g_rank = rank; }
const std::string& Log::tool() { return g_tool; }
bool Log::is_root() { return g_rank == 0; }

void Log::info(const char* format, ...) {
  if (g_rank != 0) return;
  va_list args;
  va_start(args, format);
  print(stdout, nullptr, format, args);
  va_end(args);
}

void Log::notice(const char* format, ...) {
  if (g_rank != 0) return;
  va_list args;
  va_start(args, format);
  print(stderr, "", format, args);
  va_end(args);
}

void Log::warn(const char* format, ...) {
  if (g_rank != 0) return;
  va_list args;
  va_start(args, format);
  print(stderr, "warning", format, args);
  va_end(args);
}

void Log::error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  print(stderr, "error", format, args);
  va_end(args);
}

}  // namespace dals
