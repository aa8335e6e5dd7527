#include "dals/partition/text_reader.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"

namespace dals {

namespace {
std::string errno_text() { return std::strerror(errno); }
constexpr std::size_t kGzipInput = 1 << 20;
}  // namespace

struct LineReader::Gzip {
  z_stream z{};
  std::vector<unsigned char> in = std::vector<unsigned char>(kGzipInput);
  bool member_ended = false;  // the last inflate() call ended a gzip member
  bool input_eof = false;
  Gzip() {
    if (inflateInit2(&z, 15 + 32) != Z_OK) throw Error("zlib: cannot initialize inflate");
  }
  ~Gzip() { inflateEnd(&z); }
};

bool is_gzip_file(const std::string& path) {
  require_regular_file(path);
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(path + ": cannot open: " + errno_text());
  unsigned char magic[2] = {0, 0};
  const ssize_t n = ::pread(fd, magic, 2, 0);
  ::close(fd);
  return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

LineReader::LineReader(const std::string& path, bool gzip, std::uint64_t begin, std::uint64_t end,
                       std::size_t buffer_bytes)
    : path_(path),
      gzip_(gzip),
      begin_(gzip ? 0 : begin),
      end_(gzip ? std::numeric_limits<std::uint64_t>::max() : end),
      file_pos_(begin_),
      data_pos_(0),
      buf_(std::max<std::size_t>(buffer_bytes, 4096)) {
  require_regular_file(path);
  fd_ = ::open(path.c_str(), O_RDONLY);
  if (fd_ < 0) throw Error(path + ": cannot open: " + errno_text());
  if (gzip_) gz_ = std::make_unique<Gzip>();
  if (gzip_ || begin_ == 0) return;
  // Start one byte early: the range's first line starts at `begin` only if
  // the byte before it ends a line; otherwise it belongs to the previous range.
  file_pos_ = data_pos_ = begin_ - 1;
  while (true) {
    if (fill() == 0) {  // no line starts in this range
      pos_ = fill_;
      return;
    }
    const void* nl = std::memchr(buf_.data(), '\n', fill_);
    if (nl != nullptr) {
      pos_ = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data()) + 1;
      return;
    }
    data_pos_ += fill_;
    fill_ = 0;
  }
}

LineReader::~LineReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t LineReader::read_raw(char* out, std::size_t max) {
  if (!gzip_) {
    while (true) {
      const ssize_t n = ::pread(fd_, out, max, static_cast<off_t>(file_pos_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(path_ + ": read failed: " + errno_text());
      file_pos_ += static_cast<std::uint64_t>(n);
      return static_cast<std::size_t>(n);
    }
  }
  Gzip& g = *gz_;
  g.z.next_out = reinterpret_cast<unsigned char*>(out);
  g.z.avail_out = static_cast<uInt>(std::min<std::size_t>(max, std::numeric_limits<uInt>::max()));
  while (g.z.avail_out > 0) {
    if (g.z.avail_in == 0 && !g.input_eof) {
      ssize_t n;
      do n = ::read(fd_, g.in.data(), g.in.size());
      while (n < 0 && errno == EINTR);
      if (n < 0) throw Error(path_ + ": read failed: " + errno_text());
      file_pos_ += static_cast<std::uint64_t>(n);
      g.input_eof = n == 0;
      g.z.next_in = g.in.data();
      g.z.avail_in = static_cast<uInt>(n);
    }
    if (g.z.avail_in == 0 && g.input_eof) {
      if (!g.member_ended) throw Error(path_ + ": truncated gzip data: the file ends inside the compressed stream");
      break;
    }
    if (g.member_ended) {  // another member follows: gzip files may be concatenated
      inflateReset(&g.z);
      g.member_ended = false;
    }
    const int rc = inflate(&g.z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      g.member_ended = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw Error(path_ + ": damaged gzip data at compressed byte " + std::to_string(file_pos_ - g.z.avail_in) +
                  " (zlib: " + (g.z.msg != nullptr ? g.z.msg : "error " + std::to_string(rc)) + ")");
    }
    if (g.z.avail_out < max) break;  // return what we have; the caller asks again
  }
  return max - g.z.avail_out;
}

std::size_t LineReader::fill() {
  if (eof_) return 0;
  const std::size_t n = read_raw(buf_.data() + fill_, buf_.size() - fill_);
  if (n == 0) eof_ = true;
  fill_ += n;
  return n;
}

bool LineReader::next(TextLine& line) {
  while (true) {
    const std::uint64_t start = data_pos_ + pos_;
    if (start >= end_) return false;
    const void* nl = std::memchr(buf_.data() + pos_, '\n', fill_ - pos_);
    std::size_t stop;
    if (nl != nullptr) {
      stop = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data());
    } else if (eof_) {
      if (pos_ == fill_) return false;
      stop = fill_;
    } else if (pos_ == 0 && fill_ == buf_.size()) {
      // No newline in a full buffer: report the line's beginning, skip the rest.
      long_line_.assign(buf_.data(), 80);
      line.text = long_line_;
      line.offset = start;
      line.too_long = true;
      ++lines_;
      data_pos_ += fill_;
      fill_ = 0;
      while (fill() > 0) {
        const void* end_of_line = std::memchr(buf_.data(), '\n', fill_);
        if (end_of_line != nullptr) {
          pos_ = static_cast<std::size_t>(static_cast<const char*>(end_of_line) - buf_.data()) + 1;
          break;
        }
        data_pos_ += fill_;
        fill_ = 0;
      }
      return true;
    } else {
      if (pos_ > 0) {
        std::memmove(buf_.data(), buf_.data() + pos_, fill_ - pos_);
        data_pos_ += pos_;
        fill_ -= pos_;
        pos_ = 0;
      }
      fill();
      continue;
    }
    std::size_t len = stop - pos_;
    if (len > 0 && buf_[pos_ + len - 1] == '\r') --len;
    line.text = std::string_view(buf_.data() + pos_, len);
    line.offset = start;
    line.too_long = false;
    pos_ = std::min(stop + 1, fill_);
    ++lines_;
    return true;
  }
}

std::int64_t count_lines_before(const std::string& path, bool gzip, std::uint64_t offset) {
  LineReader reader(path, gzip, 0, std::numeric_limits<std::uint64_t>::max(), 1 << 20);
  TextLine line;
  std::int64_t n = 0;
  while (reader.next(line) && line.offset < offset) ++n;
  return n;
}

std::string line_at(const std::string& path, bool gzip, std::uint64_t offset, std::size_t max) {
  LineReader reader(path, gzip, gzip ? 0 : offset, std::numeric_limits<std::uint64_t>::max(), 1 << 20);
  TextLine line;
  while (reader.next(line))
    if (line.offset >= offset) return std::string(line.text.substr(0, max)) + (line.text.size() > max ? "..." : "");
  return "";
}

}  // namespace dals
