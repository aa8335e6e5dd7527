#pragma once
/// @file memory.hpp
/// @brief What this process uses of the machine's memory.

#include <cstdint>

namespace dals {

/// Peak resident memory of this process so far, in bytes (getrusage).
std::int64_t peak_rss_bytes();
/// The machine's physical memory in bytes (0 where it cannot be read).
std::int64_t physical_memory_bytes();

}  // namespace dals
