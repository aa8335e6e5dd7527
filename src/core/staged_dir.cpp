#include "dals/core/staged_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"

namespace dals {

OutputKind output_kind_by_manifest(const std::string& name, const std::string& manifest, const std::string& format) {
  return {name, [manifest, format](const std::string& dir) -> std::string {
            namespace fs = std::filesystem;
            const std::string path = dir + "/" + manifest;
            std::error_code ec;
            if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > (1u << 20) || ec)
              return "it has no " + manifest;
            try {
              const nlohmann::json j = nlohmann::json::parse(read_text_file(path));
              if (j.is_object() && j.value("format", "") == format) return "";
            } catch (...) {
            }
            return "its " + manifest + " is not of format " + format;
          }};
}
namespace fs = std::filesystem;

std::string normalize_output_path(const std::string& path) {
  std::string normal = fs::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  const std::string name = fs::path(normal).filename().string();
  if (normal == "/" || name.empty() || name == "." || name == "..")
    throw Error((path.empty() ? std::string("\"\"") : path) +
                ": cannot be an output directory (it must name a directory to create or to replace)");
  return normal;
}

StagedDir::StagedDir(const std::string& dest, bool force, OutputKind kind) : force_(force), kind_(std::move(kind)) {
  try {
    dest_ = normalize_output_path(dest);
  } catch (const Error& e) {
    dest_ = dest;
    path_error_ = e.what();
  }
  staging_ = dest_ + ".tmp";
}

StagedDir::~StagedDir() { discard(); }

void StagedDir::check() const {
  if (!path_error_.empty()) throw Error(path_error_);
  // The parent need not exist yet (create() makes it, as mkdir -p would),
  // but the nearest directory that does must be writable.
  std::error_code ec;
  fs::path parent = fs::path(dest_).parent_path();
  if (parent.empty()) parent = ".";
  fs::file_status parent_status = fs::status(parent, ec);
  while (!fs::exists(parent_status) && parent.has_relative_path() && parent.has_parent_path()) {
    parent = parent.parent_path();
    parent_status = fs::status(parent, ec);
  }
  if (!fs::exists(parent_status) && parent.is_relative()) parent_status = fs::status(parent = ".", ec);
  if (!fs::is_directory(parent_status))
    throw Error(dest_ + ": cannot create: " + parent.string() + " is not a directory");
  // The effective ids, as mkdir will use them. Root passes a permission
  // check but not a read-only file system (EROFS), which create() then meets.
  if (::faccessat(AT_FDCWD, parent.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
    throw Error(dest_ + ": cannot create " + staging_ + ": " + std::strerror(errno));

  const fs::file_status status = fs::symlink_status(dest_, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) throw Error(dest_ + ": cannot inspect: " + ec.message());
  if (!fs::exists(status)) return;
  if (fs::is_symlink(status)) {
    // Renaming onto a link would replace the link, not what it names.
    const std::string target = fs::read_symlink(dest_, ec).string();
    const bool dangling = !fs::exists(dest_, ec);
    throw Error(dest_ + ": is a symbolic link (to " + target + (dangling ? ", which does not exist" : "") +
                "); give the directory itself as the output");
  }
  if (!force_) throw Error(dest_ + ": already exists (pass --force to replace it)");
  if (!fs::is_directory(status))
    throw Error(dest_ + ": exists and is a file, not a " + kind_.name + "; refusing to replace it with --force");
  const bool empty = fs::is_empty(dest_, ec);
  if (ec) throw Error(dest_ + ": cannot list: " + ec.message());
  if (empty) return;  // nothing to lose (an earlier run may have left it)
  const std::string problem = kind_.problem ? kind_.problem(dest_) : "it is not recognised";
  if (!problem.empty())
    throw Error(dest_ + ": exists and is not a " + kind_.name + " (" + problem +
                "); refusing to replace it with --force");
}

void StagedDir::create() {
  check();
  std::error_code ec;
  const fs::path parent = fs::path(dest_).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) throw Error(dest_ + ": cannot create the directory " + parent.string() + ": " + ec.message());
  }
  created_ = true;  // from here on, DEST.tmp is ours to remove
  fs::remove_all(staging_, ec);
  if (ec) throw Error(staging_ + ": cannot remove the stale temporary directory: " + ec.message());
  fs::create_directory(staging_, ec);
  if (ec) throw Error(staging_ + ": cannot create directory: " + ec.message());
}

namespace {

// Every regular file and directory under `root`, then `root` itself: after
// this, a crash cannot publish a directory whose files are still in cache.
void fsync_tree(const std::string& root) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::file_status status = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_regular_file(status) || fs::is_directory(status)) fsync_path(it->path().string());
  }
  if (ec) throw Error(root + ": cannot list for fsync: " + ec.message());
  fsync_path(root);
}

}  // namespace

void StagedDir::publish() {
  check();
  fsync_tree(staging_);
  publish_directory(staging_, dest_, force_);
  published_ = true;
}

void StagedDir::discard() noexcept {
  if (!created_ || published_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
  created_ = false;
}

}  // namespace dals
