// dals-partition: rating dumps (text or gzip, any size) to a dataset.
// Run under mpirun (or as one process); the result does not depend on the
// number of ranks.
#include <cstdio>

#include "dals/partition/partition.hpp"
#include "dals/mpi/tool_main.hpp"

int main(int argc, char** argv) {
  return dals::run_mpi_tool(argc, argv, [&](const dals::Comm& comm) {
    dals::PartitionCommandLine cl;
    dals::run_collectively(comm, "dals-partition", [&] { cl = dals::parse_partition_command_line(argc, argv); }, 2);
    if (cl.help) {
      if (comm.is_root()) std::printf("%s", cl.usage.c_str());
      return;
    }
    const dals::PartitionResult result = dals::partition_dataset(comm, cl.options);
    if (!comm.is_root()) return;
    for (const auto& sample : result.stats.bad_line_samples)
      std::fprintf(stderr, "dals-partition: warning: skipped %s\n", sample.c_str());
    if (result.stats.bad_lines > static_cast<std::int64_t>(result.stats.bad_line_samples.size()))
      std::fprintf(stderr, "dals-partition: warning: skipped %lld bad lines in all\n",
                   static_cast<long long>(result.stats.bad_lines));
    std::printf("%s\n", dals::partition_summary(result, cl.options.output).c_str());
  });
}
