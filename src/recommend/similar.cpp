#include "dals/recommend/similar.hpp"

#include <cmath>

namespace dals {

FactorTable normalized_rows(const FactorTable& table) {
  FactorTable out(table.first_row(), table.rows(), table.k());
  const int k = table.k();
  for (std::int64_t r = table.first_row(); r < table.end_row(); ++r) {
    const float* v = table.row(r);
    double squares = 0;
    for (int d = 0; d < k; ++d) squares += static_cast<double>(v[d]) * v[d];
    if (squares == 0) continue;
    const double norm = std::sqrt(squares);
    float* n = out.row(r);
    for (int d = 0; d < k; ++d) n[d] = static_cast<float>(v[d] / norm);
  }
  return out;
}

}  // namespace dals
