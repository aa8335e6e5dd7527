// dals-partition: rating dumps (text or gzip, any size) to a dataset.
// Run under mpirun (or as one process); the result does not depend on the
// number of ranks.
#include "dals/core/log.hpp"
#include "dals/mpi/tool_main.hpp"
#include "dals/partition/partition.hpp"

int main(int argc, char** argv) {
  return dals::run_mpi_tool("dals-partition", argc, argv, [&](const dals::Comm& comm) {
    dals::PartitionOptions options;
    if (!dals::parse_collectively(
            comm, [&](std::string& text) { return dals::parse_partition_options(argc, argv, options, text); }))
      return;
    const dals::PartitionResult result = dals::partition_dataset(comm, options);
    for (const auto& sample : result.stats.bad_line_samples) dals::Log::warn("skipped %s", sample.c_str());
    if (result.stats.bad_lines > static_cast<std::int64_t>(result.stats.bad_line_samples.size()))
      dals::Log::warn("skipped %lld bad lines in all", static_cast<long long>(result.stats.bad_lines));
    dals::Log::info("%s", dals::partition_summary(result, options.output).c_str());
  });
}
