// dals-eval: a trained model against its dataset's test split, under mpirun.
// All the work is in the library (recommend/eval.hpp).
#include "dals/mpi/tool_main.hpp"
#include "dals/recommend/eval.hpp"

int main(int argc, char** argv) {
  return dals::run_mpi_tool("dals-eval", argc, argv, [&](const dals::Comm& comm) {
    dals::EvalConfig config;
    if (!dals::parse_collectively(comm,
                                  [&](std::string& text) { return dals::parse_eval_config(argc, argv, config, text); }))
      return;
    dals::run_eval(comm, config);
  });
}
