#include "blocks.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "dals/core/error.hpp"
#include "dals/data/id_keys.hpp"

namespace dals::part {
namespace {

constexpr int kKindsAll = 4;  // train users, test users, train items, test items
Side side_of(int kind) { return kind < 2 ? Side::users : Side::items; }
Split split_of(int kind) { return kind % 2 == 0 ? Split::train : Split::test; }

}  // namespace

BlockWriters::BlockWriters(Job& job, std::string dir) : job_(job), dir_(std::move(dir)), has_test_(job.test_total > 0) {
  const int B = job.blocks, P = job.comm.size(), r = job.comm.rank();
  first_block_ = static_cast<int>(static_cast<std::int64_t>(B) * r / P);
  last_block_ = static_cast<int>(static_cast<std::int64_t>(B) * (r + 1) / P);
  owner_.resize(B);
  for (int q = 0; q < P; ++q)
    for (int b = static_cast<int>(static_cast<std::int64_t>(B) * q / P);
         b < static_cast<int>(static_cast<std::int64_t>(B) * (q + 1) / P); ++b)
      owner_[b] = q;
  // Spill parts: per (kind, block) for the user side, whose rows each come
  // from one rank, in order; per (kind, block, source rank) for the item
  // side, so that reading the sources in rank order (= user order) leaves
  // every item's row sorted; then per (side, block) for the raw ids.
  std::vector<std::string> paths;
  for (std::size_t p = 0; p < part_count(); ++p) paths.push_back(job.scratch.file("w-" + std::to_string(p)));
  spill_ = SpillStore(paths, job.pool);
  fields_.assign(static_cast<std::size_t>(kKindsAll) * B * 4, 0);
  first_hash_.assign(2 * static_cast<std::size_t>(B), 0);
  has_first_.assign(2 * static_cast<std::size_t>(B), 0);
  sums_.assign(B, 0.0);
  histogram_.assign(job.histogram.size(), 0);
}

const std::vector<std::int64_t>& BlockWriters::cuts(Side side) const { return job_.cuts[side]; }

std::size_t BlockWriters::part_count() const {
  const std::size_t local = static_cast<std::size_t>(last_block_ - first_block_), P = job_.comm.size();
  return local * (2 + 2 * P + 2);
}

std::size_t BlockWriters::spill_index(int kind, int block, int source) const {
  if (block < first_block_ || block >= last_block_) throw Error("internal: a block was sent to the wrong writer");
  const std::size_t local = static_cast<std::size_t>(last_block_ - first_block_), P = job_.comm.size();
  const std::size_t b = static_cast<std::size_t>(block - first_block_);
  switch (kind) {
    case 0:
    case 1:
      return kind * local + b;  // user-side ratings
    case 2:
    case 3:
      return 2 * local + ((kind - 2) * local + b) * P + source;  // item-side ratings
    default:
      return (2 + 2 * P) * local + (kind - 4) * local + b;  // 4: user ids, 5: item ids
  }
}

void BlockWriters::add_rating(int kind, int block, int source, std::int32_t row, std::int32_t col, float value) {
  const Entry e{row, col, value};
  spill_.append(spill_index(kind, block, source), &e, sizeof e);
}

void BlockWriters::add_ids(Side side, const char* data, std::size_t bytes) {
  const auto& c = cuts(side);
  for (std::size_t at = 0; at + 10 <= bytes;) {
    std::int64_t dense;
    std::uint16_t len;
    std::memcpy(&dense, data + at, 8);
    std::memcpy(&len, data + at + 8, 2);
    const int block = static_cast<int>(std::upper_bound(c.begin(), c.end(), dense) - c.begin()) - 1;
    spill_.append(spill_index(side == Side::users ? 4 : 5, block, 0), data + at, 10 + len);
    at += 10 + len;
  }
}

void BlockWriters::flush() {}

// Two passes over the block's spill parts: count each row's ratings, then
// put each rating in its row's slot. Rows come out sorted (see the parts);
// they are checked, and sorted if not, so the result depends on nothing else.
CsrBlock BlockWriters::build_ratings(int kind, int block) {
  const Side side = side_of(kind);
  const auto& c = cuts(side);
  const int sources = side == Side::users ? 1 : job_.comm.size();
  CsrBlock out;
  out.first_row = c[block];
  out.num_cols = side == Side::users ? job_.item_count : job_.users;
  const std::int64_t rows = c[block + 1] - c[block];
  out.indptr.assign(rows + 1, 0);
  for (int s = 0; s < sources; ++s) {
    const std::size_t part = spill_index(kind, block, s);
    spill_.read<Entry>(part, [&](std::span<const Entry> chunk) {
      for (const Entry& e : chunk) {
        if (e.row < out.first_row || e.row >= out.first_row + rows)
          throw Error(spill_.path(part) + ": rating outside its block");
        ++out.indptr[e.row - out.first_row + 1];
      }
    });
  }
  for (std::int64_t r = 0; r < rows; ++r) out.indptr[r + 1] += out.indptr[r];
  out.indices.resize(out.indptr.back());
  out.values.resize(out.indptr.back());
  std::vector<std::int64_t> next(out.indptr.begin(), out.indptr.end() - 1);
  for (int s = 0; s < sources; ++s) {
    const std::size_t part = spill_index(kind, block, s);
    spill_.read<Entry>(part, [&](std::span<const Entry> chunk) {
      for (const Entry& e : chunk) {
        const std::int64_t p = next[e.row - out.first_row]++;
        out.indices[p] = e.col;
        out.values[p] = e.value;
      }
    });
    spill_.clear(part);
  }
  std::vector<std::pair<std::int32_t, float>> row;
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto b = out.indices.begin() + out.indptr[r], e = out.indices.begin() + out.indptr[r + 1];
    if (std::is_sorted(b, e)) continue;
    row.clear();
    for (std::int64_t p = out.indptr[r]; p < out.indptr[r + 1]; ++p) row.emplace_back(out.indices[p], out.values[p]);
    std::sort(row.begin(), row.end());
    for (std::int64_t p = out.indptr[r]; p < out.indptr[r + 1]; ++p) {
      out.indices[p] = row[p - out.indptr[r]].first;
      out.values[p] = row[p - out.indptr[r]].second;
    }
  }
  return out;
}

void BlockWriters::build_ids(Side side, int block) {
  const auto& c = cuts(side);
  const std::int64_t first = c[block], rows = c[block + 1] - first;
  const bool strings = job_.strings_out[side];
  const std::size_t part = spill_index(side == Side::users ? 4 : 5, block, 0);
  const std::uint64_t seed = job_.o.seed;
  const ItemTable& items = job_.items;
  std::vector<std::string> text(strings ? rows : 0);
  std::vector<std::int64_t> ints(strings ? 0 : rows);
  std::vector<std::uint8_t> have(rows, 0);
  if (side == Side::items) {  // integer ids follow from the item table
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int64_t p = job_.item_position[first + r];
      if (items.flags[p] & kItemIsString) continue;
      const auto value = static_cast<std::int64_t>(key_of_order_hash(seed, Side::items, items.hash[p]));
      if (strings) {
        char t[24];
        text[r].assign(t, std::to_chars(t, t + sizeof t, value).ptr);
      } else {
        ints[r] = value;
      }
      have[r] = 1;
    }
  }
  const std::vector<char> raw = spill_.take<char>(part);
  for (std::size_t at = 0; at + 10 <= raw.size();) {
    std::int64_t dense;
    std::uint16_t len;
    std::memcpy(&dense, raw.data() + at, 8);
    std::memcpy(&len, raw.data() + at + 8, 2);
    const std::int64_t r = dense - first;
    if (r < 0 || r >= rows || have[r])
      throw Error("internal: id of " + std::to_string(dense) + " sent twice or astray");
    have[r] = 1;
    if (strings)
      text[r].assign(raw.data() + at + 10, len);
    else
      std::memcpy(&ints[r], raw.data() + at + 10, 8);
    at += 10 + len;
  }
  // Every id must be there, and their order hashes must increase: the
  // invariant that raw -> dense lookups (id_index.hpp) rely on.
  std::uint64_t previous = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    if (!have[r])
      throw Error("internal: no raw id for dense " + std::string(side_name(side)) + " id " + std::to_string(first + r));
    const std::uint64_t key = strings ? raw_id_key(text[r], seed) : static_cast<std::uint64_t>(ints[r]);
    const std::uint64_t h = order_hash(seed, side, key);
    if (r > 0 && h <= previous) throw Error("internal: ids of a block are not in hash order");
    if (r == 0) {
      first_hash_[(side == Side::users ? 0 : 1) * static_cast<std::size_t>(job_.blocks) + block] = h;
      has_first_[(side == Side::users ? 0 : 1) * static_cast<std::size_t>(job_.blocks) + block] = 1;
    }
    previous = h;
  }
  const std::string file = ids_path(dir_, side, block);
  if (strings) {
    StringIds ids;
    for (const auto& t : text) ids.push_back(t);
    write_string_id_block(file, first, ids);
  } else {
    write_id_block(file, first, ints);
  }
}

void BlockWriters::build_all() {
  const int B = job_.blocks;
  for (int b = first_block_; b < last_block_; ++b) {
    for (const int real : has_test_ ? std::vector<int>{0, 1, 2, 3} : std::vector<int>{0, 2}) {
      CsrBlock block = build_ratings(real, b);
      const std::string path = ratings_path(dir_, split_of(real), side_of(real), b);
      block.validate(path);
      const BlockInfo info = write_ratings_block(path, block);
      std::uint64_t* f = &fields_[(static_cast<std::size_t>(real) * B + b) * 4];
      f[0] = static_cast<std::uint64_t>(info.first);
      f[1] = static_cast<std::uint64_t>(info.rows);
      f[2] = static_cast<std::uint64_t>(info.nnz);
      f[3] = info.checksum;
      if (real == 2) {  // training ratings by item: the mean's sum and the histogram, in a fixed order
        double sum = 0;
        for (float v : block.values) {
          sum += v;
          ++histogram_[job_.histogram.bin_of(v)];
        }
        sums_[b] = sum;
      }
    }
    build_ids(Side::users, b);
    build_ids(Side::items, b);
    job_.progress.update(b - first_block_ + 1);
  }
}

Manifest BlockWriters::manifest() {
  const Comm& comm = job_.comm;
  const int B = job_.blocks;
  comm.allreduce_inplace(std::span<std::uint64_t>(fields_), MPI_SUM);
  comm.allreduce_inplace(std::span<std::uint64_t>(first_hash_), MPI_SUM);
  comm.allreduce_inplace(std::span<std::uint64_t>(has_first_), MPI_SUM);
  comm.allreduce_inplace(std::span<double>(sums_), MPI_SUM);  // one nonzero term each: exact
  comm.allreduce_inplace(std::span<std::int64_t>(histogram_), MPI_SUM);
  auto get = [&](int kind, int b) {
    const std::uint64_t* f = &fields_[(static_cast<std::size_t>(kind) * B + b) * 4];
    return BlockInfo{static_cast<std::int64_t>(f[0]), static_cast<std::int64_t>(f[1]), static_cast<std::int64_t>(f[2]),
                     f[3]};
  };
  Manifest m;
  m.users = job_.users;
  m.items = job_.item_count;
  m.blocks = B;
  m.has_test = has_test_;
  double sum = 0;  // in block order: the mean does not depend on P
  for (int b = 0; b < B; ++b) {
    sum += sums_[b];
    m.train.user_blocks.push_back(get(0, b));
    m.train.item_blocks.push_back(get(2, b));
    m.train.ratings += m.train.user_blocks.back().nnz;
    if (has_test_) {
      m.test.user_blocks.push_back(get(1, b));
      m.test.item_blocks.push_back(get(3, b));
      m.test.ratings += m.test.user_blocks.back().nnz;
    }
  }
  m.mean = m.train.ratings > 0 ? sum / static_cast<double>(m.train.ratings) : 0.0;
  for (Side side : {Side::users, Side::items}) {
    IdIndex& index = index_[side];
    index.id_type = job_.strings_out[side] ? "string" : "int64";
    index.seed = job_.o.seed;
    index.first_hash.assign(B, 0);
    const std::size_t base = (side == Side::users ? 0 : 1) * static_cast<std::size_t>(B);
    // An empty block takes the next block's first hash, so it owns no hash.
    std::uint64_t next = std::numeric_limits<std::uint64_t>::max();
    for (int b = B - 1; b >= 1; --b) {
      if (has_first_[base + b]) next = first_hash_[base + b];
      index.first_hash[b] = next;
    }
  }
  job_.histogram_counts = histogram_;
  return m;
}

}  // namespace dals::part
