// The register-blocked Gram kernel against sums in double, for every tile
// width class (one vector per row up to the generic path) and for row
// counts around its chunk size.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "dals/solve/gram_kernel.hpp"
#include "dals/solve/tile_kernels.hpp"

namespace dals {
namespace {

void expect_gram_matches(int ks, std::int64_t rows) {
  std::mt19937 gen(static_cast<unsigned>(ks * 1000 + rows));
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v(static_cast<std::size_t>(rows) * ks), t(rows);
  for (float& x : v) x = normal(gen);
  for (float& x : t) x = normal(gen);
  std::vector<float> gram(static_cast<std::size_t>(ks) * ks, -1.f), column_sums(ks, -1.f), vt_t(ks, -1.f);
  tile_gram_rows(v.data(), 0, rows, ks, gram.data());
  const TargetSums sums = tile_sums(v.data(), rows, ks, t.data(), column_sums.data(), vt_t.data());
  const float t_sum = sums.sum;
  // Float sums of `rows` products: allow a relative error growing with rows.
  const double tolerance = 1e-5 * (rows + 1);
  double want_t_sum = 0, want_squares = 0;
  for (std::int64_t q = 0; q < rows; ++q) want_t_sum += t[q], want_squares += static_cast<double>(t[q]) * t[q];
  EXPECT_NEAR(t_sum, want_t_sum, tolerance * 4);
  EXPECT_NEAR(sums.squares, want_squares, 1e-9 * (want_squares + 1));
  for (int j = 0; j < ks; ++j) {
    double sum = 0, target = 0;
    for (std::int64_t q = 0; q < rows; ++q) sum += v[q * ks + j], target += static_cast<double>(v[q * ks + j]) * t[q];
    ASSERT_NEAR(column_sums[j], sum, tolerance * 4) << "ks=" << ks << " rows=" << rows << " column " << j;
    ASSERT_NEAR(vt_t[j], target, tolerance * 4) << "ks=" << ks << " rows=" << rows << " column " << j;
    for (int i = j; i < ks; ++i) {
      double g = 0;
      for (std::int64_t q = 0; q < rows; ++q) g += static_cast<double>(v[q * ks + i]) * v[q * ks + j];
      ASSERT_NEAR(gram[static_cast<std::size_t>(j) * ks + i], g, tolerance * 4)
          << "ks=" << ks << " rows=" << rows << " entry (" << i << ", " << j << ")";
    }
  }
}

TEST(GramKernel, MatchesDoubleSumsForEveryWidthAndChunking) {
  for (int ks : {16, 32, 48, 64, 80, 128, 144, 160, 176})
    for (std::int64_t rows : {0, 1, 7, 95, 96, 97, 400}) expect_gram_matches(ks, rows);
}

TEST(GramKernel, SameInputSameBits) {
  // Determinism: the kernel's order of operations is fixed.
  const int ks = 64, rows = 300;
  std::vector<float> v(rows * ks), t(rows);
  for (int i = 0; i < rows * ks; ++i) v[i] = std::sin(0.37f * i);
  for (int q = 0; q < rows; ++q) t[q] = std::cos(1.3f * q);
  std::vector<float> a(ks * ks), b(ks * ks), s(2 * ks), u(2 * ks);
  tile_gram_rows(v.data(), 0, rows, ks, a.data());
  tile_sums(v.data(), rows, ks, t.data(), s.data(), s.data() + ks);
  tile_gram_rows(v.data(), 0, rows, ks, b.data());
  tile_sums(v.data(), rows, ks, t.data(), u.data(), u.data() + ks);
  for (int j = 0; j < ks; ++j)
    for (int i = j; i < ks; ++i) ASSERT_EQ(a[j * ks + i], b[j * ks + i]);
  EXPECT_EQ(s, u);
  // Chunk by chunk, as the gather interleaves it: the same bits.
  std::vector<float> c(ks * ks);
  const std::int64_t chunk = tile_gram_chunk_rows(ks);
  for (std::int64_t q0 = 0; q0 < rows; q0 += chunk)
    tile_gram_rows(v.data() + q0 * ks, q0, std::min<std::int64_t>(rows, q0 + chunk), ks, c.data());
  for (int j = 0; j < ks; ++j)
    for (int i = j; i < ks; ++i) ASSERT_EQ(a[j * ks + i], c[j * ks + i]);
}

TEST(GramKernel, GatherWithSumsGivesTheTileAndTileSumsBits) {
  // The Cholesky path's gather adds V^T 1 and V^T t as it copies, chunk by
  // chunk: the same tile, targets and bits as gathering, then tile_sums.
  const int k = 64, rows = 250, table_rows = 1000;
  const std::int64_t stride = k + 1;
  std::vector<float> table(table_rows * stride);
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = std::sin(0.011f * static_cast<float>(i));
  std::vector<std::int32_t> cols(rows);
  std::vector<float> values(rows);
  for (int q = 0; q < rows; ++q) cols[q] = (q * 37) % table_rows, values[q] = 1.f + static_cast<float>(q % 5);
  const GatherSource source{table.data(), stride, nullptr, nullptr, k, true, 3.5f};
  std::vector<float> tile(rows * k), t(rows), column_sums(k), vt_t(k);
  TargetSums sums;
  for (std::int64_t q0 = 0; q0 < rows; q0 += 96)
    tile_gather_sums(source, cols.data(), values.data(), q0, std::min<std::int64_t>(rows, q0 + 96), rows,
                     tile.data() + q0 * k, t.data(), column_sums.data(), vt_t.data(), sums);
  for (int q = 0; q < rows; ++q) {
    const float* src = table.data() + cols[q] * stride;
    for (int d = 0; d < k; ++d) ASSERT_EQ(tile[q * k + d], src[d]);
    ASSERT_EQ(t[q], values[q] - 3.5f - src[k]);
  }
  std::vector<float> want_sums(k), want_vt_t(k);
  const TargetSums want = tile_sums(tile.data(), rows, k, t.data(), want_sums.data(), want_vt_t.data());
  EXPECT_EQ(sums.sum, want.sum);
  EXPECT_EQ(sums.squares, want.squares);
  EXPECT_EQ(column_sums, want_sums);
  EXPECT_EQ(vt_t, want_vt_t);
}

}  // namespace
}  // namespace dals
