#pragma once
/// @file generate.hpp
/// @brief dals-generate: a synthetic dataset drawn from a planted model.
///
/// The generator writes a dataset directory in exactly the layout of
/// dataset.hpp (train and test, both orientations, id maps, manifest), from
///
///     rating(i, j) = mean + b_i + c_j + u_i . v_j + noise,
///
/// u_i, v_j in R^true_rank with N(0, s^2) entries, s = (0.5 / true_rank)^(1/4)
/// (so u . v has variance 0.5), biases N(0, bias_sd^2), noise N(0, noise^2);
/// with `round`, each rating is rounded to the nearest integer and clipped
/// to [1, 5].
///
/// Who rates what (x is a uniform draw per id, g_s(x) = (x^(-s) - 1) / s
/// the generalized Pareto quantile, g_0(x) = -ln x the exponential one):
///  - user i's degree (train + test) is min_degree + scale * g_{user_skew}(x_i),
///    rounded and capped at items / 2, `scale` fitted so that the degrees
///    sum to about `ratings`;
///  - each user samples its items without replacement, proportionally to
///    the item popularity weights g_{item_skew}(x_j) (so a few items are
///    very popular, and a long tail of items has few or no ratings);
///  - each rating goes to the test split with probability test_fraction.
/// In both skews the r-th largest weight falls off like r^(-skew): 0 is
/// light-tailed, larger is a heavier head, >= 1 an infinite-mean power law.
/// The defaults (user 0.5, item 1.2) give MovieLens-like shapes: at 138k
/// users, 27k items, 20M ratings, user degrees have median ~63 and mean
/// ~145; item degrees median ~110, mean ~740, the most popular items rated
/// by nearly every user, and ~1% of items unrated.
///
/// Every random quantity is a pure function of the seed and the ids it
/// concerns (rng.hpp's key_hash), never of the rank, so the dataset (every
/// array, the manifest, the fingerprint) is the same for any rank count.
///
/// With `implicit` (events: plays, clicks), who acts on what follows the
/// planted model too: each user draws pool x degree candidates as above
/// and keeps the `degree` of them with the highest planted rating (noise
/// included), each with a count 1 + Geometric of mean about
/// e^(rating - mean - b_i) (larger for higher ratings; 4.4 on average
/// with the defaults). The manifest says "feedback": "events". With the
/// defaults an implicit ALS ranks held-out events about twice as well as
/// popularity (precision@10; tests/unit/generate/test_implicit_planted.cpp);
/// with implicit_pool 1 popularity alone decides and wins.
///
/// Ids: dense ids are 0..users-1 and 0..items-1 in the planted model's own
/// order (the popularity weights are i.i.d. per id, so popular rows are
/// already spread over the blocks). Raw ids in ids/ and in the text dumps are
///     raw user id = 1000 + 7 * dense,   raw item id = 2000 + 3 * dense
/// (see generated_raw_id), a fixed bijection that keeps raw and dense ids
/// visibly different.

#include <cstdint>
#include <string>
#include <vector>

#include "dals/core/option_table.hpp"
#include "dals/data/manifest.hpp"
#include "dals/mpi/comm.hpp"

namespace dals {

struct GenerateOptions {
  std::int64_t users = 2000;
  std::int64_t items = 1000;
  std::int64_t ratings = 100000;  ///< target count, train + test; the result is close, not exact
  int true_rank = 8;
  double noise = 0.5;          ///< standard deviation of the Gaussian noise
  double test_fraction = 0.1;  ///< 0 writes no test split
  int blocks = 4;              ///< B, per side
  std::uint64_t seed = 1;
  std::string output;  ///< dataset directory to write
  bool round = false;  ///< round to integers and clip to [1, 5]
  double mean = 3.5;
  double bias_sd = 0.3;
  double user_skew = 0.5;       ///< tail exponent of user activity
  double item_skew = 1.2;       ///< tail exponent of item popularity
  std::int64_t min_degree = 5;  ///< fewest ratings (train + test) of any user
  std::string text_output;      ///< if set, also write PREFIX-train.csv and PREFIX-test.csv
  bool implicit = false;        ///< events with counts, chosen by the planted model (see above)
  double implicit_pool = 5.0;   ///< with implicit: candidates per chosen item, >= 1 (1: popularity only)
  bool force = false;           ///< replace an existing dataset at `output`
  bool wide_ids = false;        ///< store column ids as int64, as a side of 2^31 rows or more needs
};

/// Throws Error with a one-line message naming the first invalid option
/// ("--users must be positive").
void validate_generate_options(const GenerateOptions& options);

/// dals-generate's one option table (core/option_table.hpp).
const OptionTable<GenerateOptions>& generate_options();

/// Parses dals-generate's arguments (argv[0] is the program name) into
/// `options`; --help gives help_shown with the help in `text`. Throws
/// UsageError for an unknown option or a malformed value; does not validate
/// ranges (validate_generate_options does, and generate_dataset calls it).
ParseOutcome parse_generate_options(int argc, const char* const* argv, GenerateOptions& options, std::string& text);

struct GenerateResult {
  Manifest manifest;     ///< as written to OUTPUT/manifest.json (on every rank)
  double seconds = 0.0;  ///< wall time of the whole generation
};

/// Writes the dataset to options.output. A collective over `comm`: rank r
/// generates a contiguous run of the user blocks, then of the item blocks.
/// Everything is written to OUTPUT.tmp (a stale one is removed) and renamed
/// into place at the end; an existing OUTPUT is replaced only with
/// options.force, and only if it is a dataset directory (or empty).
///
/// Every failure is agreed on by all ranks: the lowest failing rank prints
/// "dals-generate: error: <message>" to stderr and every rank throws
/// AgreedFailure, with exit code 2 for invalid options and 1 otherwise.
GenerateResult generate_dataset(const Comm& comm, const GenerateOptions& options);

/// The one-line summary dals-generate prints (users, items, ratings, blocks,
/// mean, seconds, output).
std::string generate_summary(const GenerateResult& result, const std::string& output);

/// Raw id of a dense id: 1000 + 7 * dense for users, 2000 + 3 * dense for items.
std::int64_t generated_raw_id(Side side, std::int64_t dense);

/// The planted parameters of one user or item.
struct PlantedRow {
  std::vector<double> factors;  ///< true_rank entries
  double bias = 0.0;
};

/// The planted factors and bias of a row: a pure function of (seed, side, id).
PlantedRow planted_row(const GenerateOptions& options, Side side, std::int64_t dense_id);

/// mean + b_i + c_j + u_i . v_j: the noise-free rating before rounding.
double planted_expected_rating(const GenerateOptions& options, const PlantedRow& user, const PlantedRow& item);

}  // namespace dals
