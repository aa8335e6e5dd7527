#include "dals/data/id_keys.hpp"

#include <charconv>
#include <cstdint>

#include "dals/core/checksum.hpp"
#include "dals/core/rng.hpp"

namespace dals {
namespace {

// The multiplicative inverse of an odd constant mod 2^64 (Newton's iteration
// doubles the correct low bits each step: 3 -> 6 -> ... -> 96 bits).
constexpr std::uint64_t inverse_of(std::uint64_t m) {
  std::uint64_t inv = m;  // m * m == 1 mod 8 for odd m: 3 bits correct
  for (int i = 0; i < 5; ++i) inv *= 2 - m * inv;
  return inv;
}
constexpr std::uint64_t kM1 = 0xBF58476D1CE4E5B9ULL, kM2 = 0x94D049BB133111EBULL;
static_assert(kM1 * inverse_of(kM1) == 1 && kM2 * inverse_of(kM2) == 1);

// Undoes x ^= x >> s.
constexpr std::uint64_t unxorshift(std::uint64_t y, int s) {
  std::uint64_t x = y;
  for (int shift = s; shift < 64; shift += s) x = y ^ (x >> s);
  return x;
}

// The constants key_hash (rng.hpp) adds to its later arguments.
constexpr std::uint64_t kSeedSalt = 0x6A09E667F3BCC908ULL, kB = 0x3C6EF372FE94F82BULL, kC = 0xA54FF53A5F1D36F1ULL;
constexpr std::uint64_t kStringSalt = 0x737472696e676964ULL;  // "stringid"

std::uint64_t side_code(Side side) { return side == Side::users ? 1 : 2; }

}  // namespace

std::uint64_t unmix64(std::uint64_t x) {
  x = unxorshift(x, 31);
  x *= inverse_of(kM2);
  x = unxorshift(x, 27);
  x *= inverse_of(kM1);
  x = unxorshift(x, 30);
  return x - 0x9E3779B97F4A7C15ULL;
}

std::optional<std::int64_t> parse_canonical_int(std::string_view t) {
  // One pass: this runs twice per input line.
  const bool negative = !t.empty() && t[0] == '-';
  const std::size_t start = negative ? 1 : 0;
  if (t.size() == start || t.size() > 20) return std::nullopt;
  if (t[start] == '0') return t.size() == 1 ? std::optional<std::int64_t>(0) : std::nullopt;  // "0" only
  std::uint64_t v = 0;
  for (std::size_t i = start; i < t.size(); ++i) {
    const unsigned d = static_cast<unsigned char>(t[i]) - static_cast<unsigned>('0');
    if (d > 9 || v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(INT64_MAX);
  if (v > kMax + (negative ? 1 : 0)) return std::nullopt;
  return negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
}

std::uint64_t string_id_key(std::string_view text, std::uint64_t seed) {
  return checksum64(text.data(), text.size(), mix64(seed ^ kStringSalt));
}

std::uint64_t raw_id_key(std::string_view text, std::uint64_t seed) {
  if (auto v = parse_canonical_int(text)) return static_cast<std::uint64_t>(*v);
  return string_id_key(text, seed);
}

std::uint64_t order_hash(std::uint64_t seed, Side side, std::uint64_t key) {
  return key_hash(seed, side_code(side), key);
}

std::uint64_t key_of_order_hash(std::uint64_t seed, Side side, std::uint64_t hash) {
  // order_hash = key_hash(seed, side, key) = mix(mix(h1 ^ (key + kB)) ^ kC)
  // with h1 = mix(mix(seed ^ kSeedSalt) ^ side): undo it from the outside in.
  const std::uint64_t h1 = mix64(mix64(seed ^ kSeedSalt) ^ side_code(side));
  const std::uint64_t h2 = unmix64(hash) ^ kC;
  return (unmix64(h2) ^ h1) - kB;
}

const char* utf8_problem(std::string_view t) {
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  const auto* end = p + t.size();
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return "contains a control character";
      ++p;
      continue;
    }
    int extra = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0)
      extra = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
      extra = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
      extra = 3, cp = c & 0x07;
    else
      return "is not valid UTF-8";
    if (end - p <= extra) return "is not valid UTF-8";
    for (int k = 1; k <= extra; ++k) {
      if ((p[k] & 0xC0) != 0x80) return "is not valid UTF-8";
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    // Overlong encodings, surrogates and values past U+10FFFF are invalid.
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return "is not valid UTF-8";
    p += extra + 1;
  }
  return nullptr;
}

}  // namespace dals
