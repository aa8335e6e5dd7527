#include "dals/train/evaluation.hpp"

#include <cmath>

#include "dals/solve/simd_vectors.hpp"

namespace dals {
namespace {

// u . v over k entries: sixteen running sums, then the last k % 16 in
// order; a fixed order for a given k. (One running sum was a chain of k
// dependent adds: the test RMSE of a Netflix-shaped run took about 43 ns a
// rating, a tenth of CG's iteration time.)
float factor_dot(const float* u, const float* v, int k) {
  simd::Vec16 acc{};
  int d = 0;
  for (; d + 16 <= k; d += 16) acc += simd::load(u + d) * simd::load(v + d);
  float dot = simd::sum(acc);
  for (; d < k; ++d) dot += u[d] * v[d];
  return dot;
}

}  // namespace

double predict(const FactorTable& users, const FactorTable& items, std::int64_t user, std::int64_t item, double mean,
               bool user_known, bool item_known) {
  double p = mean;
  if (user_known) p += users.bias(user);
  if (item_known) p += items.bias(item);
  if (user_known && item_known) {
    p += factor_dot(users.row(user), items.row(item), users.k());
  }
  return p;
}

ErrorSums rating_error_rows(const CsrBlock& by_user, std::int64_t row_begin, std::int64_t row_end,
                            const FactorTable& users, const FactorTable& items, double mean,
                            const std::uint8_t* user_known, const std::uint8_t* item_known) {
  ErrorSums sums;
  double sse = 0, sae = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : sse, sae)
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const std::int64_t user = by_user.first_row + r;
    for (std::int64_t p = by_user.indptr[r]; p < by_user.indptr[r + 1]; ++p) {
      const std::int64_t item = by_user.indices[p];
      const double e = by_user.values[p] - predict(users, items, user, item, mean, user_known[r], item_known[item]);
      sse += e * e;
      sae += std::fabs(e);
    }
  }
  sums.squared_error = sse;
  sums.absolute_error = sae;
  sums.count = row_end > row_begin ? by_user.indptr[row_end] - by_user.indptr[row_begin] : 0;
  return sums;
}

ErrorSums rating_error(const CsrBlock& by_user, const FactorTable& users, const FactorTable& items, double mean,
                       const std::vector<std::uint8_t>& user_known, const std::vector<std::uint8_t>& item_known) {
  return rating_error_rows(by_user, 0, by_user.rows(), users, items, mean, user_known.data() + by_user.first_row,
                           item_known.data());
}

double regularization_value(const CsrBlock& local, const FactorTable& table, const SolveParams& params,
                            std::int64_t other_rows) {
  double total = 0;
  const int w = params.width();
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (std::int64_t r = 0; r < local.rows(); ++r) {
    const std::int64_t degree = local.degree(r);
    if (degree == 0) continue;
    const float* x = table.row(local.first_row + r);
    if (params.implicit || !params.bias || params.bias_ridge_same()) {
      double norm = 0;
      for (int d = 0; d < w; ++d) norm += static_cast<double>(x[d]) * x[d];
      total += params.implicit ? params.implicit_ridge(degree, other_rows) * norm : params.ridge(degree) * norm;
    } else {  // --bias-lambda: the bias coordinate (the last) has its own
      double norm = 0;
      for (int d = 0; d < params.k; ++d) norm += static_cast<double>(x[d]) * x[d];
      const double b = x[params.k];
      total += params.ridge(degree) * norm + params.bias_ridge(degree) * b * b;
    }
  }
  return total;
}

}  // namespace dals
