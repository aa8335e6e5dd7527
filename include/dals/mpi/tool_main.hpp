#pragma once
/// @file tool_main.hpp
/// @brief The one way a dals tool starts and ends: every main() is a call
/// of run_mpi_tool (or, for a tool without MPI, run_tool).
///
/// Failure is decided here, once (STYLE.md, MPI): an AgreedFailure (the
/// ranks agreed that one failed, and it has spoken: comm.hpp) is the exit
/// code every rank returns, after MPI_Finalize on every rank; any other
/// exception was not agreed, so other ranks may be waiting in a collective,
/// and only MPI_Abort ends the job without a hang.

#include <functional>
#include <string>

#include "dals/core/option_table.hpp"
#include "dals/mpi/comm.hpp"

namespace dals {

/// Initializes MPI, names the tool for the logger (core/log.hpp), runs
/// `body` with a communicator over all ranks, and finalizes.
int run_mpi_tool(const std::string& tool, int& argc, char**& argv, const std::function<void(const Comm&)>& body);

/// The same catch ladder for a single-process tool: UsageError exits 2
/// ("TOOL: error: ... (see --help)"), any other failure 1, with one line.
int run_tool(const std::string& tool, const std::function<int()>& body);

/// Collective: runs the tool's command-line parse on every rank and agrees
/// on it. A UsageError or Error on any rank ends every rank with exit code 2
/// (the message printed once, "(see --help)" added to a usage error); so a
/// config file unreadable on one node cannot leave the others waiting.
/// --help or --version: rank 0 prints `parse`'s text and it returns false
/// (the tool has nothing more to do); true: run.
bool parse_collectively(const Comm& comm, const std::function<ParseOutcome(std::string& text)>& parse);

}  // namespace dals
