#pragma once
/// @file gram_kernel.hpp
/// @brief The Gram matrix V^T V of one row's gathered tile, and the sums the
/// normal equations need beside it.
///
/// A row's tile is small (tens to thousands of rows of k floats) and used
/// once, so a BLAS SSYRK spends much of its time packing it and on the edges
/// of w = k + 1 (the bias column). This kernel reads the tile as the gather
/// left it (rows of ks = k rounded up to 16 floats, zero padded), keeps the
/// bias column implicit (it is all ones: its Gram entries are the column
/// sums and the row count), and computes only the lower triangle in register
/// blocks of up to 64 x 4 entries, over chunks of tile rows that stay in L1.
/// Each entry is a sum over the tile's rows in row order: the result does
/// not depend on the thread that computes it.

#include <cstdint>

namespace dals {

// A tile V is rows x ks floats, row-major, ks a multiple of 16; t holds
// the rows' targets.

/// The tile rows the kernel takes at a time (a chunk that stays in L1).
std::int64_t tile_gram_chunk_rows(int ks);

/// Rows of a factor table to prefetch while the kernel runs (the next rows
/// a caller will gather).
struct RowPrefetch {
  const float* table = nullptr;
  std::int64_t stride = 0;
  const std::int32_t* cols = nullptr;
  std::int64_t count = 0;
  int row_bytes = 0;
};

/// Adds rows [q0, q1) of V, which start at v (row q at v + (q - q0) * ks),
/// to the Gram matrix: gram[j * ks + i] += (V^T V)[i][j] for every i >= j
/// (the entries i < j are scratch); q0 = 0 starts from zero. Calls on
/// consecutive ranges that start at multiples of tile_gram_chunk_rows give
/// the bits of one call, so that a caller can gather the next rows (into the
/// same buffer) while these are summed; `ahead` are prefetched, spread over
/// the work.
void tile_gram_rows(const float* v, std::int64_t q0, std::int64_t q1, int ks, float* gram,
                    const RowPrefetch& ahead = {});

/// What tile_sums returns besides its arrays.
struct TargetSums {
  float sum = 0.f;       ///< sum of t
  double squares = 0.0;  ///< sum of t^2, in double
};

/// column_sums = V^T 1 and vt_t = V^T t (ks floats each) over all rows.
TargetSums tile_sums(const float* v, std::int64_t rows, int ks, const float* t, float* column_sums, float* vt_t);

}  // namespace dals
