#include "dals/cholesky.hpp"

#include <cmath>

namespace dals {

bool cholesky_solve(double* a, int n, double* b) {
  for (int j = 0; j < n; ++j) {
    double* row_j = a + static_cast<long>(j) * n;
    if (!(row_j[j] > 0.0)) return false;  // also catches NaN
    const double pivot = std::sqrt(row_j[j]);
    const double inverse = 1.0 / pivot;
    row_j[j] = pivot;
    for (int p = j + 1; p < n; ++p) row_j[p] *= inverse;
    // Trailing update A[i][p] -= U[j][i] * U[j][p], p >= i > j: rows, contiguous.
    for (int i = j + 1; i < n; ++i) {
      double* row_i = a + static_cast<long>(i) * n;
      const double u = row_j[i];
#pragma omp simd
      for (int p = i; p < n; ++p) row_i[p] -= u * row_j[p];
    }
  }
  // U^T y = b, forward, as axpys over the rows of U.
  for (int i = 0; i < n; ++i) {
    const double* row_i = a + static_cast<long>(i) * n;
    const double y = b[i] / row_i[i];
    b[i] = y;
#pragma omp simd
    for (int p = i + 1; p < n; ++p) b[p] -= row_i[p] * y;
  }
  // U x = y, backward, as dot products over the rows of U.
  for (int i = n - 1; i >= 0; --i) {
    const double* row_i = a + static_cast<long>(i) * n;
    double s = b[i];
#pragma omp simd reduction(- : s)
    for (int p = i + 1; p < n; ++p) s -= row_i[p] * b[p];
    b[i] = s / row_i[i];
  }
  return true;
}

}  // namespace dals
