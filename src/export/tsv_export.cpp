// OUT/users.tsv, OUT/items.tsv: one line per trained row, "id f_1 .. f_k
// bias" tab-separated under a header line, for Spark, pandas or awk. Rows
// without training ratings are left out (text has no flag column a reader
// would expect; model.h5 and model.npz keep them, zeroed and flagged).
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>

#include "dals/core/error.hpp"
#include "dals/export/export_model.hpp"

namespace dals {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

void write_side(const std::string& path, const FactorTable& t, const RawIds& ids,
                const std::vector<std::uint8_t>& trained) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file) throw Error(path + ": cannot create: " + std::strerror(errno));
  const int k = t.k();
  std::string text = "id";
  for (int c = 1; c <= k; ++c) text += "\tf_" + std::to_string(c);
  text += "\tbias\n";
  char number[32];
  auto flush = [&] {
    if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size())
      throw Error(path + ": cannot write: " + std::strerror(errno));
    text.clear();
  };
  for (std::int64_t i = 0; i < t.rows(); ++i) {
    if (!trained[i]) continue;
    const std::string id = ids.text(i);
    // A string id with a tab or a line break would shift the columns.
    if (id.find_first_of("\t\r\n") != std::string::npos)
      throw Error(path + ": raw id of row " + std::to_string(i) +
                  " holds a tab or a line break, which TSV cannot hold (use --format hdf5 or npz)");
    text += id;
    const float* row = t.row(i);
    for (int c = 0; c <= k; ++c) {
      // Shortest text that reads back as the same float (C++17 to_chars).
      char* end = std::to_chars(number, number + sizeof number, row[c]).ptr;
      text += '\t';
      text.append(number, end);
    }
    text += '\n';
    if (text.size() > (1u << 20)) flush();
  }
  flush();
  if (std::fclose(file.release()) != 0) throw Error(path + ": cannot write: " + std::strerror(errno));
}

}  // namespace

void write_tsv_export(const std::string& dir, const ExportModel& model) {
  for (Side side : kBothSides)
    write_side(dir + "/" + side_name(side) + ".tsv", model.tables[side], model.ids[side], model.trained[side]);
}

}  // namespace dals
