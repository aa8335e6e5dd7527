#pragma once
/// @file hdf5_file.hpp
/// @brief RAII access to HDF5 files with checked calls and checksummed arrays.
///
/// Every array written through H5File carries a `checksum` attribute over its
/// bytes; every read verifies it, so a flipped byte or a truncated file is an
/// Error naming the file and dataset, never garbage handed to a kernel.
/// HDF5's own error printing is switched off: its innermost message is folded
/// into the Error text instead.

#include <hdf5.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dals/core/error.hpp"

namespace dals {

/// @brief Owns one HDF5 identifier and closes it exactly once.
class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id() = default;
  H5Id(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = H5I_INVALID_HID; }
  H5Id& operator=(H5Id&& other) noexcept;
  ~H5Id() { reset(); }
  hid_t get() const { return id_; }
  void reset() noexcept;
  /// Gives up ownership without closing.
  hid_t release() noexcept {
    hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// @brief Maps a C++ element type to its native HDF5 type.
template <class T>
hid_t h5_native_type();

/// @brief One open HDF5 file. Created files are truncated; opened ones are
/// read-only. Errors name the file path.
class H5File {
 public:
  static H5File create(const std::string& path);
  static H5File open(const std::string& path);

  const std::string& path() const { return path_; }

  /// Writes a 1-D array (or 2-D when cols > 0: rows x cols, row-major) and its checksum.
  template <class T>
  void write(const std::string& name, std::span<const T> data, std::uint64_t cols = 0);

  /// Reads a whole array, checking element type and checksum. For a 2-D
  /// array, *cols receives the column count (0 for 1-D); without `cols` the
  /// array must be 1-D (an error otherwise). Before anything is
  /// allocated, the declared extent must be stored whole in the file (no
  /// unwritten chunks, no filters, no more than the file's size).
  template <class T>
  std::vector<T> read(const std::string& name, std::uint64_t* cols = nullptr) const;

  /// Like read(), but the array must declare exactly `count` elements (rows
  /// x cols for 2-D), checked before anything is allocated. `source` names
  /// where the count comes from in the error ("the manifest"), if given.
  template <class T>
  std::vector<T> read_exact(const std::string& name, std::uint64_t count, std::uint64_t* cols = nullptr,
                            const char* source = nullptr) const;

  bool has(const std::string& name) const;
  /// Whether array `name` (which must exist) stores elements of type T.
  template <class T>
  bool holds(const std::string& name) const;

  /// The element count an array declares (rows x cols for 2-D); nothing is
  /// read or allocated, so callers can compare it with what they expect.
  std::uint64_t elements(const std::string& name) const;

  /// Every attribute read checks, before reading, that the attribute holds
  /// exactly one element (scalar) of the expected class: an integer of at
  /// most 8 bytes, a floating-point number of at most 8 bytes, or a
  /// fixed-length string of at most 4 KiB. Errors name the file and the
  /// attribute.

  void set_attribute(const std::string& name, std::int64_t value);
  void set_attribute(const std::string& name, double value);
  void set_attribute(const std::string& name, const std::string& value);
  std::int64_t int_attribute(const std::string& name) const;
  double double_attribute(const std::string& name) const;
  std::string string_attribute(const std::string& name) const;

  /// Flushes HDF5's buffers and closes the file; errors are reported here
  /// rather than lost in a destructor.
  void close();

 private:
  H5File(std::string path, hid_t id);
  template <class T>
  std::vector<T> read_checked(const std::string& name, const std::uint64_t* expected, std::uint64_t* cols,
                              const char* source) const;
  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  H5Id file_;
};

/// @brief The innermost message on HDF5's error stack ("" if none).
std::string h5_last_error();

}  // namespace dals
