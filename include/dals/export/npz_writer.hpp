#pragma once
/// @file npz_writer.hpp
/// @brief numpy's .npz (a zip of .npy files, stored uncompressed), written
/// by our own code: numpy.load(path, allow_pickle=False) reads it.
///
/// An .npy file is a header ("\x93NUMPY", version 1.0, a Python dict literal
/// of dtype, order and shape, padded to 64 bytes) and the raw little-endian
/// data in C order. The zip holds them as stored entries with their CRC32
/// (zlib's): no compression, since factors barely compress and numpy then
/// reads an entry at disk speed. An entry is streamed: its local header is
/// written first and its CRC patched in once the data are through, so a
/// large array is never copied whole. Entries or offsets past 4 GiB get
/// zip64 records (Python's zipfile, which numpy uses, reads them).

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dals {

/// The .npy header of an array: `descr` a numpy dtype string ("<f4", "<i8",
/// "|u1", "<U12"), `shape` its dimensions ({} for a 0-d array).
std::string npy_header(const std::string& descr, const std::vector<std::int64_t>& shape);

class NpzWriter {
 public:
  /// Creates `path` (truncating it). Error naming it on failure.
  explicit NpzWriter(const std::string& path);
  ~NpzWriter();
  NpzWriter(const NpzWriter&) = delete;
  NpzWriter& operator=(const NpzWriter&) = delete;

  /// Starts entry NAME.npy of `bytes` bytes in all (header included), which
  /// write() must then supply exactly before the next begin() or finish().
  void begin(const std::string& name, std::uint64_t bytes);
  void write(const void* data, std::uint64_t bytes);
  /// One whole array: header and data.
  void add(const std::string& name, const std::string& descr, const std::vector<std::int64_t>& shape,
           std::span<const std::byte> data);

  /// Ends the last entry, writes the central directory and closes the
  /// file. Error naming the file if anything failed.
  void finish();

  /// Tests: use zip64 records from this entry size or offset on (default
  /// 0xFFFFFFFF, where plain zip fields run out).
  void set_zip64_threshold(std::uint64_t bytes) { zip64_from_ = bytes; }

 private:
  struct Entry {
    std::string name;
    std::uint64_t offset = 0, size = 0;
    std::uint32_t crc = 0;
    bool zip64 = false;
  };
  void end_entry();
  void put(const void* data, std::size_t bytes);
  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<Entry> entries_;
  std::uint64_t offset_ = 0, left_ = 0;
  bool open_entry_ = false;
  std::uint64_t zip64_from_ = 0xFFFFFFFFu;
};

}  // namespace dals
