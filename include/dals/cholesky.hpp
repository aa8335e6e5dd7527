#pragma once
/// @file cholesky.hpp
/// @brief Small dense SPD solves, sized for one ALS row (n ~ 10-300).
///
/// Eigen's LLT is blocked for large matrices; at n = 65 its block kernels
/// cost more in set-up than in arithmetic (45% of a training run in a
/// profile). This is the unblocked up-looking form on the upper factor U
/// (A = U^T U), stored row-major with a padded leading dimension: row j of U
/// is computed from the rows above it in segments of up to 64 doubles held in
/// vector registers (GCC vector extensions: AVX-512 with -march=native, SSE
/// in a portable build), so each update is one load and one FMA per 8
/// entries. The order of operations is fixed, so the result does not depend
/// on the thread that computes it.

namespace dals {

/// Leading dimension to allocate for an n x n system: n + 1 (room for the
/// right-hand side as one more column) rounded up to 8.
inline int cholesky_leading_dimension(int n) { return (n + 8) & ~7; }

/// Factors the symmetric positive definite n x n matrix `a` (row-major with
/// leading dimension ld = cholesky_leading_dimension(n); only the upper
/// triangle, c >= r, is read; the rest of each row, up to ld, is scratch) in
/// place into U with A = U^T U, carrying b along as column n so that it
/// comes out as U^-T b, then solves U x = U^-T b, overwriting b with x.
/// Returns false, leaving b unspecified, if a pivot is not positive (the
/// matrix is not numerically positive definite).
bool cholesky_solve(double* a, int n, int ld, double* b);

}  // namespace dals
