#pragma once
/// @file partition.hpp
/// @brief dals-partition: raw rating dumps (text, gzip) to a dataset directory.
///
/// The pipeline, each phase a collective over the ranks:
///  1. plan: rank 0 expands the inputs, reads the header, picks the
///     separator and cuts the bytes into P shares on line boundaries;
///  2. parse: every rank reads its share and streams each rating to the
///     rank owning its user's order-hash range (exchange.hpp); the owner
///     spills them into hash buckets in --tmp-dir;
///  3. sort: each bucket is sorted (split further if it does not fit in
///     --memory-limit) and duplicates are resolved;
///  4. filter: the item table (every item's order hash, replicated) is
///     built; degree passes over the sorted buckets apply the rating count
///     filters (repeated for --k-core) and the split, and count what each
///     user and item keeps;
///  5. write: dense ids follow the order hash (id_keys.hpp); blocks are cut
///     by work (ratings + rows); a last pass streams every rating to the
///     writers of its user block and item block, which build and write them.
/// The result depends only on the input, the options and the seed: not on
/// the number of ranks or on --memory-limit.

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "dals/core/byte_size.hpp"
#include "dals/core/option_table.hpp"
#include "dals/data/manifest.hpp"
#include "dals/mpi/comm.hpp"

namespace dals {

enum class Dedup { last, mean, max, sum, error };
enum class IdType { automatic, int64, string };
enum class TestPick { last, random };
template <>
struct EnumNames<Dedup> {
  static constexpr std::pair<const char*, Dedup> table[] = {
      {"last", Dedup::last}, {"mean", Dedup::mean}, {"max", Dedup::max}, {"sum", Dedup::sum}, {"error", Dedup::error}};
};
template <>
struct EnumNames<IdType> {
  static constexpr std::pair<const char*, IdType> table[] = {
      {"auto", IdType::automatic}, {"int64", IdType::int64}, {"string", IdType::string}};
};
template <>
struct EnumNames<TestPick> {
  static constexpr std::pair<const char*, TestPick> table[] = {{"last", TestPick::last}, {"random", TestPick::random}};
};

/// @brief Every option of dals-partition, with its default.
struct PartitionOptions {
  // Input
  std::vector<std::string> inputs;       ///< files or glob patterns (training ratings)
  std::vector<std::string> test_inputs;  ///< files or globs of held-out ratings, mapped with the training ids
  std::string separator = "auto";        ///< ",", "\\t", "::", "whitespace", any string, or auto
  bool header = false;                   ///< the first line of every file is a header
  std::string columns;                   ///< "user,item,rating,timestamp" naming each field, "-" to skip one
  std::string user_column, item_column, rating_column, time_column;  ///< header name or 1-based index
  bool implicit = false;  ///< no rating column: every line is one event of value 1
  IdType id_type = IdType::automatic;
  // Cleaning
  Dedup dedup = Dedup::last;  ///< default: last, or sum with --implicit
  bool dedup_given = false;
  double min_rating = -std::numeric_limits<double>::infinity();
  double max_rating = std::numeric_limits<double>::infinity();
  std::int64_t min_user_ratings = 0;
  std::int64_t min_item_ratings = 0;
  bool k_core = false;  ///< repeat the count filters until every user and item passes them
  // Split
  double test_fraction = 0.0;
  std::int64_t test_per_user = 0;
  TestPick test_pick = TestPick::last;
  bool keep_cold_start = false;  ///< keep test ratings of users/items with no training rating (after any split)
  // Output
  std::string output;
  int blocks = 0;  ///< 0: chosen from the data size
  std::uint64_t seed = 1;
  bool force = false;
  // Resources and behaviour
  std::uint64_t memory_limit = 0;  ///< bytes per rank; 0: half the node's memory over its ranks
  std::string tmp_dir;             ///< default: next to the output
  int buckets_per_rank = 0;        ///< 0: from the input size and the memory limit
  bool skip_bad_lines = false;
  std::int64_t max_bad_lines = -1;  ///< -1: no limit
  bool quiet = false;               ///< no progress lines
  std::string command_line;         ///< for the manifest's provenance
};

/// Throws Error naming the first invalid option or combination.
void validate_partition_options(const PartitionOptions& options);

/// dals-partition's one option table (core/option_table.hpp).
const OptionTable<PartitionOptions>& partition_options();

/// Parses dals-partition's arguments into `options` (and the command line
/// itself, for the manifest's provenance); --help gives help_shown with the
/// help in `text`. UsageError for an unknown option or a bad value.
ParseOutcome parse_partition_options(int argc, const char* const* argv, PartitionOptions& options, std::string& text);

/// @brief What happened to the input, for the summary (the same on every rank).
struct PartitionStats {
  std::int64_t files = 0, input_bytes = 0;
  std::int64_t lines = 0, blank_lines = 0, header_lines = 0, bad_lines = 0;
  std::int64_t train_lines = 0, test_lines = 0;  ///< ratings parsed from --input / --test-input
  std::int64_t out_of_range = 0;                 ///< dropped by --min-rating / --max-rating
  std::int64_t duplicates = 0;                   ///< ratings merged into another by --dedup
  std::int64_t dropped_by_user_count = 0, dropped_by_item_count = 0;
  std::int64_t k_core_rounds = 0;
  std::int64_t cold_start = 0, cold_start_kept = 0;  ///< test ratings of a user or item absent from training
  std::int64_t test_dropped_filtered = 0;            ///< test ratings of a user or item removed by a filter
  std::int64_t test_in_train = 0;                    ///< test ratings of a pair also in the training input
  std::int64_t train_ratings = 0, test_ratings = 0, users = 0, items = 0;
  std::int64_t bad_line_samples_shown = 0;
  std::vector<std::string> bad_line_samples;                    ///< the first few skipped lines, file:line: what: text
  std::vector<std::pair<std::string, std::int64_t>> histogram;  ///< training ratings: label, count
  std::vector<std::pair<std::string, double>> phase_seconds;
  double seconds = 0.0;
  double peak_rss_mib = 0.0;                  ///< largest over the ranks
  std::int64_t spilled_bytes = 0;             ///< written to temporary files, all ranks
  std::string separator, user_ids, item_ids;  ///< as resolved
  std::uint64_t memory_limit = 0;
  int ranks = 1;
};

struct PartitionResult {
  Manifest manifest;
  PartitionStats stats;
};

/// Writes the dataset. A collective; every failure is agreed on: the lowest
/// failing rank prints "dals-partition: error: ..." and every rank throws
/// AgreedFailure (exit code 2 for bad options, 1 otherwise).
PartitionResult partition_dataset(const Comm& comm, const PartitionOptions& options);

/// The summary printed at the end (several lines).
std::string partition_summary(const PartitionResult& result, const std::string& output);

}  // namespace dals
