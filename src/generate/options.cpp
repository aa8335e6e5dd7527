// dals-generate's command line: parsing, validation and the summary line.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "dals/core/error.hpp"
#include "dals/generate/generate.hpp"

namespace dals {
namespace po = boost::program_options;

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw Error(message);
}

// "0.1", not boost's "0.10000000000000001".
std::string shortest(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

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
  require(o.ratings > 0, "--ratings must be positive");
  // users * cap < 2^62: both factors are below 2^31.
  require(o.ratings <= o.users * cap, "--ratings must be at most --users x --items / 2 (" +
                                          std::to_string(o.users * cap) + "): no user rates more than half the items");
  require(o.ratings >= o.users * o.min_degree,
          "--ratings must be at least --users x --min-degree (" + std::to_string(o.users * o.min_degree) + ")");
}

GenerateCommandLine parse_generate_command_line(int argc, const char* const* argv) {
  GenerateCommandLine cl;
  GenerateOptions& o = cl.options;
  std::int64_t seed = static_cast<std::int64_t>(o.seed);
  po::options_description desc(
      "Usage: mpirun -n P dals-generate --output DIR [options]\n"
      "Writes a synthetic dataset drawn from a planted model\n"
      "  rating = mean + b_i + c_j + u_i.v_j + noise\n"
      "in the dals dataset layout. The result is the same for any P.\n\nOptions");
  // clang-format off
  desc.add_options()
    ("help,h", "print this help and exit")
    ("output,o", po::value<std::string>(&o.output), "dataset directory to write (required)")
    ("users", po::value<std::int64_t>(&o.users)->default_value(o.users), "number of users m")
    ("items", po::value<std::int64_t>(&o.items)->default_value(o.items), "number of items n")
    ("ratings", po::value<std::int64_t>(&o.ratings)->default_value(o.ratings),
     "target number of ratings, train + test (the result is close, not exact)")
    ("true-rank", po::value<int>(&o.true_rank)->default_value(o.true_rank), "rank of the planted factors")
    ("noise", po::value<double>(&o.noise)->default_value(o.noise, shortest(o.noise)), "standard deviation of the Gaussian noise")
    ("test-fraction", po::value<double>(&o.test_fraction)->default_value(o.test_fraction, shortest(o.test_fraction)),
     "probability that a rating is held out for testing (0: no test split)")
    ("blocks", po::value<int>(&o.blocks)->default_value(o.blocks), "blocks per side B (the most ranks training can use)")
    ("seed", po::value<std::int64_t>(&seed)->default_value(seed), "random seed (>= 0)")
    ("round", po::bool_switch(&o.round), "round ratings to integers and clip them to [1, 5]")
    ("mean", po::value<double>(&o.mean)->default_value(o.mean, shortest(o.mean)), "global mean of the planted model")
    ("bias-sd", po::value<double>(&o.bias_sd)->default_value(o.bias_sd, shortest(o.bias_sd)), "standard deviation of user and item biases")
    ("user-skew", po::value<double>(&o.user_skew)->default_value(o.user_skew, shortest(o.user_skew)),
     "tail exponent of user activity in [0, 4] (0: exponential degrees)")
    ("item-skew", po::value<double>(&o.item_skew)->default_value(o.item_skew, shortest(o.item_skew)),
     "tail exponent of item popularity in [0, 4] (0: exponential weights)")
    ("min-degree", po::value<std::int64_t>(&o.min_degree)->default_value(o.min_degree),
     "fewest ratings (train + test) of any user")
    ("text-output", po::value<std::string>(&o.text_output),
     "also write the ratings as PREFIX-train.csv and PREFIX-test.csv (user,item,rating; raw ids)")
    ("force", po::bool_switch(&o.force), "replace an existing dataset at --output");
  // clang-format on
  std::ostringstream usage;
  usage << desc;
  cl.usage = usage.str();
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see --help)");
  }
  cl.help = vm.count("help") > 0;
  if (seed < 0) throw Error("--seed must be >= 0");
  o.seed = static_cast<std::uint64_t>(seed);
  return cl;
}

std::string generate_summary(const GenerateResult& result, const std::string& output) {
  const Manifest& m = result.manifest;
  char text[320];
  std::snprintf(text, sizeof text,
                "dals-generate: %lld users, %lld items, %lld train ratings, %lld test ratings, %d blocks, "
                "mean %.4f, %.2f s -> ",
                static_cast<long long>(m.users), static_cast<long long>(m.items),
                static_cast<long long>(m.train.ratings), static_cast<long long>(m.has_test ? m.test.ratings : 0),
                m.blocks, m.mean, result.seconds);
  return text + output;
}

}  // namespace dals
