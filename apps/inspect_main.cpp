// dals-inspect: prints a dataset's summary and checks every file of it
// (exit 0 only if all is well); or dumps its ratings with raw ids, or looks
// raw ids up. One process, no mpirun needed.
#include <cstdio>

#include "dals/core/log.hpp"
#include "dals/core/option_table.hpp"
#include "dals/core/types.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/inspect.hpp"
#include "dals/mpi/tool_main.hpp"

namespace {

struct InspectOptions {
  std::string data, dump, by = "users";
  std::vector<std::string> users, items;
  bool quiet = false;
};

const dals::OptionTable<InspectOptions>& inspect_options() {
  using O = InspectOptions;
  static const dals::OptionTable<O> table = [] {
    dals::OptionTable<O> t(
        "Usage: dals-inspect DATA [options]\n"
        "Prints the dataset's summary and checks every file: checksums, id ranges, both orientations\n"
        "holding the same ratings, id maps. Exit 0 only if all is well",
        "");
    const std::string g = "Options";
    t.add(g, "data", &O::data, "dataset directory (or the first positional argument)")
        .add(g, "dump", &O::dump, "instead: print the train or test ratings as raw_user,raw_item,rating")
        .add(g, "by", &O::by, "with --dump: the blocks to read, users (CSR) or items (CSC)")
        .add(g, "user", &O::users, "instead: print the dense id of this raw user id (repeatable)")
        .add(g, "item", &O::items, "instead: print the dense id of this raw item id (repeatable)")
        .add(g, "quiet", &O::quiet, "print only problems")
        .positional("data");
    return t;
  }();
  return table;
}

int inspect(const InspectOptions& o) {
  const std::string& dir = o.data;
  if (!o.dump.empty()) {
    dals::dump_ratings(dir, o.dump == "train" ? dals::Split::train : dals::Split::test,
                       o.by == "users" ? dals::Side::users : dals::Side::items, stdout);
    return 0;
  }
  if (!o.users.empty() || !o.items.empty()) {
    int missing = 0;
    const dals::PerSide<const std::vector<std::string>*> wanted{&o.users, &o.items};
    for (dals::Side side : dals::kBothSides) {
      if (wanted[side]->empty()) continue;
      dals::IdLookup lookup(dir, side);
      const char* name = side == dals::Side::users ? "user" : "item";
      for (const auto& raw : *wanted[side]) {
        const auto dense = lookup.dense_id(raw);
        if (dense)
          std::printf("%s %s: dense id %lld\n", name, raw.c_str(), static_cast<long long>(*dense));
        else
          std::printf("%s %s: not in the dataset\n", name, raw.c_str()), ++missing;
      }
    }
    return missing > 0 ? 1 : 0;
  }
  const dals::InspectReport report = dals::inspect_dataset(dir);
  if (!o.quiet) std::printf("%s", report.summary.c_str());
  for (const auto& problem : report.problems) dals::Log::error("%s", problem.c_str());
  if (!report.problems.empty()) {
    std::fprintf(stderr, "dals-inspect: %s: %zu problem(s) in %d files checked\n", dir.c_str(), report.problems.size(),
                 report.files_checked);
    return 1;
  }
  if (!o.quiet) std::printf("  checked %d files: all is well\n", report.files_checked);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return dals::run_tool("dals-inspect", [&] {
    InspectOptions o;
    std::string text;
    if (inspect_options().parse(argc, argv, o, text) == dals::ParseOutcome::help_shown) {
      std::fputs(text.c_str(), stdout);
      return 0;
    }
    if (o.data.empty()) throw dals::UsageError{"a dataset directory is required"};
    if (!o.dump.empty() && o.dump != "train" && o.dump != "test")
      throw dals::UsageError{"--dump must be train or test"};
    if (o.by != "users" && o.by != "items") throw dals::UsageError{"--by must be users or items"};
    return inspect(o);
  });
}
