#pragma once
/// @file validation_split.hpp
/// @brief dals-train's validation split (--validation-fraction): training
/// ratings held out of the solves to measure, per iteration, how the model
/// does on ratings it has not fitted, for early stopping and tuning
/// without looking at the test split.
///
/// A rating (user i, item j) is held out where a seeded hash of (i, j)
/// falls below the fraction: a rule of the pair alone, so both copies of a
/// rating (by user and by item, on whichever ranks own them) agree, and
/// the split is the same for any number of ranks.

#include <cstdint>

#include "dals/core/types.hpp"
#include "dals/data/csr.hpp"

namespace dals {

/// Whether the rating (user, item) is a validation rating.
bool is_validation_rating(std::uint64_t seed, double fraction, std::int64_t user, std::int64_t item);

/// Removes the validation ratings from `block` (rows of `side`, columns of
/// the other side, as global dense ids) and returns them as a block of the
/// same rows. Nothing is removed where fraction is 0.
CsrBlock split_off_validation(CsrBlock& block, Side side, std::uint64_t seed, double fraction);

}  // namespace dals
