#include "dals/partition/spill.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dals {
namespace fs = std::filesystem;

ScratchDir::ScratchDir(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  fs::create_directories(path_, ec);
  if (ec) {
    const std::string p = path_;
    path_.clear();
    throw Error(p + ": cannot create temporary directory: " + ec.message());
  }
}

ScratchDir& ScratchDir::operator=(ScratchDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

void ScratchDir::remove() noexcept {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
  path_.clear();
}

void append_to_file(const std::string& path, const void* data, std::size_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) throw Error(path + ": cannot open temporary file: " + std::strerror(errno));
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "no progress";
      ::close(fd);
      throw Error(path + ": cannot write temporary file: " + why + " (is --tmp-dir full?)");
    }
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw Error(path + ": cannot write temporary file: " + std::strerror(errno));
}

SpillStore::SpillStore(std::vector<std::string> paths, MemoryPool& pool)
    : paths_(std::move(paths)), memory_(paths_.size()), sizes_(paths_.size(), 0), pool_(&pool) {
  // A store spills only once it holds a worthwhile amount, so that a store
  // appended to while others fill the pool writes large pieces, not one
  // record per system call. The pool may be exceeded by that much.
  spill_threshold_ = std::min<std::uint64_t>(pool.cap / 8, std::uint64_t{64 << 10} * paths_.size());
}

SpillStore& SpillStore::operator=(SpillStore&& other) noexcept {
  if (this != &other) {
    release_memory();
    paths_ = std::move(other.paths_);
    memory_ = std::move(other.memory_);
    sizes_ = std::move(other.sizes_);
    memory_bytes_ = other.memory_bytes_;
    spill_threshold_ = other.spill_threshold_;
    pool_ = other.pool_;
    other.memory_bytes_ = 0;
    other.memory_.clear();
  }
  return *this;
}

void SpillStore::grow(std::size_t part, std::size_t bytes) {
  auto& chunks = memory_[part];
  const std::size_t previous = chunks.empty() ? 0 : chunks.back().capacity;
  const std::size_t capacity = std::max(bytes, std::clamp<std::size_t>(2 * previous, 4096, 1 << 20));
  chunks.push_back({std::unique_ptr<char[]>(new char[capacity]), 0, capacity});
  memory_bytes_ += capacity;
  pool_->used += capacity;
}

void SpillStore::release_memory() {
  if (pool_ != nullptr) pool_->used -= memory_bytes_;
  memory_bytes_ = 0;
  for (auto& m : memory_) std::vector<Chunk>().swap(m);
}

void SpillStore::spill() {
  for (std::size_t p = 0; p < memory_.size(); ++p) {
    auto& chunks = memory_[p];
    if (chunks.empty()) continue;
    for (const Chunk& c : chunks) {
      append_to_file(paths_[p], c.data.get(), c.size);
      pool_->spilled += c.size;
      pool_->used -= c.capacity;
      memory_bytes_ -= c.capacity;
    }
    std::vector<Chunk>().swap(chunks);
  }
}

void SpillStore::clear(std::size_t part) {
  for (const Chunk& c : memory_[part]) {
    pool_->used -= c.capacity;
    memory_bytes_ -= c.capacity;
  }
  std::vector<Chunk>().swap(memory_[part]);
  sizes_[part] = 0;
  std::remove(paths_[part].c_str());
}

std::uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<std::uint64_t>(size);
}

}  // namespace dals
