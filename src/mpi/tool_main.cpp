#include "dals/mpi/tool_main.hpp"

#include <cstdio>
#include <new>

#include "dals/core/log.hpp"

namespace dals {

namespace {
// A failure the other ranks did not agree on: only MPI_Abort ends the job.
[[noreturn]] void abort_job(int rank, const std::string& what, int code) {
  std::fprintf(stderr, "%s: error (rank %d): %s\n", Log::tool().c_str(), rank, escape_control(what).c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; in case it does
}
}  // namespace

int run_mpi_tool(const std::string& tool, int& argc, char**& argv, const std::function<void(const Comm&)>& body) {
  Log::set_tool(tool);
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  Log::set_rank(rank);
  int exit_code = 0;
  try {
    Comm comm;  // freed before MPI_Finalize
    body(comm);
  } catch (const AgreedFailure& failure) {
    exit_code = failure.exit_code;
  } catch (const UsageError& e) {
    abort_job(rank, e.message, 2);
  } catch (const std::bad_alloc&) {
    abort_job(rank, "out of memory", 1);
  } catch (const std::exception& e) {
    abort_job(rank, e.what(), 1);
  } catch (...) {
    abort_job(rank, "unknown failure", 1);
  }
  MPI_Finalize();
  return exit_code;
}

int run_tool(const std::string& tool, const std::function<int()>& body) {
  Log::set_tool(tool);
  try {
    return body();
  } catch (const UsageError& e) {
    Log::error("%s (see --help)", e.message.c_str());
    return 2;
  } catch (const std::bad_alloc&) {
    Log::error("out of memory");
  } catch (const std::exception& e) {
    Log::error("%s", e.what());
  } catch (...) {
    Log::error("unknown failure");
  }
  return 1;
}

bool parse_collectively(const Comm& comm, const std::function<ParseOutcome(std::string& text)>& parse) {
  ParseOutcome outcome = ParseOutcome::run;
  std::string text;
  run_collectively(
      comm,
      [&] {
        try {
          outcome = parse(text);
        } catch (const UsageError& e) {
          throw Error(e.message + " (see --help)");
        }
      },
      2);
  if (outcome == ParseOutcome::help_shown && comm.is_root()) std::fputs(text.c_str(), stdout);
  return outcome == ParseOutcome::run;
}

}  // namespace dals
