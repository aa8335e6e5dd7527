#pragma once
// Private to dals-partition: one line of a rating dump into a Record, the
// parse phase's inner loop (parse.cpp) and the libFuzzer target's subject
// (fuzz/text_line_fuzzer.cpp).

#include <cstdint>
#include <string>
#include <string_view>

#include "dals/data/id_keys.hpp"
#include "dals/partition/text_format.hpp"
#include "internal.hpp"

namespace dals::part {

/// @brief Turns a line's text into a Record; problem() says what is wrong if not.
class LineParser {
 public:
  LineParser(const TextFormat& format, IdType id_type, std::uint64_t seed)
      : format_(format), id_type_(id_type), seed_(seed), splitter_(format_) {}

  /// Parses one line (no '\n', no trailing '\r'): false if it is bad, and
  /// problem() says why. `user` and `item` are the raw ids' text.
  bool parse(std::string_view line, Record& r, std::string_view& user, std::string_view& item) {
    if (const char* p = splitter_.split(line, format_.fields_needed())) return fail(p);
    const auto& f = splitter_.fields();
    if (static_cast<int>(f.size()) < format_.fields_needed())
      return fail("expected at least " + std::to_string(format_.fields_needed()) + " fields separated by " +
                  format_.separator_name() + ", found " + std::to_string(f.size()));
    user = f[format_.user];
    item = f[format_.item];
    bool string_id = false;
    if (!id(user, Side::users, r.user, string_id)) return false;
    r.flags = string_id ? std::uint32_t{kUserString} : 0u;
    if (!id(item, Side::items, r.item, string_id)) return false;
    r.flags |= string_id ? std::uint32_t{kItemString} : 0u;
    r.value = 1.0f;
    if (format_.rating >= 0) {
      if (const char* p = parse_rating(f[format_.rating], r.value)) return fail(p);
      // An event count of 0 or less means nothing (implicit treats 0 as no
      // event; a negative count is no count): an error rather than a silent
      // drop, unless the rating range (--min-rating) drops it on purpose.
      if (positive_counts_ && !(r.value > 0) && r.value >= min_rating_ && r.value <= max_rating_)
        return fail("count " + std::string(f[format_.rating]) +
                    " is not positive: with --implicit every line is an event with a count > 0 (--min-rating 1 drops "
                    "counts below 1)");
    }
    r.time = 0;
    if (format_.time >= 0)
      if (const char* p = parse_timestamp(f[format_.time], r.time)) return fail(p);
    return true;
  }
  const std::string& problem() const { return problem_; }
  /// --implicit: a count <= 0 within [min_rating, max_rating] is a bad line.
  void require_positive_counts(double min_rating, double max_rating) {
    positive_counts_ = true, min_rating_ = min_rating, max_rating_ = max_rating;
  }

 private:
  bool fail(std::string what) {
    problem_ = std::move(what);
    return false;
  }
  bool id(std::string_view text, Side side, std::uint64_t& hash, bool& is_string) {
    const char* who = side == Side::users ? "user id" : "item id";
    if (text.empty()) return fail(std::string("empty ") + who);
    std::uint64_t key;
    if (auto v = parse_canonical_int(text)) {
      key = static_cast<std::uint64_t>(*v);
      is_string = false;
    } else {
      if (id_type_ == IdType::int64) return fail(std::string(who) + " is not a 64-bit integer (see --id-type)");
      if (text.size() > kMaxIdBytes)
        return fail(std::string(who) + " is longer than " + std::to_string(kMaxIdBytes) + " bytes");
      if (const char* p = utf8_problem(text)) return fail(std::string(who) + " " + p);
      key = string_id_key(text, seed_);
      is_string = true;
    }
    hash = order_hash(seed_, side, key);
    return true;
  }

  const TextFormat& format_;
  IdType id_type_;
  std::uint64_t seed_;
  FieldSplitter splitter_;
  bool positive_counts_ = false;
  double min_rating_ = 0, max_rating_ = 0;
  std::string problem_;
};

}  // namespace dals::part
