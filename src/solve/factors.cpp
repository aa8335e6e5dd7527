#include "dals/solve/factors.hpp"

#include <cmath>

#include "dals/core/rng.hpp"

namespace dals {

void FactorTable::init_random(std::uint64_t seed, Side side, std::int64_t first, std::int64_t end) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(k_));
  const std::uint64_t side_key = side == Side::users ? 0x75736572 : 0x6974656d;  // "user", "item"
#pragma omp parallel for schedule(static)
  for (std::int64_t i = first; i < end; ++i) {
    KeyedStream draws(seed, side_key, static_cast<std::uint64_t>(i));
    float* x = row(i);
    for (int d = 0; d < k_; ++d) x[d] = static_cast<float>(draws.normal() * scale);
    x[k_] = 0.f;
  }
}

}  // namespace dals
