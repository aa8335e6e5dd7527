// dals: one front end for every tool, as git and GROMACS's gmx have:
// `dals train ...` runs dals-train with the same arguments (and under
// mpirun, on every rank: the exec happens before MPI starts). The dals-*
// names keep working; this only finds them, beside this executable.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "dals/core/version.hpp"

namespace {

struct Command {
  const char* name;
  const char* what;
};
constexpr Command kCommands[] = {
    {"partition", "raw rating dumps (CSV/TSV, plain or gzip, any size) to a sharded dataset"},
    {"train", "ALS training under mpirun or srun, with checkpoints and resume"},
    {"recommend", "top-K items per user from a trained model, with raw ids, under mpirun"},
    {"eval", "a model against its test split: RMSE, MAE, precision/recall/MAP/NDCG@K, AUC, baselines"},
    {"export", "a trained model as one HDF5 file, a numpy .npz or TSV, with raw ids"},
    {"plan", "what dals-train would hold and move on each of P ranks, from a dataset alone"},
    {"inspect", "a dataset's summary and a check of every file; dumps and id look-ups"},
    {"generate", "a synthetic dataset from a planted low-rank model"},
    {"import", "a small in-memory rating file as a dataset"},
    {"bench-ceilings", "this machine's BLAS, memory and all-gather rates, as JSON"},
};

void usage(std::FILE* out) {
  std::fprintf(out, "Usage: dals COMMAND [options]   (the same as dals-COMMAND [options])\n\nCommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-16s %s\n", c.name, c.what);
  std::fprintf(out, "\n`dals COMMAND --help` shows a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("dals %s\n", dals::kVersion);
    return 0;
  }
  const std::string name = argv[1];
  bool known = false;
  for (const Command& c : kCommands) known = known || name == c.name;
  if (!known) {
    std::fprintf(stderr, "dals: error: '%s' is not a dals command (see dals --help)\n", name.c_str());
    return 2;
  }
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string tool = (ec ? std::filesystem::path(argv[0]) : self).parent_path() / ("dals-" + name);
  std::vector<char*> args(argv + 1, argv + argc);
  const std::string argv0 = "dals-" + name;
  args[0] = const_cast<char*>(argv0.c_str());
  args.push_back(nullptr);
  execv(tool.c_str(), args.data());
  std::fprintf(stderr, "dals: error: %s: cannot run: %s\n", tool.c_str(), std::strerror(errno));
  return 1;
}
