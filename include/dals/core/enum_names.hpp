#pragma once
/// @file enum_names.hpp
/// @brief Each option enum's values by name: one table (specialised beside
/// the enum) for parsing (option_table.hpp) and printing.

namespace dals {

template <class E>
struct EnumNames;  // static constexpr std::pair<const char*, E> table[]

/// The name of an enum value (EnumNames' table), "?" for none.
template <class E>
constexpr const char* enum_name(E value) {
  for (const auto& [name, v] : EnumNames<E>::table)
    if (v == value) return name;
  return "?";
}

}  // namespace dals
