// Helpers shared by the MPI test files (one copy, so that the files can also
// be compiled together in a unity build without clashing definitions).
#pragma once

#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "dals/mpi/comm.hpp"
#include "dals/solve/factors.hpp"

namespace dals::mpi_test {

// Same shape and the same bits.
inline bool identical(const FactorTable& a, const FactorTable& b) {
  return a.rows() == b.rows() && a.k() == b.k() && std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

// One temporary directory for all ranks: rank 0 makes it and removes it
// after every rank is done with it (the destructor's barrier).
class SharedTempDir {
 public:
  SharedTempDir(const Comm& comm, const char* prefix) : comm_(comm) {
    std::string path;
    if (comm.is_root()) {
      std::string pattern = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
      if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
    }
    path_ = comm.broadcast_string(path);
  }
  ~SharedTempDir() {
    comm_.barrier();
    std::error_code ec;
    if (comm_.is_root() && !path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  SharedTempDir(const SharedTempDir&) = delete;
  SharedTempDir& operator=(const SharedTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  const Comm& comm_;
  std::string path_;
};

}  // namespace dals::mpi_test
