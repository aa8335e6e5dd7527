#include "dals/solve/cholesky.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace dals {
namespace {

// Eight doubles: one AVX-512 register, or four SSE ones in a portable build.
typedef double Vec8d __attribute__((vector_size(64)));

// Rows [j0, j0 + Rows), entries [p0, p0 + 8 * Chunks), minus the
// contributions of the finished rows above the panel: A[j][p] - sum_{m < j0}
// U[m][j] U[m][p]. Each row m is loaded once for the whole panel and feeds
// Rows x Chunks independent accumulators, which keep the FMA pipes busy
// where one row at a time waited on the latency of a single chain near the
// end of the matrix. Entries left of a row's diagonal are scratch.
template <int Rows, int Chunks>
void update_panel(double* a, int ld, int j0, int p0, const double* inverse_pivot) {
  Vec8d acc[Rows][Chunks];
  for (int r = 0; r < Rows; ++r)
    for (int c = 0; c < Chunks; ++c)
      std::memcpy(&acc[r][c], a + static_cast<long>(j0 + r) * ld + p0 + 8 * c, sizeof(Vec8d));
  for (int m = 0; m < j0; ++m) {
    const double* row_m = a + static_cast<long>(m) * ld;
    Vec8d x[Chunks];
    for (int c = 0; c < Chunks; ++c) std::memcpy(&x[c], row_m + p0 + 8 * c, sizeof(Vec8d));
    for (int r = 0; r < Rows; ++r) {
      const double u = row_m[j0 + r] * inverse_pivot[m];
      const Vec8d scale = {u, u, u, u, u, u, u, u};
      for (int c = 0; c < Chunks; ++c) acc[r][c] -= scale * x[c];
    }
  }
  for (int r = 0; r < Rows; ++r)
    for (int c = 0; c < Chunks; ++c)
      std::memcpy(a + static_cast<long>(j0 + r) * ld + p0 + 8 * c, &acc[r][c], sizeof(Vec8d));
}

template <int Rows>
void update_rows(double* a, int ld, int j0, const double* inverse_pivot) {
  for (int p0 = j0 & ~7; p0 < ld; p0 += 64) {
    switch ((std::min(ld, p0 + 64) - p0) / 8) {
      case 1:
        update_panel<Rows, 1>(a, ld, j0, p0, inverse_pivot);
        break;
      case 2:
        update_panel<Rows, 2>(a, ld, j0, p0, inverse_pivot);
        break;
      case 3:
        update_panel<Rows, 3>(a, ld, j0, p0, inverse_pivot);
        break;
      case 4:
        update_panel<Rows, 4>(a, ld, j0, p0, inverse_pivot);
        break;
      case 5:
        update_panel<Rows, 5>(a, ld, j0, p0, inverse_pivot);
        break;
      case 6:
        update_panel<Rows, 6>(a, ld, j0, p0, inverse_pivot);
        break;
      case 7:
        update_panel<Rows, 7>(a, ld, j0, p0, inverse_pivot);
        break;
      default:
        update_panel<Rows, 8>(a, ld, j0, p0, inverse_pivot);
        break;
    }
  }
}

}  // namespace

bool cholesky_solve(double* a, int n, int ld, double* b) {
  // Scratch per thread: the inverse pivots, and x zero-padded to ld.
  thread_local std::vector<double> buffer;
  if (static_cast<int>(buffer.size()) < 2 * ld) buffer.resize(2 * ld);
  double* inverse_pivot = buffer.data();
  double* x = inverse_pivot + ld;
  // b rides along as column n: the row updates that factor A turn it into
  // z with R^T D^-1 z = b (forward substitution) at no extra pass.
  for (int i = 0; i < n; ++i) {
    double* row = a + static_cast<long>(i) * ld;
    row[n] = b[i];
    std::fill(row + n + 1, row + ld, 0.0);  // scratch, but read (times 0) by the back substitution
  }
  // Panels of 2 rows, segments of 64 columns: 16 accumulators.
  constexpr int kPanel = 2;
  for (int j0 = 0; j0 < n; j0 += kPanel) {
    if (n - j0 >= 2)
      update_rows<2>(a, ld, j0, inverse_pivot);
    else
      update_rows<1>(a, ld, j0, inverse_pivot);
    const int rows = std::min(kPanel, n - j0);
    // Within the panel: the rows above in it, then the pivot. The loops
    // run over whole aligned vectors from the one holding the diagonal to
    // ld (scratch on both sides): no remainder loops, no stores that split
    // a cache line.
    for (int j = j0; j < j0 + rows; ++j) {
      double* row_j = a + static_cast<long>(j) * ld;
      const int p0 = j & ~7;
      for (int m = j0; m < j; ++m) {
        const double* row_m = a + static_cast<long>(m) * ld;
        const double u = row_m[j] * inverse_pivot[m];
#pragma omp simd
        for (int p = p0; p < ld; ++p) row_j[p] -= u * row_m[p];
      }
      if (!(row_j[j] > 0.0)) return false;  // also catches NaN
      inverse_pivot[j] = 1.0 / row_j[j];
    }
  }
  // R x = z, backward, by blocks of 8 rows from the bottom: the 8 dot
  // products of a block's rows with the x already known are independent
  // (one long chain of reductions and divisions before), then the block's
  // own 8 x 8 triangle is solved in scalars. x is kept zero-padded to ld,
  // and so are R's columns past n, so the dot products run over whole
  // aligned vectors; column n (z) meets x[n] = 0.
  std::fill(x, x + ld, 0.0);
  for (int i0 = (n - 1) & ~7; i0 >= 0; i0 -= 8) {
    const int i1 = std::min(n, i0 + 8);
    double s[8];
    for (int i = i0; i < i1; ++i) {
      const double* row_i = a + static_cast<long>(i) * ld;
      Vec8d acc = {};
      for (int p = i0 + 8; p < ld; p += 8) {
        Vec8d u, v;
        std::memcpy(&u, row_i + p, sizeof u);
        std::memcpy(&v, x + p, sizeof v);
        acc += u * v;
      }
      s[i - i0] = row_i[n] - (((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])));
    }
    for (int i = i1 - 1; i >= i0; --i) {
      const double* row_i = a + static_cast<long>(i) * ld;
      double t = s[i - i0];
      for (int p = i + 1; p < i1; ++p) t -= row_i[p] * x[p];
      x[i] = t * inverse_pivot[i];
    }
  }
  std::copy(x, x + n, b);
  return true;
}

}  // namespace dals
