// dals-import: a small rating file (CSV or TSV: user,item,rating[,...], 64-bit
// integer ids, optional header) held in memory and written as a dataset.
// For files that fit in memory; dals-partition is the tool for large dumps.
#include <boost/program_options.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "dals/data/dataset_builder.hpp"
#include "dals/core/error.hpp"

namespace po = boost::program_options;

namespace {

std::vector<dals::RawRating> read_ratings(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw dals::Error(path + ": cannot open");
  std::vector<dals::RawRating> out;
  std::string line;
  long long number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto where = [&](const std::string& what) {
      return dals::Error(path + ":" + std::to_string(number) + ": " + what + ": " + line.substr(0, 80));
    };
    const char* p = line.c_str();
    char* end = nullptr;
    double fields[3];
    for (int f = 0; f < 3; ++f) {
      errno = 0;
      fields[f] = f < 2 ? static_cast<double>(std::strtoll(p, &end, 10)) : std::strtod(p, &end);
      if (end == p || errno != 0) {
        if (number == 1 && out.empty()) goto next_line;  // a header line
        throw where("field " + std::to_string(f + 1) + " is not a number");
      }
      p = end;
      if (f < 2) {
        if (*p != ',' && *p != '\t') throw where("expected ',' or tab after field " + std::to_string(f + 1));
        ++p;
      }
    }
    if (*p != '\0' && *p != ',' && *p != '\t') throw where("trailing characters after the rating");
    if (!std::isfinite(fields[2])) throw where("rating is not finite");
    out.push_back({static_cast<std::int64_t>(fields[0]), static_cast<std::int64_t>(fields[1]),
                   static_cast<float>(fields[2])});
  next_line:;
  }
  if (out.empty()) throw dals::Error(path + ": no ratings");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string input, output;
  dals::BuildOptions options;
  po::options_description desc("Usage: dals-import --input FILE --output DIR [options]\n"
                               "Writes a small in-memory rating file (user,item,rating; integer ids) as a dataset");
  desc.add_options()("input", po::value(&input), "CSV/TSV file: user,item,rating[,ignored...]; a header line is skipped")(
      "output", po::value(&output), "dataset directory to create")(
      "blocks", po::value(&options.blocks)->default_value(4), "blocks per side (B >= the ranks you will train on)")(
      "test-fraction", po::value(&options.test_fraction)->default_value(0.1, "0.1"), "fraction held out for testing")(
      "seed", po::value(&options.seed)->default_value(1), "seed of the id permutation and the split")(
      "force", po::bool_switch(&options.force), "replace an existing --output dataset")("help,h",
                                                                                                    "show this help");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc;
      return 0;
    }
    if (input.empty() || output.empty()) throw po::error("--input and --output are required");
    if (options.blocks < 1) throw po::error("--blocks must be positive");
    if (!(options.test_fraction >= 0 && options.test_fraction < 1)) throw po::error("--test-fraction must be in [0, 1)");
  } catch (const po::error& e) {
    std::fprintf(stderr, "dals-import: error: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    auto ratings = read_ratings(input);
    options.provenance_json = nlohmann::json{{"tool", "dals-import"}, {"input", input},
                                             {"test_fraction", options.test_fraction}, {"seed", options.seed}}
                                  .dump();
    auto m = dals::build_dataset(output, ratings, options);
    std::printf("%s: %lld users, %lld items, %lld train + %lld test ratings, %d blocks, mean %.4f\n", output.c_str(),
                static_cast<long long>(m.users), static_cast<long long>(m.items),
                static_cast<long long>(m.train.ratings), static_cast<long long>(m.test.ratings), m.blocks, m.mean);
  } catch (const dals::Error& e) {
    std::fprintf(stderr, "dals-import: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
