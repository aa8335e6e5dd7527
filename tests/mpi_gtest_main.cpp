// gtest main for dals: owns MPI init/finalize, prints from rank 0 only, and
// makes a test binary fail on every rank if any rank failed a test.
#include <gtest/gtest.h>
#include <mpi.h>

#include "dals/core/log.hpp"

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  dals::Log::set_tool("test");  // the tests expect "test: error: ..." lines
  dals::Log::set_rank(rank);
  // gtest prints from rank 0 only; the other ranks' failures still count:
  // the exit code is combined across ranks below.
  if (rank != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int local_failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&local_failed, &any_failed, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
  if (local_failed) fprintf(stderr, "rank %d: tests FAILED\n", rank);
  MPI_Finalize();
  return any_failed ? 1 : 0;
}
