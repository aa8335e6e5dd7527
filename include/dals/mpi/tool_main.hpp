#pragma once
/// @file tool_main.hpp
/// @brief The main() of an MPI tool whose failures are agreed (comm.hpp).

#include <functional>

#include "dals/mpi/comm.hpp"

namespace dals {

/// Initializes MPI, runs `body` with a communicator over all ranks, and
/// finalizes. An AgreedFailure (already reported by the lowest failing
/// rank) becomes the exit code every rank returns; MPI_Finalize is reached
/// on every rank, so no rank is left waiting.
int run_mpi_tool(int& argc, char**& argv, const std::function<void(const Comm&)>& body);

}  // namespace dals
