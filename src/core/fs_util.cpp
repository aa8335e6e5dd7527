#include "dals/core/fs_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dals/core/error.hpp"

namespace dals {
namespace fs = std::filesystem;

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(path + ": cannot open for fsync: " + errno_text());
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  // Some file systems refuse fsync on directories (EINVAL); that is not data loss.
  if (rc != 0 && saved != EINVAL) throw Error(path + ": fsync failed: " + std::strerror(saved));
}

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error(tmp + ": cannot create: " + errno_text());
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string why = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(tmp + ": write failed: " + why);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw Error(tmp + ": fsync/close failed: " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw Error(path + ": rename failed: " + why);
  }
  fsync_path(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().string());
}

void require_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // missing or unreachable: the open says so
  const char* kind = S_ISREG(st.st_mode)    ? nullptr
                     : S_ISFIFO(st.st_mode) ? "a named pipe"
                     : S_ISDIR(st.st_mode)  ? "a directory"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a file";
  if (kind != nullptr) throw Error(path + ": not a regular file (" + kind + ")");
}

std::string read_text_file(const std::string& path) {
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + errno_text());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": read failed");
  return ss.str();
}

void publish_directory(const std::string& tmp, const std::string& dest, bool replace) {
  std::error_code ec;
  const bool exists = fs::exists(dest, ec);
  std::string aside;
  if (exists) {
    if (!replace) throw Error(dest + ": already exists (pass --force to replace it)");
    aside = dest + ".old";
    fs::remove_all(aside, ec);
    if (::rename(dest.c_str(), aside.c_str()) != 0) throw Error(dest + ": cannot move aside: " + errno_text());
  }
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    std::string why = errno_text();
    if (!aside.empty()) ::rename(aside.c_str(), dest.c_str());  // put the old one back
    throw Error(dest + ": cannot rename " + tmp + " into place: " + why);
  }
  fs::path parent = fs::path(dest).parent_path();
  fsync_path(parent.empty() ? "." : parent.string());
  if (!aside.empty()) fs::remove_all(aside, ec);
}

}  // namespace dals
