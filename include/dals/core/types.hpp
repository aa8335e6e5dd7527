#pragma once
/// @file types.hpp
/// @brief The vocabulary every layer shares: the two sides of the rating
/// matrix, the two splits of a dataset, and a pair of values, one per side.

#include <array>

namespace dals {

/// @brief Which side of the rating matrix.
enum class Side { users, items };
inline constexpr const char* side_name(Side side) { return side == Side::users ? "users" : "items"; }
inline constexpr Side other(Side side) { return side == Side::users ? Side::items : Side::users; }
inline constexpr std::array<Side, 2> kBothSides = {Side::users, Side::items};

/// @brief The ratings a model is trained on, or those held out to test it.
enum class Split { train, test };

/// @brief One value per side, indexed by Side: `tables[side]` in place of
/// `side == Side::users ? user_table : item_table`.
template <class T>
struct PerSide {
  T users{};
  T items{};
  constexpr T& operator[](Side side) { return side == Side::users ? users : items; }
  constexpr const T& operator[](Side side) const { return side == Side::users ? users : items; }
};

}  // namespace dals
