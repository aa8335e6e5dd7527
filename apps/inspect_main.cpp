// dals-inspect: prints a dataset's summary and checks every file of it
// (exit 0 only if all is well); or dumps its ratings with raw ids, or looks
// raw ids up. One process, no mpirun needed.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "dals/core/error.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/inspect.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string dir, dump, by = "users";
  std::vector<std::string> users, items;
  bool quiet = false;
  po::options_description desc(
      "Usage: dals-inspect DATA [options]\n"
      "Prints the dataset's summary and checks every file: checksums, id ranges, both orientations\n"
      "holding the same ratings, id maps. Exit 0 only if all is well");
  desc.add_options()("data", po::value(&dir), "dataset directory (or the first positional argument)")(
      "dump", po::value(&dump), "instead: print the train or test ratings as raw_user,raw_item,rating")(
      "by", po::value(&by)->default_value(by), "with --dump: the blocks to read, users (CSR) or items (CSC)")(
      "user", po::value(&users)->composing(), "instead: print the dense id of this raw user id (repeatable)")(
      "item", po::value(&items)->composing(), "instead: print the dense id of this raw item id (repeatable)")(
      "quiet", po::bool_switch(&quiet), "print only problems")("help,h", "print this help and exit");
  po::positional_options_description positional;
  positional.add("data", 1);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(desc).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc;
      return 0;
    }
    if (dir.empty()) throw po::error("a dataset directory is required");
    if (!dump.empty() && dump != "train" && dump != "test") throw po::error("--dump must be train or test");
    if (by != "users" && by != "items") throw po::error("--by must be users or items");
  } catch (const po::error& e) {
    std::fprintf(stderr, "dals-inspect: error: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    if (!dump.empty()) {
      dals::dump_ratings(dir, dump == "train" ? dals::Split::train : dals::Split::test,
                         by == "users" ? dals::Side::users : dals::Side::items, stdout);
      return 0;
    }
    if (!users.empty() || !items.empty()) {
      int missing = 0;
      for (dals::Side side : {dals::Side::users, dals::Side::items}) {
        const auto& wanted = side == dals::Side::users ? users : items;
        if (wanted.empty()) continue;
        dals::IdLookup lookup(dir, side);
        for (const auto& raw : wanted) {
          const auto dense = lookup.dense_id(raw);
          const char* name = side == dals::Side::users ? "user" : "item";
          if (dense) std::printf("%s %s: dense id %lld\n", name, raw.c_str(), static_cast<long long>(*dense));
          else std::printf("%s %s: not in the dataset\n", name, raw.c_str()), ++missing;
        }
      }
      return missing > 0 ? 1 : 0;
    }
    const dals::InspectReport report = dals::inspect_dataset(dir);
    if (!quiet) std::printf("%s", report.summary.c_str());
    for (const auto& problem : report.problems) std::fprintf(stderr, "dals-inspect: error: %s\n", problem.c_str());
    if (!report.problems.empty()) {
      std::fprintf(stderr, "dals-inspect: %s: %zu problem(s) in %d files checked\n", dir.c_str(),
                   report.problems.size(), report.files_checked);
      return 1;
    }
    if (!quiet) std::printf("  checked %d files: all is well\n", report.files_checked);
  } catch (const dals::Error& e) {
    std::fprintf(stderr, "dals-inspect: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
