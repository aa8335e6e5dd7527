// MODEL/added_users.h5 (added_users.hpp): the users fold-in added to a model.
#include "dals/checkpoint/added_users.hpp"

#include <cmath>
#include <filesystem>
#include <span>
#include <unordered_set>

#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/hdf5_file.hpp"

namespace dals {

namespace {

// As model_io.cpp bounds a factor block's values and counts.
constexpr float kMaxMagnitude = 1e15f;
constexpr std::int64_t kMaxCount = std::int64_t{1} << 62;

std::vector<std::int32_t> checked_items(std::vector<std::int32_t> items) {
  for (std::size_t p = 1; p < items.size(); ++p)
    if (items[p] <= items[p - 1]) throw Error("added users: rated items must increase");
  return items;
}

}  // namespace

void AddedUsers::append(std::string id, const float* row, std::vector<std::int32_t> items) {
  ids.push_back(std::move(id));
  rows.insert(rows.end(), row, row + k + 1);
  training_ratings.push_back(static_cast<std::int64_t>(items.size()));
  rated.push_back(checked_items(std::move(items)));
}

void AddedUsers::replace(std::int64_t a, const float* row, std::vector<std::int32_t> items) {
  std::copy(row, row + k + 1, rows.begin() + a * (k + 1));
  training_ratings[a] = static_cast<std::int64_t>(items.size());
  rated[a] = checked_items(std::move(items));
}

FactorTable AddedUsers::table() const {
  FactorTable t(count(), k);
  std::copy(rows.begin(), rows.end(), t.data());
  return t;
}

CsrBlock AddedUsers::rated_block(std::int64_t items) const {
  CsrBlock b;
  b.num_cols = items;
  for (const auto& list : rated) {
    b.indices.insert(b.indices.end(), list.begin(), list.end());
    b.indptr.push_back(b.nnz());
  }
  b.values.assign(b.indices.size(), 1.f);
  return b;
}

namespace {

// The arrays as the file holds them, and their checksum: every array's,
// combined in the order of the format's table.
struct Arrays {
  std::vector<std::int64_t> int_ids, id_offsets{0}, indptr{0};
  std::vector<char> id_bytes;
  std::vector<float> factors, biases;
  std::vector<std::int32_t> items;

  std::uint64_t checksum(bool string_ids, const std::vector<std::int64_t>& counts) const {
    std::uint64_t sum = string_ids ? hash_combine(checksum_of(std::span<const std::int64_t>(id_offsets)),
                                                  checksum_of(std::span<const char>(id_bytes)))
                                   : checksum_of(std::span<const std::int64_t>(int_ids));
    sum = hash_combine(sum, checksum_of(std::span<const float>(factors)));
    sum = hash_combine(sum, checksum_of(std::span<const float>(biases)));
    sum = hash_combine(sum, checksum_of(std::span<const std::int64_t>(counts)));
    sum = hash_combine(sum, checksum_of(std::span<const std::int64_t>(indptr)));
    return hash_combine(sum, checksum_of(std::span<const std::int32_t>(items)));
  }
};

}  // namespace

std::uint64_t write_added_users(const std::string& path, const AddedUsers& added) {
  Arrays a;
  const int k = added.k;
  for (std::int64_t u = 0; u < added.count(); ++u) {
    const std::string& id = added.ids[u];
    if (added.string_ids) {
      a.id_bytes.insert(a.id_bytes.end(), id.begin(), id.end());
      a.id_offsets.push_back(static_cast<std::int64_t>(a.id_bytes.size()));
    } else {
      a.int_ids.push_back(std::stoll(id));
    }
    const float* row = &added.rows[u * (k + 1)];
    a.factors.insert(a.factors.end(), row, row + k);
    a.biases.push_back(row[k]);
    a.items.insert(a.items.end(), added.rated[u].begin(), added.rated[u].end());
    a.indptr.push_back(static_cast<std::int64_t>(a.items.size()));
  }
  H5File f = H5File::create(path);
  f.set_attribute("id_type", std::string(added.string_ids ? "string" : "int64"));
  f.set_attribute("factors_k", static_cast<std::int64_t>(k));
  f.set_attribute("count", added.count());
  if (added.string_ids) {
    f.write("id_offsets", std::span<const std::int64_t>(a.id_offsets));
    f.write("id_bytes", std::span<const char>(a.id_bytes));
  } else {
    f.write("ids", std::span<const std::int64_t>(a.int_ids));
  }
  f.write("factors", std::span<const float>(a.factors), static_cast<std::uint64_t>(k));
  f.write("biases", std::span<const float>(a.biases));
  f.write("training_ratings", std::span<const std::int64_t>(added.training_ratings));
  f.write("indptr", std::span<const std::int64_t>(a.indptr));
  f.write("items", std::span<const std::int32_t>(a.items));
  f.close();
  fsync_path(path);
  return a.checksum(added.string_ids, added.training_ratings);
}

AddedUsers read_added_users(const std::string& path, const AddedUsersExpect& e) {
  auto fail = [&](const std::string& what) -> void { throw Error(path + ": " + what); };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    fail("missing, but state.json records " + std::to_string(e.count) + " added users");
  H5File f = H5File::open(path);
  const std::string type = f.string_attribute("id_type");
  if (type != "int64" && type != "string") fail("attribute 'id_type' is \"" + type + "\", not int64 or string");
  AddedUsers out;
  out.string_ids = type == "string";
  if (e.string_ids >= 0 && out.string_ids != (e.string_ids == 1))
    fail("ids of type " + type + ", but the dataset's user ids are " + (e.string_ids ? "strings" : "integers"));
  if (f.int_attribute("factors_k") != e.k)
    fail("attribute 'factors_k' is " + std::to_string(f.int_attribute("factors_k")) + ", expected " +
         std::to_string(e.k));
  if (f.int_attribute("count") != e.count)
    fail("holds " + std::to_string(f.int_attribute("count")) + " users, state.json records " + std::to_string(e.count));
  const auto n = static_cast<std::uint64_t>(e.count);
  Arrays a;
  if (out.string_ids) {
    a.id_offsets = f.read_exact<std::int64_t>("id_offsets", n + 1);
    if (a.id_offsets[0] != 0) fail("id_offsets does not start at 0");
    for (std::uint64_t u = 0; u < n; ++u)
      if (a.id_offsets[u + 1] < a.id_offsets[u]) fail("id_offsets decreases at user " + std::to_string(u));
    a.id_bytes = f.read_exact<char>("id_bytes", static_cast<std::uint64_t>(a.id_offsets[n]));
  } else {
    a.int_ids = f.read_exact<std::int64_t>("ids", n);
  }
  std::uint64_t cols = 0;
  a.factors = f.read_exact<float>("factors", n * static_cast<std::uint64_t>(e.k), &cols);
  if (cols != static_cast<std::uint64_t>(e.k) && n > 0)
    fail("dataset 'factors' has " + std::to_string(cols) + " columns, expected k = " + std::to_string(e.k));
  a.biases = f.read_exact<float>("biases", n);
  // Read aside: append() below sets out's from the items, checked equal here.
  const std::vector<std::int64_t> counts = f.read_exact<std::int64_t>("training_ratings", n);
  a.indptr = f.read_exact<std::int64_t>("indptr", n + 1);
  if (a.indptr[0] != 0) fail("indptr does not start at 0");
  for (std::uint64_t u = 0; u < n; ++u)
    if (a.indptr[u + 1] - a.indptr[u] != counts[u] || counts[u] < 1 || counts[u] > kMaxCount)
      fail("user " + std::to_string(u) + ": training_ratings " + std::to_string(counts[u]) +
           " is not the count of its rated items (at least 1)");
  a.items = f.read_exact<std::int32_t>("items", static_cast<std::uint64_t>(a.indptr[n]));
  const std::uint64_t sum = a.checksum(out.string_ids, counts);
  if (sum != e.checksum)
    fail("checksum mismatch (state.json records " + to_hex(e.checksum) + ", the file has " + to_hex(sum) +
         "): the file is damaged or of another model");

  out.k = e.k;
  std::unordered_set<std::string> seen;
  for (std::uint64_t u = 0; u < n; ++u) {
    std::string id = out.string_ids ? std::string(a.id_bytes.data() + a.id_offsets[u],
                                                  static_cast<std::size_t>(a.id_offsets[u + 1] - a.id_offsets[u]))
                                    : std::to_string(a.int_ids[u]);
    if (!seen.insert(id).second) fail("user id '" + id + "' is added twice");
    for (int c = 0; c <= e.k; ++c) {
      const float x = c < e.k ? a.factors[u * e.k + c] : a.biases[u];
      if (!std::isfinite(x) || std::fabs(x) > kMaxMagnitude)
        fail("user " + std::to_string(u) + ": " + (c < e.k ? "factor " + std::to_string(c) : std::string("bias")) +
             " is non-finite or beyond 1e15");
    }
    std::vector<std::int32_t> items(a.items.begin() + a.indptr[u], a.items.begin() + a.indptr[u + 1]);
    for (std::size_t p = 0; p < items.size(); ++p)
      if (items[p] < 0 || items[p] >= e.items || (p > 0 && items[p] <= items[p - 1]))
        fail("user " + std::to_string(u) + ": rated items must be increasing dense item ids below " +
             std::to_string(e.items));
    std::vector<float> row(a.factors.begin() + u * e.k, a.factors.begin() + (u + 1) * e.k);
    row.push_back(a.biases[u]);
    out.append(std::move(id), row.data(), std::move(items));
  }
  return out;
}

AddedUsers read_model_added_users(const std::string& model_dir, const SavedState& s, int string_ids) {
  const std::string path = model_dir + "/" + kAddedUsersFile;
  if (s.added_users == 0) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec))
      throw Error(path + ": present, but " + model_dir + "/state.json records no added users");
    AddedUsers none;
    none.k = s.factors;
    none.string_ids = string_ids == 1;
    return none;
  }
  return read_added_users(path, {s.added_users, s.added_users_checksum, s.factors, s.items, string_ids});
}

}  // namespace dals
