// dals-recommend --similar-items / --similar-users.
#include "dals/core/error.hpp"
#include "model_input.hpp"

namespace dals::recommend_internal {

void run_similar(const Comm& comm, const RecommendConfig& c, StagedDir& out, const Manifest& m,
                 const ModelInfo& model) {
  (void)out, (void)m, (void)model, (void)c;
  run_collectively(comm, [&] { throw Error("--similar-items: not yet"); });
}

}  // namespace dals::recommend_internal
