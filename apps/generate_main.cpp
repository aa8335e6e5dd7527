// dals-generate: writes a synthetic dataset from a planted model.
// Run under mpirun; the result does not depend on the number of ranks.
#include <cstdio>

#include "dals/generate/generate.hpp"
#include "dals/mpi/tool_main.hpp"

int main(int argc, char** argv) {
  return dals::run_mpi_tool(argc, argv, [&](const dals::Comm& comm) {
    dals::GenerateCommandLine cl;
    dals::run_collectively(comm, "dals-generate", [&] { cl = dals::parse_generate_command_line(argc, argv); }, 2);
    if (cl.help) {
      if (comm.is_root()) std::printf("%s", cl.usage.c_str());
      return;
    }
    const dals::GenerateResult result = dals::generate_dataset(comm, cl.options);
    if (comm.is_root()) std::printf("%s\n", dals::generate_summary(result, cl.options.output).c_str());
  });
}
