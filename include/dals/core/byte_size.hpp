#pragma once
/// @file byte_size.hpp
/// @brief Sizes given on a command line: "512M", "4G", "1.5GiB", "65536".

#include <cstdint>
#include <string>

namespace dals {

/// Bytes of `text` (K, M, G, T: powers of 1024; a B or iB after them is
/// allowed). Throws Error naming `option` unless it is a positive size.
std::uint64_t parse_byte_size(const std::string& text, const std::string& option);

}  // namespace dals
