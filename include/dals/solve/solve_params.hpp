#pragma once
/// @file solve_params.hpp
/// @brief What one row's solve needs to know: k, the regularizer and the
/// solver. The kernels' vocabulary, below every option parser (the
/// command line maps onto it in train/config.hpp).

#include <cmath>
#include <cstdint>
#include <utility>

#include "dals/core/enum_names.hpp"

namespace dals {

/// A row's ridge is lambda * s(n), n its rating count (implicit: its
/// observed entries plus w0 times the other side's rows): l2 s = 1,
/// weighted (ALS-WR) s = n, power s = n^nu (Rendle et al. 2022's
/// frequency-scaled regularization; nu between l2's 0 and weighted's 1).
enum class Regularization { l2, weighted, power };

/// How each row's system is solved (row_solver.hpp).
enum class Solver { cholesky, cg };

/// How CG reads the fixed side's factors: as stored (float) or from a
/// half-precision copy (half_factors.hpp), half the bytes per rating.
enum class Precision { single, half };

/// Implicit feedback (Hu, Koren, Volinsky 2008): how an observed entry's
/// value r becomes its confidence c = 1 + alpha f(r).
enum class Confidence { linear, log };

template <>
struct EnumNames<Regularization> {
  static constexpr std::pair<const char*, Regularization> table[] = {
      {"l2", Regularization::l2}, {"weighted", Regularization::weighted}, {"power", Regularization::power}};
};
template <>
struct EnumNames<Solver> {
  static constexpr std::pair<const char*, Solver> table[] = {{"cholesky", Solver::cholesky}, {"cg", Solver::cg}};
};
template <>
struct EnumNames<Precision> {
  static constexpr std::pair<const char*, Precision> table[] = {{"half", Precision::half},
                                                                {"float", Precision::single}};
};

template <>
struct EnumNames<Confidence> {
  static constexpr std::pair<const char*, Confidence> table[] = {{"linear", Confidence::linear},
                                                                 {"log", Confidence::log}};
};

inline const char* regularization_name(Regularization r) { return enum_name(r); }
inline const char* solver_name(Solver s) { return enum_name(s); }
inline const char* precision_name(Precision p) { return enum_name(p); }

struct SolveParams {
  int k = 0;
  double lambda = 0.0;
  Regularization regularization = Regularization::weighted;
  bool bias = true;
  Solver solver = Solver::cholesky;
  int cg_steps = 3;
  /// CG reads the fixed side from a HalfFactors copy (RowSolver::solve must
  /// be given it): heavy rows' tiles are then sized for halves.
  bool cg_half = false;
  // Implicit feedback (implicit_gramian.hpp, RowSolver::solve_implicit):
  // every cell of the matrix is a preference, 1 where observed with
  // confidence c = 1 + alpha f(r), 0 elsewhere with weight w0; no biases.
  bool implicit = false;
  Confidence confidence = Confidence::linear;
  double alpha = 1.0;
  double epsilon = 1.0;            ///< f(r) = log(1 + r / epsilon) for Confidence::log
  double unobserved_weight = 1.0;  ///< w0, in (0, 1]: below every confidence, so c - w0 > 0
  double exponent = 0.5;           ///< nu of Regularization::power
  double bias_lambda = -1.0;       ///< the biases' lambda; < 0: lambda's
  int width() const { return bias ? k + 1 : k; }
  /// s(n) of the regularizer (see Regularization); pow is exact at nu = 0
  /// and 1, but l2 and weighted do not call it at all.
  double ridge_scale(double count) const {
    switch (regularization) {
      case Regularization::l2:
        return 1.0;
      case Regularization::weighted:
        return count;
      case Regularization::power:
        break;
    }
    return std::pow(count, exponent);
  }
  double ridge(std::int64_t degree) const { return lambda * ridge_scale(static_cast<double>(degree)); }
  /// The bias coordinate's ridge: the same scale with bias_lambda.
  double bias_ridge(std::int64_t degree) const {
    return effective_bias_lambda() * ridge_scale(static_cast<double>(degree));
  }
  double effective_bias_lambda() const { return bias_lambda < 0 ? lambda : bias_lambda; }
  /// The biases are regularized as the factors are (the solvers then take
  /// the paths whose bits predate --bias-lambda).
  bool bias_ridge_same() const { return effective_bias_lambda() == lambda; }
  /// An implicit row's ridge: weighted counts its observed entries plus w0
  /// times the other side's rows, every cell's weight (Rendle et al. 2022).
  double implicit_ridge(std::int64_t degree, std::int64_t other_rows) const {
    return lambda * ridge_scale(static_cast<double>(degree) + unobserved_weight * static_cast<double>(other_rows));
  }
  /// c = 1 + alpha f(r) of an observed entry (r > 0: the trainer checks).
  double confidence_of(float value) const {
    const double f = confidence == Confidence::log ? std::log1p(value / epsilon) : static_cast<double>(value);
    return 1.0 + alpha * f;
  }
  /// What an implicit solve reads per observed entry instead of its value:
  /// s = sqrt(c - w0), the scale of its gathered row (solve_implicit). The
  /// entry's weight is then s^2 + w0 and its target s + w0 / s
  /// (implicit_target), both from s alone.
  float implicit_scale(float value) const {
    return static_cast<float>(std::sqrt(confidence_of(value) - unobserved_weight));
  }
  float implicit_target(float scale) const { return scale + static_cast<float>(unobserved_weight) / scale; }
  /// The part of a row's implicit objective that its solve cannot change:
  /// sum over its entries of c - t^2 (see RowSolver::solve_implicit).
  double implicit_constant(const float* scales, std::int64_t degree) const {
    double sum = 0;
    for (std::int64_t p = 0; p < degree; ++p) {
      const double c = static_cast<double>(scales[p]) * scales[p] + unobserved_weight;
      const double t = implicit_target(scales[p]);
      sum += c - t * t;
    }
    return sum;
  }
};

}  // namespace dals
