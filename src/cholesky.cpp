#include "dals/cholesky.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dals {
namespace {

// Eight doubles: one AVX-512 register, or four SSE ones in a portable build.
typedef double Vec8 __attribute__((vector_size(64)));

// Row j's entries [p0, p0 + 8 * Chunks) minus the contributions of rows
// 0..j-1: A[j][p] - sum_m U[m][j] U[m][p]. The Chunks accumulators stay in
// registers across the m loop; entries left of column j are scratch.
template <int Chunks>
void update_segment(double* a, int ld, int j, int p0) {
  double* row_j = a + static_cast<long>(j) * ld + p0;
  Vec8 acc[Chunks];
  for (int c = 0; c < Chunks; ++c) std::memcpy(&acc[c], row_j + 8 * c, sizeof(Vec8));
  for (int m = 0; m < j; ++m) {
    const double* row_m = a + static_cast<long>(m) * ld;
    const double u = row_m[j];
    const Vec8 scale = {u, u, u, u, u, u, u, u};
    row_m += p0;
    for (int c = 0; c < Chunks; ++c) {
      Vec8 x;
      std::memcpy(&x, row_m + 8 * c, sizeof(Vec8));
      acc[c] -= scale * x;
    }
  }
  for (int c = 0; c < Chunks; ++c) std::memcpy(row_j + 8 * c, &acc[c], sizeof(Vec8));
}

void update_row(double* a, int n, int ld, int j) {
  for (int p0 = j & ~7; p0 < n; p0 += 64) {
    switch ((std::min(ld, p0 + 64) - p0) / 8) {
      case 1: update_segment<1>(a, ld, j, p0); break;
      case 2: update_segment<2>(a, ld, j, p0); break;
      case 3: update_segment<3>(a, ld, j, p0); break;
      case 4: update_segment<4>(a, ld, j, p0); break;
      case 5: update_segment<5>(a, ld, j, p0); break;
      case 6: update_segment<6>(a, ld, j, p0); break;
      case 7: update_segment<7>(a, ld, j, p0); break;
      default: update_segment<8>(a, ld, j, p0); break;
    }
  }
}

}  // namespace

bool cholesky_solve(double* a, int n, int ld, double* b) {
  for (int j = 0; j < n; ++j) {
    update_row(a, n, ld, j);
    double* row_j = a + static_cast<long>(j) * ld;
    if (!(row_j[j] > 0.0)) return false;  // also catches NaN
    const double pivot = std::sqrt(row_j[j]);
    const double inverse = 1.0 / pivot;
    row_j[j] = pivot;
    for (int p = j + 1; p < n; ++p) row_j[p] *= inverse;
  }
  // U^T y = b, forward, as axpys over the rows of U.
  for (int i = 0; i < n; ++i) {
    const double* row_i = a + static_cast<long>(i) * ld;
    const double y = b[i] / row_i[i];
    b[i] = y;
#pragma omp simd
    for (int p = i + 1; p < n; ++p) b[p] -= row_i[p] * y;
  }
  // U x = y, backward, as dot products over the rows of U.
  for (int i = n - 1; i >= 0; --i) {
    const double* row_i = a + static_cast<long>(i) * ld;
    double s = b[i];
#pragma omp simd reduction(- : s)
    for (int p = i + 1; p < n; ++p) s -= row_i[p] * b[p];
    b[i] = s / row_i[i];
  }
  return true;
}

}  // namespace dals
