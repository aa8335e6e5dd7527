#pragma once
/// @file early_stopping.hpp
/// @brief --early-stopping N: the rule that ends a run once the validation
/// RMSE has not improved for N iterations, and remembers the best one.
///
/// Only a strictly lower RMSE is an improvement, so of equal ones the
/// earliest is kept (fewer iterations, the same error). The state is a
/// function of the sequence of RMSEs alone: a resumed run rebuilds it from
/// the metrics of the iterations before (observe() each again).

#include <limits>

namespace dals {

class EarlyStopping {
 public:
  explicit EarlyStopping(int patience) : patience_(patience) {}

  bool enabled() const { return patience_ > 0; }
  /// One finished iteration's validation RMSE; true where it is the best so far.
  bool observe(int iteration, double validation_rmse) {
    if (!(validation_rmse < best_rmse_)) return false;  // NaN is never an improvement
    best_rmse_ = validation_rmse;
    best_iteration_ = iteration;
    return true;
  }
  /// Whether the run should end after `iterations_done`: N iterations
  /// since the best (none observed yet: never).
  bool should_stop(int iterations_done) const {
    return enabled() && best_iteration_ >= 0 && iterations_done - best_iteration_ >= patience_;
  }
  int best_iteration() const { return best_iteration_; }
  double best_rmse() const { return best_rmse_; }

 private:
  int patience_;
  int best_iteration_ = -1;
  double best_rmse_ = std::numeric_limits<double>::infinity();
};

}  // namespace dals
