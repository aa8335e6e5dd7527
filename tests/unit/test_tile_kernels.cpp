// CG's tile kernels against sums in double, for every width class (rows
// taken four at a time up to 64 factors, two at a time above, the generic
// loop past 160) and for row counts around the group sizes; and their
// variants that must agree bit for bit: half tiles with float tiles holding
// the same values, the fused gather with the gather followed by the pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dals/tile_kernels.hpp"

namespace dals {
namespace {

const int kWidths[] = {16, 32, 48, 64, 80, 128, 160, 176};
const std::int64_t kRows[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 63, 202};

std::uint16_t to_half(float x) {
  const _Float16 h = static_cast<_Float16>(x);
  std::uint16_t bits;
  std::memcpy(&bits, &h, sizeof bits);
  return bits;
}

// A tile of values that half precision holds exactly (multiples of 1/64
// below 4 in magnitude), so a float tile and a half one hold the same.
struct Tile {
  std::vector<float> floats;
  std::vector<std::uint16_t> halves;
};
Tile exact_tile(std::int64_t rows, int ks, std::mt19937& gen) {
  std::uniform_int_distribution<int> steps(-255, 255);
  Tile tile;
  tile.floats.resize(static_cast<std::size_t>(rows) * ks);
  for (float& x : tile.floats) x = static_cast<float>(steps(gen)) / 64.f;
  for (float x : tile.floats) tile.halves.push_back(to_half(x));
  return tile;
}

std::vector<float> random_vector(std::size_t n, std::mt19937& gen) {
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(gen);
  return v;
}

// Float sums of `terms` products of magnitude about `scale`.
double tolerance(std::int64_t terms, double scale) { return 1e-5 * (terms + 1) * scale; }

TEST(TileKernels, NormalProductMatchesDoubleSums) {
  for (int ks : kWidths)
    for (std::int64_t rows : kRows) {
      std::mt19937 gen(static_cast<unsigned>(ks * 1000 + rows));
      const Tile tile = exact_tile(rows, ks, gen);
      const std::vector<float> p = random_vector(ks, gen);
      const float pb = 0.375f;
      std::vector<float> yp(rows, -1.f), ap(ks, -1.f);
      const NormalSums got = tile_normal_product(tile.floats.data(), rows, ks, p.data(), pb, yp.data(), ap.data());
      std::vector<double> want_yp(rows);
      double want_norm = 0, want_sum = 0;
      for (std::int64_t q = 0; q < rows; ++q) {
        double d = pb;
        for (int j = 0; j < ks; ++j) d += static_cast<double>(tile.floats[q * ks + j]) * p[j];
        want_yp[q] = d, want_norm += d * d, want_sum += d;
        ASSERT_NEAR(yp[q], d, tolerance(ks, 4)) << "ks=" << ks << " rows=" << rows << " row " << q;
      }
      for (int j = 0; j < ks; ++j) {
        double a = 0;
        for (std::int64_t q = 0; q < rows; ++q) a += tile.floats[q * ks + j] * want_yp[q];
        ASSERT_NEAR(ap[j], a, tolerance(rows * ks, 16)) << "ks=" << ks << " rows=" << rows << " column " << j;
      }
      EXPECT_NEAR(got.norm, want_norm, tolerance(rows * ks, 1) * (want_norm + 1)) << "ks=" << ks << " rows=" << rows;
      EXPECT_NEAR(got.sum, want_sum, tolerance(rows * ks, 16)) << "ks=" << ks << " rows=" << rows;

      // The same values as halves: the same arithmetic, the same bits.
      std::vector<float> yp_half(rows), ap_half(ks);
      const NormalSums half =
          tile_normal_product(tile.halves.data(), rows, ks, p.data(), pb, yp_half.data(), ap_half.data());
      EXPECT_EQ(yp_half, yp) << "ks=" << ks << " rows=" << rows;
      EXPECT_EQ(ap_half, ap) << "ks=" << ks << " rows=" << rows;
      EXPECT_EQ(half.norm, got.norm) << "ks=" << ks << " rows=" << rows;
      EXPECT_EQ(half.sum, got.sum) << "ks=" << ks << " rows=" << rows;
    }
}

TEST(TileKernels, ResidualGradientMatchesDoubleSums) {
  for (int ks : kWidths)
    for (std::int64_t rows : kRows) {
      std::mt19937 gen(static_cast<unsigned>(ks * 1000 + rows + 7));
      const Tile tile = exact_tile(rows, ks, gen);
      const std::vector<float> x = random_vector(ks, gen), t = random_vector(rows, gen);
      const float xb = -0.25f;
      std::vector<float> e(rows, -1.f), r(ks, -1.f);
      const float e_sum = tile_residual_gradient(tile.floats.data(), rows, ks, x.data(), xb, t.data(), e.data(),
                                                 r.data());
      std::vector<double> want_e(rows);
      double want_sum = 0;
      for (std::int64_t q = 0; q < rows; ++q) {
        double d = xb;
        for (int j = 0; j < ks; ++j) d += static_cast<double>(tile.floats[q * ks + j]) * x[j];
        want_e[q] = t[q] - d, want_sum += want_e[q];
        ASSERT_NEAR(e[q], want_e[q], tolerance(ks, 4)) << "ks=" << ks << " rows=" << rows << " row " << q;
      }
      for (int j = 0; j < ks; ++j) {
        double g = 0;
        for (std::int64_t q = 0; q < rows; ++q) g += tile.floats[q * ks + j] * want_e[q];
        ASSERT_NEAR(r[j], g, tolerance(rows * ks, 16)) << "ks=" << ks << " rows=" << rows << " column " << j;
      }
      EXPECT_NEAR(e_sum, want_sum, tolerance(rows * ks, 16)) << "ks=" << ks << " rows=" << rows;
    }
}

// The first CG pass gathers and computes at once; from a float table or a
// half one, into a float tile or a half one, it must give what gathering
// first and then running the pass gives: bit for bit up to 64 factors, where
// both run the same four-row code; within float rounding above, where the
// compiler pairs the row-at-a-time loops' multiplies and adds into FMAs its
// own way in each.
void expect_same(const std::vector<float>& got, const std::vector<float>& want, bool exact, double within,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 1;  // sums that cancel: relative to the largest entry
  for (float x : want) scale = std::max(scale, std::abs(static_cast<double>(x)));
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (exact)
      ASSERT_EQ(got[i], want[i]) << what << " entry " << i;
    else
      ASSERT_NEAR(got[i], want[i], within * scale) << what << " entry " << i;
  }
}

TEST(TileKernels, FusedGatherGivesTheGatherThenThePass) {
  for (int k : {16, 20, 32, 48, 64, 80, 128, 160})
    for (std::int64_t rows : kRows) {
      const int ks = tile_stride(k);
      const std::int64_t table_rows = 300, stride = k + 1;
      std::mt19937 gen(static_cast<unsigned>(k * 1000 + rows + 3));
      // Values half precision holds, so every source gives the same floats.
      const std::vector<float> table = exact_tile(table_rows, k + 1, gen).floats;
      std::vector<std::uint16_t> half_table(table_rows * ks, 0);
      std::vector<float> half_biases(table_rows);
      for (std::int64_t i = 0; i < table_rows; ++i) {
        for (int j = 0; j < k; ++j) half_table[i * ks + j] = to_half(table[i * stride + j]);
        half_biases[i] = table[i * stride + k];
      }
      std::vector<std::int32_t> cols(rows);
      std::vector<float> values(rows);
      for (std::int64_t q = 0; q < rows; ++q)
        cols[q] = static_cast<std::int32_t>((q * 37 + 11) % table_rows), values[q] = 1.f + static_cast<float>(q % 5);
      std::vector<float> x = random_vector(ks, gen);
      std::fill(x.begin() + k, x.end(), 0.f);
      const float xb = 0.5f, mean = 3.5f;
      const bool exact = ks <= 64;
      const double within = 1e-6 * (rows + 1);  // relative
      auto what = [&](const char* from) {
        return std::string(from) + " k=" + std::to_string(k) + " rows=" + std::to_string(rows);
      };

      // What the fused kernels must give: the gathered tile, then the pass.
      std::vector<float> want_tile(rows * ks, 0.f), want_t(rows), want_e(rows), want_r(ks);
      for (std::int64_t q = 0; q < rows; ++q) {
        const float* src = table.data() + cols[q] * stride;
        std::copy(src, src + k, want_tile.begin() + q * ks);
        want_t[q] = values[q] - mean - src[k];
      }
      const float want_sum = tile_residual_gradient(want_tile.data(), rows, ks, x.data(), xb, want_t.data(),
                                                    want_e.data(), want_r.data());

      const GatherSource half_source{nullptr, 0, half_table.data(), half_biases.data(), k, true, mean};
      std::vector<GatherSource> sources{half_source};
      if (tile_gather_fuses(k)) sources.push_back(GatherSource{table.data(), stride, nullptr, nullptr, k, true, mean});
      for (const GatherSource& source : sources) {
        const char* from = source.half_table ? "half table" : "float table";
        std::vector<float> tile(rows * ks, -1.f), t(rows), e(rows), r(ks);
        const float sum = tile_gather_residual_gradient(source, cols.data(), values.data(), rows, tile.data(),
                                                        t.data(), x.data(), xb, e.data(), r.data());
        if (source.half_table) {  // the float table's padding is not copied; the half table's zeros are
          EXPECT_EQ(tile, want_tile) << from << " k=" << k << " rows=" << rows;
        } else {
          for (std::int64_t q = 0; q < rows; ++q)
            for (int j = 0; j < k; ++j) ASSERT_EQ(tile[q * ks + j], want_tile[q * ks + j]) << from << " k=" << k;
        }
        EXPECT_EQ(t, want_t) << from << " k=" << k << " rows=" << rows;
        expect_same(e, want_e, exact, within, what(from));
        expect_same(r, want_r, exact, within, what(from));
        expect_same({sum}, {want_sum}, exact, within, what(from));
      }
      // From the half table into a half tile: the table's halves as they are.
      std::vector<std::uint16_t> half_tile(rows * ks);
      std::vector<float> t(rows), e(rows), r(ks);
      const float sum = tile_gather_residual_gradient(half_source, cols.data(), values.data(), rows, half_tile.data(),
                                                      t.data(), x.data(), xb, e.data(), r.data());
      for (std::int64_t q = 0; q < rows; ++q)
        for (int j = 0; j < ks; ++j) ASSERT_EQ(half_tile[q * ks + j], half_table[cols[q] * ks + j]) << "k=" << k;
      expect_same(e, want_e, exact, within, what("half tile"));
      expect_same(r, want_r, exact, within, what("half tile"));
      expect_same({sum}, {want_sum}, exact, within, what("half tile"));
    }
}

}  // namespace
}  // namespace dals
