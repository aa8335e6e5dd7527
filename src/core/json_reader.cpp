#include "dals/core/json_reader.hpp"

#include <cmath>

#include "dals/core/error.hpp"

namespace dals {
using nlohmann::json;

namespace {

// What a value is, for "expected an integer, found a boolean (true)".
std::string describe(const json& v) {
  std::string text = v.dump();
  // Enough to recognise the value; a whole nested object would drown the message.
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean (" + text + ")";
    case json::value_t::string:
      return "a string (" + text + ")";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    case json::value_t::number_float:
      return "a number with a fraction or exponent (" + text + ")";
    default:
      return text;
  }
}

}  // namespace

json parse_json_text(const std::string& text, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(file + ": malformed JSON (" + e.what() + ")");
  }
}

JsonReader::JsonReader(const json& value, std::string file, std::string where)
    : value_(&value), file_(std::move(file)), where_(std::move(where)) {
  if (!value.is_object())
    throw Error(file_ + ": " + (where_.empty() ? std::string("the file") : where_) + " is " + describe(value) +
                ", expected an object");
}

std::string JsonReader::key_path(const std::string& key) const { return where_.empty() ? key : where_ + "." + key; }

void JsonReader::fail(const std::string& key, const std::string& what) const {
  throw Error(file_ + ": " + key_path(key) + " " + what);
}

bool JsonReader::has(const std::string& key) const {
  const auto it = value_->find(key);
  return it != value_->end() && !it->is_null();
}

const json& JsonReader::at(const std::string& key) const {
  const auto it = value_->find(key);
  if (it == value_->end()) fail(key, "is missing");
  return *it;
}

std::int64_t JsonReader::get_int(const std::string& key, std::int64_t lo, std::int64_t hi) const {
  return checked_int(at(key), key_path(key), lo, hi);
}

std::int64_t JsonReader::checked_int(const json& v, const std::string& name, std::int64_t lo, std::int64_t hi) const {
  const std::string range = ", expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (!v.is_number_integer()) throw Error(file_ + ": " + name + " is " + describe(v) + range);
  // An unsigned value above 2^63-1 has no int64 meaning: out of range whatever hi is.
  const bool fits = !v.is_number_unsigned() || v.get<std::uint64_t>() <= static_cast<std::uint64_t>(kMaxInt);
  const std::int64_t i = fits ? v.get<std::int64_t>() : 0;
  if (!fits || i < lo || i > hi) throw Error(file_ + ": " + name + " is " + v.dump() + range);
  return i;
}

std::uint64_t JsonReader::get_uint(const std::string& key, std::uint64_t hi) const {
  const json& v = at(key);
  const std::string range = ", expected an integer from 0 to " + std::to_string(hi);
  if (!v.is_number_integer()) fail(key, "is " + describe(v) + range);
  if (!v.is_number_unsigned() && v.get<std::int64_t>() < 0) fail(key, "is " + v.dump() + range);
  const auto u = v.get<std::uint64_t>();
  if (u > hi) fail(key, "is " + v.dump() + range);
  return u;
}

double JsonReader::get_double(const std::string& key, bool finite) const {
  const json& v = at(key);
  if (!v.is_number()) fail(key, "is " + describe(v) + ", expected a number");
  const double d = v.get<double>();
  if (finite && !std::isfinite(d)) fail(key, "is " + v.dump() + ", expected a finite number");
  return d;
}

bool JsonReader::get_bool(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_boolean()) fail(key, "is " + describe(v) + ", expected true or false");
  return v.get<bool>();
}

bool JsonReader::get_bool(const std::string& key, bool fallback) const {
  return value_->contains(key) ? get_bool(key) : fallback;
}

std::string JsonReader::get_string(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_string()) fail(key, "is " + describe(v) + ", expected a string");
  return v.get<std::string>();
}

JsonReader JsonReader::object(const std::string& key) const { return JsonReader(at(key), file_, key_path(key)); }

std::vector<JsonReader> JsonReader::objects(const std::string& key) const {
  const json& v = get_array(key);
  std::vector<JsonReader> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    out.emplace_back(v[i], file_, key_path(key) + "[" + std::to_string(i) + "]");
  return out;
}

std::vector<std::int64_t> JsonReader::get_int_array(const std::string& key, std::int64_t lo, std::int64_t hi) const {
  const json& v = get_array(key);
  std::vector<std::int64_t> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    out.push_back(checked_int(v[i], key_path(key) + "[" + std::to_string(i) + "]", lo, hi));
  return out;
}

const json& JsonReader::get_array(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_array()) fail(key, "is " + describe(v) + ", expected an array");
  return v;
}

}  // namespace dals
