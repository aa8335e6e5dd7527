// CG's tile kernels against sums in double, for every width class (rows
// taken four at a time up to 64 factors, one or two at a time above, the
// generic loop past 160) and for row counts around the group sizes; and
// their variants that must agree bit for bit: half tiles with float tiles
// holding the same values, the fused gather with the gather followed by the
// pass, a row's results wherever it sits in the tile.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "dals/solve/tile_kernels.hpp"

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

// A float sum of n terms, in any order and with any pairing into FMAs, is
// within n u sum |terms| of the exact sum (u = 2^-24); twice that here.
double rounding_bound(std::int64_t n, double sum_of_magnitudes) {
  return 2.0 * static_cast<double>(n + 1) * std::ldexp(1.0, -24) * sum_of_magnitudes + 1e-30;
}

// Arrays one entry per row, with guard entries after the last: the kernels
// must write exactly `rows` of them.
constexpr int kGuard = 5;
constexpr float kGuardValue = -7.25f;
std::vector<float> guarded(std::int64_t rows) { return std::vector<float>(rows + kGuard, kGuardValue); }
void expect_guards_intact(const std::vector<float>& v, std::int64_t rows, const char* what) {
  for (int g = 0; g < kGuard; ++g)
    EXPECT_EQ(v[rows + g], kGuardValue) << what << ": written past its " << rows << " rows";
}

// Each result against double sums within the rounding bound; each sum over
// rows against the kernel's own per-row results, so that the bound is that
// of one sum (the per-row results are checked first).
TEST(TileKernels, NormalProductMatchesDoubleSums) {
  for (int ks : kWidths)
    for (std::int64_t rows : kRows) {
      const std::string at = "ks=" + std::to_string(ks) + " rows=" + std::to_string(rows);
      std::mt19937 gen(static_cast<unsigned>(ks * 1000 + rows));
      const Tile tile = exact_tile(rows, ks, gen);
      const std::vector<float> p = random_vector(ks, gen);
      const float pb = 0.375f;
      std::vector<float> yp = guarded(rows), ap(ks, -1.f);
      const NormalSums got = tile_normal_product(tile.floats.data(), rows, ks, p.data(), pb, yp.data(), ap.data());
      expect_guards_intact(yp, rows, "yp");
      double norm = 0, norm_bound = 0, total = 0, total_bound = 0;
      for (std::int64_t q = 0; q < rows; ++q) {
        double d = pb, magnitude = std::abs(pb);
        for (int j = 0; j < ks; ++j) {
          const double term = static_cast<double>(tile.floats[q * ks + j]) * p[j];
          d += term, magnitude += std::abs(term);
        }
        ASSERT_NEAR(yp[q], d, rounding_bound(ks + 1, magnitude)) << at << " row " << q;
        norm += static_cast<double>(yp[q]) * yp[q], total += yp[q];
        norm_bound += static_cast<double>(yp[q]) * yp[q], total_bound += std::abs(yp[q]);
      }
      for (int j = 0; j < ks; ++j) {
        double a = 0, magnitude = 0;
        for (std::int64_t q = 0; q < rows; ++q) {
          const double term = static_cast<double>(tile.floats[q * ks + j]) * yp[q];
          a += term, magnitude += std::abs(term);
        }
        ASSERT_NEAR(ap[j], a, rounding_bound(rows, magnitude)) << at << " column " << j;
      }
      EXPECT_NEAR(got.norm, norm, rounding_bound(rows, norm_bound)) << at;
      EXPECT_NEAR(got.sum, total, rounding_bound(rows, total_bound)) << at;

      // The same values as halves: the same arithmetic, the same bits in the
      // register-resident kernels (up to 160 factors). The generic loop past
      // them leaves the compiler free to pair its multiplies and adds into
      // FMAs differently per element type (at -O2 it does, for the norm):
      // there, equal within rounding.
      std::vector<float> yp_half = guarded(rows), ap_half(ks);
      const NormalSums half =
          tile_normal_product(tile.halves.data(), rows, ks, p.data(), pb, yp_half.data(), ap_half.data());
      expect_guards_intact(yp_half, rows, "yp from halves");
      if (ks <= 160) {
        EXPECT_EQ(yp_half, yp) << at;
        EXPECT_EQ(ap_half, ap) << at;
        EXPECT_EQ(half.norm, got.norm) << at;
        EXPECT_EQ(half.sum, got.sum) << at;
      } else {
        for (std::int64_t q = 0; q < rows; ++q) EXPECT_NEAR(yp_half[q], yp[q], 1e-6 * (std::abs(yp[q]) + 1)) << at;
        EXPECT_NEAR(half.norm, got.norm, 2 * rounding_bound(rows, norm_bound)) << at;
        EXPECT_NEAR(half.sum, got.sum, 2 * rounding_bound(rows, total_bound)) << at;
      }
    }
}

// Without ap (CG's last step), the same yp and sums, bit for bit, from
// float and half tiles, in every width class, and yp written exactly.
TEST(TileKernels, NormalProductWithoutGradientGivesTheSameBits) {
  for (int ks : kWidths)
    for (std::int64_t rows : kRows) {
      const std::string at = "ks=" + std::to_string(ks) + " rows=" + std::to_string(rows);
      std::mt19937 gen(static_cast<unsigned>(ks * 1000 + rows + 7));
      const Tile tile = exact_tile(rows, ks, gen);
      const std::vector<float> p = random_vector(ks, gen);
      const float pb = -0.625f;
      auto expect_same_without_gradient = [&](const auto* v, const char* what) {
        std::vector<float> yp = guarded(rows), ap(ks), yp_only = guarded(rows);
        const NormalSums with = tile_normal_product(v, rows, ks, p.data(), pb, yp.data(), ap.data());
        const NormalSums without = tile_normal_product(v, rows, ks, p.data(), pb, yp_only.data(), nullptr);
        expect_guards_intact(yp_only, rows, what);
        EXPECT_EQ(yp_only, yp) << what << " " << at;
        EXPECT_EQ(without.norm, with.norm) << what << " " << at;
        EXPECT_EQ(without.sum, with.sum) << what << " " << at;
      };
      expect_same_without_gradient(tile.floats.data(), "float tile");
      expect_same_without_gradient(tile.halves.data(), "half tile");
    }
}

TEST(TileKernels, ResidualGradientMatchesDoubleSums) {
  for (int ks : kWidths)
    for (std::int64_t rows : kRows) {
      const std::string at = "ks=" + std::to_string(ks) + " rows=" + std::to_string(rows);
      std::mt19937 gen(static_cast<unsigned>(ks * 1000 + rows + 7));
      const Tile tile = exact_tile(rows, ks, gen);
      const std::vector<float> x = random_vector(ks, gen), t = random_vector(rows, gen);
      const float xb = -0.25f;
      std::vector<float> e = guarded(rows), r(ks, -1.f);
      const float e_sum =
          tile_residual_gradient(tile.floats.data(), rows, ks, x.data(), xb, t.data(), e.data(), r.data());
      expect_guards_intact(e, rows, "e");
      double total = 0, total_bound = 0;
      for (std::int64_t q = 0; q < rows; ++q) {
        double d = t[q] - static_cast<double>(xb), magnitude = std::abs(t[q]) + std::abs(xb);
        for (int j = 0; j < ks; ++j) {
          const double term = static_cast<double>(tile.floats[q * ks + j]) * x[j];
          d -= term, magnitude += std::abs(term);
        }
        ASSERT_NEAR(e[q], d, rounding_bound(ks + 2, magnitude)) << at << " row " << q;
        total += e[q], total_bound += std::abs(e[q]);
      }
      for (int j = 0; j < ks; ++j) {
        double g = 0, magnitude = 0;
        for (std::int64_t q = 0; q < rows; ++q) {
          const double term = static_cast<double>(tile.floats[q * ks + j]) * e[q];
          g += term, magnitude += std::abs(term);
        }
        ASSERT_NEAR(r[j], g, rounding_bound(rows, magnitude)) << at << " column " << j;
      }
      EXPECT_NEAR(e_sum, total, rounding_bound(rows, total_bound)) << at;
    }
}

// Up to 64 factors a row's results have the same bits wherever it sits: in
// a full group of four or among the last rows (the tile padded with zeros).
TEST(TileKernels, RowResultsDoNotDependOnTheRowsPosition) {
  for (int ks : {16, 32, 48, 64}) {
    const std::int64_t rows = 7;  // rows 0-3 a full group, 4-6 the last
    std::mt19937 gen(static_cast<unsigned>(ks));
    const Tile tile = exact_tile(rows, ks, gen);
    const std::vector<float> p = random_vector(ks, gen), t = random_vector(rows, gen);
    for (std::int64_t last : {4, 5, 6}) {
      // Rows 1 and `last` swapped.
      std::vector<float> swapped = tile.floats, swapped_t = t;
      std::swap_ranges(swapped.begin() + 1 * ks, swapped.begin() + 2 * ks, swapped.begin() + last * ks);
      std::swap(swapped_t[1], swapped_t[last]);
      std::vector<float> yp(rows), yp_swapped(rows), ap(ks), e(rows), e_swapped(rows), r(ks);
      tile_normal_product(tile.floats.data(), rows, ks, p.data(), 0.5f, yp.data(), ap.data());
      tile_normal_product(swapped.data(), rows, ks, p.data(), 0.5f, yp_swapped.data(), ap.data());
      tile_residual_gradient(tile.floats.data(), rows, ks, p.data(), 0.5f, t.data(), e.data(), r.data());
      tile_residual_gradient(swapped.data(), rows, ks, p.data(), 0.5f, swapped_t.data(), e_swapped.data(), r.data());
      EXPECT_EQ(yp[1], yp_swapped[last]) << "ks=" << ks << " row 1 moved to " << last;
      EXPECT_EQ(yp[last], yp_swapped[1]) << "ks=" << ks << " row " << last << " moved to 1";
      EXPECT_EQ(e[1], e_swapped[last]) << "ks=" << ks << " row 1 moved to " << last;
      EXPECT_EQ(e[last], e_swapped[1]) << "ks=" << ks << " row " << last << " moved to 1";
    }
  }
}

// A non-finite entry in one row makes that row's result and the sums over
// rows non-finite (CG then counts the row as not solved), wherever the row
// sits; the zero rows that pad the last group add nothing, and the other
// rows' results keep their bits.
TEST(TileKernels, NonFiniteRowsStayNonFinite) {
  for (int ks : {32, 64, 80})
    for (std::int64_t bad : {1, 4}) {  // in the full group, among the last rows
      const std::int64_t rows = 5;
      std::mt19937 gen(static_cast<unsigned>(ks + bad));
      const Tile tile = exact_tile(rows, ks, gen);
      std::vector<float> broken = tile.floats;
      broken[bad * ks + 3] = std::numeric_limits<float>::infinity();
      const std::vector<float> p = random_vector(ks, gen), t = random_vector(rows, gen);
      std::vector<float> yp(rows), ap(ks), yp_clean(rows), e(rows), e_clean(rows), r(ks);
      const NormalSums sums = tile_normal_product(broken.data(), rows, ks, p.data(), 0.5f, yp.data(), ap.data());
      const float e_sum = tile_residual_gradient(broken.data(), rows, ks, p.data(), 0.5f, t.data(), e.data(), r.data());
      tile_normal_product(tile.floats.data(), rows, ks, p.data(), 0.5f, yp_clean.data(), ap.data());
      tile_residual_gradient(tile.floats.data(), rows, ks, p.data(), 0.5f, t.data(), e_clean.data(), r.data());
      const std::string at = "ks=" + std::to_string(ks) + " bad row " + std::to_string(bad);
      EXPECT_FALSE(std::isfinite(yp[bad])) << at;
      EXPECT_FALSE(std::isfinite(e[bad])) << at;
      EXPECT_FALSE(std::isfinite(sums.norm)) << at;
      EXPECT_FALSE(std::isfinite(e_sum)) << at;
      for (std::int64_t q = 0; q < rows; ++q) {
        if (q == bad) continue;
        EXPECT_EQ(yp[q], yp_clean[q]) << at << " row " << q;
        EXPECT_EQ(e[q], e_clean[q]) << at << " row " << q;
      }
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
      const float want_sum =
          tile_residual_gradient(want_tile.data(), rows, ks, x.data(), xb, want_t.data(), want_e.data(), want_r.data());

      const GatherSource half_source{nullptr, 0, half_table.data(), half_biases.data(), k, true, mean};
      std::vector<GatherSource> sources{half_source};
      if (tile_gather_fuses(k)) sources.push_back(GatherSource{table.data(), stride, nullptr, nullptr, k, true, mean});
      for (const GatherSource& source : sources) {
        const char* from = source.half_table ? "half table" : "float table";
        std::vector<float> tile(rows * ks, -1.f), t(rows), e(rows), r(ks);
        const float sum = tile_gather_residual_gradient(source, cols.data(), values.data(), rows, tile.data(), t.data(),
                                                        x.data(), xb, e.data(), r.data());
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
