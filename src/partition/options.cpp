// dals-partition's command line: the option table, parsing and validation.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "dals/core/byte_size.hpp"
#include "dals/core/error.hpp"
#include "dals/partition/partition.hpp"

namespace dals {

void validate_partition_options(const PartitionOptions& o) {
  require(!o.inputs.empty(), "--input is required (a file or glob of ratings)");
  require(!o.output.empty(), "--output is required");
  require(o.test_fraction >= 0 && o.test_fraction < 1, "--test-fraction must be in [0, 1)");
  require(o.test_per_user >= 0, "--test-per-user must be >= 0");
  const int splits = (o.test_fraction > 0) + (o.test_per_user > 0) + !o.test_inputs.empty();
  require(splits <= 1, "choose one of --test-fraction, --test-per-user and --test-input");
  require(!std::isnan(o.min_rating) && !std::isnan(o.max_rating), "--min-rating and --max-rating must be numbers");
  require(o.min_rating <= o.max_rating, "--min-rating must not exceed --max-rating");
  require(o.min_user_ratings >= 0, "--min-user-ratings must be >= 0");
  require(o.min_item_ratings >= 0, "--min-item-ratings must be >= 0");
  require(!o.k_core || o.min_user_ratings > 0 || o.min_item_ratings > 0,
          "--k-core needs --min-user-ratings or --min-item-ratings");
  require(o.blocks >= 0 && o.blocks <= (1 << 20), "--blocks must be in [1, 1048576] (or 0 to choose from the data)");
  require(o.memory_limit == 0 || o.memory_limit >= (16u << 20), "--memory-limit must be at least 16M");
  require(o.max_bad_lines >= -1, "--max-bad-lines must be >= 0");
  require(o.buckets_per_rank >= 0 && o.buckets_per_rank <= 65536, "--buckets-per-rank must be in [0, 65536]");
}

const OptionTable<PartitionOptions>& partition_options() {
  using O = PartitionOptions;
  using J = nlohmann::json;
  static const OptionTable<O> table = [] {
    OptionTable<O> t(
        "Usage: mpirun -n P dals-partition --input FILE... --output DIR [options]\n"
        "Turns rating dumps (text or gzip, any size) into a dals dataset: dense ids balanced by work,\n"
        "blocks by user (CSR) and by item (CSC), id maps, manifest. The result is the same for any P\n"
        "and any --memory-limit",
        "");
    t.add("Input", "input,i", &O::inputs, "rating file or glob, plain or gzip (by content); repeatable")
        .add("Input", "test-input", &O::test_inputs,
             "held-out ratings (file or glob, repeatable), mapped with the training ids")
        .add("Input", "separator", &O::separator,
             "field separator: ',' '\\t' (or tab) '::' whitespace, or any string; auto: the first of :: tab , ; | "
             "found in the first data line, else whitespace")
        .add("Input", "header", &O::header, "the first line of every file is a header: skipped, and names the columns")
        .add("Input", "columns", &O::columns,
             "what each field is, in order: user,item,rating,timestamp ('-' skips a field), e.g. -,user,item,rating")
        .add("Input", "user-column", &O::user_column, "user id field: header name or 1-based index (default 1)")
        .add("Input", "item-column", &O::item_column, "item id field: header name or 1-based index (default 2)")
        .add("Input", "rating-column", &O::rating_column,
             "rating field: header name or 1-based index (default 3; none with --implicit)")
        .add("Input", "time-column", &O::time_column,
             "timestamp field (integer, decimal or ISO date): header name or 1-based index (default: none)")
        .add("Input", "implicit", &O::implicit,
             "implicit feedback: each line is one event of value 1 (or give a count column as --rating-column); "
             "duplicates are summed")
        .add("Input", "id-type", &O::id_type,
             "auto: canonical integer ids stored as int64, other ids as strings (per side); int64: a non-integer "
             "id is a bad line; string: store every id as a string");
    t.add_custom(
         "Cleaning", "dedup",
         "a repeated (user, item) pair keeps: last (by timestamp, then input order), mean, max, sum; or error "
         "(default sum with --implicit)",
         [](O& o, const std::string& v) {
           o.dedup = OptionTable<O>::parse_as<Dedup>("--dedup", {v});
           o.dedup_given = true;
         },
         [](const O& o) { return J(enum_name(o.dedup)); })
        .add("Cleaning", "min-rating", &O::min_rating, "drop ratings below this value")
        .add("Cleaning", "max-rating", &O::max_rating, "drop ratings above this value")
        .add("Cleaning", "min-user-ratings", &O::min_user_ratings, "drop users with fewer training ratings")
        .add("Cleaning", "min-item-ratings", &O::min_item_ratings, "drop items with fewer training ratings")
        .add("Cleaning", "k-core", &O::k_core, "repeat the two count filters until every user and item passes them");
    t.add("Split", "test-fraction", &O::test_fraction,
          "hold out each rating with this probability (a seeded hash of user and item)")
        .add("Split", "test-per-user", &O::test_per_user,
             "hold out N ratings of every user (never all of a user's ratings)")
        .add("Split", "test-pick", &O::test_pick,
             "which ones with --test-per-user: last (by timestamp, then input order) or random")
        .add_custom(
            "Split", "cold-start",
            "test ratings (of --test-input, or held out by --test-fraction or --test-per-user) whose user or item "
            "has no training rating: drop, or keep (those ids get no training ratings; dals-train predicts them "
            "from the biases)",
            [](O& o, const std::string& v) {
              if (v != "drop" && v != "keep") detail::bad_choice("--cold-start", v, "drop, keep");
              o.keep_cold_start = v == "keep";
            },
            [](const O& o) { return J(o.keep_cold_start ? "keep" : "drop"); });
    t.add("Output", "output,o", &O::output, "dataset directory to write (under OUTPUT.tmp, renamed at the end)")
        .add("Output", "blocks", &O::blocks,
             "blocks per side, the most ranks dals-train can use (0: max(64, ratings / 8M), at most the users and "
             "items)")
        .add("Output", "seed", &O::seed, "seed of the id order and of random splits (>= 0)")
        .add("Output", "force", &O::force, "replace an existing dataset at --output");
    t.add_custom(
         "Resources", "memory-limit",
         "memory per rank, e.g. 512M or 4G (default: half the node's memory, or of its cgroup limit, divided by "
         "its ranks); larger inputs are spilled to --tmp-dir",
         [](O& o, const std::string& v) { o.memory_limit = parse_byte_size(v, "--memory-limit"); },
         [](const O& o) { return o.memory_limit ? J(o.memory_limit) : J(nullptr); })
        .add("Resources", "tmp-dir", &O::tmp_dir,
             "directory for temporary files (default: OUTPUT.tmp); removed at the end")
        .add("Resources", "buckets-per-rank", &O::buckets_per_rank,
             "hash buckets the ratings are sorted in, per rank (0: from the input size, ~1 MB each; a bucket "
             "larger than an eighth of --memory-limit is split further)")
        .add("Resources", "skip-bad-lines", &O::skip_bad_lines,
             "skip malformed lines, count them, report the first few")
        .add_custom(
            "Resources", "max-bad-lines", "fail if more lines than this are bad (implies --skip-bad-lines)",
            [](O& o, const std::string& v) {
              o.max_bad_lines = static_cast<std::int64_t>(detail::parse_unsigned("--max-bad-lines", v));
              o.skip_bad_lines = true;
            },
            [](const O& o) { return o.max_bad_lines >= 0 ? J(o.max_bad_lines) : J(nullptr); })
        .add("Resources", "quiet", &O::quiet, "no progress line on stderr", OptionUse::local)
        .positional("input");
    return t;
  }();
  return table;
}

ParseOutcome parse_partition_options(int argc, const char* const* argv, PartitionOptions& o, std::string& text) {
  if (partition_options().parse(argc, argv, o, text) == ParseOutcome::help_shown) return ParseOutcome::help_shown;
  if (o.implicit && !o.dedup_given) o.dedup = Dedup::sum;
  for (int a = 0; a < argc; ++a) {
    if (a > 0) o.command_line.push_back(' ');
    o.command_line.append(argv[a]);
  }
  return ParseOutcome::run;
}

}  // namespace dals
