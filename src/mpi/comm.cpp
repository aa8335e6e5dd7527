#include "dals/mpi/comm.hpp"

#include "dals/core/log.hpp"

namespace dals {

void check_mpi(int rc, const char* call, const char* file, int line) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string("MPI call failed: ") + call + ": " + std::string(text, len) + " (" + file + ":" +
              std::to_string(line) + ")");
}

int checked_count(std::int64_t count, const char* what) {
  if (count < 0 || count > std::numeric_limits<int>::max())
    throw Error(std::string("internal: MPI count ") + std::to_string(count) + " for " + what + " does not fit in int");
  return static_cast<int>(count);
}

Comm::Comm(MPI_Comm base) {
  const CollectiveWatch watch("MPI_Comm_dup");
  DALS_MPI(MPI_Comm_dup(base, &comm_));
  // Errors return to the caller (and DALS_MPI) instead of aborting the job.
  DALS_MPI(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  DALS_MPI(MPI_Comm_rank(comm_, &rank_));
  DALS_MPI(MPI_Comm_size(comm_, &size_));
}

Comm::Comm(Comm&& other) noexcept : comm_(other.comm_), rank_(other.rank_), size_(other.size_) {
  other.comm_ = MPI_COMM_NULL;
}

Comm::~Comm() noexcept {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void Comm::barrier() const {
  const CollectiveWatch watch("MPI_Barrier");
  DALS_MPI(MPI_Barrier(comm_));
}

Comm Comm::split_shared() const {
  MPI_Comm node = MPI_COMM_NULL;
  const CollectiveWatch watch("MPI_Comm_split_type");
  DALS_MPI(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node));
  Comm out(node);  // dups it, with the same error handler
  MPI_Comm_free(&node);
  return out;
}

bool Comm::all_true(bool ok) const {
  int local = ok ? 1 : 0, global = 0;
  const CollectiveWatch watch("MPI_Allreduce");
  DALS_MPI(MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_LAND, comm_));
  return global != 0;
}

std::string Comm::broadcast_string(const std::string& text, int root) const {
  std::int64_t size = static_cast<std::int64_t>(text.size());
  broadcast(std::span<std::int64_t>(&size, 1), root);
  std::string out = rank_ == root ? text : std::string(static_cast<std::size_t>(size), '\0');
  broadcast(std::span<char>(out.data(), out.size()), root);
  return out;
}

void Comm::allgather_rows_raw(void* table, MPI_Datatype element, int width, const std::vector<std::int64_t>& first,
                              const std::vector<std::int64_t>& count) const {
  MPI_Datatype row;
  DALS_MPI(MPI_Type_contiguous(width, element, &row));
  DALS_MPI(MPI_Type_commit(&row));
  std::vector<int> counts(size_), displs(size_);
  for (int r = 0; r < size_; ++r) {
    counts[r] = checked_count(count[r], "allgather rows");
    displs[r] = checked_count(first[r], "allgather displacement");
  }
  const CollectiveWatch watch("MPI_Allgatherv");
  int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, table, counts.data(), displs.data(), row, comm_);
  MPI_Type_free(&row);
  check_mpi(rc, "MPI_Allgatherv", __FILE__, __LINE__);
}

namespace {
// Runs one rank's part of a collective step; false (and the message) if it threw.
bool run_step(const std::function<void()>& step, std::string& message) {
  try {
    step();
    return true;
  } catch (const Error& e) {
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("unexpected failure: ") + e.what();
  }
  return false;
}
}  // namespace

void run_collectively(const Comm& comm, const std::function<void()>& step, int exit_code) {
  std::string message;
  const bool ok = run_step(step, message);
  if (comm.all_true(ok)) return;
  // The lowest failing rank speaks, so an error that every rank hit (a bad
  // option, a missing directory) is printed once, not P times.
  const int speaker = comm.allreduce(ok ? comm.size() : comm.rank(), MPI_MIN);
  if (comm.rank() == speaker) Log::error("%s", message.c_str());
  throw AgreedFailure{exit_code};
}

std::string try_collectively(const Comm& comm, const std::function<void()>& step) {
  std::string message;
  const bool ok = run_step(step, message);
  if (comm.all_true(ok)) return "";
  const int speaker = comm.allreduce(ok ? comm.size() : comm.rank(), MPI_MIN);
  message = comm.broadcast_string(message, speaker);
  return message.empty() ? "failed" : message;
}

}  // namespace dals
