// dals-partition, phase 5: the last pass and the block files.
//
// Every rank streams its users in dense order; each kept rating goes to the
// writer of its user block (by-user CSR) and to the writer of its item block
// (by-item CSC), each user's raw id to its user block's writer, each string
// item id (from the dictionary owners) to its item block's writer. A writer
// spills what it receives per block, then builds each block in memory from
// its spill file and writes it: memory is one block, whatever the input.
#include <algorithm>
#include <charconv>
#include <cstring>

#include "blocks.hpp"
#include "dals/core/error.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/id_keys.hpp"
#include "dals/mpi/exchange.hpp"
#include "internal.hpp"

namespace dals::part {
namespace {

enum WriteChannel { kRatings, kUserIds, kItemIds };

// Kinds of rating blocks, by (side, split).
enum Kind { kTrainUsers, kTestUsers, kTrainItems, kTestItems, kKinds };

struct Routed {
  std::int32_t row, col;
  float value;
  std::uint32_t tag;  ///< kind | block << 2
};

int block_of(const std::vector<std::int64_t>& cuts, std::int64_t id) {
  return static_cast<int>(std::upper_bound(cuts.begin(), cuts.end(), id) - cuts.begin()) - 1;
}

// An id message: dense id (8 bytes), length (2 bytes), the id's bytes
// (for int64 maps: the 8 bytes of the value).
void send_id(Exchange& ex, int dest, int channel, std::int64_t dense, std::string_view raw, std::vector<char>& buf) {
  const auto len = static_cast<std::uint16_t>(raw.size());
  buf.resize(10 + raw.size());
  std::memcpy(buf.data(), &dense, 8);
  std::memcpy(buf.data() + 8, &len, 2);
  std::memcpy(buf.data() + 10, raw.data(), raw.size());
  ex.send(dest, channel, buf.data(), buf.size());
}

std::string decimal(std::int64_t v) {
  char text[24];
  return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
}

// The raw id bytes to send for a user: its name, the decimal text of an
// integer id in a string map, or the 8 bytes of the value in an int64 map.
class UserNames {
 public:
  explicit UserNames(Job& job) : job_(job) {}
  std::string_view raw(std::uint64_t hash, std::uint32_t flags) {
    const std::int64_t value = static_cast<std::int64_t>(key_of_order_hash(job_.o.seed, Side::users, hash));
    if (!job_.strings_out.users) {
      std::memcpy(bytes_, &value, 8);
      return {bytes_, 8};
    }
    if (!(flags & kUserString)) return text_ = decimal(value);
    const int b = job_.space.bucket_of(hash);
    if (b != bucket_) {  // the last use of this bucket's names: take them
      names_ = load_names(job_, job_.user_names, static_cast<std::size_t>(b - job_.first_bucket()), Side::users, false);
      bucket_ = b;
    }
    if (names_.find(hash, text_) == nullptr) throw Error("internal: a string user id has no name");
    return text_;
  }

 private:
  Job& job_;
  int bucket_ = -1;
  Names names_;
  std::string text_;
  char bytes_[8];
};

void route_ratings(Job& job, Exchange& ex, const BlockWriters& writers) {
  const ItemTable& items = job.items;
  std::vector<std::uint8_t> fate;
  std::vector<std::int64_t> positions;
  std::vector<char> buf;
  UserNames names(job);
  std::int64_t dense = job.user_offset;
  int block = block_of(job.cuts.users, dense);
  std::vector<std::int32_t> item_block(job.item_count);
  for (int b = 0; b < job.blocks; ++b)
    for (std::int64_t i = job.cuts.items[b]; i < job.cuts.items[b + 1]; ++i) item_block[i] = b;
  std::int64_t done = 0;
  for_each_user(
      job,
      [&](std::uint64_t hash, std::span<const Record> recs) {
        decide_user(job, recs, fate, positions, nullptr);
        if (std::all_of(fate.begin(), fate.end(), [](std::uint8_t f) { return f == kDropped; })) return;
        while (dense >= job.cuts.users[block + 1]) ++block;
        const int user_writer = writers.owner(Side::users, block);
        send_id(ex, user_writer, kUserIds, dense, names.raw(hash, recs[0].flags), buf);
        for (std::size_t k = 0; k < recs.size(); ++k) {
          if (fate[k] == kDropped) continue;
          const std::int32_t item = items.dense[positions[k]];
          const std::uint32_t test = fate[k] == kTest ? 1 : 0;
          const int b = item_block[item];
          const Routed by_user{static_cast<std::int32_t>(dense), item, recs[k].value,
                               (kTrainUsers + test) | static_cast<std::uint32_t>(block) << 2};
          const Routed by_item{item, static_cast<std::int32_t>(dense), recs[k].value,
                               (kTrainItems + test) | static_cast<std::uint32_t>(b) << 2};
          ex.send(user_writer, kRatings, &by_user, sizeof by_user);
          ex.send(writers.owner(Side::items, b), kRatings, &by_item, sizeof by_item);
        }
        ++dense;
        if ((++done & 0xfff) == 0) job.progress.update(static_cast<double>(dense - job.user_offset));
      },
      true);
  // String item ids come from the owners of their dictionary buckets.
  if (!job.strings_out.items) return;
  for (int k = 0; k < job.space.per_rank; ++k) {
    const std::vector<char> raw = job.item_names.take<char>(static_cast<std::size_t>(k));
    for (std::size_t at = 0; at + 10 <= raw.size();) {
      std::uint64_t hash;
      std::uint16_t len;
      std::memcpy(&hash, raw.data() + at, 8);
      std::memcpy(&len, raw.data() + at + 8, 2);
      const std::int64_t p = items.position_of(hash);
      if (p >= 0 && items.dense[p] >= 0) {
        const std::int32_t item = items.dense[p];
        send_id(ex, writers.owner(Side::items, block_of(job.cuts.items, item)), kItemIds, item,
                std::string_view(raw.data() + at + 10, len), buf);
      }
      at += 10 + len;
    }
  }
}

}  // namespace

Manifest write_blocks(Job& job, const std::string& tmp, IdIndex& user_index, IdIndex& item_index) {
  BlockWriters writers(job, tmp);
  job.progress.start("write", static_cast<double>(job.local_users), "users");
  run_collectively(job.comm, [&] {
    const std::size_t buf = job.budget.exchange_buffer;
    Exchange ex(job.comm, {buf, buf / 4, buf / 4},
                {[&](int source, const char* data, std::size_t bytes) {
                   for (std::size_t at = 0; at + sizeof(Routed) <= bytes; at += sizeof(Routed)) {
                     Routed r;
                     std::memcpy(&r, data + at, sizeof r);
                     writers.add_rating(static_cast<int>(r.tag & 3), static_cast<int>(r.tag >> 2), source, r.row, r.col,
                                        r.value);
                   }
                 },
                 [&](int, const char* data, std::size_t bytes) { writers.add_ids(Side::users, data, bytes); },
                 [&](int, const char* data, std::size_t bytes) { writers.add_ids(Side::items, data, bytes); }});
    std::string error;
    try {
      route_ratings(job, ex, writers);
    } catch (const Error& e) {
      error = e.what();
    }
    ex.finish(!error.empty());
    if (!error.empty()) throw Error(error);
    writers.flush();
  });
  job.progress.finish();
  job.progress.start("build", 0, "");
  run_collectively(job.comm, [&] { writers.build_all(); });
  Manifest m = writers.manifest();
  user_index = writers.index(Side::users);
  item_index = writers.index(Side::items);
  job.progress.finish();
  return m;
}

}  // namespace dals::part
