// dals-plan's command line, its table and its JSON (plan.hpp).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/core/byte_size.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/version.hpp"
#include "dals/train/plan.hpp"

namespace dals {

namespace fs = std::filesystem;

const OptionTable<PlanConfig>& plan_options() {
  using C = PlanConfig;
  constexpr OptionUse local = OptionUse::local;
  static const OptionTable<C> table = [] {
    OptionTable<C> t(
        "Usage: dals-plan DATA --ranks P [--factors K] [--exchange allgather|routed|auto] [options]\n"
        "Plans a dals-train run on P ranks without P ranks and without factors: per rank, the rows owned and\n"
        "referenced, ratings, memory by component, bytes sent and received per half-iteration, routed chunks\n"
        "and their duplication; prints max and median over the ranks. One process is enough (under mpirun\n"
        "the simulated ranks are split over the real ones)",
        std::string("dals-plan ") + kVersion);
    t.add("Input", "data", &C::data, "dataset directory (or the first positional argument)")
        .add("Input", "ranks,P", &C::ranks, "P: the ranks dals-train would run on (1..B, the dataset's blocks)")
        .positional("data");
    // dals-train's own rows: the same names, parsing and meaning.
    const auto& train = train_options();
    for (const char* name :
         {"factors", "exchange", "exchange-buffer", "solver", "cg-precision", "heavy-rows", "implicit", "eval-k"})
      t.borrow(train, name, &C::train, "As dals-train");
    t.add_custom(
        "Run", "memory-per-rank",
        "memory per rank that --exchange auto decides on (suffix K, M or G; dals-train uses the node's memory "
        "over its ranks; default: this machine's memory, one rank per node)",
        [](C& c, const std::string& v) {
          c.memory_per_rank = static_cast<std::int64_t>(parse_byte_size(v, "--memory-per-rank"));
        },
        [](const C& c) { return nlohmann::json(c.memory_per_rank); });
    t.add("Output", "output,o", &C::output, "JSON file of the plan (written atomically)")
        .add("Output", "force", &C::force, "replace an existing --output written by dals-plan")
        .add("Output", "quiet", &C::quiet, "no table on standard output", local);
    return t;
  }();
  return table;
}

ParseOutcome parse_plan_config(int argc, const char* const* argv, PlanConfig& config, std::string& text) {
  if (plan_options().parse(argc, argv, config, text) == ParseOutcome::help_shown) return ParseOutcome::help_shown;
  if (config.data.empty()) throw UsageError{"a dataset directory is required (--data DIR or the first argument)"};
  if (config.ranks < 1) throw UsageError{"--ranks must be >= 1, got " + std::to_string(config.ranks)};
  try {  // dals-train's checks of the borrowed values (the paths it needs are not ours)
    TrainConfig check = config.train;
    check.data = config.data;
    check.output = "-";
    check.validate();
  } catch (const Error& e) {
    throw UsageError{e.what()};
  }
  return ParseOutcome::run;
}

namespace {

// Index into plan_field_names() of a name.
int field(const std::string& name) {
  const auto& names = plan_field_names();
  return static_cast<int>(std::find(names.begin(), names.end(), name) - names.begin());
}

std::vector<std::int64_t> column(const Plan& plan, int f) {
  std::vector<std::int64_t> v;
  for (const auto& r : plan.per_rank) v.push_back(r[f]);
  std::sort(v.begin(), v.end());
  return v;
}
// The lower median: a value some rank has.
std::int64_t median(const std::vector<std::int64_t>& sorted) { return sorted[(sorted.size() - 1) / 2]; }

// Rows received over distinct rows referenced, per rank (1 where nothing is received).
std::vector<double> duplication(const Plan& plan, const std::string& half) {
  const int received = field(half + ".rows_received"), distinct = field(half + ".distinct_rows");
  std::vector<double> v;
  for (const auto& r : plan.per_rank)
    v.push_back(r[distinct] > 0 ? static_cast<double>(r[received]) / static_cast<double>(r[distinct]) : 1.0);
  std::sort(v.begin(), v.end());
  return v;
}

std::string human_bytes(double b) {
  char buf[32];
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

void check_plan_output(const std::string& path, bool force) {
  std::error_code ec;
  const fs::path p(path);
  const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) throw Error(path + ": its directory " + parent.string() + " does not exist");
  if (fs::is_symlink(p, ec)) throw Error(path + ": is a symbolic link (refused: the rename would replace the link)");
  if (!fs::exists(p, ec)) return;
  if (!force) throw Error(path + ": already exists (pass --force to replace it)");
  std::string problem;
  if (!fs::is_regular_file(p, ec) || fs::file_size(p, ec) > (std::uintmax_t{1} << 30) || ec) {
    problem = "it is not a regular file of dals-plan's size";
  } else {
    try {
      const nlohmann::json j = nlohmann::json::parse(read_text_file(path));
      if (!j.is_object() || j.value("format", "") != "dals-plan") problem = "its \"format\" is not \"dals-plan\"";
    } catch (...) {
      problem = "it is not JSON";
    }
  }
  if (!problem.empty())
    throw Error(path + ": exists and is not a dals-plan output (" + problem + "); --force replaces only those");
}

}  // namespace

std::string plan_table(const Plan& plan) {
  std::string out;
  char line[256];
  auto add = [&](const std::string& label, const std::string& max, const std::string& med) {
    std::snprintf(line, sizeof line, "  %-40s %16s %16s\n", label.c_str(), max.c_str(), med.c_str());
    out += line;
  };
  std::snprintf(line, sizeof line,
                "dals-plan: %lld users x %lld items, %lld ratings (%lld test), %d blocks; P = %d, k = %d; users %s, "
                "items %s\n",
                static_cast<long long>(plan.users), static_cast<long long>(plan.items),
                static_cast<long long>(plan.ratings), static_cast<long long>(plan.test_ratings), plan.blocks,
                plan.ranks, plan.k, plan.routed_users ? "routed" : "all-gathered",
                plan.routed_items ? "routed" : "all-gathered");
  out += line;
  add("per rank", "max", "median");
  const auto& names = plan_field_names();
  for (int f = 0; f < kPlanFields; ++f) {
    const std::string& name = names[f];
    const bool half =
        name.rfind("user_half.", 0) == 0 || name.rfind("item_half.", 0) == 0 || name.rfind("test.", 0) == 0;
    const bool routed = name.rfind("user_half.", 0) == 0   ? plan.routed_items
                        : name.rfind("item_half.", 0) == 0 ? plan.routed_users
                        : name.rfind("test.", 0) == 0      ? plan.routed_items && plan.test_ratings > 0
                                                           : true;
    if (half && name.find("bytes") == std::string::npos && !routed) continue;  // no such plan
    const auto v = column(plan, f);
    const bool bytes = name.find("bytes") != std::string::npos || name.rfind("memory.", 0) == 0;
    if (bytes && v.back() == 0 && name != "memory.total") continue;
    if (bytes)
      add(name, human_bytes(static_cast<double>(v.back())), human_bytes(static_cast<double>(median(v))));
    else
      add(name, std::to_string(v.back()), std::to_string(median(v)));
  }
  for (const char* half : {"user_half", "item_half", "test"}) {
    if ((std::string(half) == "item_half" && !plan.routed_users) ||
        (std::string(half) != "item_half" && !plan.routed_items) ||
        (std::string(half) == "test" && plan.test_ratings == 0))
      continue;
    const auto d = duplication(plan, half);
    char a[32], b[32];
    std::snprintf(a, sizeof a, "%.3f", d.back());
    std::snprintf(b, sizeof b, "%.3f", d[(d.size() - 1) / 2]);
    add(std::string(half) + ".duplication", a, b);
  }
  return out;
}

std::string plan_json(const Plan& plan, const PlanConfig& config) {
  nlohmann::json j;
  j["format"] = "dals-plan";
  j["version"] = kVersion;
  j["data"] = config.data;
  j["ranks"] = plan.ranks;
  j["factors"] = plan.k;
  j["blocks"] = plan.blocks;
  j["users"] = plan.users;
  j["items"] = plan.items;
  j["ratings"] = plan.ratings;
  j["test_ratings"] = plan.test_ratings;
  j["implicit"] = plan.implicit;
  for (const auto& [name, mode] : EnumNames<ExchangeMode>::table)
    if (mode == config.train.exchange) j["exchange"] = name;
  j["exchange_buffer_bytes"] = config.train.exchange_buffer;
  j["exchange_buffer_rows"] = plan.buffer_rows;
  j["memory_per_rank"] = plan.memory_per_rank;
  j["routed"] = {{"users", plan.routed_users}, {"items", plan.routed_items}};
  j["row_bytes"] = (plan.k + 1) * 4;
  const auto& names = plan_field_names();
  nlohmann::json max = nlohmann::json::object(), med = nlohmann::json::object();
  for (int f = 0; f < kPlanFields; ++f) {
    const auto v = column(plan, f);
    max[names[f]] = v.back();
    med[names[f]] = median(v);
  }
  for (const char* half : {"user_half", "item_half", "test"}) {
    const auto d = duplication(plan, half);
    max[std::string(half) + ".duplication"] = d.back();
    med[std::string(half) + ".duplication"] = d[(d.size() - 1) / 2];
  }
  j["max"] = max;
  j["median"] = med;
  nlohmann::json ranks = nlohmann::json::array();
  for (int r = 0; r < plan.ranks; ++r) {
    nlohmann::json one = {{"rank", r}};
    for (int f = 0; f < kPlanFields; ++f) one[names[f]] = plan.per_rank[r][f];
    ranks.push_back(one);
  }
  j["per_rank"] = ranks;
  return j.dump(1) + "\n";
}

void run_plan(const Comm& comm, const PlanConfig& config) {
  run_collectively(comm, [&] {
    if (comm.is_root() && !config.output.empty()) check_plan_output(config.output, config.force);
  });
  const Plan plan = make_plan(comm, config);
  run_collectively(comm, [&] {
    if (!comm.is_root() || config.output.empty()) return;
    check_plan_output(config.output, config.force);  // it may have appeared meanwhile
    write_file_atomic(config.output, plan_json(plan, config));
  });
  if (comm.is_root() && !config.quiet) {
    const std::string table = plan_table(plan);
    std::fwrite(table.data(), 1, table.size(), stdout);
    std::fflush(stdout);
  }
}

}  // namespace dals
