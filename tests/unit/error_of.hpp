// error_of(f): the message of the dals::Error that f throws, "" if it throws
// none. One copy for the unit tests (a unity build compiles several test
// files in one translation unit, so each helper must be defined once).
#pragma once

#include <string>

#include "dals/core/error.hpp"

namespace dals::unit_test {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace dals::unit_test
