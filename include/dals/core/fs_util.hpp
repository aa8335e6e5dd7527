#pragma once
/// @file fs_util.hpp
/// @brief Durable file writes and atomic directory replacement.

#include <string>

namespace dals {

/// Writes `text` to `path` through a temporary sibling, fsyncs it and renames
/// it into place, so readers see the old file or the new one, never half.
void write_file_atomic(const std::string& path, const std::string& text);

/// Reads a whole text file; Error naming the file if it cannot.
std::string read_text_file(const std::string& path);

/// fsyncs a file or directory (directories make renames durable).
void fsync_path(const std::string& path);

/// Moves a finished temporary directory to `dest`. If `dest` exists it is
/// replaced only when `replace` is true (the old one is renamed aside first
/// and removed after the new one is in place); otherwise Error.
void publish_directory(const std::string& tmp, const std::string& dest, bool replace);

}  // namespace dals
