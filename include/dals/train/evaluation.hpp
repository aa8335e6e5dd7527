#pragma once
/// @file evaluation.hpp
/// @brief Prediction, errors and the ALS objective over a rank's ratings.

#include <cstdint>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/solve/factors.hpp"
#include "dals/solve/solve_params.hpp"

namespace dals {

/// mu + b_i + c_j + u_i . v_j. With a cold user or item (no training
/// ratings) its factors and bias are left out, so an unknown user falls back
/// to mu + c_j, an unknown item to mu + b_i, and both to mu.
double predict(const FactorTable& users, const FactorTable& items, std::int64_t user, std::int64_t item, double mean,
               bool user_known, bool item_known);

/// Sums one rank contributes; reduced over ranks by the caller.
struct ErrorSums {
  double squared_error = 0;
  double absolute_error = 0;  ///< for the MAE
  std::int64_t count = 0;
};

/// Squared and absolute error over the ratings of local user rows (CSR by user).
ErrorSums rating_error(const CsrBlock& by_user, const FactorTable& users, const FactorTable& items, double mean,
                       const std::vector<std::uint8_t>& user_known, const std::vector<std::uint8_t>& item_known);

/// The same over local rows [row_begin, row_end) of `by_user`, whose columns
/// index `items` (the whole side, or a routed chunk's received rows).
/// `user_known[r]`: local row r has training ratings; `item_known[c]`:
/// item column c has.
ErrorSums rating_error_rows(const CsrBlock& by_user, std::int64_t row_begin, std::int64_t row_end,
                            const FactorTable& users, const FactorTable& items, double mean,
                            const std::uint8_t* user_known, const std::uint8_t* item_known);

/// The regularizer's value over local rows: sum of reg_i * |x_i|^2 with
/// reg_i = lambda (l2) or lambda * n_i (weighted), rows with ratings only;
/// implicit: SolveParams::implicit_ridge with the other side's `other_rows`.
double regularization_value(const CsrBlock& local, const FactorTable& table, const SolveParams& params,
                            std::int64_t other_rows);

}  // namespace dals
