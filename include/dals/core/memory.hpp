#pragma once
/// @file memory.hpp
/// @brief What this process uses of the machine's memory.

#include <cstdint>

namespace dals {

/// Peak resident memory of this process so far, in bytes (getrusage).
std::int64_t peak_rss_bytes();

}  // namespace dals
