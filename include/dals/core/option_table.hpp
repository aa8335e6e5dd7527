#pragma once
/// @file option_table.hpp
/// @brief One table per tool from which its command line, --help, the
/// model's hyper-parameters and the cross-rank agreement are all made.
///
/// Each row binds an option to a member of the tool's options struct: its
/// names, group, help text and what it is for. The default is the member's
/// own initial value (shown in --help), so a new option is one row and
/// cannot be forgotten in the parser, the help, state.json or the hash
/// that checks every rank was started alike (LightGBM's config.h does the
/// same with annotations and a generator). Values are parsed here, not by
/// Boost, so that every tool's messages read alike: "--factors: 'many' is
/// not an integer".

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "dals/core/enum_names.hpp"
#include "dals/core/error.hpp"

namespace dals {

/// What an option is for, beyond being parsed.
enum class OptionUse {
  run,    ///< how to run: must be the same on every rank (the agreement hash covers it)
  model,  ///< defines the model: also written to state.json's hyper-parameters
  local,  ///< may differ between ranks (not hashed): threads, verbosity
};

/// Result of parsing a command line.
enum class ParseOutcome { run, help_shown };

/// Thrown for a bad command line or config file: the tool's start prints it
/// once with "(see --help)" and every rank exits 2.
struct UsageError {
  std::string message;
};

namespace detail {
std::int64_t parse_integer(const std::string& option, const std::string& text, std::int64_t lo, std::int64_t hi);
std::uint64_t parse_unsigned(const std::string& option, const std::string& text);
double parse_double(const std::string& option, const std::string& text);
[[noreturn]] void bad_choice(const std::string& option, const std::string& text, const std::string& choices);
}  // namespace detail

/// The table's rows, independent of the options struct (option_table.cpp
/// builds the Boost.Program_options parser from them).
struct OptionRow {
  enum class Kind { value, flag, list };
  std::string group;  ///< heading in --help
  std::string names;  ///< "factors,k": long name, optional one-letter alias
  std::string help;
  Kind kind = Kind::value;
  OptionUse use = OptionUse::run;
  std::string model_key;  ///< key in the hyper-parameters (model options)
  std::string long_name() const { return names.substr(0, names.find(',')); }
};

/// Parses argv (and, if `config_option` names an option that was given, an
/// INI file of the same options: `name = value`; the command line wins)
/// into calls of `assign(row, values)`. --help and --version give
/// help_shown with `text` set. UsageError on unknown options or bad values.
ParseOutcome parse_rows(const std::vector<OptionRow>& rows, const std::string& usage, const std::string& version,
                        const std::vector<std::string>& positional, const std::string& config_option, int argc,
                        const char* const* argv, const std::vector<std::string>& defaults,
                        const std::function<void(std::size_t row, const std::vector<std::string>&)>& assign,
                        std::string& text);

template <class C>
class OptionTable {
 public:
  /// `usage`: the first lines of --help; `version`: what --version prints.
  OptionTable(std::string usage, std::string version) : usage_(std::move(usage)), version_(std::move(version)) {}

  /// A value or flag option bound to `member`: an integer, unsigned or
  /// floating-point number, a string, a list of strings (repeatable), a
  /// bool (a flag that takes no value) or an enum with EnumNames.
  template <class T>
  OptionTable& add(const std::string& group, const std::string& names, T C::*member, const std::string& help,
                   OptionUse use = OptionUse::run) {
    OptionRow row{group, names, help, kind_of<T>(), use, ""};
    const std::string option = "--" + row.long_name();
    Entry e;
    e.assign = [member, option](C& c, const std::vector<std::string>& v) { c.*member = parse_one<T>(option, v); };
    e.value = [member](const C& c) { return to_json(c.*member); };
    return push(std::move(row), std::move(e));
  }

  /// An option whose text `set` turns into the struct's fields itself (a
  /// size like 4G, a choice that sets several fields); `show` gives its
  /// current value for --help and the hash.
  OptionTable& add_custom(const std::string& group, const std::string& names, const std::string& help,
                          std::function<void(C&, const std::string&)> set, std::function<nlohmann::json(const C&)> show,
                          OptionUse use = OptionUse::run) {
    OptionRow row{group, names, help, OptionRow::Kind::value, use, ""};
    Entry e;
    e.assign = [set](C& c, const std::vector<std::string>& v) { set(c, v.back()); };
    e.value = std::move(show);
    return push(std::move(row), std::move(e));
  }

  /// Another tool's option, bound to that tool's options struct held in
  /// this one (`member`): the same names, help text, parser and checks of
  /// the value, so that the option means the same in both tools (dals-plan
  /// takes dals-train's --factors, --exchange, ...). `group`: the heading here.
  template <class D>
  OptionTable& borrow(const OptionTable<D>& from, const std::string& long_name, D C::*member,
                      const std::string& group) {
    for (std::size_t r = 0; r < from.rows_.size(); ++r) {
      if (from.rows_[r].long_name() != long_name) continue;
      OptionRow row = from.rows_[r];
      row.group = group;
      row.use = OptionUse::run;
      row.model_key.clear();
      Entry e;
      e.assign = [assign = from.entries_[r].assign, member](C& c, const std::vector<std::string>& v) {
        assign(c.*member, v);
      };
      e.value = [value = from.entries_[r].value, member](const C& c) { return value(c.*member); };
      return push(std::move(row), std::move(e));
    }
    throw std::logic_error("borrow: no option --" + long_name);
  }

  /// Marks the last row as a model option written under `key`; `value`
  /// (default: the option's own value) and `when` (default: always) shape
  /// what state.json records.
  OptionTable& model(const std::string& key, std::function<nlohmann::json(const C&)> value = nullptr,
                     std::function<bool(const C&)> when = nullptr) {
    rows_.back().use = OptionUse::model;
    rows_.back().model_key = key;
    if (value) entries_.back().model_value = std::move(value);
    entries_.back().model_when = std::move(when);
    return *this;
  }

  /// Bare arguments fill these options in order (the last may repeat).
  OptionTable& positional(const std::string& long_name) {
    positional_.push_back(long_name);
    return *this;
  }

  /// An option naming an INI file of the same options (dals-train's --config).
  OptionTable& config_file(const std::string& long_name) {
    config_option_ = long_name;
    return *this;
  }

  ParseOutcome parse(int argc, const char* const* argv, C& config, std::string& text) const {
    return parse_rows(
        rows_, usage_, version_, positional_, config_option_, argc, argv, default_texts(),
        [&](std::size_t r, const std::vector<std::string>& v) { entries_[r].assign(config, v); }, text);
  }

  /// The model options' values, by model key (state.json's hyper-parameters).
  nlohmann::json model_json(const C& config) const {
    nlohmann::json out = nlohmann::json::object();
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const Entry& e = entries_[r];
      if (rows_[r].use != OptionUse::model || (e.model_when && !e.model_when(config))) continue;
      out[rows_[r].model_key] = e.model_value ? e.model_value(config) : e.value(config);
    }
    return out;
  }

  /// Every option that must agree across ranks, by long name, as one text
  /// (hashed and compared over ranks).
  std::string agreement_text(const C& config) const {
    nlohmann::json out = nlohmann::json::object();
    for (std::size_t r = 0; r < rows_.size(); ++r)
      if (rows_[r].use != OptionUse::local) out[rows_[r].long_name()] = entries_[r].value(config);
    return out.dump();
  }

  const std::vector<OptionRow>& rows() const { return rows_; }

  /// The table's own parser of one value (for add_custom's setters).
  template <class T>
  static T parse_as(const std::string& option, const std::vector<std::string>& values);

 private:
  template <class>
  friend class OptionTable;  // borrow() reads another table's rows
  struct Entry {
    std::function<void(C&, const std::vector<std::string>&)> assign;
    std::function<nlohmann::json(const C&)> value;
    std::function<nlohmann::json(const C&)> model_value;
    std::function<bool(const C&)> model_when;
  };

  OptionTable& push(OptionRow row, Entry e) {
    rows_.push_back(std::move(row));
    entries_.push_back(std::move(e));
    return *this;
  }

  // What --help shows as each option's default: the default-constructed
  // struct's value ("" for none: an empty string or list, a flag).
  std::vector<std::string> default_texts() const {
    const C defaults{};
    std::vector<std::string> out;
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const nlohmann::json v = entries_[r].value(defaults);
      const bool none = v.is_null() || (v.is_string() && v.get<std::string>().empty()) ||
                        (v.is_number_float() && !std::isfinite(v.get<double>()));
      if (rows_[r].kind != OptionRow::Kind::value || none)
        out.emplace_back();
      else
        out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    }
    return out;
  }

  template <class T>
  static constexpr OptionRow::Kind kind_of() {
    if constexpr (std::is_same_v<T, bool>)
      return OptionRow::Kind::flag;
    else if constexpr (std::is_same_v<T, std::vector<std::string>>)
      return OptionRow::Kind::list;
    else
      return OptionRow::Kind::value;
  }

  template <class T>
  static T parse_one(const std::string& option, const std::vector<std::string>& values) {
    const std::string& text = values.back();
    if constexpr (std::is_same_v<T, bool>) {
      return text == "true" || text == "1" || text == "yes" || text == "on";
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      return values;
    } else if constexpr (std::is_same_v<T, std::string>) {
      return text;
    } else if constexpr (std::is_enum_v<T>) {
      std::string names;
      for (const auto& [name, value] : EnumNames<T>::table) {
        if (text == name) return value;
        names += (names.empty() ? "" : ", ") + std::string(name);
      }
      detail::bad_choice(option, text, names);
    } else if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(detail::parse_double(option, text));
    } else if constexpr (std::is_unsigned_v<T>) {
      return static_cast<T>(detail::parse_unsigned(option, text));
    } else {
      static_assert(std::is_integral_v<T>, "no parser for this option type");
      return static_cast<T>(
          detail::parse_integer(option, text, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    }
  }

  template <class T>
  static nlohmann::json to_json(const T& value) {
    if constexpr (std::is_enum_v<T>) {
      for (const auto& [name, v] : EnumNames<T>::table)
        if (v == value) return name;
      return nullptr;
    } else {
      return value;
    }
  }

  std::string usage_, version_, config_option_;
  std::vector<std::string> positional_;
  std::vector<OptionRow> rows_;
  std::vector<Entry> entries_;
};

template <class C>
template <class T>
T OptionTable<C>::parse_as(const std::string& option, const std::vector<std::string>& values) {
  return parse_one<T>(option, values);
}

}  // namespace dals
