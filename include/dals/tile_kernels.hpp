#pragma once
/// @file tile_kernels.hpp
/// @brief Matrix-vector kernels on a gathered tile Y (rows x ws floats,
/// row-major), the inner loops of the CG solver and of the training error.
///
/// The tile's stride ws is the solve width w rounded up to 16 floats, the
/// columns past w being zero, so every row is a whole number of 16-float
/// vectors (one AVX-512 register each with -march=native): the kernels keep
/// the vectors they accumulate in registers across rows and read each tile
/// row once per call. The order of operations is fixed: results do not
/// depend on the thread that runs them.

#include <cstdint>

namespace dals {

/// Tile stride for a solve width w: w rounded up to 16.
inline int tile_stride(int width) { return (width + 15) & ~15; }

/// e = t - Y x and r = Y^T e (r has ws entries; x is padded with zeros).
void tile_residual_gradient(const float* y, std::int64_t rows, int ws, const float* x, const float* t, float* e,
                            float* r);

/// yp = Y p and ap = Y^T (Y p); returns |Y p|^2.
float tile_normal_product(const float* y, std::int64_t rows, int ws, const float* p, float* yp, float* ap);

/// sum over rows of (t - Y x)^2, in double.
double tile_squared_residual(const float* y, std::int64_t rows, int ws, const float* x, const float* t);

}  // namespace dals
