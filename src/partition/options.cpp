// dals-partition's command line: the option table, parsing and validation.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "dals/core/error.hpp"
#include "dals/partition/partition.hpp"

namespace dals {
namespace po = boost::program_options;

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw Error(message);
}

template <class E>
E parse_choice(const std::string& option, const std::string& value,
               const std::vector<std::pair<const char*, E>>& choices) {
  std::string names;
  for (const auto& [name, e] : choices) {
    if (value == name) return e;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  throw Error(option + " must be one of " + names + ", got '" + value + "' (see --help)");
}

}  // namespace

std::uint64_t parse_byte_size(const std::string& text, const std::string& option) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw Error(option + " must be a size like 512M or 4G, got '" + text + "'");
  }
  std::string unit = text.substr(used);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();  // "MB", "GiB"
  if (unit.size() > 1 && unit.back() == 'I') unit.pop_back();
  double scale = 1;
  if (unit == "K") scale = 1024.0;
  else if (unit == "M") scale = 1024.0 * 1024;
  else if (unit == "G") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty() && unit != "B") throw Error(option + " must be a size like 512M or 4G, got '" + text + "'");
  if (!std::isfinite(value) || value <= 0 || value * scale > 1e18)
    throw Error(option + " must be a positive size like 512M or 4G, got '" + text + "'");
  return static_cast<std::uint64_t>(value * scale);
}

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

PartitionCommandLine parse_partition_command_line(int argc, const char* const* argv) {
  PartitionCommandLine cl;
  PartitionOptions& o = cl.options;
  std::string id_type = "auto", dedup = "last", test_pick = "last", cold_start = "drop", memory_limit;
  std::int64_t seed = 1, max_bad_lines = -1;
  double min_rating = o.min_rating, max_rating = o.max_rating;
  po::options_description input("Input"), cleaning("Cleaning"), split("Split"), output("Output"),
      resources("Resources");
  // clang-format off
  input.add_options()
    ("input,i", po::value(&o.inputs)->composing(), "rating file or glob, plain or gzip (by content); repeatable")
    ("test-input", po::value(&o.test_inputs)->composing(),
     "held-out ratings (file or glob, repeatable), mapped with the training ids")
    ("separator", po::value(&o.separator)->default_value(o.separator),
     "field separator: ',' '\\t' (or tab) '::' whitespace, or any string; auto: the first of :: tab , ; | "
     "found in the first data line, else whitespace")
    ("header", po::bool_switch(&o.header), "the first line of every file is a header: skipped, and names the columns")
    ("columns", po::value(&o.columns),
     "what each field is, in order: user,item,rating,timestamp ('-' skips a field), e.g. -,user,item,rating")
    ("user-column", po::value(&o.user_column), "user id field: header name or 1-based index (default 1)")
    ("item-column", po::value(&o.item_column), "item id field: header name or 1-based index (default 2)")
    ("rating-column", po::value(&o.rating_column),
     "rating field: header name or 1-based index (default 3; none with --implicit)")
    ("time-column", po::value(&o.time_column),
     "timestamp field (integer, decimal or ISO date): header name or 1-based index (default: none)")
    ("implicit", po::bool_switch(&o.implicit),
     "implicit feedback: each line is one event of value 1 (or give a count column as --rating-column); "
     "duplicates are summed")
    ("id-type", po::value(&id_type)->default_value(id_type),
     "auto: canonical integer ids stored as int64, other ids as strings (per side); int64: a non-integer id "
     "is a bad line; string: store every id as a string");
  cleaning.add_options()
    ("dedup", po::value(&dedup)->default_value(dedup),
     "a repeated (user, item) pair keeps: last (by timestamp, then input order), mean, max, sum; or error "
     "(default sum with --implicit)")
    ("min-rating", po::value(&min_rating), "drop ratings below this value")
    ("max-rating", po::value(&max_rating), "drop ratings above this value")
    ("min-user-ratings", po::value(&o.min_user_ratings)->default_value(0),
     "drop users with fewer training ratings")
    ("min-item-ratings", po::value(&o.min_item_ratings)->default_value(0),
     "drop items with fewer training ratings")
    ("k-core", po::bool_switch(&o.k_core), "repeat the two count filters until every user and item passes them");
  split.add_options()
    ("test-fraction", po::value(&o.test_fraction)->default_value(0, "0"),
     "hold out each rating with this probability (a seeded hash of user and item)")
    ("test-per-user", po::value(&o.test_per_user)->default_value(0),
     "hold out N ratings of every user (never all of a user's ratings)")
    ("test-pick", po::value(&test_pick)->default_value(test_pick),
     "which ones with --test-per-user: last (by timestamp, then input order) or random")
    ("cold-start", po::value(&cold_start)->default_value(cold_start),
     "test ratings whose user or item has no training rating: drop, or keep (those ids get no training "
     "ratings; dals-train predicts them from the biases)");
  output.add_options()
    ("output,o", po::value(&o.output), "dataset directory to write (under OUTPUT.tmp, renamed at the end)")
    ("blocks", po::value(&o.blocks)->default_value(0),
     "blocks per side, the most ranks dals-train can use (0: max(64, ratings / 8M), at most the users and items)")
    ("seed", po::value(&seed)->default_value(seed), "seed of the id order and of random splits (>= 0)")
    ("force", po::bool_switch(&o.force), "replace an existing dataset at --output");
  resources.add_options()
    ("memory-limit", po::value(&memory_limit),
     "memory per rank, e.g. 512M or 4G (default: half the node's memory, or of its cgroup limit, divided by "
     "its ranks); larger inputs are spilled to --tmp-dir")
    ("tmp-dir", po::value(&o.tmp_dir), "directory for temporary files (default: OUTPUT.tmp); removed at the end")
    ("buckets-per-rank", po::value(&o.buckets_per_rank)->default_value(0),
     "hash buckets the ratings are sorted in, per rank (0: from the input size, ~1 MB each; a bucket larger "
     "than an eighth of --memory-limit is split further)")
    ("skip-bad-lines", po::bool_switch(&o.skip_bad_lines), "skip malformed lines, count them, report the first few")
    ("max-bad-lines", po::value(&max_bad_lines), "fail if more lines than this are bad (implies --skip-bad-lines)")
    ("quiet", po::bool_switch(&o.quiet), "no progress line on stderr")
    ("help,h", "print this help and exit");
  // clang-format on
  po::options_description desc(
      "Usage: mpirun -n P dals-partition --input FILE... --output DIR [options]\n"
      "Turns rating dumps (text or gzip, any size) into a dals dataset: dense ids balanced by work,\n"
      "blocks by user (CSR) and by item (CSC), id maps, manifest. The result is the same for any P\n"
      "and any --memory-limit");
  desc.add(input).add(cleaning).add(split).add(output).add(resources);
  po::positional_options_description positional;
  positional.add("input", -1);
  std::ostringstream usage;
  usage << desc;
  cl.usage = usage.str();
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see --help)");
  }
  cl.help = vm.count("help") > 0;
  if (cl.help) return cl;
  if (seed < 0) throw Error("--seed must be >= 0");
  o.seed = static_cast<std::uint64_t>(seed);
  o.id_type = parse_choice<IdType>("--id-type", id_type,
                                   {{"auto", IdType::automatic}, {"int64", IdType::int64}, {"string", IdType::string}});
  o.dedup_given = !vm["dedup"].defaulted();
  o.dedup = parse_choice<Dedup>("--dedup", dedup,
                                {{"last", Dedup::last}, {"mean", Dedup::mean}, {"max", Dedup::max},
                                 {"sum", Dedup::sum}, {"error", Dedup::error}});
  if (o.implicit && !o.dedup_given) o.dedup = Dedup::sum;
  o.test_pick = parse_choice<TestPick>("--test-pick", test_pick, {{"last", TestPick::last}, {"random", TestPick::random}});
  o.keep_cold_start = parse_choice<bool>("--cold-start", cold_start, {{"drop", false}, {"keep", true}});
  o.min_rating = min_rating;
  o.max_rating = max_rating;
  if (vm.count("max-bad-lines")) {
    if (max_bad_lines < 0) throw Error("--max-bad-lines must be >= 0");
    o.max_bad_lines = max_bad_lines;
    o.skip_bad_lines = true;
  }
  if (vm.count("memory-limit")) o.memory_limit = parse_byte_size(memory_limit, "--memory-limit");
  for (int a = 0; a < argc; ++a) {
    if (a > 0) o.command_line.push_back(' ');
    o.command_line.append(argv[a]);
  }
  return cl;
}

}  // namespace dals
