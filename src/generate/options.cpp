// dals-generate's command line: parsing, validation and the summary line.
#include <cmath>
#include <cstdio>
#include <limits>

#include "dals/core/error.hpp"
#include "dals/generate/generate.hpp"

namespace dals {

namespace {

bool finite_in(double x, double lo, double hi) { return std::isfinite(x) && x >= lo && x <= hi; }

}  // namespace

void validate_generate_options(const GenerateOptions& o) {
  constexpr std::int64_t kMaxIds = std::numeric_limits<std::int32_t>::max();
  require(!o.output.empty(), "--output is required");
  require(o.users > 0, "--users must be positive");
  require(o.users <= kMaxIds, "--users must be below 2^31");
  require(o.items > 0, "--items must be positive");
  require(o.items <= kMaxIds, "--items must be below 2^31");
  require(o.blocks > 0, "--blocks must be positive");
  require(o.blocks <= o.users, "--blocks must be at most --users (" + std::to_string(o.users) + ")");
  require(o.blocks <= o.items, "--blocks must be at most --items (" + std::to_string(o.items) + ")");
  require(o.true_rank > 0, "--true-rank must be positive");
  require(o.true_rank <= 4096, "--true-rank must be at most 4096");
  require(finite_in(o.noise, 0, 1e6), "--noise must be a finite number >= 0");
  require(finite_in(o.test_fraction, 0, 1) && o.test_fraction < 1, "--test-fraction must be in [0, 1)");
  require(finite_in(o.mean, -1e6, 1e6), "--mean must be a finite number");
  require(finite_in(o.bias_sd, 0, 1e6), "--bias-sd must be a finite number >= 0");
  require(finite_in(o.user_skew, 0, 4), "--user-skew must be in [0, 4]");
  require(finite_in(o.item_skew, 0, 4), "--item-skew must be in [0, 4]");
  require(o.min_degree >= 0, "--min-degree must be >= 0");
  const std::int64_t cap = o.items / 2;
  require(o.min_degree <= cap, "--min-degree must be at most half of --items (" + std::to_string(cap) + ")");
  require(finite_in(o.implicit_pool, 1, 1e6), "--implicit-pool must be a finite number >= 1");
  require(!(o.implicit && o.round), "--round makes ratings; with --implicit every value is an event count");
  require(o.ratings > 0, "--ratings must be positive");
  // users * cap < 2^62: both factors are below 2^31.
  require(o.ratings <= o.users * cap, "--ratings must be at most --users x --items / 2 (" +
                                          std::to_string(o.users * cap) + "): no user rates more than half the items");
  require(o.ratings >= o.users * o.min_degree,
          "--ratings must be at least --users x --min-degree (" + std::to_string(o.users * o.min_degree) + ")");
}

const OptionTable<GenerateOptions>& generate_options() {
  using O = GenerateOptions;
  static const OptionTable<O> table = [] {
    OptionTable<O> t(
        "Usage: mpirun -n P dals-generate --output DIR [options]\n"
        "Writes a synthetic dataset drawn from a planted model\n"
        "  rating = mean + b_i + c_j + u_i.v_j + noise\n"
        "in the dals dataset layout (with --implicit: events, each user's items chosen by that rating).\n"
        "The result is the same for any P",
        "");
    const std::string g = "Options";
    t.add(g, "output,o", &O::output, "dataset directory to write (required)")
        .add(g, "users", &O::users, "number of users m")
        .add(g, "items", &O::items, "number of items n")
        .add(g, "ratings", &O::ratings, "target number of ratings, train + test (the result is close, not exact)")
        .add(g, "true-rank", &O::true_rank, "rank of the planted factors")
        .add(g, "noise", &O::noise, "standard deviation of the Gaussian noise")
        .add(g, "test-fraction", &O::test_fraction,
             "probability that a rating is held out for testing (0: no test split)")
        .add(g, "blocks", &O::blocks, "blocks per side B (the most ranks training can use)")
        .add(g, "seed", &O::seed, "random seed (>= 0)")
        .add(g, "round", &O::round, "round ratings to integers and clip them to [1, 5]")
        .add(g, "mean", &O::mean, "global mean of the planted model")
        .add(g, "bias-sd", &O::bias_sd, "standard deviation of user and item biases")
        .add(g, "user-skew", &O::user_skew, "tail exponent of user activity in [0, 4] (0: exponential degrees)")
        .add(g, "item-skew", &O::item_skew, "tail exponent of item popularity in [0, 4] (0: exponential weights)")
        .add(g, "min-degree", &O::min_degree, "fewest ratings (train + test) of any user")
        .add(g, "text-output", &O::text_output,
             "also write the ratings as PREFIX-train.csv and PREFIX-test.csv (user,item,rating, with --implicit "
             "user,item,count; raw ids)")
        .add(g, "implicit", &O::implicit,
             "events with counts, not ratings: each user keeps its highest-rated items (by the planted model) among "
             "--implicit-pool times as many drawn by popularity; the manifest says feedback events")
        .add(g, "implicit-pool", &O::implicit_pool,
             "with --implicit: candidates drawn by popularity per item kept, >= 1 (1: popularity alone decides)")
        .add(g, "wide-ids", &O::wide_ids,
             "store the rating blocks' column ids as int64, as a dataset whose other side has 2^31 rows or more "
             "must (for testing readers of such datasets at a small size); the ratings are the same")
        .add(g, "force", &O::force, "replace an existing dataset at --output");
    return t;
  }();
  return table;
}

ParseOutcome parse_generate_options(int argc, const char* const* argv, GenerateOptions& options, std::string& text) {
  return generate_options().parse(argc, argv, options, text);
}

std::string generate_summary(const GenerateResult& result, const std::string& output) {
  const Manifest& m = result.manifest;
  const char* what = m.feedback == Feedback::events ? "events" : "ratings";
  char text[320];
  std::snprintf(text, sizeof text,
                "dals-generate: %lld users, %lld items, %lld train %s, %lld test %s, %d blocks, mean %.4f, %.2f s -> ",
                static_cast<long long>(m.users), static_cast<long long>(m.items),
                static_cast<long long>(m.train.ratings), what, static_cast<long long>(m.has_test ? m.test.ratings : 0),
                what, m.blocks, m.mean, result.seconds);
  return text + output;
}

}  // namespace dals
