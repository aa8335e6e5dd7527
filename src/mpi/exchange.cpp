#include "dals/mpi/exchange.hpp"

#include <time.h>

#include <climits>
#include <cstring>

namespace dals {
namespace {
constexpr int kDoneTag = 1000;  // channel c uses tag c
}  // namespace

Exchange::Exchange(const Comm& comm, std::vector<std::size_t> buffer_bytes, std::vector<Handler> handlers)
    : comm_(comm.get()),
      capacity_(std::move(buffer_bytes)),
      handlers_(std::move(handlers)),
      lanes_(capacity_.size() * static_cast<std::size_t>(comm.size())),
      lowest_failed_(comm.size()) {
  // Channel c's messages carry tag c: they must stay below the "done" tag.
  if (capacity_.size() >= static_cast<std::size_t>(kDoneTag) || handlers_.size() != capacity_.size())
    throw Error("internal: an Exchange takes fewer than " + std::to_string(kDoneTag) +
                " channels, each with a buffer size and a handler");
  for (auto& c : capacity_) c = std::min<std::size_t>(std::max<std::size_t>(c, 64), INT_MAX / 2);
}

Exchange::~Exchange() {
  // Only reached without finish() when the program is already failing: let
  // MPI release what is still in flight rather than wait for it.
  for (auto& l : lanes_)
    if (l.request != MPI_REQUEST_NULL) MPI_Request_free(&l.request);
  for (auto& r : done_requests_)
    if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);
}

void Exchange::idle() {
  // Spin briefly (a message is often just about to arrive), then sleep:
  // ranks may outnumber cores (tests oversubscribe), and a spinning rank
  // would take the core from the one it waits for.
  if (++idle_spins_ < 64) return;
  idle_spins_ = 0;
  timespec pause{0, 20'000};
  nanosleep(&pause, nullptr);
}

void Exchange::deliver(int channel, int source, const char* data, std::size_t bytes) {
  if (discard_) return;
  try {
    handlers_[channel](source, data, bytes);
  } catch (...) {
    if (!finished_) throw;  // the producer's caller sees it and calls finish(true)
    handler_error_ = std::current_exception();
    discard_ = true;
  }
}

bool Exchange::receive_one() {
  int flag = 0;
  MPI_Status status;
  DALS_MPI(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_.get(), &flag, &status));
  if (!flag) return false;
  idle_spins_ = 0;
  int count = 0;
  DALS_MPI(MPI_Get_count(&status, MPI_BYTE, &count));
  if (receive_buffer_.size() < static_cast<std::size_t>(count)) receive_buffer_.resize(count);
  DALS_MPI(MPI_Recv(receive_buffer_.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm_.get(),
                    MPI_STATUS_IGNORE));
  if (status.MPI_TAG == kDoneTag) {
    ++dones_seen_;
    int failed = 0;
    std::memcpy(&failed, receive_buffer_.data(), sizeof failed);
    if (failed) lowest_failed_ = std::min(lowest_failed_, status.MPI_SOURCE);
  } else {
    deliver(status.MPI_TAG, status.MPI_SOURCE, receive_buffer_.data(), static_cast<std::size_t>(count));
  }
  return true;
}

void Exchange::poll() {
  while (receive_one()) {
  }
}

void Exchange::wait_for(MPI_Request& request) {
  while (request != MPI_REQUEST_NULL) {
    int done = 0;
    DALS_MPI(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (done) break;
    // Receiving while we wait is what keeps two ranks that send to each
    // other from blocking each other.
    if (!receive_one()) idle();
  }
}

void Exchange::post(int channel, int dest) {
  Lane& l = lane(channel, dest);
  if (l.filling.empty()) return;
  if (dest == comm_.rank()) {
    deliver(channel, dest, l.filling.data(), l.filling.size());
    l.filling.clear();
    return;
  }
  poll();
  wait_for(l.request);
  std::swap(l.filling, l.in_flight);
  l.filling.clear();
  bytes_sent_ += l.in_flight.size();
  DALS_MPI(MPI_Isend(l.in_flight.data(), static_cast<int>(l.in_flight.size()), MPI_BYTE, dest, channel, comm_.get(),
                     &l.request));
}

void Exchange::queue(int dest, int channel, const void* data, std::size_t bytes) {
  Lane& l = lane(channel, dest);
  const std::size_t cap = capacity_[channel];
  if (l.filling.size() + bytes > cap) post(channel, dest);
  if (l.filling.capacity() < cap) l.filling.reserve(cap);
  const char* p = static_cast<const char*>(data);
  if (bytes > cap) {  // larger than a whole buffer: it travels alone
    if (bytes > INT_MAX) throw Error("internal: exchange unit of " + std::to_string(bytes) + " bytes");
    l.filling.assign(p, p + bytes);
    post(channel, dest);
    return;
  }
  l.filling.insert(l.filling.end(), p, p + bytes);
}

bool Exchange::finish(bool failed) {
  finished_ = true;  // from here on a handler's exception is kept for the end
  if (failed) {
    discard_ = true;
    for (auto& l : lanes_) l.filling.clear();
  } else {
    for (int c = 0; c < static_cast<int>(capacity_.size()); ++c)
      for (int d = 0; d < comm_.size(); ++d) post(c, d);
  }
  done_failed_flag_ = failed ? 1 : 0;
  if (failed) lowest_failed_ = std::min(lowest_failed_, comm_.rank());
  done_requests_.assign(comm_.size(), MPI_REQUEST_NULL);
  for (int d = 0; d < comm_.size(); ++d)
    if (d != comm_.rank())
      DALS_MPI(MPI_Isend(&done_failed_flag_, sizeof done_failed_flag_, MPI_BYTE, d, kDoneTag, comm_.get(),
                         &done_requests_[d]));
  // Until every rank is done, keep receiving; then make sure our own sends
  // have completed (their buffers are ours to free).
  while (dones_seen_ < comm_.size() - 1)
    if (!receive_one()) idle();
  for (auto& l : lanes_) wait_for(l.request);
  for (auto& r : done_requests_) wait_for(r);
  if (handler_error_) std::rethrow_exception(handler_error_);
  return lowest_failed_ < comm_.size();
}

}  // namespace dals
