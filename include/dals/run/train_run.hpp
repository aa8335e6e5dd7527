#pragma once
/// @file train_run.hpp
/// @brief dals-train's whole job: prepare, train, report, publish the model.

#include "dals/mpi/comm.hpp"
#include "dals/train/config.hpp"

namespace dals {

/// Collective. Trains `config.data` and writes the model to
/// `config.output`. Rank 0 prints the progress lines. Throws AgreedFailure
/// (already reported) when any rank fails at an agreed step.
void run_training(const Comm& comm, const TrainConfig& config);

}  // namespace dals
