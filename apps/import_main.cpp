// dals-import: a small rating file (CSV or TSV: user,item,rating[,...], 64-bit
// integer ids, optional header) held in memory and written as a dataset.
// For files that fit in memory; dals-partition is the tool for large dumps.
#include <charconv>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/option_table.hpp"
#include "dals/core/staged_dir.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/dataset_builder.hpp"
#include "dals/mpi/tool_main.hpp"
#include "dals/partition/text_format.hpp"

namespace {

// 64-bit integer id: the whole field, or nullopt.
std::optional<std::int64_t> integer_id(std::string_view field) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size() || field.empty()) return std::nullopt;
  return value;
}

// The file's lines through the partitioner's splitter (quoting, CRLF,
// trimming): ',' or, if the first line has a tab, tab-separated.
std::vector<dals::RawRating> read_ratings(const std::string& path) {
  dals::require_regular_file(path);
  std::ifstream in(path);
  if (!in) throw dals::Error(path + ": cannot open");
  std::vector<dals::RawRating> out;
  dals::TextFormat format;
  dals::FieldSplitter splitter(format);
  std::string line;
  long long number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.find('\t') != std::string::npos) dals::set_separator(format, "tab");
    if (line.empty() || line == "\r") continue;
    const auto bad = [&](const std::string& what) {
      return dals::Error(path + ":" + std::to_string(number) + ": " + what + ": " + line.substr(0, 80));
    };
    if (const char* problem = splitter.split(line, format.fields_needed())) throw bad(problem);
    const auto& f = splitter.fields();
    if (f.size() < 3) throw bad("expected user,item,rating");
    const auto user = integer_id(f[0]), item = integer_id(f[1]);
    float rating = 0;
    const char* rating_problem = dals::parse_rating(f[2], rating);
    if (!user || !item || rating_problem) {
      if (number == 1 && out.empty()) continue;  // a header line
      if (!user) throw bad("user id is not a 64-bit integer");
      if (!item) throw bad("item id is not a 64-bit integer");
      throw bad(rating_problem);
    }
    out.push_back({*user, *item, rating});
  }
  if (out.empty()) throw dals::Error(path + ": no ratings");
  return out;
}

struct ImportOptions {
  std::string input, output;
  int blocks = 4;
  double test_fraction = 0.1;
  std::uint64_t seed = 1;
  bool force = false;
};

const dals::OptionTable<ImportOptions>& import_options() {
  using O = ImportOptions;
  static const dals::OptionTable<O> table = [] {
    dals::OptionTable<O> t(
        "Usage: dals-import --input FILE --output DIR [options]\n"
        "Writes a small in-memory rating file (user,item,rating; integer ids) as a dataset",
        "");
    const std::string g = "Options";
    t.add(g, "input", &O::input, "CSV/TSV file: user,item,rating[,ignored...]; a header line is skipped")
        .add(g, "output", &O::output, "dataset directory to create")
        .add(g, "blocks", &O::blocks, "blocks per side (B >= the ranks you will train on)")
        .add(g, "test-fraction", &O::test_fraction, "fraction held out for testing")
        .add(g, "seed", &O::seed, "seed of the id permutation and the split")
        .add(g, "force", &O::force, "replace an existing --output dataset");
    return t;
  }();
  return table;
}

}  // namespace

int main(int argc, char** argv) {
  return dals::run_tool("dals-import", [&] {
    ImportOptions o;
    std::string text;
    if (import_options().parse(argc, argv, o, text) == dals::ParseOutcome::help_shown) {
      std::fputs(text.c_str(), stdout);
      return 0;
    }
    if (o.input.empty() || o.output.empty()) throw dals::UsageError{"--input and --output are required"};
    if (o.blocks < 1) throw dals::UsageError{"--blocks must be positive"};
    if (!(o.test_fraction >= 0 && o.test_fraction < 1)) throw dals::UsageError{"--test-fraction must be in [0, 1)"};
    dals::BuildOptions options;
    options.blocks = o.blocks;
    options.test_fraction = o.test_fraction;
    options.seed = o.seed;
    options.force = o.force;
    // The output is checked before the file is read: a refusal costs nothing.
    dals::StagedDir(o.output, o.force, dals::dataset_output_kind()).check();
    auto ratings = read_ratings(o.input);
    options.provenance_json = nlohmann::json{
        {"tool", "dals-import"},
        {"input", o.input},
        {"test_fraction", options.test_fraction},
        {"seed", options.seed}}.dump();
    auto m = dals::build_dataset(o.output, ratings, options);
    std::printf("%s: %lld users, %lld items, %lld train + %lld test ratings, %d blocks, mean %.4f\n", o.output.c_str(),
                static_cast<long long>(m.users), static_cast<long long>(m.items),
                static_cast<long long>(m.train.ratings), static_cast<long long>(m.test.ratings), m.blocks, m.mean);
    return 0;
  });
}
