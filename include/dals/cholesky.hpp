#pragma once
/// @file cholesky.hpp
/// @brief Small dense SPD solves, sized for one ALS row (n ~ 10-300).
///
/// Eigen's LLT is blocked for large matrices; at n = 65 its block kernels
/// cost more in set-up than in arithmetic (45% of a training run in a
/// profile). This is the unblocked right-looking form on the upper factor U
/// (A = U^T U) stored row-major: every update is a contiguous axpy over a
/// row, which the compiler vectorizes, in a fixed order, so the result does
/// not depend on the thread that computes it.

namespace dals {

/// Factors the symmetric positive definite n x n matrix `a` (row-major; only
/// the upper triangle, c >= r, is read) in place into U with A = U^T U, then
/// solves A x = b, overwriting b with x. Returns false, leaving b
/// unspecified, if a pivot is not positive (not numerically positive definite).
bool cholesky_solve(double* a, int n, double* b);

}  // namespace dals
