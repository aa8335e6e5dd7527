#pragma once
/// @file tune.hpp
/// @brief dals-train --tune: a grid search over options in one job.
///
/// `--tune "lambda=0.05,0.1,0.2;lambda-exponent=0,0.5,1;factors=16,64"`
/// trains every combination (the Cartesian product, in the order given, the
/// last option varying fastest) in one process per rank: the dataset's
/// blocks are read again from the page cache for each, not through a new
/// mpirun. Each runs on the validation split (--validation-fraction, 0.1
/// where not given) with early stopping (--early-stopping, 3 where not
/// given) up to --iterations; the winner is the lowest validation RMSE (the
/// earliest of equal ones), and the published model is the winner trained
/// on every training rating for its best iteration count (as Spark's
/// TrainValidationSplit refits on the whole set). Rank 0 prints a table,
/// and --tune-results FILE gets it as JSON.

#include <string>
#include <vector>

#include "dals/mpi/comm.hpp"
#include "dals/train/config.hpp"

namespace dals {

/// One option of the grid and its values, as given.
struct TuneAxis {
  std::string option;  ///< a dals-train option's long name, without "--"
  std::vector<std::string> values;
};

/// Parses --tune's text. Throws Error on a malformed text, an option that
/// is not dals-train's or cannot be searched, one given twice, or an empty
/// value list.
std::vector<TuneAxis> parse_tune_grid(const std::string& text);

/// The combinations of a grid, each as command-line words ("--lambda", "0.1", ...).
std::vector<std::vector<std::string>> tune_combinations(const std::vector<TuneAxis>& axes);

/// Throws Error naming the first combination that is not a valid
/// configuration (before any training starts).
void check_tune(const TrainConfig& config);

/// Collective: trains every combination and returns the winner's
/// configuration for the final training (run_training trains and
/// publishes it). Rank 0 writes --tune-results.
TrainConfig tune_search(const Comm& comm, const TrainConfig& config);

}  // namespace dals
