#pragma once
/// @file id_keys.hpp
/// @brief Raw ids (64-bit integers or strings) and the hashes that order them.
///
/// Every raw id has a 64-bit *key*: a canonical decimal integer ("42",
/// "-7", not "007" or "+7") is keyed by its value, any other string by a
/// seeded 64-bit hash of its bytes. Its *order hash* is
/// key_hash(seed, side, key) (rng.hpp), side 1 for users and 2 for items,
/// the rule dals-import also uses. Dense ids follow the order hash: user d
/// is the d-th smallest order hash among the dataset's users. So
///  - popular ids are spread evenly over the blocks, whatever the input order;
///  - a block is a contiguous range of order hashes, and a raw id's block
///    follows from its hash and the blocks' first hashes alone (id_index.hpp);
///  - the order hash is a bijection of the key (each step of key_hash is
///    invertible), so integer ids never collide and their raw value is
///    recovered from the hash without any dictionary. Two strings, or a string
///    and an integer, can share a key (probability about n^2 / 2^65 for n
///    string ids); dals-partition detects that and asks for another --seed.

#include <cstdint>
#include <optional>
#include <string_view>

#include "dals/data/manifest.hpp"

namespace dals {

/// Longest raw string id accepted, in bytes.
inline constexpr std::size_t kMaxIdBytes = 256;

/// The value of a canonical decimal 64-bit integer: optional '-', no leading
/// zeros, no '+', no spaces, "-0" excluded, in range. Anything else: nullopt.
std::optional<std::int64_t> parse_canonical_int(std::string_view text);

/// Key of a string id that is not a canonical integer.
std::uint64_t string_id_key(std::string_view text, std::uint64_t seed);

/// Key of any raw id: its value if canonical integer, else string_id_key.
std::uint64_t raw_id_key(std::string_view text, std::uint64_t seed);

/// key_hash(seed, 1 or 2, key): the order of dense ids.
std::uint64_t order_hash(std::uint64_t seed, Side side, std::uint64_t key);

/// The inverse of order_hash: the key whose order hash is `hash`.
std::uint64_t key_of_order_hash(std::uint64_t seed, Side side, std::uint64_t hash);

/// The inverse of mix64 (rng.hpp).
std::uint64_t unmix64(std::uint64_t x);

/// nullptr if `text` is valid UTF-8 without control characters, else what is wrong.
const char* utf8_problem(std::string_view text);

}  // namespace dals
