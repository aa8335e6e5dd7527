#include "dals/evaluation.hpp"

namespace dals {

double predict(const FactorTable& users, const FactorTable& items, std::int64_t user, std::int64_t item, double mean,
               bool user_known, bool item_known) {
  double p = mean;
  if (user_known) p += users.bias(user);
  if (item_known) p += items.bias(item);
  if (user_known && item_known) {
    const float* u = users.row(user);
    const float* v = items.row(item);
    float dot = 0.f;
    for (int d = 0; d < users.k(); ++d) dot += u[d] * v[d];
    p += dot;
  }
  return p;
}

ErrorSums rating_error(const CsrBlock& by_user, const FactorTable& users, const FactorTable& items, double mean,
                       const std::vector<std::uint8_t>& user_known, const std::vector<std::uint8_t>& item_known) {
  ErrorSums sums;
  double sse = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : sse)
  for (std::int64_t r = 0; r < by_user.rows(); ++r) {
    const std::int64_t user = by_user.first_row + r;
    for (std::int64_t p = by_user.indptr[r]; p < by_user.indptr[r + 1]; ++p) {
      const std::int64_t item = by_user.indices[p];
      const double e = by_user.values[p] - predict(users, items, user, item, mean, user_known[user], item_known[item]);
      sse += e * e;
    }
  }
  sums.squared_error = sse;
  sums.count = by_user.nnz();
  return sums;
}

double regularization_value(const CsrBlock& local, const FactorTable& table, const SolveParams& params) {
  double total = 0;
  const int w = params.width();
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (std::int64_t r = 0; r < local.rows(); ++r) {
    const std::int64_t degree = local.degree(r);
    if (degree == 0) continue;
    const float* x = table.row(local.first_row + r);
    double norm = 0;
    for (int d = 0; d < w; ++d) norm += static_cast<double>(x[d]) * x[d];
    total += params.lambda * (params.regularization == Regularization::weighted ? degree : 1) * norm;
  }
  return total;
}

}  // namespace dals
