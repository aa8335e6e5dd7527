#pragma once
// Private to dals-generate: the planted model and the sampling of who rates
// what. Every function here is a pure function of (options, ids); the
// scratch space of ItemSampler only speeds it up.

#include <cstdint>
#include <vector>

#include "dals/core/rng.hpp"
#include "dals/generate/generate.hpp"

namespace dals::gen {

/// Derived seeds, one per purpose, so that no two kinds of draw share keys.
enum Purpose : std::uint64_t {
  kDegreeDraw = 0x6465670001,  // user activity weight
  kPopularity = 0x706f700002,  // item popularity weight
  kItemDraw = 0x6472770003,    // a user's item draws
  kModel = 0x6d646c0005,       // planted factors and biases
  kNoise = 0x6e6f690006,       // rating noise
  kSplit = 0x73706c0007,       // train/test split
  kCount = 0x636e740008,       // event counts (--implicit)
};

inline std::uint64_t purpose_seed(std::uint64_t seed, Purpose purpose) { return key_hash(seed, purpose); }

/// Target degree (train + test) of every user: min_degree + round(scale *
/// w_i), capped at items / 2, with `scale` fitted so the sum is close to
/// options.ratings.
std::vector<std::int32_t> user_degrees(const GenerateOptions& options);

/// Item popularity weights g_{item_skew}(x_j) (see generate.hpp).
std::vector<double> item_weights(const GenerateOptions& options);

/// Draws each user's items: successive sampling without replacement,
/// proportional to the item weights. Results depend only on (seed, user,
/// degree), never on which users were sampled before.
///
/// Draws come from an alias table, and an item drawn twice is redrawn. When
/// repeats pile up (the user's items hold most of the popularity mass: a
/// heavy user, or a heavy head of popular items), the remaining draws come
/// from a Fenwick tree of integer weights with the chosen items removed;
/// the removal is undone exactly afterwards (integer arithmetic), so the
/// tree is the same for every user.
class ItemSampler {
 public:
  ItemSampler(const GenerateOptions& options, const std::vector<double>& weights);
  /// The `degree` distinct items of `user`, sorted ascending.
  void sample(std::int64_t user, std::int64_t degree, std::vector<std::int32_t>& out);

 private:
  std::int32_t alias_draw(std::uint64_t h) const;
  std::int32_t tree_draw(std::uint64_t h, std::uint64_t total) const;
  void tree_add(std::int64_t item, std::uint64_t delta);

  std::uint64_t draw_seed_;
  std::int64_t n_;
  std::vector<double> prob_;  // alias table (Vose)
  std::vector<std::int32_t> alias_;
  std::vector<std::uint64_t> quantized_;  // integer weights, each >= 1
  std::vector<std::uint64_t> tree_;       // Fenwick tree over quantized_, 1-based
  std::uint64_t total_ = 0;               // sum of quantized_
  std::int64_t top_bit_ = 1;
  std::vector<std::uint32_t> mark_;  // mark_[j] == stamp_: j already drawn for this user
  std::uint32_t stamp_ = 0;
};

/// The planted factors and biases, and the rating and split of a pair.
class PlantedModel {
 public:
  explicit PlantedModel(const GenerateOptions& options);

  PlantedRow user_row(std::int64_t user) const { return planted_row(options_, Side::users, user); }
  /// The rating of (user, item), `row` being user_row(user).
  float rating(const PlantedRow& row, std::int64_t user, std::int32_t item) const;
  /// With --implicit, the event count of (user, item): 1 + a geometric
  /// draw whose mean grows with the planted rating, e^(r - mean - b_i) on
  /// average (the user's bias does not make a user play more of everything).
  float event_count(const PlantedRow& row, std::int64_t user, std::int32_t item) const;
  /// The stored value of (user, item): its rating, or with --implicit its count.
  float value(const PlantedRow& row, std::int64_t user, std::int32_t item) const {
    return options_.implicit ? event_count(row, user, item) : rating(row, user, item);
  }
  bool is_test(std::int64_t user, std::int32_t item) const {
    return to_unit(key_hash(split_seed_, static_cast<std::uint64_t>(user), static_cast<std::uint64_t>(item))) <
           options_.test_fraction;
  }

 private:
  GenerateOptions options_;
  int rank_;
  std::vector<double> item_factors_;  // items x rank, row-major
  std::vector<double> item_bias_;
  std::uint64_t noise_seed_, split_seed_, count_seed_;
};

/// The `degree` distinct items of `user`, sorted ascending. For ratings, the
/// sampler's popularity draw. With --implicit, a user acts on what it likes
/// among what it comes across: the sampler draws min(items, ceil(pool x
/// degree)) candidates by popularity, and the user keeps the `degree` of
/// them with the highest planted rating (noise included; ties to the lower
/// id). So popular items are seen by many, but chosen by those whose factors
/// favour them: the preference is personal, not popularity alone.
void user_items(const GenerateOptions& options, ItemSampler& sampler, const PlantedModel& model, std::int64_t user,
                std::int64_t degree, std::vector<std::int32_t>& out);

}  // namespace dals::gen
