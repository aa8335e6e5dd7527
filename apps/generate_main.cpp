// dals-generate: writes a synthetic dataset from a planted model.
// Run under mpirun; the result does not depend on the number of ranks.
#include <cstdio>

#include "dals/core/log.hpp"
#include "dals/generate/generate.hpp"
#include "dals/mpi/tool_main.hpp"

int main(int argc, char** argv) {
  return dals::run_mpi_tool("dals-generate", argc, argv, [&](const dals::Comm& comm) {
    dals::GenerateOptions options;
    if (!dals::parse_collectively(
            comm, [&](std::string& text) { return dals::parse_generate_options(argc, argv, options, text); }))
      return;
    const dals::GenerateResult result = dals::generate_dataset(comm, options);
    dals::Log::info("%s", dals::generate_summary(result, options.output).c_str());
  });
}
