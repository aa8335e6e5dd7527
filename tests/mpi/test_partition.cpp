// dals-partition under MPI: the streaming exchange delivers everything in
// order and agrees on failures; a partitioned dataset is the same for any
// number of ranks, bucket count and memory limit.
//
// Every test runs its collectives first and checks afterwards, so an
// assertion failing on one rank cannot leave the others waiting.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "dals/data/inspect.hpp"
#include "dals/data/manifest.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/mpi/exchange.hpp"
#include "dals/partition/partition.hpp"
#include "mpi_test_support.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

struct Message {
  std::int32_t source, dest;
  std::int64_t index;
};

TEST(Exchange, DeliversEverythingInOrder) {
  const Comm comm;
  const int P = comm.size(), me = comm.rank();
  constexpr std::int64_t kPerDest = 3000;
  std::vector<std::int64_t> next(P, 0), next_big(P, 0);
  bool ordered = true;
  std::int64_t wrong = 0;
  auto on_small = [&](int source, const char* data, std::size_t bytes) {
    for (std::size_t at = 0; at + sizeof(Message) <= bytes; at += sizeof(Message)) {
      Message m;
      std::memcpy(&m, data + at, sizeof m);
      ordered &= m.source == source && m.index == next[source]++;
      wrong += m.dest != me;
    }
  };
  auto on_big = [&](int source, const char* data, std::size_t bytes) {
    // Units of 1000 bytes, larger than the 256-byte buffer: each travels alone.
    ordered &= bytes % 1000 == 0;
    for (std::size_t at = 0; at < bytes; at += 1000) ordered &= data[at] == static_cast<char>(next_big[source]++ % 100);
  };
  Exchange ex(comm, {256, 256}, {on_small, on_big});
  std::vector<char> unit(1000);
  for (std::int64_t i = 0; i < kPerDest; ++i)
    for (int d = 0; d < P; ++d) {
      const Message m{me, d, i};
      ex.send(d, 0, &m, sizeof m);
      if (i % 100 == 0) {
        unit[0] = static_cast<char>((i / 100) % 100);
        ex.send(d, 1, unit.data(), unit.size());
      }
    }
  const bool failed = ex.finish(false);
  EXPECT_FALSE(failed);
  EXPECT_TRUE(ordered);
  EXPECT_EQ(wrong, 0);
  for (int s = 0; s < P; ++s) {
    EXPECT_EQ(next[s], kPerDest) << "from rank " << s;
    EXPECT_EQ(next_big[s], kPerDest / 100) << "from rank " << s;
  }
}

TEST(Exchange, AgreesOnAFailure) {
  const Comm comm;
  Exchange ex(comm, {64}, {[](int, const char*, std::size_t) {}});
  const std::int64_t x = 1;
  for (int d = 0; d < comm.size(); ++d) ex.send(d, 0, &x, sizeof x);
  const bool any_failed = ex.finish(comm.rank() == 0);  // rank 0 stops on an error
  EXPECT_TRUE(any_failed);
  EXPECT_EQ(ex.lower_rank_failed(), comm.rank() > 0);
}

// A fresh directory that every rank sees, removed at the end.
using mpi_test::SharedTempDir;

// A dump with string and integer ids, duplicates, timestamps and a header.
void write_dump(const std::string& path) {
  std::ofstream out(path);
  out << "when,who,what,stars\n";
  for (int u = 0; u < 4000; ++u)
    for (int i = 0; i < 80; ++i)
      if ((u * 31 + i * 17) % 7 < 3) {
        const std::string user = u % 3 == 0 ? std::to_string(u * 11) : "user-" + std::to_string(u);
        out << 1000000 + (u * 7 + i * 13) % 5000 << "," << user << ",item" << i % 50 << "," << 1 + (u + 2 * i) % 5
            << "\n";
      }
}

std::string fingerprint_of(const Comm& comm, const std::string& dir) {
  std::string f;
  if (comm.is_root()) f = read_manifest(dir).fingerprint;
  return comm.broadcast_string(f);
}

TEST(Partition, SameDatasetForAnyRanksBucketsAndMemory) {
  const Comm comm;
  SharedTempDir tmp(comm, "dals-partition-test");
  ASSERT_FALSE(tmp.path().empty());
  if (comm.is_root()) write_dump(tmp.path() + "/dump.csv");
  comm.barrier();
  PartitionOptions o;
  o.inputs = {tmp.path() + "/dump.csv"};
  o.header = true;
  o.user_column = "who";
  o.item_column = "what";
  o.rating_column = "stars";
  o.time_column = "when";
  o.dedup = Dedup::mean;
  o.min_user_ratings = 3;
  o.min_item_ratings = 3;
  o.k_core = true;
  o.test_per_user = 2;
  o.blocks = 5;
  o.seed = 3;
  o.quiet = true;
  const std::vector<std::pair<std::uint64_t, int>> variants = {{0, 0}, {16u << 20, 0}, {16u << 20, 3}, {0, 1}};
  std::vector<std::string> outputs;
  for (std::size_t v = 0; v < variants.size(); ++v) {
    PartitionOptions x = o;
    x.memory_limit = variants[v].first;
    x.buckets_per_rank = variants[v].second;
    x.output = tmp.path() + "/out" + std::to_string(v);
    if (v > 0) x.tmp_dir = tmp.path();
    partition_dataset(comm, x);
    outputs.push_back(fingerprint_of(comm, x.output));
  }
  // The reference: one rank alone (the others wait at the split).
  MPI_Comm solo_raw;
  MPI_Comm_split(comm.get(), comm.rank() == 0 ? 0 : MPI_UNDEFINED, 0, &solo_raw);
  std::string reference;
  if (comm.is_root()) {
    const Comm solo(solo_raw);
    PartitionOptions x = o;
    x.output = tmp.path() + "/solo";
    reference = partition_dataset(solo, x).manifest.fingerprint;
    MPI_Comm_free(&solo_raw);
  }
  reference = comm.broadcast_string(reference);
  std::vector<std::string> problems;
  Manifest m;
  if (comm.is_root()) {
    problems = inspect_dataset(tmp.path() + "/out0").problems;
    m = read_manifest(tmp.path() + "/out0");
  }
  // Not a degenerate dataset: the filters and the split left most of it.
  if (comm.is_root()) {
    EXPECT_GT(m.train.ratings, 100000);
    EXPECT_EQ(m.test.ratings, 2 * m.users);
  }
  for (std::size_t v = 0; v < outputs.size(); ++v) EXPECT_EQ(outputs[v], reference) << "variant " << v;
  EXPECT_TRUE(problems.empty()) << problems.front();
  // No temporary files are left next to the outputs.
  if (comm.is_root()) {
    for (const auto& entry : fs::directory_iterator(tmp.path()))
      EXPECT_TRUE(entry.path().filename().string().rfind("dals-partition-", 0) != 0 &&
                  entry.path().extension() != ".tmp")
          << entry.path();
  }
}

}  // namespace
}  // namespace dals
