#pragma once
/// @file checksum.hpp
/// @brief A fast 64-bit checksum for arrays stored on disk.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace dals {

/// @brief 64-bit checksum of a byte range (xxHash64-style mixing, 8 bytes a
/// step). Not cryptographic: it detects truncation, flipped bits and
/// mismatched files, which is all a reader needs before trusting an array.
std::uint64_t checksum64(const void* data, std::size_t bytes, std::uint64_t seed = 0);

template <class T>
std::uint64_t checksum_of(std::span<const T> values, std::uint64_t seed = 0) {
  return checksum64(values.data(), values.size_bytes(), seed);
}

/// @brief Folds a value into a running hash (order matters).
std::uint64_t hash_combine(std::uint64_t h, std::uint64_t value);

/// @brief 16 lowercase hex digits.
std::string to_hex(std::uint64_t value);

}  // namespace dals
