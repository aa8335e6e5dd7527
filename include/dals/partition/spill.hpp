#pragma once
/// @file spill.hpp
/// @brief Temporary files for out-of-core work: a scratch directory that
/// removes itself, buffered append-only spill files, and chunked readers.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dals/core/error.hpp"

namespace dals {

/// @brief A directory created on construction and removed, with everything
/// in it, on destruction: on success and on failure alike.
class ScratchDir {
 public:
  ScratchDir() = default;
  /// Creates `path` (and its parents); Error if it cannot.
  explicit ScratchDir(std::string path);
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir& operator=(ScratchDir&& other) noexcept;
  ~ScratchDir() { remove(); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void remove() noexcept;

 private:
  std::string path_;
};

/// @brief Memory shared by several SpillStores: the cap on their in-memory parts.
struct MemoryPool {
  explicit MemoryPool(std::uint64_t bytes) : cap(bytes) {}
  std::uint64_t cap;
  std::uint64_t used = 0;
  std::uint64_t spilled = 0;  ///< bytes written to disk so far
};

/// @brief Numbered parts (buckets) of appended bytes that live in memory
/// while the pool has room and move to a file each when it has not.
///
/// So a run whose data fits in its budget never touches the disk, and a
/// larger one spills all it must and no more. A part's file holds its
/// earlier bytes and memory the later ones: readers see them in append
/// order. Files are opened only to append, so there may be more parts than
/// the process may hold open; a part never spilled has no file.
class SpillStore {
 public:
  SpillStore() = default;
  SpillStore(std::vector<std::string> paths, MemoryPool& pool);
  SpillStore(SpillStore&& other) noexcept { *this = std::move(other); }
  SpillStore& operator=(SpillStore&& other) noexcept;
  SpillStore(const SpillStore&) = delete;
  SpillStore& operator=(const SpillStore&) = delete;
  ~SpillStore() { release_memory(); }

  void append(std::size_t part, const void* data, std::size_t bytes) {
    auto& chunks = memory_[part];
    if (chunks.empty() || chunks.back().size + bytes > chunks.back().capacity) {
      if (pool_->used + bytes > pool_->cap && memory_bytes_ >= spill_threshold_) spill();
      grow(part, bytes);
    }
    Chunk& c = chunks.back();
    std::memcpy(c.data.get() + c.size, data, bytes);
    c.size += bytes;
    sizes_[part] += bytes;
  }
  /// Appends `count` records of `size` bytes, in pieces of at most 64 KiB
  /// (chunks then come in a few sizes that the allocator reuses well).
  void append_records(std::size_t part, const void* data, std::size_t count, std::size_t size) {
    const std::size_t per_piece = std::max<std::size_t>(1, (64u << 10) / size);
    const char* p = static_cast<const char*>(data);
    for (std::size_t done = 0; done < count; done += per_piece) {
      const std::size_t n = std::min(per_piece, count - done);
      append(part, p + done * size, n * size);
    }
  }
  /// Writes every part's memory to its file.
  void spill();
  /// Bytes in a part (on disk and in memory).
  std::uint64_t size(std::size_t part) const { return sizes_[part]; }
  std::size_t parts() const { return paths_.size(); }
  const std::string& path(std::size_t part) const { return paths_[part]; }
  /// The whole part as records; the part is left empty (its file removed).
  template <class T>
  std::vector<T> take(std::size_t part) {
    std::vector<T> out;
    take_into(part, out);
    return out;
  }
  /// The same into `out`, reusing its memory.
  template <class T>
  void take_into(std::size_t part, std::vector<T>& out);
  /// Calls f(std::span<const T>) on the part's records, chunk by chunk, in append order.
  template <class T, class F>
  void read(std::size_t part, F&& f) const;
  /// Empties a part (memory and file).
  void clear(std::size_t part);

 private:
  // Memory comes in chunks that double up to 1 MiB: appending never moves
  // earlier bytes, and a small part stays small. A unit never straddles two
  // chunks, so each chunk holds whole records.
  struct Chunk {
    std::unique_ptr<char[]> data;
    std::size_t size = 0, capacity = 0;
  };
  void grow(std::size_t part, std::size_t bytes);
  void release_memory();
  std::vector<std::string> paths_;
  std::vector<std::vector<Chunk>> memory_;
  std::vector<std::uint64_t> sizes_;
  std::uint64_t memory_bytes_ = 0, spill_threshold_ = 0;
  MemoryPool* pool_ = nullptr;
};

/// Appends bytes to a file (creating it); Error naming it on failure.
void append_to_file(const std::string& path, const void* data, std::size_t bytes);

/// @brief Reads a file of fixed-size records in chunks of `chunk_records`.
template <class T>
class RecordReader {
 public:
  RecordReader(const std::string& path, std::size_t chunk_records);
  ~RecordReader() {
    if (file_ != nullptr) std::fclose(file_);
  }
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;
  /// The next chunk (empty at the end). Error on a read failure or a
  /// partial record.
  std::span<const T> next();

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<T> buffer_;
};

/// Reads a whole file of records (an empty vector if the file does not exist).
template <class T>
std::vector<T> read_records(const std::string& path);

/// Size of a file in bytes, 0 if it does not exist.
std::uint64_t file_size_or_zero(const std::string& path);

// ------------------------------------------------------------------ templates

template <class T>
RecordReader<T>::RecordReader(const std::string& path, std::size_t chunk_records) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");  // missing: an empty file (and no buffer needed)
  if (file_ != nullptr) buffer_.resize(std::max<std::size_t>(chunk_records, 1));
}

template <class T>
std::span<const T> RecordReader<T>::next() {
  if (file_ == nullptr) return {};
  const std::size_t got = std::fread(buffer_.data(), sizeof(T), buffer_.size(), file_);
  if (got < buffer_.size()) {
    const bool failed = std::ferror(file_) != 0;
    const long tail = std::ftell(file_);
    std::fclose(file_);
    file_ = nullptr;
    if (failed) throw Error(path_ + ": read failed");
    if (tail >= 0 && tail % static_cast<long>(sizeof(T)) != 0)
      throw Error(path_ + ": temporary file ends inside a record (disk full, or removed while in use?)");
  }
  return {buffer_.data(), got};
}

template <class T>
std::vector<T> read_records(const std::string& path) {
  const std::uint64_t bytes = file_size_or_zero(path);
  std::vector<T> out(bytes / sizeof(T));
  RecordReader<T> reader(path, 1 << 16);
  std::size_t at = 0;
  for (auto chunk = reader.next(); !chunk.empty(); chunk = reader.next()) {
    if (at + chunk.size() > out.size()) throw Error(path + ": temporary file grew while being read");
    std::copy(chunk.begin(), chunk.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
    at += chunk.size();
  }
  out.resize(at);
  return out;
}

template <class T>
void SpillStore::take_into(std::size_t part, std::vector<T>& out) {
  out.clear();
  {
    RecordReader<T> reader(paths_[part], std::max<std::size_t>(1, (1 << 20) / sizeof(T)));
    for (auto chunk = reader.next(); !chunk.empty(); chunk = reader.next())
      out.insert(out.end(), chunk.begin(), chunk.end());
  }
  std::size_t at = out.size();
  for (const Chunk& c : memory_[part]) at += c.size / sizeof(T);
  out.resize(at);
  at = out.size();
  for (auto it = memory_[part].rbegin(); it != memory_[part].rend(); ++it) {
    at -= it->size / sizeof(T);
    std::memcpy(static_cast<void*>(out.data() + at), it->data.get(), it->size / sizeof(T) * sizeof(T));
  }
  clear(part);
}

template <class T, class F>
void SpillStore::read(std::size_t part, F&& f) const {
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "memory parts are read in place");
  {
    RecordReader<T> reader(paths_[part], std::max<std::size_t>(1, (1 << 20) / sizeof(T)));
    for (auto chunk = reader.next(); !chunk.empty(); chunk = reader.next()) f(chunk);
  }
  for (const Chunk& c : memory_[part])
    if (c.size > 0) f(std::span<const T>(reinterpret_cast<const T*>(c.data.get()), c.size / sizeof(T)));
}

}  // namespace dals
