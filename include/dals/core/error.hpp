#pragma once
/// @file error.hpp
/// @brief The single exception type of dals.

#include <stdexcept>
#include <string>

namespace dals {

/// @brief Raised for every user-facing failure. Its message is the whole
/// one-line error shown to the user: it names the file or option first and
/// says what is wrong, so callers never need to add context-free prefixes.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws Error(message) unless `ok`: the options' validators read as a list.
inline void require(bool ok, const std::string& message) {
  if (!ok) throw Error(message);
}

}  // namespace dals
