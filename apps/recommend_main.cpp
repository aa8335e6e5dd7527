// dals-recommend: top-K items per user from a trained model, under mpirun.
// All the work is in the library (recommend/recommend.hpp).
#include "dals/mpi/tool_main.hpp"
#include "dals/recommend/recommend.hpp"

int main(int argc, char** argv) {
  return dals::run_mpi_tool("dals-recommend", argc, argv, [&](const dals::Comm& comm) {
    dals::RecommendConfig config;
    if (!dals::parse_collectively(
            comm, [&](std::string& text) { return dals::parse_recommend_config(argc, argv, config, text); }))
      return;
    dals::run_recommend(comm, config);
  });
}
