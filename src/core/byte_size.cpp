#include "dals/core/byte_size.hpp"

#include <cctype>
#include <cmath>

#include "dals/core/error.hpp"

namespace dals {

std::uint64_t parse_byte_size(const std::string& text, const std::string& option) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw Error(option + " must be a size like 512M or 4G, got '" + text + "'");
  }
  std::string unit = text.substr(used);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();  // "MB", "GiB"
  if (unit.size() > 1 && unit.back() == 'I') unit.pop_back();
  double scale = 1;
  if (unit == "K")
    scale = 1024.0;
  else if (unit == "M")
    scale = 1024.0 * 1024;
  else if (unit == "G")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "T")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty() && unit != "B")
    throw Error(option + " must be a size like 512M or 4G, got '" + text + "'");
  if (!std::isfinite(value) || value <= 0 || value * scale > 1e18)
    throw Error(option + " must be a positive size like 512M or 4G, got '" + text + "'");
  return static_cast<std::uint64_t>(value * scale);
}

}  // namespace dals
