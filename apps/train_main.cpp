// dals-train: distributed ALS. All the work is in the library; main decides
// how failures end the job (see comm.hpp: run_collectively).
#include <mpi.h>

#include <cstdio>

#include "dals/mpi/comm.hpp"
#include "dals/train/config.hpp"
#include "dals/checkpoint/crash_point.hpp"
#include "dals/run/train_run.hpp"

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  dals::announce_ready(rank);  // for the kill test only (crash_point.hpp)
  int exit_code = 0;
  try {
    dals::TrainConfig config;
    std::string text;
    if (dals::parse_train_config(argc, argv, config, text) == dals::ParseOutcome::help_shown) {
      if (rank == 0) std::fputs(text.c_str(), stdout);
    } else {
      dals::Comm comm;
      dals::run_training(comm, config);
    }
  } catch (const dals::UsageError& e) {
    // Every rank parsed the same command line, so every rank is here.
    if (rank == 0) std::fprintf(stderr, "dals-train: error: %s (see --help)\n", e.message.c_str());
    exit_code = 2;
  } catch (const dals::AgreedFailure& f) {
    exit_code = f.exit_code;
  } catch (const std::exception& e) {
    // Not agreed with the other ranks: they may be waiting in a collective,
    // so only MPI_Abort can end the job without a hang.
    std::fprintf(stderr, "dals-train: error (rank %d): %s\n", rank, e.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return exit_code;
}
