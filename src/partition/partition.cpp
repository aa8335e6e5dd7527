// dals-partition's driver: the output directory, the memory budget, the
// phases in order, the manifest, and cleaning up on success and failure.
#include "dals/partition/partition.hpp"

#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "dals/core/error.hpp"
#include "dals/core/memory.hpp"
#include "dals/core/signal_flag.hpp"
#include "dals/core/staged_dir.hpp"
#include "dals/core/version.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"
#include "internal.hpp"
#include "signals.hpp"

namespace dals {
namespace fs = std::filesystem;
using namespace part;

namespace {

// The memory this process may use: the machine's, or less if a control
// group (a Slurm job, a container) caps it.
double usable_memory() {
  double bytes = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::FILE* f = std::fopen(path, "r");
    if (f == nullptr) continue;
    double cap = 0;
    if (std::fscanf(f, "%lf", &cap) == 1 && cap > 0) bytes = std::min(bytes, cap);  // "max" reads as nothing
    std::fclose(f);
  }
  return bytes;
}

std::uint64_t default_memory_limit(const Comm& comm) {
  // Half the node's memory, shared by the ranks on the node.
  const int on_node = comm.split_shared().size();
  return std::max<std::uint64_t>(static_cast<std::uint64_t>(usable_memory() * 0.5 / on_node), 16u << 20);
}

// Splits --memory-limit between the phases (see the README's memory section).
void plan_memory(Job& job) {
  const std::uint64_t mine = job.o.memory_limit ? job.o.memory_limit : default_memory_limit(job.comm);
  // Bucket counts must agree: all ranks plan with the smallest budget.
  const std::uint64_t M = static_cast<std::uint64_t>(-job.comm.allreduce(-static_cast<std::int64_t>(mine), MPI_MAX));
  const int P = job.comm.size();
  Budget& b = job.budget;
  b.total = M;
  job.pool.cap = M / 2;  // records, names, sorted buckets and block spills while they fit
  b.sort_bytes = M / 8;  // one bucket sorted in memory (twice: sorting copies); larger ones are split first
  b.read_buffer = std::clamp<std::size_t>(M / 32, 1 << 16, 4 << 20);
  b.exchange_buffer = std::clamp<std::size_t>(M / (16 * 3 * static_cast<std::size_t>(P)), 4096, 1 << 20);
  b.dictionary_cache = M / 32;
  // Buckets of about 32 MB (sorting stays in cache-sized pieces), or a
  // third of the sort budget if less, so that skew has room.
  const double records = static_cast<double>(job.plan.estimated_lines) * sizeof(Record) / P;
  const double target = std::min<double>(1 << 20, static_cast<double>(b.sort_bytes) / 3);
  job.space.ranks = P;
  job.space.per_rank = job.o.buckets_per_rank > 0
                           ? job.o.buckets_per_rank
                           : static_cast<int>(std::clamp(std::ceil(records / target), 1.0, 4096.0));
}

std::vector<std::string> gather_strings(const Comm& comm, const std::vector<std::string>& mine) {
  std::string joined;
  for (const auto& s : mine) joined += s + '\n';
  const auto sizes = comm.allgather(static_cast<std::int64_t>(joined.size()));
  std::vector<std::string> all;
  for (int r = 0; r < comm.size(); ++r) {
    if (sizes[r] == 0) continue;
    const std::string text = comm.broadcast_string(comm.rank() == r ? joined : std::string(), r);
    std::size_t start = 0;
    for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
      all.push_back(text.substr(start, nl - start));
      start = nl + 1;
    }
  }
  return all;
}

std::string provenance(const Job& job) {
  const auto& o = job.o;
  nlohmann::json j;
  j["tool"] = kTool;
  j["version"] = kVersion;
  j["command_line"] = o.command_line;
  for (const auto& f : job.plan.files)
    j["sources"].push_back({{"path", f.path}, {"bytes", f.size}, {"gzip", f.gzip}, {"test", f.test}});
  const auto& f = job.plan.format;
  j["format"] = {
      {"separator", f.separator_name()},
      {"header", o.header},
      {"columns", {{"user", f.user + 1}, {"item", f.item + 1}, {"rating", f.rating + 1}, {"time", f.time + 1}}},
      {"implicit", o.implicit}};
  j["options"] = {{"dedup", enum_name(o.dedup)},
                  {"min_rating", o.min_rating},
                  {"max_rating", o.max_rating},
                  {"min_user_ratings", o.min_user_ratings},
                  {"min_item_ratings", o.min_item_ratings},
                  {"k_core", o.k_core},
                  {"test_fraction", o.test_fraction},
                  {"test_per_user", o.test_per_user},
                  {"test_pick", o.test_pick == TestPick::last ? "last" : "random"},
                  {"cold_start", o.keep_cold_start ? "keep" : "drop"},
                  {"seed", o.seed},
                  {"blocks", job.blocks}};
  if (!std::isfinite(o.min_rating)) j["options"]["min_rating"] = nullptr;
  if (!std::isfinite(o.max_rating)) j["options"]["max_rating"] = nullptr;
  j["ids"] = {{"users", job.strings_out.users ? "string" : "int64"},
              {"items", job.strings_out.items ? "string" : "int64"},
              {"order", kOrderName},
              {"seed", o.seed}};
  return j.dump();
}

PartitionResult run(const Comm& comm, const PartitionOptions& o, StagedDir& out, std::string& scratch_parent) {
  const double start = MPI_Wtime();
  const std::string tmp = out.staging();
  Job job(comm, o);
  job.progress.enable(comm.is_root() && !o.quiet);

  std::string plan_json;
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    out.create();  // refuses to clobber what it should not; a fresh OUTPUT.tmp
    plan_json = make_plan(o, comm.size()).to_json();
  });
  job.plan = Plan::from_json(comm.broadcast_string(plan_json));
  plan_memory(job);
  const std::string token =
      comm.broadcast_string(std::to_string(getpid()) + "-" + std::to_string(std::random_device{}()));
  scratch_parent = o.tmp_dir.empty() ? tmp + "/.scratch" : o.tmp_dir + "/dals-partition-" + token;
  run_collectively(comm, [&] {
    char name[32];
    std::snprintf(name, sizeof name, "/r%05d", comm.rank());
    job.scratch = ScratchDir(scratch_parent + name);
  });

  parse_inputs(job);
  job.user_strings = comm.allreduce<int>(job.user_strings, MPI_LOR);
  job.item_strings = comm.allreduce<int>(job.item_strings, MPI_LOR);
  std::array<std::int64_t, kCounters> totals = job.counters;
  comm.allreduce_inplace(std::span<std::int64_t>(totals), MPI_SUM);
  const std::vector<std::string> samples = gather_strings(comm, job.bad_line_samples);
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (o.max_bad_lines >= 0 && totals[kBadLines] > o.max_bad_lines)
      throw Error("more than " + std::to_string(o.max_bad_lines) +
                  " bad lines (--max-bad-lines); the first: " + samples.front());
    if (totals[kLines] == 0) throw Error(o.inputs.front() + ": empty input: no lines to read");
    if (totals[kTrainLines] == 0)
      throw Error(o.inputs.front() + ": no ratings in the input (" + std::to_string(totals[kLines]) +
                  " lines: " + std::to_string(totals[kHeaderLines]) + " header, " +
                  std::to_string(totals[kBlankLines]) + " blank, " + std::to_string(totals[kBadLines]) + " bad, " +
                  std::to_string(totals[kOutOfRange]) + " out of the rating range)");
  });

  FlatMap64 local_items;
  sort_buckets(job, local_items);
  build_item_table(job, local_items);
  local_items = FlatMap64();
  apply_filters(job);
  compute_layout(job);
  run_collectively(comm, [&] {
    if (comm.is_root()) create_dataset_dirs(tmp, job.test_total > 0);
  });
  IdIndex user_index, item_index;
  Manifest m = write_blocks(job, tmp, user_index, item_index);
  m.provenance_json = provenance(job);
  m.feedback = o.implicit ? Feedback::events : Feedback::ratings;
  m.fingerprint = m.compute_fingerprint();

  // Everything is on disk: remove the temporaries, then publish.
  job.scratch.remove();
  comm.barrier();
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    std::error_code ec;
    fs::remove_all(scratch_parent, ec);
    m.validate(o.output + "/manifest.json");
    write_id_index(id_index_path(tmp, Side::users), user_index);
    write_id_index(id_index_path(tmp, Side::items), item_index);
    write_manifest(tmp, m);
    out.publish();
  });

  PartitionResult result;
  result.manifest = m;
  PartitionStats& s = result.stats;
  comm.allreduce_inplace(std::span<std::int64_t>(job.counters), MPI_SUM);
  const auto& c = job.counters;
  s.lines = c[kLines];
  s.blank_lines = c[kBlankLines];
  s.header_lines = c[kHeaderLines];
  s.bad_lines = c[kBadLines];
  s.train_lines = c[kTrainLines];
  s.test_lines = c[kTestLines];
  s.out_of_range = c[kOutOfRange];
  s.duplicates = c[kDuplicates];
  s.dropped_by_user_count = c[kDroppedByUser];
  s.dropped_by_item_count = c[kDroppedByItem];
  s.cold_start = c[kColdStart];
  s.cold_start_kept = c[kColdStartKept];
  s.test_dropped_filtered = c[kTestFiltered];
  s.test_in_train = c[kTestInTrain];
  s.k_core_rounds = job.k_core_rounds;
  s.train_ratings = m.train.ratings;
  s.test_ratings = m.has_test ? m.test.ratings : 0;
  s.users = m.users;
  s.items = m.items;
  s.files = static_cast<std::int64_t>(job.plan.files.size());
  for (const auto& f : job.plan.files) s.input_bytes += static_cast<std::int64_t>(f.size);
  s.bad_line_samples = samples;
  for (int b = 0; b < job.histogram.size(); ++b)
    s.histogram.emplace_back(job.histogram.label(b), job.histogram_counts[b]);
  s.separator = job.plan.format.separator_name();
  s.user_ids = job.strings_out.users ? "string" : "int64";
  s.item_ids = job.strings_out.items ? "string" : "int64";
  s.memory_limit = job.budget.total;
  s.spilled_bytes = comm.sum(static_cast<std::int64_t>(job.pool.spilled));
  s.ranks = comm.size();
  s.phase_seconds = job.progress.phase_seconds();
  s.peak_rss_mib = comm.max(static_cast<double>(peak_rss_bytes()) / 1048576.0);
  s.seconds = comm.max(MPI_Wtime() - start);
  return result;
}

}  // namespace

PartitionResult partition_dataset(const Comm& comm, const PartitionOptions& options) {
  run_collectively(
      comm, [&] { validate_partition_options(options); }, 2);
  // Every rank names the output ("DIR/" is DIR, staged in DIR.tmp); rank 0 creates it.
  StagedDir out(options.output, options.force, dataset_output_kind());
  PartitionOptions o = options;
  o.output = out.dest();
  SignalFlag interrupts({SIGINT, SIGTERM}, /*restart=*/false);
  std::string scratch_parent;
  try {
    return run(comm, o, out, scratch_parent);
  } catch (const AgreedFailure&) {
    // Every rank has stopped writing and removed its own scratch directory
    // (ScratchDir): rank 0 removes what is left, so no temporary file and no
    // half-written dataset stays behind. An existing OUTPUT was never touched.
    comm.barrier();
    std::error_code ec;
    if (comm.is_root() && !scratch_parent.empty()) fs::remove_all(scratch_parent, ec);
    out.discard();
    throw;
  }
}

}  // namespace dals
