// dals-generate's pipeline: degrees and cuts, user blocks, item blocks,
// manifest. Each phase runs under run_collectively, so a failure on any rank
// ends every rank; the collectives between phases run outside them.
#include "dals/generate/generate.hpp"
#include "dals/data/blocking.hpp"

#include <mpi.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "dals/core/error.hpp"
#include "dals/core/staged_dir.hpp"
#include "dals/core/version.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/dataset_builder.hpp"
#include "model.hpp"
#include "scratch.hpp"

namespace dals {
namespace fs = std::filesystem;

namespace {

constexpr const char* kTool = "dals-generate";

struct Range {
  std::int64_t begin, end;
};

// Part `part` of `parts` contiguous, nearly equal shares of [0, total).
Range even_share(std::int64_t total, int parts, int part) { return {total * part / parts, total * (part + 1) / parts}; }

std::string provenance_json(const GenerateOptions& o) {
  nlohmann::json j;
  j["tool"] = kTool;
  j["version"] = kVersion;
  j["options"] = {{"users", o.users},         {"items", o.items},
                  {"ratings", o.ratings},     {"true_rank", o.true_rank},
                  {"noise", o.noise},         {"test_fraction", o.test_fraction},
                  {"blocks", o.blocks},       {"seed", o.seed},
                  {"round", o.round},         {"mean", o.mean},
                  {"bias_sd", o.bias_sd},     {"user_skew", o.user_skew},
                  {"item_skew", o.item_skew}, {"min_degree", o.min_degree},
                  {"implicit", o.implicit}};
  if (o.implicit) j["options"]["implicit_pool"] = o.implicit_pool;
  if (o.wide_ids) j["options"]["wide_ids"] = true;
  j["raw_ids"] = "user = 1000 + 7 * dense, item = 2000 + 3 * dense";
  return j.dump();
}

std::vector<std::string> text_paths(const GenerateOptions& o) {
  if (o.text_output.empty()) return {};
  std::vector<std::string> paths{o.text_output + "-train.csv"};
  if (o.test_fraction > 0) paths.push_back(o.text_output + "-test.csv");
  return paths;
}

std::string text_part_path(const std::string& scratch, Split split, int rank) {
  char name[64];
  std::snprintf(name, sizeof name, "/text/%s-r%05d.csv", split == Split::train ? "train" : "test", rank);
  return scratch + name;
}

// Rank 0: refuses to clobber what it should not, then creates a fresh
// OUTPUT.tmp (StagedDir) with the dataset's folders and the scratch space.
void prepare_output(const GenerateOptions& o, StagedDir& out, const std::string& scratch) {
  std::error_code ec;
  out.check();
  for (const auto& path : text_paths(o)) {
    if (fs::exists(path, ec) && !o.force) throw Error(path + ": already exists (pass --force to replace it)");
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec))
      throw Error(path + ": cannot write: directory " + parent.string() + " does not exist (--text-output)");
  }
  out.create();
  create_dataset_dirs(out.staging(), o.test_fraction > 0);
  for (const char* sub : {"/buckets", "/text"}) {
    fs::create_directories(scratch + sub, ec);
    if (ec) throw Error(scratch + sub + ": cannot create directory: " + ec.message());
  }
}

// Per-item and per-user rating counts, which fix the block cuts and each
// item's slice of its CSC before any rating is written.
struct Counts {
  std::vector<std::int32_t> user_train;  // all users, after the all-gather
  std::vector<std::int64_t> item_train, item_test;
};

// Kinds of block files, the index of the gathered block table.
enum Kind { kTrainUsers, kTrainItems, kTestUsers, kTestItems, kKinds };
constexpr int kFields = 4;  // first, rows, nnz, checksum

struct BlockTable {
  explicit BlockTable(int blocks)
      : blocks(blocks), fields(std::size_t{kKinds} * blocks * kFields, 0), sums(blocks, 0) {}
  void set(Kind kind, int block, const BlockInfo& info) {
    std::uint64_t* f = &fields[(static_cast<std::size_t>(kind) * blocks + block) * kFields];
    f[0] = static_cast<std::uint64_t>(info.first);
    f[1] = static_cast<std::uint64_t>(info.rows);
    f[2] = static_cast<std::uint64_t>(info.nnz);
    f[3] = info.checksum;
  }
  BlockInfo get(Kind kind, int block) const {
    const std::uint64_t* f = &fields[(static_cast<std::size_t>(kind) * blocks + block) * kFields];
    return {static_cast<std::int64_t>(f[0]), static_cast<std::int64_t>(f[1]), static_cast<std::int64_t>(f[2]), f[3]};
  }
  int blocks;
  std::vector<std::uint64_t> fields;  // each entry is set by exactly one rank, zero elsewhere
  std::vector<double> sums;           // training rating sum per user block
};

void write_checked(const std::string& path, const CsrBlock& block, BlockTable& table, Kind kind, int b, bool wide) {
  block.validate(path);
  table.set(kind, b, write_ratings_block(path, wide ? compact_columns(widen_columns(block)) : block));
}

// One user block: samples its users' items, writes the by-user train and
// test blocks and the id map, and feeds every rating to the item buckets.
void write_user_block(const GenerateOptions& o, int b, const std::vector<std::int64_t>& cuts,
                      const std::vector<std::int32_t>& degrees, gen::ItemSampler& sampler,
                      const gen::PlantedModel& model, const std::string& tmp, gen::BucketWriter& train_buckets,
                      gen::BucketWriter* test_buckets, gen::TextPartWriter& train_text, gen::TextPartWriter& test_text,
                      BlockTable& table) {
  CsrBlock train, test;
  train.first_row = test.first_row = cuts[b];
  train.num_cols = test.num_cols = o.items;
  const std::int64_t expected = [&] {
    std::int64_t s = 0;
    for (std::int64_t u = cuts[b]; u < cuts[b + 1]; ++u) s += degrees[u];
    return s;
  }();
  train.indices.reserve(static_cast<std::size_t>(expected * (1 - o.test_fraction) * 1.01) + 64);
  train.values.reserve(train.indices.capacity());
  double sum = 0;
  std::vector<std::int32_t> items;
  std::vector<std::int64_t> raw_ids;
  for (std::int64_t u = cuts[b]; u < cuts[b + 1]; ++u) {
    gen::user_items(o, sampler, model, u, degrees[u], items);
    const PlantedRow row = model.user_row(u);
    const std::int64_t raw_user = generated_raw_id(Side::users, u);
    raw_ids.push_back(raw_user);
    for (const std::int32_t j : items) {
      const float v = model.value(row, u, j);
      const bool held_out = test_buckets != nullptr && model.is_test(u, j);
      CsrBlock& dest = held_out ? test : train;
      dest.indices.push_back(j);
      dest.values.push_back(v);
      (held_out ? *test_buckets : train_buckets).add(j, static_cast<std::int32_t>(u), v);
      gen::TextPartWriter& text = held_out ? test_text : train_text;
      if (text.is_open()) text.add(raw_user, generated_raw_id(Side::items, j), v);
      if (!held_out) sum += v;
    }
    train.indptr.push_back(train.nnz());
    test.indptr.push_back(test.nnz());
  }
  table.sums[b] = sum;
  write_checked(ratings_path(tmp, Split::train, Side::users, b), train, table, kTrainUsers, b, o.wide_ids);
  if (test_buckets != nullptr)
    write_checked(ratings_path(tmp, Split::test, Side::users, b), test, table, kTestUsers, b, o.wide_ids);
  write_id_block(ids_path(tmp, Side::users, b), cuts[b], raw_ids);
}

}  // namespace

namespace {
GenerateResult generate_validated(const Comm& comm, const GenerateOptions& o, double start, StagedDir& out);
}  // namespace

GenerateResult generate_dataset(const Comm& comm, const GenerateOptions& options) {
  const double start = MPI_Wtime();
  run_collectively(
      comm, [&] { validate_generate_options(options); }, 2);
  // Every rank names the output ("DIR/" is DIR, staged in DIR.tmp); rank 0
  // creates it. If any rank fails, every rank has agreed to stop writing
  // before rank 0's `out` removes OUTPUT.tmp: no half-written dataset stays.
  StagedDir out(options.output, options.force, dataset_output_kind());
  GenerateOptions o = options;
  o.output = out.dest();
  return generate_validated(comm, o, start, out);
}

namespace {

GenerateResult generate_validated(const Comm& comm, const GenerateOptions& o, double start, StagedDir& out) {
  const std::string tmp = out.staging();
  const std::string scratch = tmp + "/.scratch";
  const bool has_test = o.test_fraction > 0;
  const int P = comm.size(), rank = comm.rank(), B = o.blocks;

  // Phase 1: the model, and counts from a first sampling pass over an even
  // share of the users (sampling is a pure function of (seed, user), so the
  // second pass below draws the same items).
  std::vector<std::int32_t> degrees;
  std::unique_ptr<gen::ItemSampler> sampler;
  std::unique_ptr<gen::PlantedModel> model;
  Counts counts;
  const Range mine = even_share(o.users, P, rank);
  std::vector<std::int32_t> my_user_train(mine.end - mine.begin, 0);
  run_collectively(comm, [&] {
    if (comm.is_root()) prepare_output(o, out, scratch);
    degrees = gen::user_degrees(o);
    sampler = std::make_unique<gen::ItemSampler>(o, gen::item_weights(o));
    model = std::make_unique<gen::PlantedModel>(o);
    counts.item_train.assign(o.items, 0);
    counts.item_test.assign(o.items, 0);
    std::vector<std::int32_t> items;
    for (std::int64_t u = mine.begin; u < mine.end; ++u) {
      gen::user_items(o, *sampler, *model, u, degrees[u], items);
      for (const std::int32_t j : items) {
        if (has_test && model->is_test(u, j)) {
          ++counts.item_test[j];
        } else {
          ++counts.item_train[j];
          ++my_user_train[u - mine.begin];
        }
      }
    }
  });
  comm.allreduce_inplace(std::span<std::int64_t>(counts.item_train), MPI_SUM);
  if (has_test) comm.allreduce_inplace(std::span<std::int64_t>(counts.item_test), MPI_SUM);
  {
    std::vector<std::int64_t> sizes(P);
    for (int r = 0; r < P; ++r) {
      const Range share = even_share(o.users, P, r);
      sizes[r] = share.end - share.begin;
    }
    counts.user_train = comm.allgatherv(std::span<const std::int32_t>(my_user_train), sizes);
  }

  // Cuts balance training ratings plus rows, as the trainer's work does.
  std::vector<std::int64_t> user_cuts, item_cuts;
  std::vector<std::int32_t> block_of_item;
  {
    std::vector<std::int64_t> cost(o.users);
    for (std::int64_t u = 0; u < o.users; ++u) cost[u] = counts.user_train[u] + 1;
    user_cuts = balanced_cuts(cost, B);
    cost.assign(o.items, 0);
    for (std::int64_t j = 0; j < o.items; ++j) cost[j] = counts.item_train[j] + 1;
    item_cuts = balanced_cuts(cost, B);
    block_of_item.resize(o.items);
    for (int b = 0; b < B; ++b)
      for (std::int64_t j = item_cuts[b]; j < item_cuts[b + 1]; ++j) block_of_item[j] = b;
  }
  std::vector<std::int32_t>().swap(counts.user_train);

  // Phase 2: this rank's user blocks, streamed one at a time.
  BlockTable table(B);
  const Range my_blocks = even_share(B, P, rank);
  run_collectively(comm, [&] {
    gen::BucketWriter train_buckets(scratch, Split::train, rank, block_of_item, B);
    std::unique_ptr<gen::BucketWriter> test_buckets;
    if (has_test) test_buckets = std::make_unique<gen::BucketWriter>(scratch, Split::test, rank, block_of_item, B);
    gen::TextPartWriter train_text, test_text;
    if (!o.text_output.empty()) {
      train_text.open(text_part_path(scratch, Split::train, rank));
      if (has_test) test_text.open(text_part_path(scratch, Split::test, rank));
    }
    for (std::int64_t b = my_blocks.begin; b < my_blocks.end; ++b)
      write_user_block(o, static_cast<int>(b), user_cuts, degrees, *sampler, *model, tmp, train_buckets,
                       test_buckets.get(), train_text, test_text, table);
    train_buckets.flush_all();
    if (test_buckets) test_buckets->flush_all();
    train_text.close();
    test_text.close();
  });
  sampler.reset();
  model.reset();
  std::vector<std::int32_t>().swap(degrees);

  // Phase 3: this rank's item blocks, from every rank's buckets.
  run_collectively(comm, [&] {
    for (std::int64_t bb = my_blocks.begin; bb < my_blocks.end; ++bb) {
      const int b = static_cast<int>(bb);
      const std::int64_t first = item_cuts[b], rows = item_cuts[b + 1] - item_cuts[b];
      for (const Split split : {Split::train, Split::test}) {
        if (split == Split::test && !has_test) continue;
        const auto& item_counts = split == Split::train ? counts.item_train : counts.item_test;
        CsrBlock block = gen::read_item_block(scratch, split, b, P, first, rows, o.users, item_counts);
        write_checked(ratings_path(tmp, split, Side::items, b), block, table,
                      split == Split::train ? kTrainItems : kTestItems, b, o.wide_ids);
        gen::remove_buckets(scratch, split, b, P);
      }
      std::vector<std::int64_t> raw_ids(rows);
      for (std::int64_t j = 0; j < rows; ++j) raw_ids[j] = generated_raw_id(Side::items, first + j);
      write_id_block(ids_path(tmp, Side::items, b), first, raw_ids);
    }
  });

  // Every rank assembles the same manifest: each table entry was set by one
  // rank and is zero on the others, so the sums are exact.
  comm.allreduce_inplace(std::span<std::uint64_t>(table.fields), MPI_SUM);
  comm.allreduce_inplace(std::span<double>(table.sums), MPI_SUM);
  Manifest m;
  m.users = o.users;
  m.items = o.items;
  m.blocks = B;
  m.has_test = has_test;
  m.feedback = o.implicit ? Feedback::events : Feedback::ratings;
  m.provenance_json = provenance_json(o);
  double sum = 0;  // in block order, so the mean does not depend on P
  for (int b = 0; b < B; ++b) {
    sum += table.sums[b];
    m.train.user_blocks.push_back(table.get(kTrainUsers, b));
    m.train.item_blocks.push_back(table.get(kTrainItems, b));
    m.train.ratings += m.train.user_blocks.back().nnz;
    if (has_test) {
      m.test.user_blocks.push_back(table.get(kTestUsers, b));
      m.test.item_blocks.push_back(table.get(kTestItems, b));
      m.test.ratings += m.test.user_blocks.back().nnz;
    }
  }
  m.mean = m.train.ratings > 0 ? sum / static_cast<double>(m.train.ratings) : 0.0;
  m.fingerprint = m.compute_fingerprint();

  // Phase 4: rank 0 publishes.
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (m.train.ratings == 0) throw Error(o.output + ": every rating went to the test split");
    m.validate(o.output + "/manifest.json");
    const auto texts = text_paths(o);
    for (std::size_t s = 0; s < texts.size(); ++s) {
      std::vector<std::string> parts;
      for (int r = 0; r < P; ++r) parts.push_back(text_part_path(scratch, s == 0 ? Split::train : Split::test, r));
      gen::concatenate_text(parts, texts[s], o.implicit ? "user,item,count" : "user,item,rating");
    }
    std::error_code ec;
    fs::remove_all(scratch, ec);
    if (ec) throw Error(scratch + ": cannot remove the scratch directory: " + ec.message());
    write_manifest(tmp, m);
    out.publish();
  });
  return GenerateResult{std::move(m), comm.max(MPI_Wtime() - start)};
}

}  // namespace
}  // namespace dals
