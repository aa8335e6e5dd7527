// dals-train: distributed ALS. All the work is in the library; how the job
// starts and how failures end it is run_mpi_tool's (mpi/tool_main.hpp).
#include "dals/checkpoint/crash_point.hpp"
#include "dals/mpi/tool_main.hpp"
#include "dals/run/train_run.hpp"
#include "dals/train/config.hpp"

int main(int argc, char** argv) {
  return dals::run_mpi_tool("dals-train", argc, argv, [&](const dals::Comm& comm) {
    dals::announce_ready(comm.rank());  // for the kill test only (crash_point.hpp)
    dals::TrainConfig config;
    if (!dals::parse_collectively(
            comm, [&](std::string& text) { return dals::parse_train_config(argc, argv, config, text); }))
      return;
    dals::run_training(comm, config);
  });
}
