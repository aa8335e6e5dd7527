// Top-K lists as HDF5 (lists_h5.hpp): columns of equal length, raw ids as
// the dataset's id maps hold them, every array checksummed by H5File.
#include "dals/recommend/lists_h5.hpp"

#include <charconv>
#include <span>

#include "dals/core/error.hpp"
#include "dals/data/hdf5_file.hpp"

namespace dals {

namespace {

constexpr const char* kFileFormat = "dals-recommendations";

const char* id_type(const RawIdColumn& c) { return c.strings ? "string" : "int64"; }

void write_column(H5File& f, const std::string& name, const RawIdColumn& c) {
  if (!c.strings) {
    f.write(name, std::span<const std::int64_t>(c.ints));
    return;
  }
  f.write(name + "_offsets", std::span<const std::int64_t>(c.texts.offsets));
  f.write(name + "_bytes", std::span<const char>(c.texts.bytes));
}

RawIdColumn read_column(const H5File& f, const std::string& name, std::uint64_t lines) {
  RawIdColumn c;
  const std::string type = f.string_attribute(name + "_id_type");
  if (type != "int64" && type != "string")
    throw Error(f.path() + ": attribute '" + name + "_id_type' is '" + type + "', not int64 or string");
  c.strings = type == "string";
  if (!c.strings) {
    c.ints = f.read_exact<std::int64_t>(name, lines, nullptr, "attribute 'lines'");
    return c;
  }
  c.texts.offsets = f.read_exact<std::int64_t>(name + "_offsets", lines + 1, nullptr, "attribute 'lines'");
  c.texts.bytes = f.read<char>(name + "_bytes");
  const auto total = static_cast<std::int64_t>(c.texts.bytes.size());
  const auto& o = c.texts.offsets;
  for (std::size_t r = 0; r < o.size(); ++r)
    if ((r == 0 && o[r] != 0) || (r > 0 && o[r] < o[r - 1]) || o[r] > total || (r + 1 == o.size() && o[r] != total))
      throw Error(f.path() + ": " + name + "_offsets are not monotone offsets into " + name + "_bytes");
  return c;
}

}  // namespace

void RawIdColumn::push_back(const std::string& text) {
  if (strings) {
    texts.push_back(text);
    return;
  }
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error("raw id '" + text + "' is not an integer but its side's ids are int64");
  ints.push_back(v);
}

void RawIdColumn::append(const RawIdColumn& other) {
  if (other.strings != strings) throw Error("cannot append string raw ids to integer ones");
  if (!strings) {
    ints.insert(ints.end(), other.ints.begin(), other.ints.end());
    return;
  }
  const std::int64_t base = static_cast<std::int64_t>(texts.bytes.size());
  texts.bytes.insert(texts.bytes.end(), other.texts.bytes.begin(), other.texts.bytes.end());
  for (std::size_t r = 1; r < other.texts.offsets.size(); ++r) texts.offsets.push_back(base + other.texts.offsets[r]);
}

void ListFile::append(const ListFile& other) {
  rows.append(other.rows);
  user.append(other.user);
  item.append(other.item);
}

void write_list_file(const std::string& path, const ListFile& f) {
  const auto lines = static_cast<std::int64_t>(f.rows.size());
  if (f.user.size() != lines || f.item.size() != lines || f.rows.item.size() != f.rows.size() ||
      f.rows.score.size() != f.rows.size() || f.rows.rank.size() != f.rows.size())
    throw Error(path + ": the list columns differ in length");
  H5File h = H5File::create(path);
  h.set_attribute("format", std::string(kFileFormat));
  h.set_attribute("lines", lines);
  h.set_attribute("user_id_type", std::string(id_type(f.user)));
  h.set_attribute("item_id_type", std::string(id_type(f.item)));
  h.write("user_dense", std::span<const std::int64_t>(f.rows.user));
  h.write("item_dense", std::span<const std::int32_t>(f.rows.item));
  h.write("rank", std::span<const std::int32_t>(f.rows.rank));
  h.write("score", std::span<const float>(f.rows.score));
  write_column(h, "user", f.user);
  write_column(h, "item", f.item);
  h.close();
}

ListFile read_list_file(const std::string& path) {
  const H5File h = H5File::open(path);
  if (h.string_attribute("format") != kFileFormat)
    throw Error(path + ": attribute 'format' is not \"" + kFileFormat + "\"");
  const std::int64_t lines = h.int_attribute("lines");
  if (lines < 0) throw Error(path + ": attribute 'lines' is negative");
  const auto n = static_cast<std::uint64_t>(lines);
  ListFile f;
  const char* source = "attribute 'lines'";
  f.rows.user = h.read_exact<std::int64_t>("user_dense", n, nullptr, source);
  f.rows.item = h.read_exact<std::int32_t>("item_dense", n, nullptr, source);
  f.rows.rank = h.read_exact<std::int32_t>("rank", n, nullptr, source);
  f.rows.score = h.read_exact<float>("score", n, nullptr, source);
  f.user = read_column(h, "user", n);
  f.item = read_column(h, "item", n);
  return f;
}

}  // namespace dals
