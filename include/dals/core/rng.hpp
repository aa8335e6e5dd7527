#pragma once
/// @file rng.hpp
/// @brief Counter-based random numbers: a value is a pure function of its key.
///
/// Every random quantity in dals (initial factors, planted models, test
/// splits) is drawn by hashing a key such as (seed, side, dense id, index).
/// No state is carried from one draw to the next, so the result cannot
/// depend on the number of ranks or threads, or on the order of the draws.

#include <cmath>
#include <cstdint>

namespace dals {

/// splitmix64's finalizer: a bijective 64-bit mixer with full avalanche.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Hash of a key of up to four words.
inline std::uint64_t key_hash(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0) {
  std::uint64_t h = mix64(seed ^ 0x6A09E667F3BCC908ULL);
  h = mix64(h ^ a);
  h = mix64(h ^ (b + 0x3C6EF372FE94F82BULL));
  return mix64(h ^ (c + 0xA54FF53A5F1D36F1ULL));
}

/// Uniform in (0, 1): never exactly 0, so log() and powers are safe.
inline double to_unit(std::uint64_t h) { return (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53; }

/// A stream of draws for one key: draw t is key_hash(seed, a, b, t).
class KeyedStream {
 public:
  KeyedStream(std::uint64_t seed, std::uint64_t a, std::uint64_t b) : seed_(seed), a_(a), b_(b) {}
  std::uint64_t next() { return key_hash(seed_, a_, b_, counter_++); }
  double uniform() { return to_unit(next()); }
  /// Standard normal by Box-Muller (two draws per value, no cached spare,
  /// so every value depends only on its position in the stream).
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  std::uint64_t below(std::uint64_t bound) {
    return static_cast<std::uint64_t>(uniform() * static_cast<double>(bound)) % bound;
  }

 private:
  std::uint64_t seed_, a_, b_;
  std::uint64_t counter_ = 0;
};

}  // namespace dals
