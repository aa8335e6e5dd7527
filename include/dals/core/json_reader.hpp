#pragma once
/// @file json_reader.hpp
/// @brief The one checked way to read a JSON input file (manifest.json, state.json).
///
/// nlohmann::json's own get<T>() narrows silently (4294967300 read as an int
/// is 4, true read as an int is 1, 2000.5 is 2000) and its errors name no
/// file. A JsonReader knows the file and the key path it stands at, and each
/// getter rejects a missing key, a wrong type, a fraction or boolean where an
/// integer is expected and a value out of the stated range, with
/// "<file>: <key path> ...".

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dals {

/// Parses TEXT, the whole of FILE; Error "<file>: malformed JSON (...)" otherwise.
nlohmann::json parse_json_text(const std::string& text, const std::string& file);

/// @brief A checked view of one JSON object of a file. It refers to the
/// json it was made from, which must outlive it.
class JsonReader {
 public:
  /// Error unless `value` is an object. `where` is its key path ("" at the top).
  JsonReader(const nlohmann::json& value, std::string file, std::string where = "");

  static constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

  const std::string& file() const { return file_; }
  /// "train.user_blocks[2].nnz" for key "nnz" of that object.
  std::string key_path(const std::string& key) const;
  /// Whether the key is present and not null.
  bool has(const std::string& key) const;

  /// A JSON integer (no fraction, no boolean, no string) in [lo, hi].
  std::int64_t get_int(const std::string& key, std::int64_t lo, std::int64_t hi) const;
  /// A JSON integer in [0, hi], up to 2^64-1.
  std::uint64_t get_uint(const std::string& key, std::uint64_t hi = std::numeric_limits<std::uint64_t>::max()) const;
  /// A JSON number (integer or not, never a boolean); finite unless `finite` is false.
  double get_double(const std::string& key, bool finite = true) const;
  bool get_bool(const std::string& key) const;
  /// As get_bool, but `fallback` when the key is absent (null is still an error).
  bool get_bool(const std::string& key, bool fallback) const;
  std::string get_string(const std::string& key) const;
  /// A nested object.
  JsonReader object(const std::string& key) const;
  /// An array whose every element is an object.
  std::vector<JsonReader> objects(const std::string& key) const;
  /// An array of JSON integers, each in [lo, hi].
  std::vector<std::int64_t> get_int_array(const std::string& key, std::int64_t lo, std::int64_t hi) const;
  /// An array, its elements unchecked (for fields kept as JSON text).
  const nlohmann::json& get_array(const std::string& key) const;
  /// The object this reader stands at (to keep it as JSON text).
  const nlohmann::json& json_value() const { return *value_; }

  /// Error "<file>: <key path>: <what>".
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

 private:
  const nlohmann::json& at(const std::string& key) const;
  std::int64_t checked_int(const nlohmann::json& v, const std::string& name, std::int64_t lo, std::int64_t hi) const;
  const nlohmann::json* value_;
  std::string file_, where_;
};

}  // namespace dals
