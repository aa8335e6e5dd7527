#pragma once
/// @file exchange.hpp
/// @brief A streaming all-to-all: every rank sends records to every rank,
/// with bounded buffers and no collective in the middle.
///
/// A producer (a parser reading its byte range, a pass over sorted buckets)
/// cannot stop at the same moments on every rank, so a round-based
/// MPI_Alltoallv does not fit it. Instead each (channel, destination) has
/// two buffers: one filling, one in flight (MPI_Isend). Whenever a rank
/// waits for a send to complete it keeps receiving, so two ranks sending to
/// each other never deadlock. At the end every rank sends a "done" message
/// to every other; MPI keeps messages between two ranks in order, so when a
/// rank has seen every "done", it has received everything.
///
/// Memory per rank: 2 x (sum of the channels' buffer sizes) x P, plus one
/// receive buffer. Records for the rank itself skip MPI.
///
/// Failure: a rank whose producer fails calls finish(true): it stops
/// sending, still completes the protocol (so nobody waits on it forever),
/// and its "done" carries the failure. Ranks above it may then stop early
/// (lower_rank_failed): the lowest failing rank's error is the one reported,
/// and a rank stops only when its own error could not come first.

#include <cstddef>
#include <exception>
#include <functional>
#include <vector>

#include "dals/mpi/comm.hpp"

namespace dals {

class Exchange {
 public:
  /// Called with every message received on a channel (whole records, in the
  /// order the source sent them).
  using Handler = std::function<void(int source, const char* data, std::size_t bytes)>;

  /// A collective (dups `comm`). Channel c buffers up to buffer_bytes[c] per
  /// destination and hands what it receives to handlers[c].
  Exchange(const Comm& comm, std::vector<std::size_t> buffer_bytes, std::vector<Handler> handlers);
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  ~Exchange();

  /// Queues `bytes` for `dest` on `channel`; a unit is never split between messages.
  void send(int dest, int channel, const void* data, std::size_t bytes) {
    // Receive now and then: a large message is only delivered once its
    // receiver asks for it, so a sender waiting for that must not depend on
    // the receiver being blocked too.
    if (++sends_since_poll_ >= 512) {
      sends_since_poll_ = 0;
      poll();
    }
    queue(dest, channel, data, bytes);
  }
  /// Handles whatever has arrived. send() polls; a long loop that sends
  /// nothing should call it now and then.
  void poll();
  /// Sends what is queued, then "done" to every rank, and receives until every
  /// rank is done. Returns true if any rank finished with failed = true.
  /// Rethrows the first exception a handler threw (later messages are
  /// dropped). Every rank must call it exactly once.
  bool finish(bool failed);
  /// A rank below this one has finished with a failure.
  bool lower_rank_failed() const { return lowest_failed_ < comm_.rank(); }
  std::uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  struct Lane {
    std::vector<char> filling, in_flight;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  Lane& lane(int channel, int dest) { return lanes_[static_cast<std::size_t>(channel) * comm_.size() + dest]; }
  void queue(int dest, int channel, const void* data, std::size_t bytes);
  void post(int channel, int dest);
  bool receive_one();
  void deliver(int channel, int source, const char* data, std::size_t bytes);
  void wait_for(MPI_Request& request);
  void idle();

  Comm comm_;
  std::vector<std::size_t> capacity_;
  std::vector<Handler> handlers_;
  std::vector<Lane> lanes_;
  std::vector<char> receive_buffer_;
  std::vector<MPI_Request> done_requests_;
  int done_failed_flag_ = 0;
  int dones_seen_ = 0;
  int lowest_failed_;
  bool finished_ = false;
  bool discard_ = false;
  std::exception_ptr handler_error_;
  std::uint64_t bytes_sent_ = 0;
  int sends_since_poll_ = 0;
  int idle_spins_ = 0;
};

}  // namespace dals
