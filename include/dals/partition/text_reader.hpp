#pragma once
/// @file text_reader.hpp
/// @brief Reads the lines of a byte range of a text file, plain or gzip.
///
/// Parallel readers split a plain file by byte ranges: a range [begin, end)
/// owns the lines that *start* inside it, so neighbouring ranges meet on a
/// line boundary without talking to each other. A gzip file (detected by its
/// magic bytes 1f 8b, not its name) cannot be entered in the middle and is
/// always read whole; concatenated gzip members are read one after another.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dals {

/// True if the file starts with the gzip magic bytes. Error if it cannot be opened.
bool is_gzip_file(const std::string& path);

/// @brief One line as read: its text (no '\n', no trailing '\r') and where it starts.
struct TextLine {
  std::string_view text;
  std::uint64_t offset = 0;  ///< byte offset of its first character (uncompressed, for gzip)
  bool too_long = false;     ///< longer than the buffer: `text` is its beginning only
};

class LineReader {
 public:
  /// Reads the lines starting in [begin, end) of `path` (a gzip file must be
  /// read whole: begin 0, end UINT64_MAX). `buffer_bytes` bounds the memory
  /// and the longest line (longer lines come back with too_long set).
  LineReader(const std::string& path, bool gzip, std::uint64_t begin, std::uint64_t end, std::size_t buffer_bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// The next line, false at the end of the range. Error (naming the file and
  /// the line after which it happened) on a read error or damaged gzip data.
  bool next(TextLine& line);
  /// Lines returned so far.
  std::int64_t lines() const { return lines_; }
  /// File bytes consumed so far (compressed bytes for gzip), for progress.
  std::uint64_t bytes_read() const { return file_pos_ - begin_; }

 private:
  std::size_t fill();  // appends to buf_, returns bytes added (0 at EOF)
  std::size_t read_raw(char* out, std::size_t max);

  std::string path_;
  bool gzip_;
  int fd_ = -1;
  std::uint64_t begin_, end_;
  std::uint64_t file_pos_;  // next file byte to read
  std::uint64_t data_pos_;  // uncompressed offset of buf_[0]
  std::vector<char> buf_;
  std::size_t pos_ = 0, fill_ = 0;
  bool eof_ = false;
  std::int64_t lines_ = 0;
  std::string long_line_;  // the beginning of a line too long for the buffer
  struct Gzip;
  std::unique_ptr<Gzip> gz_;
};

/// Number of '\n' bytes in [0, offset) of a file (its line number there,
/// minus one), for messages about a line found by offset. Reads the prefix.
std::int64_t count_lines_before(const std::string& path, bool gzip, std::uint64_t offset);

/// The line starting at `offset` (uncompressed), cut to `max` bytes.
std::string line_at(const std::string& path, bool gzip, std::uint64_t offset, std::size_t max = 80);

}  // namespace dals
