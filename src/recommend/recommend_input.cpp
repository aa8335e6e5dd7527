// What every mode of dals-recommend reads (through model_input.hpp, shared
// with dals-eval): the model checked against the dataset, a rank's rows, and
// the part files it writes.
#include "recommend_input.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/model_io.hpp"
#include "dals/checkpoint/trained_rows.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/inspect.hpp"
#include "dals/recommend/lists_h5.hpp"
#include "dals/recommend/model_input.hpp"

namespace dals::recommend_internal {

namespace fs = std::filesystem;

ModelInfo read_checked_model(const RecommendConfig& c, const Manifest& m) {
  CheckedModel checked = dals::read_checked_model(c.model, c.data, m);
  ModelInfo info;
  info.state = std::move(checked.state);
  info.implicit = checked.implicit;
  return info;
}

void read_factor_blocks(const RecommendConfig& c, const Manifest& m, const SavedState& s, Side side, int first_block,
                        int end_block, FactorTable& table) {
  dals::read_factor_blocks(c.model, m, s, side, first_block, end_block, table);
}

// One raw id per line (blank lines and a trailing \r ignored), looked up in
// the dataset: the dense ids found, sorted and without repeats.
std::vector<std::int64_t> read_id_file(const std::string& path, const std::string& data, Side side, std::int64_t& lines,
                                       std::int64_t& unknown, std::vector<std::string>* missing) {
  const std::string text = read_text_file(path);
  IdLookup lookup(data, side);
  std::vector<std::int64_t> dense;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string id = text.substr(start, end - start);
    start = end + 1;
    while (!id.empty() && (id.back() == '\r' || id.back() == ' ' || id.back() == '\t')) id.pop_back();
    if (id.empty()) continue;
    ++lines;
    const auto found = lookup.dense_id(id);
    if (found)
      dense.push_back(*found);
    else {
      ++unknown;
      if (missing) missing->push_back(id);
    }
  }
  std::sort(dense.begin(), dense.end());
  dense.erase(std::unique(dense.begin(), dense.end()), dense.end());
  return dense;
}

RankInput read_rank_input(const RecommendConfig& c, const Manifest& m, const SavedState& s, const OwnedRange& own) {
  RankInput in;
  // Whole tables, rows indexed by dense id as rank_top_k takes them; only
  // this rank's user rows are read (the others stay zero).
  in.tables = PerSide<FactorTable>{FactorTable(m.users, s.factors), FactorTable(m.items, s.factors)};
  in.ratings.users =
      read_factor_blocks_counted(c.model, c.data, m, s, Side::users, own.first_block, own.end_block, in.tables.users);
  in.ratings.items = read_factor_blocks_counted(c.model, c.data, m, s, Side::items, 0, m.blocks, in.tables.items);
  in.train = read_user_rows(c.data, m, Split::train, own);
  in.user_ids = read_user_id_texts(c.data, m, own);
  in.item_ids = raw_id_texts(c.data, m, Side::items);
  return in;
}

RankInput read_rank_input_own_users(const RecommendConfig& c, const Manifest& m, const SavedState& s,
                                    const OwnedRange& own) {
  RankInput in;
  // rank_top_k indexes the user table by the ids of `train`'s rows, and a
  // table starts at 0 for it: both are rebased to the rank's first user.
  in.tables =
      PerSide<FactorTable>{FactorTable(own.end_row - own.first_row, s.factors), FactorTable(m.items, s.factors)};
  for (int b = own.first_block; b < own.end_block; ++b) {
    // One block at a time through a table of its own rows: the rank holds
    // its users once plus one block.
    const BlockInfo& block = m.train.user_blocks[b];
    FactorTable one(block.first, block.rows, s.factors);
    const std::vector<std::int64_t> counts =
        read_factor_blocks_counted(c.model, c.data, m, s, Side::users, b, b + 1, one);
    in.ratings.users.insert(in.ratings.users.end(), counts.begin(), counts.end());
    std::copy(one.data(), one.data() + one.rows() * one.stride(), in.tables.users.row(block.first - own.first_row));
  }
  in.ratings.items = read_factor_blocks_counted(c.model, c.data, m, s, Side::items, 0, m.blocks, in.tables.items);
  in.train = read_user_rows(c.data, m, Split::train, own);
  in.train.first_row = 0;
  in.user_ids = read_user_id_texts(c.data, m, own);
  in.item_ids = raw_id_texts(c.data, m, Side::items);
  return in;
}

std::string format_extension(const std::string& format) { return format == "hdf5" ? "h5" : format; }

std::string part_name(int rank, const std::string& format) {
  char name[32];
  std::snprintf(name, sizeof name, "part-%05d.", rank);
  return name + format_extension(format);
}

bool string_ids(const std::string& data, Side side) { return id_block_type(ids_path(data, side, 0)) == "string"; }

void merge_parts(const std::string& dir, const std::string& prefix, int parts, const std::string& format,
                 const std::string& name) {
  const std::string ext = format_extension(format);
  const std::string target = dir + "/" + name + "." + ext;
  std::vector<std::string> paths;
  for (int r = 0; r < parts; ++r) {
    char file[64];
    std::snprintf(file, sizeof file, "%s-%05d.", prefix.c_str(), r);
    paths.push_back(dir + "/" + file + ext);
  }
  if (format == "hdf5") {
    ListFile all = read_list_file(paths[0]);
    for (int r = 1; r < parts; ++r) all.append(read_list_file(paths[r]));
    write_list_file(target, all);
  } else {
    std::vector<char> buffer(std::size_t{1} << 20);
    write_part(target, [&](const auto& sink) {
      for (const std::string& path : paths) {
        struct FileCloser {
          void operator()(std::FILE* f) const { std::fclose(f); }
        };
        std::unique_ptr<std::FILE, FileCloser> in(std::fopen(path.c_str(), "rb"));
        if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
        std::size_t got = 0;
        while ((got = std::fread(buffer.data(), 1, buffer.size(), in.get())) > 0) sink(std::string(buffer.data(), got));
        if (std::ferror(in.get())) throw Error(path + ": cannot read: " + std::strerror(errno));
      }
    });
  }
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!fs::remove(path, ec) || ec) throw Error(path + ": cannot remove after --merge: " + ec.message());
  }
}

void write_part(const std::string& path,
                const std::function<void(const std::function<void(const std::string&)>&)>& fill) {
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file) throw Error(path + ": cannot create: " + std::strerror(errno));
  fill([&](const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size())
      throw Error(path + ": cannot write: " + std::strerror(errno));
  });
  if (std::fclose(file.release()) != 0) throw Error(path + ": cannot write: " + std::strerror(errno));
}

}  // namespace dals::recommend_internal
