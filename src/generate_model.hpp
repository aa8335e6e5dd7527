#pragma once
// Private to dals-generate: the planted model and the sampling of who rates
// what. Every function here is a pure function of (options, ids); the
// scratch space of ItemSampler only speeds it up.

#include <cstdint>
#include <vector>

#include "dals/generate.hpp"
#include "dals/rng.hpp"

namespace dals::gen {

/// Derived seeds, one per purpose, so that no two kinds of draw share keys.
enum Purpose : std::uint64_t {
  kDegreeDraw = 0x6465670001,   // user activity weight
  kPopularity = 0x706f700002,   // item popularity weight
  kItemDraw = 0x6472770003,     // a user's item draws
  kItemKeys = 0x6b65790004,     // a heavy user's exact sampling keys
  kModel = 0x6d646c0005,        // planted factors and biases
  kNoise = 0x6e6f690006,        // rating noise
  kSplit = 0x73706c0007,        // train/test split
};

inline std::uint64_t purpose_seed(std::uint64_t seed, Purpose purpose) { return key_hash(seed, purpose); }

/// Target degree (train + test) of every user: min_degree + round(scale *
/// w_i), capped at items / 2, with `scale` fitted so the sum is close to
/// options.ratings.
std::vector<std::int32_t> user_degrees(const GenerateOptions& options);

/// Item popularity weights x^(-item_skew).
std::vector<double> item_weights(const GenerateOptions& options);

/// Draws each user's items: without replacement, proportional to the item
/// weights. Results depend only on (seed, user, degree).
class ItemSampler {
 public:
  ItemSampler(const GenerateOptions& options, std::vector<double> weights);
  /// The `degree` distinct items of `user`, sorted ascending.
  void sample(std::int64_t user, std::int64_t degree, std::vector<std::int32_t>& out);

 private:
  std::int32_t draw(std::uint64_t h) const;
  void sample_exact(std::int64_t user, std::int64_t degree, std::vector<std::int32_t>& out);

  std::uint64_t draw_seed_, key_seed_;
  std::int64_t n_;
  std::vector<double> weights_;
  std::vector<double> prob_;       // alias table (Vose)
  std::vector<std::int32_t> alias_;
  std::vector<std::uint32_t> mark_;  // mark_[j] == stamp_: j already drawn for this user
  std::uint32_t stamp_ = 0;
  std::vector<std::pair<double, std::int32_t>> keys_;  // scratch of sample_exact
};

/// The planted factors and biases, and the rating and split of a pair.
class PlantedModel {
 public:
  explicit PlantedModel(const GenerateOptions& options);

  PlantedRow user_row(std::int64_t user) const { return planted_row(options_, Side::users, user); }
  /// The rating of (user, item), `row` being user_row(user).
  float rating(const PlantedRow& row, std::int64_t user, std::int32_t item) const;
  bool is_test(std::int64_t user, std::int32_t item) const {
    return to_unit(key_hash(split_seed_, static_cast<std::uint64_t>(user), static_cast<std::uint64_t>(item))) <
           options_.test_fraction;
  }

 private:
  GenerateOptions options_;
  int rank_;
  std::vector<double> item_factors_;  // items x rank, row-major
  std::vector<double> item_bias_;
  std::uint64_t noise_seed_, split_seed_;
};

}  // namespace dals::gen
