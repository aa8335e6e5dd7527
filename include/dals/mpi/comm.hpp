#pragma once
/// @file comm.hpp
/// @brief An owning MPI communicator with typed, checked collectives.
///
/// Every MPI call is checked, in release builds too; a failure becomes an
/// Error carrying MPI_Error_string, the call, file and line. For that the
/// owner sets MPI_ERRORS_RETURN on its communicator: under MPI's default
/// handler (MPI_ERRORS_ARE_FATAL, which a dup inherits) a failing call
/// aborts the job before any check can see it. The owner dups its
/// communicator so that dals' messages never mix with a caller's. No raw
/// MPI_Comm leaves this room: the collectives the tools need are typed
/// members here (and Exchange, exchange.hpp).

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "dals/core/error.hpp"
#include "dals/mpi/watchdog.hpp"

namespace dals {

/// Throws Error naming the MPI call, file and line if rc is not MPI_SUCCESS.
void check_mpi(int rc, const char* call, const char* file, int line);
#define DALS_MPI(call) ::dals::check_mpi((call), #call, __FILE__, __LINE__)

template <class T>
MPI_Datatype mpi_type() {
  if constexpr (std::is_same_v<T, float>)
    return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>)
    return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return MPI_INT32_T;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return MPI_INT64_T;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return MPI_UINT64_T;
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return MPI_UINT8_T;
  else if constexpr (std::is_same_v<T, char>)
    return MPI_CHAR;
  else
    static_assert(sizeof(T) == 0, "no MPI datatype for this type");
}

/// MPI counts are int: narrows a 64-bit count or throws.
int checked_count(std::int64_t count, const char* what);

class Comm {
 public:
  /// Dups `base` (MPI_COMM_WORLD by default).
  explicit Comm(MPI_Comm base = MPI_COMM_WORLD);
  Comm(const Comm&) = delete;  // two owners would free the communicator twice
  Comm& operator=(const Comm&) = delete;
  Comm(Comm&& other) noexcept;
  Comm& operator=(Comm&&) = delete;
  /// Frees the dup unless MPI is already finalized; never throws.
  ~Comm() noexcept;

  MPI_Comm get() const { return comm_; }  // for the MPI room's own code (exchange.cpp)
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  void barrier() const;

  template <class T>
  T allreduce(T value, MPI_Op op) const {
    T out{};
    const CollectiveWatch watch("MPI_Allreduce");
    DALS_MPI(MPI_Allreduce(&value, &out, 1, mpi_type<T>(), op, comm_));
    return out;
  }
  template <class T>
  void allreduce_inplace(std::span<T> values, MPI_Op op) const {
    const CollectiveWatch watch("MPI_Allreduce");
    DALS_MPI(MPI_Allreduce(MPI_IN_PLACE, values.data(), checked_count(values.size(), "allreduce"), mpi_type<T>(), op,
                           comm_));
  }
  template <class T>
  T sum(T value) const {
    return allreduce(value, MPI_SUM);
  }
  template <class T>
  T max(T value) const {
    return allreduce(value, MPI_MAX);
  }

  /// Logical AND over ranks: true only if every rank passed true.
  bool all_true(bool ok) const;

  template <class T>
  void broadcast(std::span<T> values, int root = 0) const {
    const CollectiveWatch watch("MPI_Bcast");
    DALS_MPI(MPI_Bcast(values.data(), checked_count(values.size(), "broadcast"), mpi_type<T>(), root, comm_));
  }
  std::string broadcast_string(const std::string& text, int root = 0) const;

  /// Sum of `value` over the ranks before this one (0 on rank 0).
  template <class T>
  T exscan_sum(T value) const {
    T out{};
    const CollectiveWatch watch("MPI_Exscan");
    DALS_MPI(MPI_Exscan(&value, &out, 1, mpi_type<T>(), MPI_SUM, comm_));
    return rank_ == 0 ? T{} : out;
  }

  /// Every rank's `mine`, concatenated in rank order; `counts[r]` is rank
  /// r's size (all ranks pass the same counts).
  template <class T>
  std::vector<T> allgatherv(std::span<const T> mine, const std::vector<std::int64_t>& counts) const {
    std::vector<int> sizes(size_), displs(size_);
    std::int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      sizes[r] = checked_count(counts[r], "allgatherv");
      displs[r] = checked_count(total, "allgatherv displacement");
      total += counts[r];
    }
    std::vector<T> out(static_cast<std::size_t>(total));
    const CollectiveWatch watch("MPI_Allgatherv");
    DALS_MPI(MPI_Allgatherv(mine.data(), sizes[rank_], mpi_type<T>(), out.data(), sizes.data(), displs.data(),
                            mpi_type<T>(), comm_));
    return out;
  }

  /// The ranks of this communicator that share this rank's node (MPI_COMM_TYPE_SHARED).
  Comm split_shared() const;

  /// One value from every rank, in rank order.
  template <class T>
  std::vector<T> allgather(T value) const {
    std::vector<T> out(size_);
    const CollectiveWatch watch("MPI_Allgather");
    DALS_MPI(MPI_Allgather(&value, 1, mpi_type<T>(), out.data(), 1, mpi_type<T>(), comm_));
    return out;
  }

  /// In-place all-gather of rows of `width` elements: rank r contributes
  /// rows [first[r], first[r] + count[r]) of `table`. Counts are in rows,
  /// with a contiguous row datatype, so they stay far below INT_MAX even
  /// when the element count does not.
  template <class T>
  void allgather_rows(T* table, int width, const std::vector<std::int64_t>& first,
                      const std::vector<std::int64_t>& count) const {
    allgather_rows_raw(table, mpi_type<T>(), width, first, count);
  }

 private:
  void allgather_rows_raw(void* table, MPI_Datatype element, int width, const std::vector<std::int64_t>& first,
                          const std::vector<std::int64_t>& count) const;

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

/// Thrown on every rank once the ranks agreed that one of them failed; the
/// failing rank has already printed its error.
struct AgreedFailure {
  int exit_code;
};

/// Runs `step` on every rank and agrees on the outcome: if any rank threw an
/// Error, the lowest such rank prints "<tool>: error: <message>" (Log::error,
/// core/log.hpp) and every rank throws AgreedFailure{exit_code}. A
/// collective: all ranks must call it.
///
/// AgreedFailure (and UsageError) are deliberately not std::exception: a
/// `catch (const std::exception&)` on the way up cannot swallow them, so an
/// agreed failure always reaches the tool's start (mpi/tool_main.hpp).
void run_collectively(const Comm& comm, const std::function<void()>& step, int exit_code = 1);

/// Like run_collectively, but a failure is returned instead of thrown: ""
/// if every rank succeeded, else the message of the lowest failing rank, on
/// every rank. For steps whose failure has a fallback (a damaged checkpoint
/// is skipped for an older one). A collective: all ranks must call it.
std::string try_collectively(const Comm& comm, const std::function<void()>& step);

}  // namespace dals
