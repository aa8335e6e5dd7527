#include "dals/mpi/tool_main.hpp"

namespace dals {

int run_mpi_tool(int& argc, char**& argv, const std::function<void(const Comm&)>& body) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int exit_code = 0;
  {
    Comm comm;  // freed before MPI_Finalize
    try {
      body(comm);
    } catch (const AgreedFailure& failure) {
      exit_code = failure.exit_code;
    }
  }
  MPI_Finalize();
  return exit_code;
}

}  // namespace dals
