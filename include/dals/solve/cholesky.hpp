#pragma once
/// @file cholesky.hpp
/// @brief Small dense SPD solves, sized for one ALS row (n ~ 10-300).
///
/// Eigen's LLT is blocked for large matrices; at n = 65 its block kernels
/// cost more in set-up than in arithmetic (45% of a training run in a
/// profile). This is the up-looking form without square roots: A = R^T D^-1 R
/// with R upper triangular, D its diagonal (R = D^1/2 U for the Cholesky
/// factor U), stored row-major with a padded leading dimension. Rows of R
/// are computed two at a time from the rows above them, in segments of up
/// to 64 doubles held in vector registers (GCC vector extensions: AVX-512
/// with -march=native, SSE in a portable build). The right-hand side rides
/// along as one more column (the forward substitution comes out of the
/// factorization); the back substitution goes by blocks of 8 rows. The
/// order of operations is fixed, so the result does not depend on the
/// thread that computes it. n = 65 (k = 64 with the bias): 6.0 us, from
/// 8.3 us for one row at a time with square roots and separate solves.

namespace dals {

/// Leading dimension to allocate for an n x n system: n + 1 (room for the
/// right-hand side as one more column) rounded up to 8.
inline int cholesky_leading_dimension(int n) { return (n + 8) & ~7; }

/// Factors the symmetric positive definite n x n matrix `a` (row-major with
/// leading dimension ld = cholesky_leading_dimension(n); only the upper
/// triangle, c >= r, is read; the rest of each row, up to ld, is scratch) in
/// place into R with A = R^T D^-1 R, carrying b along as column n, then
/// solves for x by back substitution, overwriting b with x.
/// Returns false, leaving b unspecified, if a pivot is not positive (the
/// matrix is not numerically positive definite).
bool cholesky_solve(double* a, int n, int ld, double* b);

}  // namespace dals
