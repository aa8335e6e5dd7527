#pragma once
// Private to dals-partition: the state its phases share (partition.hpp
// describes the pipeline).

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/partition/partition.hpp"
#include "dals/partition/spill.hpp"
#include "dals/partition/text_format.hpp"
#include "flat_map.hpp"
#include "progress.hpp"

namespace dals::part {

inline constexpr const char* kTool = "dals-partition";

/// One rating on its way from the text to the blocks (40 bytes; ids are
/// order hashes, id_keys.hpp).
struct Record {
  std::uint64_t user;
  std::uint64_t item;
  std::int64_t time;  ///< timestamp, 0 without a time column
  std::uint64_t seq;  ///< input position: file index << 44 | byte offset of the line
  float value;
  std::uint32_t flags;
};
static_assert(sizeof(Record) == 40);

enum RecordFlag : std::uint32_t {
  kFromTest = 1,    ///< read from --test-input
  kUserString = 2,  ///< the user id is a string (not a canonical integer)
  kItemString = 4,
};

inline constexpr int kFileBits = 20;  // seq: 2^20 files of up to 2^44 bytes
inline constexpr int kOffsetBits = 44;
inline std::uint64_t make_seq(int file, std::uint64_t offset) {
  return (static_cast<std::uint64_t>(file) << kOffsetBits) | offset;
}
inline int seq_file(std::uint64_t seq) { return static_cast<int>(seq >> kOffsetBits); }
inline std::uint64_t seq_offset(std::uint64_t seq) { return seq & ((std::uint64_t{1} << kOffsetBits) - 1); }

struct InputFile {
  std::string path;
  std::uint64_t size = 0;
  bool gzip = false;
  bool test = false;  ///< from --test-input
};

/// Lines starting in [begin, end) of files[file] (a gzip file: all of it).
struct WorkRange {
  int file = 0;
  std::uint64_t begin = 0, end = 0;
};

/// Made by rank 0 (which alone looks at the files first), sent to all.
struct Plan {
  std::vector<InputFile> files;
  TextFormat format;
  bool header = false;
  std::vector<std::vector<WorkRange>> ranges;  ///< per rank, in input order
  std::uint64_t estimated_lines = 0;
  std::string to_json() const;
  static Plan from_json(const std::string& text);
};

/// Rank 0: expands the inputs, checks them, resolves the format and cuts
/// the work into `ranks` shares. Throws Error naming the file or option.
Plan make_plan(const PartitionOptions& options, int ranks);

/// @brief Order-hash space cut into P x per_rank buckets of equal width;
/// rank r owns buckets [r * per_rank, (r + 1) * per_rank). Users live in
/// the bucket of their hash (so in dense order), items' dictionaries too.
struct HashSpace {
  int ranks = 1, per_rank = 1;
  int buckets() const { return ranks * per_rank; }
  int bucket_of(std::uint64_t h) const {
    return static_cast<int>((static_cast<unsigned __int128>(h) * static_cast<unsigned>(buckets())) >> 64);
  }
  int owner(std::uint64_t h) const { return bucket_of(h) / per_rank; }
  /// Smallest hash of bucket b (b == buckets(): 2^64).
  unsigned __int128 bucket_begin(int b) const {
    return ((static_cast<unsigned __int128>(b) << 64) + static_cast<unsigned>(buckets()) - 1) /
           static_cast<unsigned>(buckets());
  }
};

/// @brief How --memory-limit is spent (see the README's memory section).
struct Budget {
  std::uint64_t total = 0;
  std::size_t read_buffer = 0;       ///< text buffer of a LineReader
  std::size_t exchange_buffer = 0;   ///< per (channel, destination), two of them
  std::size_t sort_bytes = 0;        ///< records of one bucket sorted in memory
  std::size_t dictionary_cache = 0;  ///< entries of the "string id already sent" sets
};

enum Counter {
  kLines,
  kBlankLines,
  kHeaderLines,
  kBadLines,
  kTrainLines,
  kTestLines,
  kOutOfRange,
  kDuplicates,
  kDroppedByUser,
  kDroppedByItem,
  kColdStart,
  kColdStartKept,
  kTestFiltered,
  kTestInTrain,
  kCounters
};

/// Per-item flags of the item table.
enum ItemFlag : std::uint8_t { kItemInTrain = 1, kItemIsString = 2, kItemIsInt = 4 };

/// @brief Every item's order hash, on every rank (sorted), with its flags,
/// filter state and final counts. O(n) per rank: the same order as the
/// factors dals-train replicates, and ~20x smaller.
struct ItemTable {
  std::vector<std::uint64_t> hash;
  std::vector<std::uint8_t> flags;
  std::vector<std::uint8_t> alive;
  std::vector<std::int32_t> train_count, test_count;
  bool counted = false;             ///< train_count is final (all ranks, after the split)
  std::vector<std::int32_t> dense;  ///< -1: not in the dataset
  FlatMap64 position;               ///< hash -> index into the arrays
  std::int64_t position_of(std::uint64_t h) const {
    const std::uint32_t* p = position.find(h);
    return p == nullptr ? -1 : static_cast<std::int64_t>(*p);
  }
};

/// @brief The rating histogram of the summary: exact values when the
/// training ratings take at most 20 (stars), else 10 equal bins.
struct Histogram {
  static constexpr int kMaxExact = 20;
  bool exact = true;
  std::vector<double> values;  ///< exact: the distinct values, sorted
  double lo = 0, hi = 0;       ///< binned: the range
  int size() const { return exact ? static_cast<int>(values.size()) : 10; }
  int bin_of(double v) const;
  std::string label(int bin) const;
};

/// @brief Everything the phases share.
struct Job {
  Job(const Comm& c, const PartitionOptions& opts) : comm(c), o(opts) {}
  const Comm& comm;
  const PartitionOptions& o;
  Plan plan;
  HashSpace space;
  Budget budget;
  ScratchDir scratch;  ///< this rank's temporary directory
  MemoryPool pool{1};  ///< the stores' share of --memory-limit
  // Per local bucket: parsed records, string ids of users and items (entries:
  // hash, 2-byte length, bytes), sorted records; and the users' costs.
  SpillStore records, user_names, item_names, sorted, costs;
  ProgressLine progress;
  std::array<std::int64_t, kCounters> counters{};   ///< this rank's
  bool user_strings = false, item_strings = false;  ///< some id of that side is a string (all ranks)
  std::vector<std::string> bad_line_samples;        ///< this rank's first few
  ItemTable items;
  // The count pass (this rank's part, then the totals).
  std::int64_t k_core_rounds = 0;
  double rating_min = 1e300, rating_max = -1e300;
  std::vector<double> distinct;  ///< distinct training values seen here, up to Histogram::kMaxExact + 1
  void note_value(double v) {
    if (distinct.size() <= Histogram::kMaxExact && std::find(distinct.begin(), distinct.end(), v) == distinct.end())
      distinct.push_back(v);
  }
  std::int64_t local_users = 0, local_train = 0, local_test = 0;
  // The layout (the same on every rank).
  std::int64_t users = 0, item_count = 0, train_total = 0, test_total = 0;
  std::int64_t user_offset = 0;  ///< dense id of this rank's first user
  int blocks = 0;
  PerSide<std::vector<std::int64_t>> cuts;  ///< blocks + 1 boundaries per side
  std::vector<std::int64_t> item_position;  ///< dense item id -> item table index
  PerSide<bool> strings_out;                ///< id maps hold strings
  Histogram histogram;
  std::vector<std::int64_t> histogram_counts;  ///< training ratings per bin, all ranks
  std::string bucket_file(const char* kind, int bucket) const;
  int first_bucket() const { return comm.rank() * space.per_rank; }
};

/// The string ids of one bucket: sorted by hash, one entry per id.
struct Names {
  std::vector<std::uint64_t> hash;
  StringIds text;
  /// The name of `h`, or nullptr (`out` holds it).
  const std::string* find(std::uint64_t h, std::string& out) const {
    auto it = std::lower_bound(hash.begin(), hash.end(), h);
    if (it == hash.end() || *it != h) return nullptr;
    out = std::string(text.at(it - hash.begin()));
    return &out;
  }
};

/// Takes a part of a name store (entries: hash, 2-byte length, bytes),
/// sorts it by hash, drops repeats, puts it back sorted (if `keep`) and
/// returns it. Error naming both ids if two different ids share a hash.
Names load_names(const Job& job, SpillStore& store, std::size_t part, Side side, bool keep);

/// Throws the Error for two raw ids with the same order hash.
[[noreturn]] void collision(const Job& job, Side side, const std::string& a, const std::string& b);

/// Phases, in order; each is a collective and throws AgreedFailure.
void parse_inputs(Job& job);
/// Also fills `local_items`: hash -> ItemFlag bits of the items this rank saw.
void sort_buckets(Job& job, FlatMap64& local_items);
void build_item_table(Job& job, const FlatMap64& local_items);
void apply_filters(Job& job);
/// Dense ids, blocks and their cuts, the id types and the histogram's bins.
void compute_layout(Job& job);
/// The last pass and the block files; returns the manifest (on every rank).
Manifest write_blocks(Job& job, const std::string& tmp, IdIndex& user_index, IdIndex& item_index);

/// Calls f(user_hash, records) for every user of this rank's sorted buckets,
/// in hash order; `consume`: the last pass, each bucket is freed once read.
void for_each_user(Job& job, const std::function<void(std::uint64_t, std::span<const Record>)>& f,
                   bool consume = false);

/// A record's fate in the dataset.
enum Fate : std::uint8_t { kDropped, kTrain, kTest };
/// Decides the fate of each of one user's records (sorted by item), with the
/// filters' final state; `positions` receives each record's item table
/// index; adds what it drops to `counters` if not null. After a split, the
/// held-out ratings of a user left without training ratings are cold starts,
/// and, once items.counted, those of an item left without any (the count
/// pass, which sets it, counts the latter itself).
void decide_user(const Job& job, std::span<const Record> records, std::vector<std::uint8_t>& fate,
                 std::vector<std::int64_t>& positions, std::array<std::int64_t, kCounters>* counters);

/// "file:line" of a record's line, for messages (reads the file's prefix).
std::string where_is(const Job& job, std::uint64_t seq);

}  // namespace dals::part
