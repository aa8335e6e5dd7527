// dals-plan: what dals-train would hold and move on each of P ranks, from a
// dataset alone, without P ranks. All the work is in the library
// (train/plan.hpp).
#include "dals/mpi/tool_main.hpp"
#include "dals/train/plan.hpp"

int main(int argc, char** argv) {
  return dals::run_mpi_tool("dals-plan", argc, argv, [&](const dals::Comm& comm) {
    dals::PlanConfig config;
    if (!dals::parse_collectively(comm,
                                  [&](std::string& text) { return dals::parse_plan_config(argc, argv, config, text); }))
      return;
    dals::run_plan(comm, config);
  });
}
