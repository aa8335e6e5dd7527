#pragma once
/// @file fs_util.hpp
/// @brief Durable file writes and atomic directory replacement.

#include <string>

namespace dals {

/// Writes `text` to `path` through a temporary sibling, fsyncs it and renames
/// it into place, so readers see the old file or the new one, never half.
void write_file_atomic(const std::string& path, const std::string& text);

/// Error "<path>: not a regular file (a named pipe)" (or a directory, a
/// device, a socket) unless PATH, symbolic links followed, is a regular file.
/// It is decided by stat(), without opening: opening a named pipe for
/// reading blocks until a writer comes, forever if none does. A path that
/// does not exist passes, so that the open which follows names it as before.
/// Every reader of an input file calls this first.
void require_regular_file(const std::string& path);

/// Reads a whole regular text file; Error naming the file if it cannot.
std::string read_text_file(const std::string& path);

/// fsyncs a file or directory (directories make renames durable).
void fsync_path(const std::string& path);

/// Moves a finished temporary directory to `dest`. If `dest` exists it is
/// replaced only when `replace` is true (the old one is renamed aside first
/// and removed after the new one is in place); otherwise Error.
void publish_directory(const std::string& tmp, const std::string& dest, bool replace);

}  // namespace dals
