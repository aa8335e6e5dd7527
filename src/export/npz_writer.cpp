#include "dals/export/npz_writer.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dals/core/error.hpp"

namespace dals {

namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr std::uint32_t kEnd64Sig = 0x06064b50, kLocator64Sig = 0x07064b50;
constexpr std::uint32_t kFull32 = 0xFFFFFFFFu;
// A fixed time stamp (1980-01-01 00:00, DOS format): the same model gives
// the same file bytes.
constexpr std::uint16_t kDosTime = 0, kDosDate = (1 << 5) | 1;

// Little-endian fields appended to a record (zip is little-endian throughout).
struct Record {
  std::string bytes;
  void u16(std::uint64_t v) { put(v, 2); }
  void u32(std::uint64_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
};

std::uint32_t crc_update(std::uint32_t crc, const void* data, std::uint64_t bytes) {
  const auto* p = static_cast<const Bytef*>(data);
  while (bytes > 0) {  // zlib's length is a uInt: chunks of 1 GiB
    const uInt n = static_cast<uInt>(std::min<std::uint64_t>(bytes, std::uint64_t{1} << 30));
    crc = static_cast<std::uint32_t>(crc32(crc, p, n));
    p += n;
    bytes -= n;
  }
  return crc;
}

}  // namespace

std::string npy_header(const std::string& descr, const std::vector<std::int64_t>& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) dict += std::to_string(shape[i]) + (i + 1 < shape.size() ? ", " : "");
  dict += shape.size() == 1 ? ",), }" : "), }";
  // Magic (6) + version (2) + length (2) + dict + padding + '\n': a multiple
  // of 64 bytes, so the data start aligned (as numpy writes it).
  std::size_t total = 10 + dict.size() + 1;
  total = (total + 63) / 64 * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::string header = "\x93NUMPY";
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dict.size() & 0xFF);
  header += static_cast<char>((dict.size() >> 8) & 0xFF);
  return header + dict;
}

NpzWriter::NpzWriter(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw Error(path + ": cannot create: " + std::strerror(errno));
}

NpzWriter::~NpzWriter() {
  if (file_) std::fclose(file_);
}

void NpzWriter::fail(const std::string& what) const { throw Error(path_ + ": " + what + ": " + std::strerror(errno)); }

void NpzWriter::put(const void* data, std::size_t bytes) {
  if (bytes > 0 && std::fwrite(data, 1, bytes, file_) != bytes) fail("cannot write");
  offset_ += bytes;
}

void NpzWriter::begin(const std::string& name, std::uint64_t bytes) {
  if (!file_) throw Error(path_ + ": begin() after finish()");
  end_entry();
  Entry e;
  e.name = name + ".npy";
  e.offset = offset_;
  e.size = bytes;
  e.zip64 = bytes >= zip64_from_ || offset_ >= zip64_from_;
  Record r;
  r.u32(kLocalSig);
  r.u16(e.zip64 ? 45 : 20);  // version needed: 4.5 for zip64
  r.u16(0);                  // flags
  r.u16(0);                  // stored
  r.u16(kDosTime);
  r.u16(kDosDate);
  r.u32(0);  // CRC32, patched by end_entry()
  r.u32(e.zip64 ? kFull32 : bytes);
  r.u32(e.zip64 ? kFull32 : bytes);
  r.u16(e.name.size());
  r.u16(e.zip64 ? 20 : 0);
  r.bytes += e.name;
  if (e.zip64) {
    r.u16(0x0001);
    r.u16(16);
    r.u64(bytes);  // uncompressed
    r.u64(bytes);  // compressed
  }
  put(r.bytes.data(), r.bytes.size());
  entries_.push_back(e);
  left_ = bytes;
  open_entry_ = true;
}

void NpzWriter::write(const void* data, std::uint64_t bytes) {
  if (!open_entry_ || bytes > left_) throw Error(path_ + ": more bytes than the entry declared");
  Entry& e = entries_.back();
  e.crc = crc_update(e.crc, data, bytes);
  put(data, bytes);
  left_ -= bytes;
}

void NpzWriter::add(const std::string& name, const std::string& descr, const std::vector<std::int64_t>& shape,
                    std::span<const std::byte> data) {
  const std::string header = npy_header(descr, shape);
  begin(name, header.size() + data.size());
  write(header.data(), header.size());
  write(data.data(), data.size());
}

void NpzWriter::end_entry() {
  if (!open_entry_) return;
  open_entry_ = false;
  const Entry& e = entries_.back();
  if (left_ != 0) throw Error(path_ + ": entry " + e.name + " is " + std::to_string(left_) + " bytes short");
  Record crc;
  crc.u32(e.crc);
  if (fseeko(file_, static_cast<off_t>(e.offset + 14), SEEK_SET) != 0) fail("cannot seek");
  if (std::fwrite(crc.bytes.data(), 1, 4, file_) != 4) fail("cannot write");
  if (fseeko(file_, static_cast<off_t>(offset_), SEEK_SET) != 0) fail("cannot seek");
}

void NpzWriter::finish() {
  end_entry();
  const std::uint64_t cd_offset = offset_;
  for (const Entry& e : entries_) {
    Record r;
    r.u32(kCentralSig);
    r.u16(45);  // made by: zip 4.5
    r.u16(e.zip64 ? 45 : 20);
    r.u16(0);
    r.u16(0);
    r.u16(kDosTime);
    r.u16(kDosDate);
    r.u32(e.crc);
    r.u32(e.zip64 ? kFull32 : e.size);
    r.u32(e.zip64 ? kFull32 : e.size);
    r.u16(e.name.size());
    r.u16(e.zip64 ? 28 : 0);
    r.u16(0);  // comment
    r.u16(0);  // disk
    r.u16(0);  // internal attributes
    r.u32(0);  // external attributes
    r.u32(e.zip64 ? kFull32 : e.offset);
    r.bytes += e.name;
    if (e.zip64) {  // in the order of the fields set to 0xFFFFFFFF
      r.u16(0x0001);
      r.u16(24);
      r.u64(e.size);
      r.u64(e.size);
      r.u64(e.offset);
    }
    put(r.bytes.data(), r.bytes.size());
  }
  const std::uint64_t cd_size = offset_ - cd_offset, count = entries_.size();
  const bool zip64 = count >= 0xFFFF || cd_offset >= zip64_from_ || cd_size >= zip64_from_;
  Record r;
  if (zip64) {
    const std::uint64_t end64 = offset_;
    r.u32(kEnd64Sig);
    r.u64(44);  // the record's size after this field
    r.u16(45);
    r.u16(45);
    r.u32(0);
    r.u32(0);
    r.u64(count);
    r.u64(count);
    r.u64(cd_size);
    r.u64(cd_offset);
    r.u32(kLocator64Sig);
    r.u32(0);
    r.u64(end64);
    r.u32(1);
  }
  r.u32(kEndSig);
  r.u16(0);
  r.u16(0);
  r.u16(zip64 ? 0xFFFF : count);
  r.u16(zip64 ? 0xFFFF : count);
  r.u32(zip64 ? kFull32 : cd_size);
  r.u32(zip64 ? kFull32 : cd_offset);
  r.u16(0);
  put(r.bytes.data(), r.bytes.size());
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) fail("cannot write");
}

}  // namespace dals
