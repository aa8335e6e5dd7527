#include "dals/checkpoint/model_io.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "dals/checkpoint/crash_point.hpp"
#include "dals/checkpoint/run_state.hpp"
#include "dals/core/checksum.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/hdf5_file.hpp"

namespace dals {
namespace fs = std::filesystem;

std::string factor_block_path(const std::string& model_dir, Side side, int block) {
  return model_dir + "/" + side_name(side) + "/" + block_file_name(block);
}

namespace {
// A block written before training_ratings existed has the checksum of its
// factors and biases alone; one with the counts folds theirs in, so that
// state.json's record covers them too (and a block stripped of its counts
// no longer matches it).
std::uint64_t block_checksum(std::span<const float> factors, std::span<const float> biases,
                             const std::vector<std::int64_t>* counts) {
  const std::uint64_t sum = hash_combine(checksum_of(factors), checksum_of(biases));
  return counts ? hash_combine(sum, checksum_of(std::span<const std::int64_t>(*counts))) : sum;
}
}  // namespace

std::uint64_t write_factor_block(const std::string& path, const FactorTable& table, std::int64_t first,
                                 std::int64_t rows, const std::vector<std::int64_t>& training_ratings) {
  if (static_cast<std::int64_t>(training_ratings.size()) != rows)
    throw Error(path + ": " + std::to_string(training_ratings.size()) + " training rating counts for a block of " +
                std::to_string(rows) + " rows");
  const int k = table.k();
  std::vector<float> factors(static_cast<std::size_t>(rows) * k), biases(rows);
  for (std::int64_t i = 0; i < rows; ++i) {
    const float* src = table.row(first + i);
    std::copy(src, src + k, factors.begin() + i * k);
    biases[i] = src[k];
  }
  H5File f = H5File::create(path);
  f.set_attribute("first_row", first);
  f.set_attribute("factors_k", static_cast<std::int64_t>(k));
  f.write("factors", std::span<const float>(factors), static_cast<std::uint64_t>(k));
  f.write("biases", std::span<const float>(biases));
  f.write(kTrainingRatings, std::span<const std::int64_t>(training_ratings));
  f.close();
  fsync_path(path);
  return block_checksum(factors, biases, &training_ratings);
}

namespace {

// The largest magnitude a factor or bias read back may have. A prediction or
// a Gram entry sums products of two of them (at most 1e30 each), so some
// 3e8 such terms (a row's ratings times k) still stay below float's 3.4e38;
// trained factors are of the order of the ratings (well under 1e3 on a 1..5
// scale), so anything near the bound is damage, not a model.
constexpr float kMaxFactorMagnitude = 1e15f;

// A row's training ratings index an int32 column space on the other side
// and are at most every rating of the dataset: beyond 2^62 is damage.
constexpr std::int64_t kMaxTrainingRatings = std::int64_t{1} << 62;

void check_factor_row(const std::string& path, std::int64_t row, const float* factors, int k, float bias) {
  for (int c = 0; c <= k; ++c) {
    const float x = c < k ? factors[c] : bias;
    const std::string what = c < k ? "factor " + std::to_string(c) : std::string("bias");
    if (!std::isfinite(x)) throw Error(path + ": row " + std::to_string(row) + ": " + what + " is non-finite");
    if (std::fabs(x) > kMaxFactorMagnitude) {
      char value[32];
      std::snprintf(value, sizeof value, "%g", static_cast<double>(x));
      throw Error(path + ": row " + std::to_string(row) + ": " + what + " is " + value +
                  ", beyond the magnitude of 1e15 a trained model can hold");
    }
  }
}

}  // namespace

std::uint64_t read_factor_block(const std::string& path, std::int64_t first, std::int64_t rows, FactorTable& table,
                                std::optional<std::vector<std::int64_t>>* training_ratings) {
  H5File f = H5File::open(path);
  if (f.int_attribute("first_row") != first)
    throw Error(path + ": factor block does not start at id " + std::to_string(first));
  const int k = table.k();
  // Written with every block: missing or another k than the columns' is damage.
  if (const std::int64_t stored_k = f.int_attribute("factors_k"); stored_k != k)
    throw Error(path + ": attribute 'factors_k' is " + std::to_string(stored_k) + ", expected " + std::to_string(k));
  if (rows < 0) throw Error(path + ": factor block of " + std::to_string(rows) + " rows expected");
  // The extents must be what the state's block ranges and k say, checked
  // before anything is allocated for them.
  std::uint64_t cols = 0;
  auto factors =
      f.read_exact<float>("factors", static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(k), &cols);
  if (static_cast<std::int64_t>(cols) != k && !(rows == 0 && factors.empty()))
    throw Error(path + ": factor block has k = " + std::to_string(cols) + ", expected " + std::to_string(k));
  auto biases = f.read_exact<float>("biases", static_cast<std::uint64_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    check_factor_row(path, first + i, &factors[i * k], k, biases[i]);
    float* dst = table.row(first + i);
    std::copy(factors.begin() + i * k, factors.begin() + (i + 1) * k, dst);
    dst[k] = biases[i];
  }
  // Read and checked whenever present (a checkpoint's too: a hostile count
  // is refused even where nothing uses it).
  std::optional<std::vector<std::int64_t>> counts;
  if (f.has(kTrainingRatings)) {
    counts = f.read_exact<std::int64_t>(kTrainingRatings, static_cast<std::uint64_t>(rows));
    for (std::int64_t i = 0; i < rows; ++i)
      if ((*counts)[i] < 0 || (*counts)[i] > kMaxTrainingRatings)
        throw Error(path + ": row " + std::to_string(first + i) + ": " + kTrainingRatings + " is " +
                    std::to_string((*counts)[i]) + ", not a count of ratings");
  }
  const std::uint64_t sum = block_checksum(factors, biases, counts ? &*counts : nullptr);
  if (training_ratings) *training_ratings = std::move(counts);
  return sum;
}

void check_block_checksum(const std::string& path, std::uint64_t recorded, std::uint64_t read) {
  if (recorded != read)
    throw Error(path + ": block checksum mismatch (state.json records " + to_hex(recorded) + ", the block has " +
                to_hex(read) + "): the block is damaged or of another checkpoint");
}

namespace {

// What --force may replace, as the two kinds' problem() functions say it.
std::string state_problem(const std::string& dir, const std::string& want) {
  const std::string format = state_format(dir);
  if (format == want) return "";
  std::error_code ec;
  if (!format.empty()) return "its state.json is of a " + format;
  if (fs::exists(dir + "/state.json", ec)) return "its state.json is not a dals state file";
  return "it has no state.json";
}

}  // namespace

OutputKind model_output_kind() {
  return {"dals model", [](const std::string& dir) { return state_problem(dir, "dals-model"); }};
}

OutputKind checkpoint_output_kind() {
  return {"dals checkpoint", [](const std::string& dir) -> std::string {
            std::string problem = state_problem(dir, "dals-checkpoint");
            if (problem.empty()) return "";
            std::error_code ec;
            for (const auto& entry : fs::directory_iterator(dir, ec)) {
              const std::string name = entry.path().filename().string();
              if (name != "state.json" && name != "COMPLETE" && name != "users" && name != "items" &&
                  name != "state.json.tmp" && name != "COMPLETE.tmp")
                return problem + ", and it holds " + name + ", which no checkpoint has";
            }
            return ec ? problem : "";  // only a checkpoint's own entries: a damaged one of ours
          }};
}

void create_factor_subdirs(const std::string& dir) {
  std::error_code ec;
  for (const char* sub : {"users", "items"}) {
    fs::create_directories(dir + "/" + sub, ec);
    if (ec) throw Error(dir + "/" + sub + ": cannot create directory: " + ec.message());
  }
}

std::int64_t publish_factor_dir(const Comm& comm, StagedDir& out, const FactorView& view,
                                const std::function<std::string(const BlockChecksums&)>& make_state) {
  const std::string& staging = out.staging();
  std::int64_t bytes = 0;
  // Each block has one writer, the other ranks contribute 0: the sum is the list.
  BlockChecksums sums;
  for (Side side : kBothSides) sums[side].assign(view.manifest.train.blocks(side).size(), 0);
  run_collectively(comm, [&] {
    for (Side side : {Side::users, Side::items}) {
      const OwnedRange& own = view.layouts[side].of(comm.rank());
      const auto& blocks = view.manifest.train.blocks(side);
      const FactorTable& table = view.tables[side];
      const RowCounts& counts = view.training_ratings[side];
      for (int b = own.first_block; b < own.end_block; ++b) {
        const std::string path = factor_block_path(staging, side, b);
        const std::int64_t from = blocks[b].first - counts.first;
        if (from < 0 || from + blocks[b].rows > static_cast<std::int64_t>(counts.counts.size()))
          throw Error(path + ": the training rating counts held do not cover the block's rows");
        const std::vector<std::int64_t> block_counts(counts.counts.begin() + from,
                                                     counts.counts.begin() + from + blocks[b].rows);
        sums[side][b] = write_factor_block(path, table, blocks[b].first, blocks[b].rows, block_counts);
        bytes += blocks[b].rows * table.stride() * static_cast<std::int64_t>(sizeof(float));
      }
    }
    crash_point("blocks-written", comm.rank());
  });
  for (Side side : kBothSides) comm.allreduce_inplace(std::span<std::uint64_t>(sums[side]), MPI_SUM);
  // Only after every rank's blocks are on disk (the agreement above) may
  // COMPLETE say so.
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    write_file_atomic(staging + "/state.json", make_state(sums));
    for (const char* sub : {"users", "items"}) fsync_path(staging + "/" + sub);
    write_file_atomic(staging + "/COMPLETE", "complete\n");
    crash_point("sealed", comm.rank());
    out.publish();
    crash_point("published", comm.rank());
  });
  return bytes;
}

std::int64_t read_owned_blocks(const std::string& dir, const Manifest& manifest, const PerSide<SideLayout>& layouts,
                               int rank, PerSide<FactorTable>& tables, const BlockChecksums& recorded) {
  std::int64_t bytes = 0;
  for (Side side : kBothSides) {
    const OwnedRange& own = layouts[side].of(rank);
    const auto& blocks = manifest.train.blocks(side);
    FactorTable& table = tables[side];
    for (int b = own.first_block; b < own.end_block; ++b) {
      const std::string path = factor_block_path(dir, side, b);
      const std::uint64_t sum = read_factor_block(path, blocks[b].first, blocks[b].rows, table);
      if (recorded[side].size() != blocks.size())
        throw Error(dir + "/state.json: records " + std::to_string(recorded[side].size()) + " " + side_name(side) +
                    " block checksums for " + std::to_string(blocks.size()) + " blocks");
      check_block_checksum(path, recorded[side][b], sum);
      bytes += blocks[b].rows * table.stride() * static_cast<std::int64_t>(sizeof(float));
    }
  }
  return bytes;
}

Model read_model(const std::string& model_dir) {
  if (!fs::exists(model_dir + "/COMPLETE")) throw Error(model_dir + ": not a complete model (no COMPLETE file)");
  Model model;
  const std::string state_path = model_dir + "/state.json";
  model.state_json = read_text_file(state_path);
  const SavedState state = parse_state(model.state_json, state_path);  // the checksum too
  model.mean = state.mean;
  model.bias = state.bias;
  const PerSide<std::int64_t> rows{state.users, state.items};
  const PerSide<std::vector<std::int64_t>> firsts{state.user_block_firsts, state.item_block_firsts};
  for (Side side : kBothSides) {
    model.tables[side] = FactorTable(rows[side], state.factors);
    const auto& first = firsts[side];
    std::vector<std::int64_t> all;
    bool every_block = true;
    for (std::size_t b = 0; b < first.size(); ++b) {
      const std::int64_t end = b + 1 < first.size() ? first[b + 1] : rows[side];
      const std::string path = factor_block_path(model_dir, side, static_cast<int>(b));
      std::optional<std::vector<std::int64_t>> counts;
      const std::uint64_t sum = read_factor_block(path, first[b], end - first[b], model.tables[side], &counts);
      if (!state.blocks[side].empty()) check_block_checksum(path, state.blocks[side][b], sum);
      if (counts)
        all.insert(all.end(), counts->begin(), counts->end());
      else
        every_block = false;
    }
    if (every_block) model.training_ratings[side] = std::move(all);
  }
  model.added = read_model_added_users(model_dir, state, -1);
  return model;
}

}  // namespace dals
