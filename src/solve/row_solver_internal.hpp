#pragma once
// What the three parts of RowSolver (row_solver.cpp: dispatch and gather;
// solve_cholesky.cpp; solve_cg.cpp) share besides the class itself.
// Private to src/solve/.
#include <cmath>

namespace dals {

inline bool all_finite(const float* x, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

}  // namespace dals
