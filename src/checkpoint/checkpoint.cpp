#include "dals/checkpoint/checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "dals/checkpoint/model_io.hpp"
#include "dals/checkpoint/resume.hpp"
#include "dals/core/log.hpp"
#include "dals/train/trainer.hpp"

namespace dals {
namespace fs = std::filesystem;

namespace {
constexpr const char* kPrefix = "iter-";
constexpr const char* kHalfSuffix = ".5";
}  // namespace

PerSide<RowCounts> own_training_ratings(const Trainer& trainer, int rank) {
  PerSide<RowCounts> out;
  for (Side side : kBothSides)
    out[side] = RowCounts{trainer.layouts()[side].of(rank).first_row, trainer.training_ratings()[side]};
  return out;
}

std::string checkpoint_name(const Progress& progress) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%06d", progress.iterations);
  return kPrefix + std::string(digits) + (progress.mid ? kHalfSuffix : "");
}

std::optional<Progress> parse_checkpoint_name(const std::string& name) {
  std::string rest = name;
  if (rest.rfind(kPrefix, 0) != 0) return std::nullopt;
  rest = rest.substr(std::char_traits<char>::length(kPrefix));
  Progress p;
  if (rest.size() > 2 && rest.compare(rest.size() - 2, 2, kHalfSuffix) == 0) {
    p.mid = true;
    rest.resize(rest.size() - 2);
  }
  if (rest.size() < 6 || rest.size() > 9 ||
      !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  p.iterations = std::stoi(rest);
  if (checkpoint_name(p) != name) return std::nullopt;  // one spelling per progress
  return p;
}

std::vector<CheckpointEntry> list_checkpoints(const std::string& root) {
  std::vector<CheckpointEntry> found;
  std::error_code ec;
  if (!fs::exists(root, ec)) return found;
  fs::directory_iterator it(root, ec);
  if (ec) throw Error(root + ": cannot list the checkpoint directory: " + ec.message());
  for (const auto& entry : it) {
    if (!entry.is_directory(ec)) continue;
    if (auto p = parse_checkpoint_name(entry.path().filename().string()))
      found.push_back({(fs::path(root) / entry.path().filename()).string(), *p});
  }
  std::sort(found.begin(), found.end(), [](const CheckpointEntry& a, const CheckpointEntry& b) {
    return a.progress.halves() > b.progress.halves();
  });
  return found;
}

Checkpointer::Checkpointer(const Comm& comm, const TrainConfig& config) : comm_(comm), config_(config) {}

bool Checkpointer::due(int iterations_done) const {
  if (!enabled()) return false;
  if (iterations_done >= config_.iterations) return true;
  return config_.checkpoint_every > 0 && iterations_done % config_.checkpoint_every == 0;
}

std::string Checkpointer::write(const Trainer& trainer, const RunHistory& history) {
  const Progress progress{trainer.iterations_done(), trainer.mid_iteration()};
  const std::string dest = (fs::path(config_.checkpoint_dir) / checkpoint_name(progress)).string();
  if (last_ && *last_ == progress) return dest;
  const double start = MPI_Wtime();
  // --force: a checkpoint of the same progress can only be an older copy of
  // this very state (or a damaged one that resuming skipped). On failure
  // (disk full, read-only) rank 0's `out` removes the partial directory,
  // giving the space back; older checkpoints stay as they were.
  StagedDir out(dest, /*force=*/true, checkpoint_output_kind());
  run_collectively(comm_, [&] {
    if (!comm_.is_root()) return;
    std::error_code ec;
    fs::create_directories(config_.checkpoint_dir, ec);
    if (ec) throw Error(config_.checkpoint_dir + ": cannot create the checkpoint directory: " + ec.message());
    out.create();  // also clears a stale one left by a killed run
    create_factor_subdirs(out.staging());
  });
  const PerSide<RowCounts> counts = own_training_ratings(trainer, comm_.rank());
  const FactorView view{trainer.manifest(), trainer.layouts(), trainer.all_factors(), counts};
  const std::int64_t bytes = publish_factor_dir(comm_, out, view, [&](const BlockChecksums& blocks) {
    return state_json(trainer, config_, history, "dals-checkpoint", blocks);
  });
  const double seconds = comm_.max(MPI_Wtime() - start);
  const std::int64_t total = comm_.sum(bytes);
  slowest_seconds_ = std::max(slowest_seconds_, seconds);
  last_ = progress;
  written_.push_back(progress);
  if (comm_.is_root()) {
    try {
      prune(progress);
    } catch (const std::exception& e) {  // housekeeping: never worth failing a run over
      Log::warn("%s: cannot prune old checkpoints: %s", config_.checkpoint_dir.c_str(), e.what());
    }
    if (!config_.quiet) {
      Log::info("checkpoint %s: %.1f MB in %.3fs (%.1f MB/s per rank)", dest.c_str(), total / 1e6, seconds,
                total / 1e6 / std::max(seconds, 1e-9) / comm_.size());
    }
  }
  return dest;
}

void Checkpointer::resumed_from(const ResumeOutcome& resumed) {
  for (const std::string& path : resumed.skipped) bad_.push_back(fs::path(path).lexically_normal().string());
  if (!resumed.resumed) return;
  resumed_ = resumed.progress;
  // Only a checkpoint in this run's directory stands in for writing one;
  // a resumed model or a checkpoint elsewhere does not.
  auto dir_of = [](const fs::path& p) { return p.lexically_normal().parent_path(); };
  if (dir_of(resumed.path) == dir_of(fs::path(config_.checkpoint_dir) / "x")) {
    last_ = resumed.progress;
    written_.push_back(resumed.progress);  // known good: it just loaded
  }
}

// Whether `c` is known to be good: this run wrote it (or loaded it, or
// replaced a damaged one of the same progress), or it is
// no newer than the state the run resumed from. A checkpoint resuming found
// damaged, and one newer than the resumed state that this run did not write
// (an explicit --resume of an older state left it unexamined), is neither
// counted as one to keep nor deleted: it is not ours to judge.
bool Checkpointer::known_good(const CheckpointEntry& c) const {
  if (std::find(written_.begin(), written_.end(), c.progress) != written_.end()) return true;
  if (std::find(bad_.begin(), bad_.end(), fs::path(c.path).lexically_normal().string()) != bad_.end()) return false;
  return !resumed_ || c.progress.halves() <= resumed_->halves();
}

// Rank 0, after `newest` is complete and in place. Only checkpoints older
// than it are candidates: a newer one belongs to a run this one did not
// continue from (a damaged one resuming skipped, or an explicit --resume of
// an older state), and is not ours to judge; nor is an older one that is not
// known_good. So the newest good checkpoint always stays. A directory is renamed before
// it is deleted, so a kill half-way through leaves no half-deleted
// checkpoint under a valid name. Deleting is housekeeping: a failure is a
// warning, not an error.
void Checkpointer::prune(const Progress& newest) const {
  std::error_code ec;
  int kept = 0;
  std::vector<std::string> doomed;
  for (const CheckpointEntry& c : list_checkpoints(config_.checkpoint_dir)) {
    if (c.progress.halves() > newest.halves() || !known_good(c)) continue;
    if (best_ && c.progress == *best_) continue;
    const bool complete = fs::exists(c.path + "/COMPLETE", ec);
    if (complete && kept < config_.keep_checkpoints)
      ++kept;
    else if (complete)
      doomed.push_back(c.path);
  }
  // Leftovers of killed runs: staging directories older than `newest`, and
  // directories whose deletion was interrupted.
  for (const auto& entry : fs::directory_iterator(config_.checkpoint_dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto dot = name.rfind('.');
    if (dot == std::string::npos) continue;
    const std::string stem = name.substr(0, dot), ext = name.substr(dot);
    if (ext == ".deleting") {
      fs::remove_all(entry.path(), ec);
    } else if (ext == ".tmp") {
      auto p = parse_checkpoint_name(stem);
      if (p && p->halves() < newest.halves()) doomed.push_back(entry.path().string());
    }
  }
  for (const std::string& path : doomed) {
    const std::string aside = path + ".deleting";
    std::error_code rename_ec, remove_ec;
    fs::rename(path, aside, rename_ec);
    if (!rename_ec) fs::remove_all(aside, remove_ec);
    if (rename_ec || remove_ec)
      Log::warn("%s: cannot delete an old checkpoint: %s", path.c_str(),
                (rename_ec ? rename_ec : remove_ec).message().c_str());
  }
}

}  // namespace dals
