#pragma once
/// @file crash_point.hpp
/// @brief Deterministic crash injection for the kill tests.
///
/// A SIGKILL from outside lands at a random moment; whether it hits the few
/// milliseconds of a checkpoint write is luck. Crash points make those
/// moments reachable on purpose: with
///
///     DALS_TEST_CRASH=POINT:RANK:N
///
/// in the environment, the process of rank RANK kills itself with SIGKILL
/// the N-th time (1-based) it reaches crash_point("POINT"), exactly as if the
/// node had died there. Without the variable a crash point costs one getenv
/// on the first call. Points: `blocks-written` (a rank's factor blocks are on
/// disk, the directory is not yet sealed), `sealed` (rank 0 wrote state.json
/// and COMPLETE, before the rename into place) and `published` (after it).

namespace dals {

/// Kills this process with SIGKILL if DALS_TEST_CRASH names this point, this
/// rank and this occurrence. Otherwise does nothing.
void crash_point(const char* point, int rank);

/// With DALS_TEST_SIGNAL=POINT:RANK:N in the environment, rank RANK sends
/// itself SIGTERM the N-th time it reaches signal_point("POINT"), as a batch
/// system would, at a moment a test can name. Point: `user-half` (a user
/// half is about to start; the next stop check is at its end).
void signal_point(const char* point, int rank);

/// With DALS_TEST_READY=PREFIX in the environment, creates the empty file
/// PREFIX.rankR.ready (R = rank); otherwise does nothing. dals-train calls it
/// right after MPI_Init: the kill test draws its random kills only once every
/// rank is past MPI_Init, because a rank killed while it is still connecting
/// to Open MPI 4.1's launcher can leave mpirun hanging (PMIx "UNREACHABLE"),
/// a launcher's fault the job cannot prevent or observe.
void announce_ready(int rank);

}  // namespace dals
