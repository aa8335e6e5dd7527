#pragma once
// Private to dals-generate: the scratch files of the streaming writer.
//
// While writing its user blocks, each rank appends every rating to a bucket
// file per (split, item block, rank); after a barrier, the owner of an item
// block reads that block's buckets from every rank and builds the CSC. Text
// dumps are written as one part file per rank and concatenated in rank
// order, which is user order, so the result does not depend on the ranks.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/data/dataset.hpp"

namespace dals::gen {

struct BucketRecord {
  std::int32_t item;
  std::int32_t user;
  float value;
};
static_assert(sizeof(BucketRecord) == 12, "bucket records are packed 12-byte triplets");

/// SCRATCH/buckets/train-b00007-r00003.bin
std::string bucket_path(const std::string& scratch, Split split, int item_block, int rank);

/// One rank's bucket files of one split, one per item block, written
/// through bounded in-memory buffers (files are opened only to append a
/// full buffer, so B may exceed the open-file limit).
class BucketWriter {
 public:
  /// Creates (truncates) the rank's B bucket files. `block_of_item` maps an
  /// item to its block.
  BucketWriter(const std::string& scratch, Split split, int rank, const std::vector<std::int32_t>& block_of_item,
               int blocks);
  void add(std::int32_t item, std::int32_t user, float value) {
    auto& buf = buffers_[block_of_item_[item]];
    buf.push_back({item, user, value});
    if (buf.size() >= limit_) flush(block_of_item_[item]);
  }
  /// Writes every buffer out; call before the files are read.
  void flush_all();

 private:
  void flush(int block);
  const std::vector<std::int32_t>& block_of_item_;
  std::vector<std::string> paths_;
  std::vector<std::vector<BucketRecord>> buffers_;
  std::size_t limit_;
};

/// Builds the CSC block of items [first, first + rows) from the bucket files
/// of every rank. `item_counts` (indexed by global item id) says how many
/// ratings each item has in this split: a bucket holding more or fewer is an
/// Error naming the file.
CsrBlock read_item_block(const std::string& scratch, Split split, int item_block, int ranks, std::int64_t first,
                         std::int64_t rows, std::int64_t num_users, const std::vector<std::int64_t>& item_counts);

/// Removes the bucket files of one item block (all ranks').
void remove_buckets(const std::string& scratch, Split split, int item_block, int ranks);

/// A CSV part file: "raw_user,raw_item,rating" lines, no header.
class TextPartWriter {
 public:
  TextPartWriter() = default;
  TextPartWriter(const TextPartWriter&) = delete;
  TextPartWriter& operator=(const TextPartWriter&) = delete;
  ~TextPartWriter();
  void open(const std::string& path);
  bool is_open() const { return file_ != nullptr; }
  void add(std::int64_t user, std::int64_t item, float value);
  void close();

 private:
  void write_out();
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
};

/// Writes DEST as the line `header` ("user,item,rating") followed by the
/// parts in order (through DEST.tmp and a rename).
void concatenate_text(const std::vector<std::string>& parts, const std::string& dest, const std::string& header);

}  // namespace dals::gen
