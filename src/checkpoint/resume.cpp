#include "dals/checkpoint/resume.hpp"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/added_users.hpp"
#include "dals/checkpoint/checkpoint.hpp"
#include "dals/checkpoint/model_io.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/train/trainer.hpp"

namespace dals {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Rank 0: the candidates, newest first.
std::vector<std::string> candidates(const TrainConfig& config) {
  std::vector<std::string> paths;
  if (config.resume != "auto") {
    paths.push_back(config.resume);
    return paths;
  }
  for (const CheckpointEntry& c : list_checkpoints(config.checkpoint_dir)) paths.push_back(c.path);
  return paths;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  return lines;
}

// Rank 0: state.json of a complete checkpoint, or an Error saying why it is
// not one. A directory named as a checkpoint, or holding one, must be one
// whose state.json is sealed, records its blocks, and whose progress is the
// one its name says (a renamed checkpoint would skip or repeat iterations).
std::string read_state_text(const std::string& dir, bool automatic) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": no such checkpoint directory");
  if (!fs::exists(dir + "/COMPLETE", ec)) throw Error(dir + ": incomplete checkpoint (no COMPLETE file)");
  const std::string path = dir + "/state.json";
  const std::string text = read_text_file(path);
  const std::string name = fs::path(dir).lexically_normal().filename().string();
  const std::optional<Progress> named = parse_checkpoint_name(name);
  const bool checkpoint = automatic || named || state_format(dir) == "dals-checkpoint";
  const SavedState saved = parse_state(text, path, checkpoint ? StateUse::checkpoint : StateUse::resume);
  if (checkpoint && (!named || !(*named == saved.progress)))
    throw Error(path + ": records " + saved.progress.describe() + ", but the directory is named " + name + " (not " +
                checkpoint_name(saved.progress) + ")");
  return text;
}

std::string show(const json& value) { return value.is_null() ? "(absent)" : value.dump(); }

// Rank 0: Error if the checkpoint cannot continue this run; otherwise the
// hyper-parameters that --resume-override allowed to change.
json check_fits(const SavedState& saved, const std::string& dir, const Manifest& m, const TrainConfig& config) {
  const std::string where = dir + "/state.json";
  if (saved.fingerprint != m.fingerprint)
    throw Error(where + ": the checkpoint is of another dataset (fingerprint " + saved.fingerprint + ", but " +
                config.data + " has " + m.fingerprint + ")");
  std::vector<std::int64_t> user_firsts, item_firsts;
  for (const auto& b : m.train.user_blocks) user_firsts.push_back(b.first);
  for (const auto& b : m.train.item_blocks) item_firsts.push_back(b.first);
  if (saved.users != m.users || saved.items != m.items || saved.user_block_firsts != user_firsts ||
      saved.item_block_firsts != item_firsts)
    throw Error(where + ": the checkpoint's blocks do not match the dataset's (" + config.data + ")");
  if (saved.progress.halves() > 2 * config.iterations)
    throw Error(where + ": the checkpoint is at " + saved.progress.describe() + ", beyond --iterations " +
                std::to_string(config.iterations));

  json then = json::parse(saved.hyperparameters);
  const json now = json::parse(config.hyperparameters_json());
  // CG checkpoints from before --cg-precision existed were trained in float.
  if (then.contains("solver") && then["solver"] == "cg" && !then.contains("cg_precision"))
    then["cg_precision"] = "float";
  // Explicit and implicit models answer different questions (a rating, a
  // preference): neither continues the other, whatever --resume-override
  // says. Checkpoints from before implicit mode existed are explicit.
  const std::string then_feedback = then.value("feedback", "explicit"),
                    now_feedback = now.value("feedback", "explicit");
  if (then_feedback != now_feedback)
    throw Error(where + ": the checkpoint was trained on " +
                (then_feedback == "implicit" ? "implicit feedback" : "explicit ratings") + ", this run is " +
                (now_feedback == "implicit" ? "implicit (--implicit, or a dataset of events)" : "explicit") +
                ": one cannot continue the other");
  json changed = json::object();
  std::string first_change;
  for (const json* side : {static_cast<const json*>(&then), &now})
    for (const auto& [key, value] : side->items()) {
      (void)value;
      const json a = then.value(key, json()), b = now.value(key, json());
      if (a == b || changed.contains(key)) continue;
      if (key == "factors")
        throw Error(where + ": the checkpoint has k = " + show(a) + ", this run k = " + show(b) +
                    " (k cannot change on resume)");
      changed[key] = {{"checkpoint", a}, {"now", b}};
      if (first_change.empty()) first_change = key + " = " + show(a) + " in the checkpoint, " + show(b) + " now";
    }
  if (!changed.empty() && !config.resume_override)
    throw Error(where + ": the checkpoint was trained with other options: " + first_change +
                (changed.size() > 1 ? " (and " + std::to_string(changed.size() - 1) + " more)" : "") +
                "; pass --resume-override to continue with the new ones");
  return changed;
}

}  // namespace

ResumeOutcome resume_training(const Comm& comm, const TrainConfig& config, Trainer& trainer, RunHistory& history) {
  ResumeOutcome out;
  if (config.resume.empty()) return out;
  const bool automatic = config.resume == "auto";
  const double start = MPI_Wtime();

  std::vector<std::string> found;
  run_collectively(comm, [&] {
    if (comm.is_root()) found = candidates(config);
  });
  found = split_lines(comm.broadcast_string(join_lines(found)));

  int skipped = 0;
  for (const std::string& dir : found) {
    // Rank 0 reads state.json; a missing COMPLETE or a bad state.json skips the checkpoint.
    std::string text;
    std::string problem = try_collectively(comm, [&] {
      if (comm.is_root()) text = read_state_text(dir, automatic);
    });
    if (problem.empty()) {
      text = comm.broadcast_string(text);
      const SavedState saved = parse_state(text, dir + "/state.json", StateUse::resume);
      json changed;
      // A checkpoint that does not fit this run is an error, not a skip:
      // falling back to an older one of the same directory would not fit either.
      run_collectively(comm, [&] {
        if (comm.is_root()) changed = check_fits(saved, dir, trainer.manifest(), config);
      });
      changed = json::parse(comm.broadcast_string(changed.dump()));

      // A read that fails on one rank fails on all (agreed); the trainer
      // then draws its initial factors again over the rows it overwrote.
      std::int64_t bytes = 0;
      problem = trainer.restore(
          [&](const PerSide<SideLayout>& layouts, int rank, PerSide<FactorTable>& tables) {
            bytes = read_owned_blocks(dir, trainer.manifest(), layouts, rank, tables, saved.blocks);
          },
          saved.progress.iterations, saved.progress.mid);
      if (problem.empty()) {
        history = saved.history;
        json resumes = json::parse(history.resumes);
        resumes.push_back({{"from", dir},
                           {"iteration", saved.progress.iterations},
                           {"user_half_done", saved.progress.mid},
                           {"ranks", comm.size()},
                           {"target_iterations", config.iterations},
                           {"overridden", changed}});
        history.resumes = resumes.dump();
        out.resumed = true;
        out.path = dir;
        out.progress = saved.progress;
        out.bytes = comm.sum(bytes);
        out.seconds = comm.max(MPI_Wtime() - start);
        // Fold-in's added users have no rows in the dataset's blocks: nothing to train.
        if (saved.added_users > 0 && comm.is_root())
          Log::warn("%s: its %lld users added by fold-in (%s) are not in the dataset: training ignores them",
                    dir.c_str(), static_cast<long long>(saved.added_users), kAddedUsersFile);
        if (!changed.empty())
          Log::info("resume: --resume-override: continuing with changed options %s", changed.dump().c_str());
        // The heavy rows' thresholds follow from the data and options alone,
        // unless the rule itself changed between the versions (auto's budget).
        for (Side side : kBothSides) {
          const std::int64_t then = side == Side::users ? saved.heavy_users_from : saved.heavy_items_from;
          const std::int64_t now = trainer.heavy(side).threshold();
          auto text = [](std::int64_t t) { return t == kNoHeavyRows ? std::string("none") : std::to_string(t); };
          if (then >= 0 && then != now && comm.is_root())
            Log::warn(
                "%s: heavy %s (solved in parts) were those of %s ratings or more, in this run %s "
                "(--resume-override, or another dals version): the rows between are solved the other way "
                "from here on",
                dir.c_str(), side_name(side), text(then).c_str(), text(now).c_str());
        }
        return out;
      }
    }
    if (!automatic) {
      // Every rank has the agreed message (try_collectively): rank 0 speaks.
      if (comm.is_root()) Log::error("%s", problem.c_str());
      throw AgreedFailure{1};
    }
    Log::warn("%s; skipping checkpoint %s", problem.c_str(), dir.c_str());
    out.skipped.push_back(dir);
    ++skipped;
  }
  if (skipped > 0)
    Log::warn("no usable checkpoint in %s (%d skipped): starting from iteration 0", config.checkpoint_dir.c_str(),
              skipped);
  else if (!config.quiet)
    Log::info("resume: no checkpoint in %s yet: starting from iteration 0", config.checkpoint_dir.c_str());
  return out;
}

void load_best_checkpoint(const Comm& comm, const TrainConfig& config, Trainer& trainer, int iterations) {
  const std::string dir = (fs::path(config.checkpoint_dir) / checkpoint_name(Progress{iterations, false})).string();
  std::string text;
  run_collectively(comm, [&] {
    if (comm.is_root()) text = read_state_text(dir, true);
  });
  text = comm.broadcast_string(text);
  const SavedState saved = parse_state(text, dir + "/state.json", StateUse::resume);
  const std::string problem = trainer.load_best(
      [&](const PerSide<SideLayout>& layouts, int rank, PerSide<FactorTable>& tables) {
        read_owned_blocks(dir, trainer.manifest(), layouts, rank, tables, saved.blocks);
      },
      iterations);
  if (!problem.empty()) {
    if (comm.is_root()) Log::error("--early-stopping: the best iteration's checkpoint: %s", problem.c_str());
    throw AgreedFailure{1};
  }
}

}  // namespace dals
