#pragma once
/// @file solve_params.hpp
/// @brief What one row's solve needs to know: k, the regularizer and the
/// solver. The kernels' vocabulary, below every option parser (the
/// command line maps onto it in train/config.hpp).

#include <cstdint>
#include <utility>

#include "dals/core/enum_names.hpp"

namespace dals {

enum class Regularization { l2, weighted };

/// How each row's system is solved (row_solver.hpp).
enum class Solver { cholesky, cg };

/// How CG reads the fixed side's factors: as stored (float) or from a
/// half-precision copy (half_factors.hpp), half the bytes per rating.
enum class Precision { single, half };

template <>
struct EnumNames<Regularization> {
  static constexpr std::pair<const char*, Regularization> table[] = {{"l2", Regularization::l2},
                                                                     {"weighted", Regularization::weighted}};
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
  int width() const { return bias ? k + 1 : k; }
  double ridge(std::int64_t degree) const {
    return lambda * (regularization == Regularization::weighted ? static_cast<double>(degree) : 1.0);
  }
};

}  // namespace dals
