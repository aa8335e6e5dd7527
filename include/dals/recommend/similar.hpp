#pragma once
/// @file similar.hpp
/// @brief Similar items (or users): top-K by the cosine of their factors.
///
/// cos(i, j) = n_i . n_j with n = v / |v| over the k factors (the bias left
/// out), so a similar-items list is a top-K list (train/ranking.hpp) of the
/// normalized table against itself, each row excluding itself: the same
/// deterministic score chain and tie rule (equal scores: lower dense id
/// first), the same bits for any P and thread count.

#include "dals/solve/factors.hpp"

namespace dals {

/// Each row's k factors divided by their Euclidean norm (computed in
/// double, in index order, then rounded to float), biases zero; a row of
/// zero norm stays zero.
FactorTable normalized_rows(const FactorTable& table);

}  // namespace dals
