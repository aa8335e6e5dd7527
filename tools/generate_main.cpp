// dals-generate: writes a synthetic dataset from a planted model.
// Run under mpirun; the result does not depend on the number of ranks.
#include <mpi.h>

#include <cstdio>

#include "dals/comm.hpp"
#include "dals/generate.hpp"

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int exit_code = 0;
  {
    dals::Comm comm;
    try {
      dals::GenerateCommandLine cl;
      dals::run_collectively(comm, "dals-generate", [&] { cl = dals::parse_generate_command_line(argc, argv); }, 2);
      if (cl.help) {
        if (comm.is_root()) std::printf("%s", cl.usage.c_str());
      } else {
        const dals::GenerateResult result = dals::generate_dataset(comm, cl.options);
        if (comm.is_root()) std::printf("%s\n", dals::generate_summary(result, cl.options.output).c_str());
      }
    } catch (const dals::AgreedFailure& failure) {
      exit_code = failure.exit_code;
    }
  }
  MPI_Finalize();
  return exit_code;
}
