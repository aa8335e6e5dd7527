#include "dals/core/log.hpp"

#include <cstdarg>
#include <cstdio>

namespace dals {

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
