// The planted model of dals-generate: user activity, item popularity, the
// sampling of each user's items, and the planted factors behind the ratings.
#include <algorithm>
#include <cmath>

#include "dals/core/error.hpp"
#include "model.hpp"

namespace dals {

std::int64_t generated_raw_id(Side side, std::int64_t dense) {
  return side == Side::users ? 1000 + 7 * dense : 2000 + 3 * dense;
}

PlantedRow planted_row(const GenerateOptions& options, Side side, std::int64_t dense_id) {
  // Entry sd s with s^4 * rank = 0.5, so that u . v has variance 0.5.
  const double sd = std::pow(0.5 / options.true_rank, 0.25);
  KeyedStream stream(gen::purpose_seed(options.seed, gen::kModel), side == Side::users ? 1 : 2,
                     static_cast<std::uint64_t>(dense_id));
  PlantedRow row;
  row.factors.resize(options.true_rank);
  for (auto& f : row.factors) f = sd * stream.normal();
  row.bias = options.bias_sd * stream.normal();
  return row;
}

double planted_expected_rating(const GenerateOptions& options, const PlantedRow& user, const PlantedRow& item) {
  double dot = 0;
  for (std::size_t k = 0; k < user.factors.size(); ++k) dot += user.factors[k] * item.factors[k];
  return options.mean + user.bias + item.bias + dot;
}

namespace gen {

std::vector<std::int32_t> user_degrees(const GenerateOptions& o) {
  const std::int64_t m = o.users;
  const double dmin = static_cast<double>(o.min_degree);
  const double cap = static_cast<double>(o.items / 2);
  const double target = static_cast<double>(o.ratings);
  const std::uint64_t seed = purpose_seed(o.seed, kDegreeDraw);
  // Generalized Pareto weights: x^(-s) - 1 over s, the exponential at s = 0.
  std::vector<double> w(m);
  double total = 0;
  for (std::int64_t i = 0; i < m; ++i) {
    const double x = to_unit(key_hash(seed, static_cast<std::uint64_t>(i)));
    w[i] = o.user_skew > 0 ? (std::pow(x, -o.user_skew) - 1.0) / o.user_skew : -std::log(x);
    total += w[i];
  }
  // Fit scale so that sum_i min(cap, dmin + scale * w_i) = target. The sum
  // is concave and increasing in scale, so Newton's steps from the uncapped
  // solution (which is below the root) climb to it monotonically.
  double scale = total > 0 ? (target - m * dmin) / total : 0.0;
  for (int iter = 0; iter < 100 && scale > 0; ++iter) {
    double sum = 0, slope = 0;
    for (std::int64_t i = 0; i < m; ++i) {
      const double d = dmin + scale * w[i];
      if (d < cap) {
        sum += d;
        slope += w[i];
      } else {
        sum += cap;
      }
    }
    if (std::abs(target - sum) < 0.5 || slope <= 0) break;
    scale += (target - sum) / slope;
  }
  std::vector<std::int32_t> degrees(m);
  for (std::int64_t i = 0; i < m; ++i)
    degrees[i] = static_cast<std::int32_t>(std::min(cap, dmin + std::round(std::max(0.0, scale) * w[i])));
  return degrees;
}

std::vector<double> item_weights(const GenerateOptions& o) {
  const std::uint64_t seed = purpose_seed(o.seed, kPopularity);
  std::vector<double> w(o.items);
  for (std::int64_t j = 0; j < o.items; ++j) {
    const double x = to_unit(key_hash(seed, static_cast<std::uint64_t>(j)));
    w[j] = o.item_skew > 0 ? (std::pow(x, -o.item_skew) - 1.0) / o.item_skew : -std::log(x);
  }
  return w;
}

ItemSampler::ItemSampler(const GenerateOptions& o, const std::vector<double>& weights)
    : draw_seed_(purpose_seed(o.seed, kItemDraw)),
      n_(o.items),
      prob_(n_),
      alias_(n_),
      quantized_(n_),
      tree_(n_ + 1, 0),
      mark_(n_, 0) {
  double total = 0;
  for (double w : weights) total += w;
  // Vose's alias method: deterministic for given weights.
  std::vector<double> scaled(n_);
  std::vector<std::int32_t> small, large;
  for (std::int64_t j = 0; j < n_; ++j) {
    scaled[j] = weights[j] * static_cast<double>(n_) / total;
    (scaled[j] < 1.0 ? small : large).push_back(static_cast<std::int32_t>(j));
  }
  while (!small.empty() && !large.empty()) {
    const std::int32_t s = small.back(), g = large.back();
    small.pop_back();
    large.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = g;
    scaled[g] = (scaled[g] + scaled[s]) - 1.0;
    (scaled[g] < 1.0 ? small : large).push_back(g);
  }
  for (std::int32_t j : large) prob_[j] = 1.0, alias_[j] = j;
  for (std::int32_t j : small) prob_[j] = 1.0, alias_[j] = j;  // rounding leftovers
  // Integer weights summing to about 2^52 (each at least 1, so any item can
  // still be drawn), and their Fenwick tree.
  for (std::int64_t j = 0; j < n_; ++j) {
    quantized_[j] = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(weights[j] / total * 0x1.0p52));
    tree_add(j, quantized_[j]);
    total_ += quantized_[j];
  }
  while (top_bit_ * 2 <= n_) top_bit_ *= 2;
}

void ItemSampler::tree_add(std::int64_t item, std::uint64_t delta) {
  // Unsigned wrap-around makes adding -w (as 2^64 - w) an exact subtraction.
  for (std::int64_t i = item + 1; i <= n_; i += i & -i) tree_[i] += delta;
}

std::int32_t ItemSampler::alias_draw(std::uint64_t h) const {
  // High 32 bits pick the column, low 32 bits toss the alias coin.
  const auto column = static_cast<std::int64_t>(((h >> 32) * static_cast<std::uint64_t>(n_)) >> 32);
  const double coin = static_cast<double>(h & 0xFFFFFFFFULL) * 0x1.0p-32;
  return coin < prob_[column] ? static_cast<std::int32_t>(column) : alias_[column];
}

std::int32_t ItemSampler::tree_draw(std::uint64_t h, std::uint64_t total) const {
  // Descend from the top with a uniform target below the remaining total.
  std::uint64_t target = static_cast<std::uint64_t>((static_cast<unsigned __int128>(h) * total) >> 64);
  std::int64_t pos = 0;
  for (std::int64_t step = top_bit_; step > 0; step >>= 1)
    if (pos + step <= n_ && tree_[pos + step] <= target) {
      pos += step;
      target -= tree_[pos];
    }
  return static_cast<std::int32_t>(pos);  // the item whose slice holds the target
}

void ItemSampler::sample(std::int64_t user, std::int64_t degree, std::vector<std::int32_t>& out) {
  out.clear();
  if (degree <= 0) return;
  if (++stamp_ == 0) {  // wrapped: forget every mark
    std::fill(mark_.begin(), mark_.end(), 0);
    stamp_ = 1;
  }
  KeyedStream stream(draw_seed_, static_cast<std::uint64_t>(user), 0);
  std::int64_t repeats = 0;
  while (static_cast<std::int64_t>(out.size()) < degree && repeats <= 2 * degree + 16) {
    const std::int32_t j = alias_draw(stream.next());
    if (mark_[j] == stamp_) {
      ++repeats;
      continue;
    }
    mark_[j] = stamp_;
    out.push_back(j);
  }
  if (static_cast<std::int64_t>(out.size()) < degree) {
    // Too many repeats: continue, from the same state, without them.
    std::uint64_t remaining = total_;
    for (const std::int32_t j : out) {
      tree_add(j, ~quantized_[j] + 1);
      remaining -= quantized_[j];
    }
    while (static_cast<std::int64_t>(out.size()) < degree) {
      const std::int32_t j = tree_draw(stream.next(), remaining);
      tree_add(j, ~quantized_[j] + 1);
      remaining -= quantized_[j];
      out.push_back(j);
    }
    for (const std::int32_t j : out) tree_add(j, quantized_[j]);
  }
  std::sort(out.begin(), out.end());
}

PlantedModel::PlantedModel(const GenerateOptions& o)
    : options_(o),
      rank_(o.true_rank),
      item_factors_(static_cast<std::size_t>(o.items) * o.true_rank),
      item_bias_(o.items),
      noise_seed_(purpose_seed(o.seed, kNoise)),
      split_seed_(purpose_seed(o.seed, kSplit)),
      count_seed_(purpose_seed(o.seed, kCount)) {
  for (std::int64_t j = 0; j < o.items; ++j) {
    PlantedRow row = planted_row(o, Side::items, j);
    std::copy(row.factors.begin(), row.factors.end(), item_factors_.begin() + j * rank_);
    item_bias_[j] = row.bias;
  }
}

float PlantedModel::rating(const PlantedRow& row, std::int64_t user, std::int32_t item) const {
  const double* v = item_factors_.data() + static_cast<std::int64_t>(item) * rank_;
  double dot = 0;
  for (int k = 0; k < rank_; ++k) dot += row.factors[k] * v[k];
  double x = options_.mean + row.bias + item_bias_[item] + dot;
  if (options_.noise > 0)
    x += options_.noise *
         KeyedStream(noise_seed_, static_cast<std::uint64_t>(user), static_cast<std::uint64_t>(item)).normal();
  if (options_.round) x = std::clamp(std::round(x), 1.0, 5.0);
  return static_cast<float>(x);
}

float PlantedModel::event_count(const PlantedRow& row, std::int64_t user, std::int32_t item) const {
  // Clamped so that a huge --noise cannot overflow: at most ~3000 on average.
  const double score = std::clamp(rating(row, user, item) - options_.mean - row.bias, -30.0, 8.0);
  const double mean_extra = std::exp(score);
  // floor of an exponential of mean m: geometric, mean 1 / (e^(1/m) - 1) ~ m - 1/2.
  const double u =
      KeyedStream(count_seed_, static_cast<std::uint64_t>(user), static_cast<std::uint64_t>(item)).uniform();
  return static_cast<float>(1.0 + std::floor(-mean_extra * std::log(u)));
}

void user_items(const GenerateOptions& o, ItemSampler& sampler, const PlantedModel& model, std::int64_t user,
                std::int64_t degree, std::vector<std::int32_t>& out) {
  if (!o.implicit) return sampler.sample(user, degree, out);
  // In double first: implicit_pool x degree may exceed any integer type.
  const auto pool = static_cast<std::int64_t>(
      std::min(static_cast<double>(o.items), std::ceil(o.implicit_pool * static_cast<double>(degree))));
  sampler.sample(user, pool, out);
  if (pool <= degree) return;
  const PlantedRow row = model.user_row(user);
  std::vector<std::pair<float, std::int32_t>> scored;
  scored.reserve(out.size());
  for (const std::int32_t j : out) scored.emplace_back(model.rating(row, user, j), j);
  const auto better = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  std::nth_element(scored.begin(), scored.begin() + degree, scored.end(), better);
  out.clear();
  for (std::int64_t k = 0; k < degree; ++k) out.push_back(scored[k].second);
  std::sort(out.begin(), out.end());
}

}  // namespace gen
}  // namespace dals
