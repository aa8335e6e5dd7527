// Scratch files of dals-generate: rating buckets per item block, and text
// part files.
#include "scratch.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <utility>

#include "dals/core/error.hpp"

namespace dals::gen {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Appends `bytes` to `path`, creating or truncating it first if `truncate`.
void append_file(const std::string& path, const void* data, std::size_t bytes, bool truncate) {
  std::FILE* f = std::fopen(path.c_str(), truncate ? "wb" : "ab");
  if (f == nullptr) throw Error(path + ": cannot open for writing: " + errno_text());
  const bool wrote = bytes == 0 || std::fwrite(data, 1, bytes, f) == bytes;
  const int saved = errno;
  if (std::fclose(f) != 0 || !wrote)
    throw Error(path + ": write failed: " + std::strerror(wrote ? errno : saved) + " (disk full?)");
}

}  // namespace

std::string bucket_path(const std::string& scratch, Split split, int item_block, int rank) {
  char name[64];
  std::snprintf(name, sizeof name, "/buckets/%s-b%05d-r%05d.bin", split == Split::train ? "train" : "test", item_block,
                rank);
  return scratch + name;
}

BucketWriter::BucketWriter(const std::string& scratch, Split split, int rank,
                           const std::vector<std::int32_t>& block_of_item, int blocks)
    : block_of_item_(block_of_item), buffers_(blocks) {
  // About 4M buffered records (48 MB) in all, whatever B.
  limit_ = std::max<std::size_t>(4096, (std::size_t{1} << 22) / static_cast<std::size_t>(blocks));
  for (int b = 0; b < blocks; ++b) {
    paths_.push_back(bucket_path(scratch, split, b, rank));
    append_file(paths_.back(), nullptr, 0, true);
  }
}

void BucketWriter::flush(int block) {
  auto& buf = buffers_[block];
  append_file(paths_[block], buf.data(), buf.size() * sizeof(BucketRecord), false);
  buf.clear();
}

void BucketWriter::flush_all() {
  for (std::size_t b = 0; b < buffers_.size(); ++b)
    if (!buffers_[b].empty()) flush(static_cast<int>(b));
}

CsrBlock read_item_block(const std::string& scratch, Split split, int item_block, int ranks, std::int64_t first,
                         std::int64_t rows, std::int64_t num_users, const std::vector<std::int64_t>& item_counts) {
  // The counts fix each item's slice in advance; records are scattered
  // straight into place, so memory is the block's CSC and one read buffer.
  CsrBlock block;
  block.first_row = first;
  block.num_cols = num_users;
  block.indptr.assign(rows + 1, 0);
  for (std::int64_t r = 0; r < rows; ++r) block.indptr[r + 1] = block.indptr[r] + item_counts[first + r];
  block.indices.resize(block.indptr.back());
  block.values.resize(block.indptr.back());
  std::vector<std::int64_t> pos(block.indptr.begin(), block.indptr.end() - 1);
  std::vector<BucketRecord> buffer(1 << 16);
  for (int rank = 0; rank < ranks; ++rank) {
    const std::string path = bucket_path(scratch, split, item_block, rank);
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) throw Error(path + ": cannot open bucket file: " + errno_text());
    std::size_t got = 0;
    std::string problem;
    while (problem.empty() && (got = std::fread(buffer.data(), sizeof(BucketRecord), buffer.size(), f)) > 0) {
      for (std::size_t t = 0; t < got; ++t) {
        const BucketRecord& rec = buffer[t];
        const std::int64_t local = rec.item - first;
        if (local < 0 || local >= rows || rec.user < 0 || rec.user >= num_users) {
          problem = "record for (" + std::to_string(rec.user) + ", " + std::to_string(rec.item) + ") out of range";
          break;
        }
        const std::int64_t p = pos[local]++;
        if (p >= block.indptr[local + 1]) {
          problem = "more ratings for item " + std::to_string(rec.item) + " than were counted";
          break;
        }
        block.indices[p] = rec.user;
        block.values[p] = rec.value;
      }
    }
    const bool read_error = std::ferror(f) != 0;
    std::fclose(f);
    if (read_error) throw Error(path + ": read failed");
    if (!problem.empty()) throw Error(path + ": damaged bucket file: " + problem);
  }
  std::vector<std::pair<std::int32_t, float>> row;
  for (std::int64_t r = 0; r < rows; ++r) {
    if (pos[r] != block.indptr[r + 1])
      throw Error(bucket_path(scratch, split, item_block, 0) + " and the other ranks' buckets hold " +
                  std::to_string(pos[r] - block.indptr[r]) + " ratings of item " + std::to_string(first + r) +
                  ", expected " + std::to_string(item_counts[first + r]));
    // Ranks wrote in user order and are read in rank order, so rows come out
    // sorted already; sort anyway if not, to depend on nothing but the data.
    auto begin = block.indices.begin() + block.indptr[r], end = block.indices.begin() + block.indptr[r + 1];
    if (std::is_sorted(begin, end)) continue;
    row.clear();
    for (std::int64_t p = block.indptr[r]; p < block.indptr[r + 1]; ++p)
      row.emplace_back(block.indices[p], block.values[p]);
    std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::int64_t p = block.indptr[r]; p < block.indptr[r + 1]; ++p) {
      block.indices[p] = row[p - block.indptr[r]].first;
      block.values[p] = row[p - block.indptr[r]].second;
    }
  }
  return block;
}

void remove_buckets(const std::string& scratch, Split split, int item_block, int ranks) {
  for (int rank = 0; rank < ranks; ++rank) {
    std::error_code ec;
    std::filesystem::remove(bucket_path(scratch, split, item_block, rank), ec);
  }
}

TextPartWriter::~TextPartWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void TextPartWriter::open(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) throw Error(path + ": cannot create: " + errno_text());
  buffer_.reserve(1 << 20);
}

void TextPartWriter::add(std::int64_t user, std::int64_t item, float value) {
  // 20 + 1 + 20 + 1 + 16 + 1 characters at most.
  char line[64];
  char* p = std::to_chars(line, line + 20, user).ptr;
  p[0] = ',';
  p = std::to_chars(p + 1, p + 21, item).ptr;
  p[0] = ',';
  p = std::to_chars(p + 1, p + 17, value).ptr;  // shortest text that reads back as the same float
  p[0] = '\n';
  buffer_.append(line, p + 1);
  if (buffer_.size() >= (1 << 20)) write_out();
}

void TextPartWriter::write_out() {
  if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
    throw Error(path_ + ": write failed: " + errno_text() + " (disk full?)");
  buffer_.clear();
}

void TextPartWriter::close() {
  if (file_ == nullptr) return;
  write_out();
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) throw Error(path_ + ": write failed: " + errno_text() + " (disk full?)");
}

void concatenate_text(const std::vector<std::string>& parts, const std::string& dest, const std::string& header) {
  const std::string tmp = dest + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) throw Error(tmp + ": cannot create: " + errno_text());
  const std::string first = header + "\n";
  bool ok = std::fwrite(first.data(), 1, first.size(), out) == first.size();
  std::vector<char> buffer(1 << 20);
  std::string failed_part;
  for (const auto& part : parts) {
    std::FILE* in = std::fopen(part.c_str(), "rb");
    if (in == nullptr) {
      failed_part = part;
      break;
    }
    std::size_t got = 0;
    while (ok && (got = std::fread(buffer.data(), 1, buffer.size(), in)) > 0)
      ok = std::fwrite(buffer.data(), 1, got, out) == got;
    if (std::ferror(in)) failed_part = part;
    std::fclose(in);
    if (!ok || !failed_part.empty()) break;
  }
  ok = std::fclose(out) == 0 && ok;
  if (!failed_part.empty() || !ok) {
    std::remove(tmp.c_str());
    if (!failed_part.empty()) throw Error(failed_part + ": cannot read text part file");
    throw Error(tmp + ": write failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), dest.c_str()) != 0) {
    const std::string why = errno_text();
    std::remove(tmp.c_str());
    throw Error(dest + ": cannot rename " + tmp + " into place: " + why);
  }
}

}  // namespace dals::gen
