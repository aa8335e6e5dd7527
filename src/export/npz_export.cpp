// OUT/model.npz: the arrays of model.h5 under the same names (the
// `implicit` library's user_factors and item_factors among them), as .npy
// entries that numpy.load reads with allow_pickle=False: numbers as
// little-endian arrays, string ids as fixed-width unicode ('<U' + the
// longest id's code points), the hyper-parameters as a 0-d unicode string.
#include <algorithm>
#include <bit>
#include <cstdlib>

#include "dals/core/error.hpp"
#include "dals/export/export_model.hpp"
#include "dals/export/npz_writer.hpp"

namespace dals {

static_assert(std::endian::native == std::endian::little, ".npy entries are written as the machine holds them");

namespace {

// Decodes UTF-8 into code points; Error on a malformed sequence (numpy's
// unicode arrays hold code points, not bytes).
std::u32string utf8_to_utf32(std::string_view s, const std::string& what) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (extra < 0 || i + static_cast<std::size_t>(extra) >= s.size()) throw Error(what + " is not valid UTF-8");
    char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
    for (int e = 1; e <= extra; ++e) {
      const auto n = static_cast<unsigned char>(s[i + e]);
      if ((n >> 6) != 2) throw Error(what + " is not valid UTF-8");
      cp = (cp << 6) | (n & 0x3F);
    }
    out += cp;
    i += extra + 1;
  }
  return out;
}

// Columns [col, col + cols) of every row of `t`, streamed a chunk of rows at a time.
void table_columns(NpzWriter& npz, const std::string& name, const FactorTable& t, int col, int cols, bool one_d,
                   bool zero_last = false) {
  const std::vector<std::int64_t> shape =
      one_d ? std::vector<std::int64_t>{t.rows()} : std::vector<std::int64_t>{t.rows(), cols};
  const std::string header = npy_header("<f4", shape);
  npz.begin(name, header.size() + static_cast<std::uint64_t>(t.rows()) * cols * sizeof(float));
  npz.write(header.data(), header.size());
  constexpr std::int64_t kChunk = 1 << 14;
  std::vector<float> buffer;
  for (std::int64_t first = 0; first < t.rows(); first += kChunk) {
    const std::int64_t end = std::min(t.rows(), first + kChunk);
    buffer.clear();
    for (std::int64_t i = first; i < end; ++i) {
      const float* row = t.row(i) + col;
      buffer.insert(buffer.end(), row, row + cols);
      if (zero_last) buffer.back() = 0.f;
    }
    npz.write(buffer.data(), buffer.size() * sizeof(float));
  }
}

template <class T>
void add_array(NpzWriter& npz, const std::string& name, const char* descr, const std::vector<T>& v,
               std::vector<std::int64_t> shape) {
  npz.add(name, descr, shape, std::as_bytes(std::span<const T>(v)));
}

// Fixed-width unicode: each string padded with NUL code points to `width`.
void add_unicode(NpzWriter& npz, const std::string& name, const std::vector<std::u32string>& strings,
                 std::vector<std::int64_t> shape) {
  std::size_t width = 1;
  for (const auto& s : strings) width = std::max(width, s.size());
  std::vector<char32_t> cells(strings.size() * width, U'\0');
  for (std::size_t r = 0; r < strings.size(); ++r) std::copy(strings[r].begin(), strings[r].end(), &cells[r * width]);
  add_array(npz, name, ("<U" + std::to_string(width)).c_str(), cells, std::move(shape));
}

void add_ids(NpzWriter& npz, const std::string& name, const RawIds& ids) {
  if (!ids.is_string) return add_array(npz, name, "<i8", ids.ints, {ids.size()});
  std::vector<std::u32string> strings;
  strings.reserve(ids.size());
  for (std::int64_t r = 0; r < ids.size(); ++r)
    strings.push_back(utf8_to_utf32(ids.strings.at(r), name + " row " + std::to_string(r)));
  add_unicode(npz, name, strings, {ids.size()});
}

}  // namespace

void write_npz_export(const std::string& path, const ExportModel& model) {
  NpzWriter npz(path);
  if (const char* t = std::getenv("DALS_TEST_NPZ_ZIP64_FROM")) npz.set_zip64_threshold(std::stoull(t));
  const int k = model.state.factors;
  for (Side side : kBothSides) {
    const std::string s = side == Side::users ? "user" : "item";
    const FactorTable& t = model.tables[side];
    table_columns(npz, s + "_factors", t, 0, k, false);
    table_columns(npz, s + "_bias", t, k, 1, true);
    add_ids(npz, s + "_ids", model.ids[side]);
    add_array(npz, s + "_trained", "|u1", model.trained[side], {t.rows()});
  }
  table_columns(npz, "item_factors_ip", model.tables.items, 0, k + 1, false, !model.with_item_bias);
  add_array(npz, "global_mean", "<f8", std::vector<double>{model.state.mean}, {});
  add_unicode(npz, "hyperparameters", {utf8_to_utf32(model.state.hyperparameters, path + ": hyper-parameters")}, {});
  npz.finish();
}

}  // namespace dals
