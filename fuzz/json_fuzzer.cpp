// libFuzzer target: the readers of the JSON files dals trusts, the dataset
// manifest (parse_manifest) and state.json (parse_state, for reading a
// model, resuming and taking a checkpoint), both on core/json_reader.
//
// Input: byte 0 picks the reader (bits 0-1) and whether state.json's
// checksum is recomputed first (bit 2), so that the typed reads behind the
// checksum are reached too; the rest is the file's text. Besides
// AddressSanitizer and UBSan, it checks that every rejection is a dals::Error
// whose message starts with the file's name: any other exception
// (nlohmann's type_error, std::out_of_range, bad_alloc...) would reach the
// tools' internal-error path, and escapes here to be reported as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "dals/checkpoint/run_state.hpp"
#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/data/manifest.hpp"

namespace {

constexpr const char* kManifest = "fuzz/manifest.json";
constexpr const char* kState = "fuzz/state.json";

// TEXT with its "checksum" recomputed as state_json() writes it, if TEXT is
// a JSON object; else TEXT unchanged.
std::string resealed(const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return text;
  doc.erase("checksum");
  const std::string body = doc.dump();
  doc["checksum"] = dals::to_hex(dals::checksum64(body.data(), body.size()));
  return doc.dump(1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const char* file = (mode & 3) == 0 ? kManifest : kState;
  try {
    switch (mode & 3) {
      case 0:
        dals::parse_manifest(text, kManifest);
        break;
      default: {
        if (mode & 4) text = resealed(text);
        const dals::StateUse use = (mode & 3) == 1   ? dals::StateUse::read
                                   : (mode & 3) == 2 ? dals::StateUse::resume
                                                     : dals::StateUse::checkpoint;
        dals::parse_state(text, kState, use);
        break;
      }
    }
  } catch (const dals::Error& e) {
    const std::string message = e.what();
    if (message.rfind(std::string(file) + ": ", 0) != 0) {
      std::fprintf(stderr, "json_fuzzer: an error that does not start with the file's name: %s\n", message.c_str());
      std::abort();
    }
  }
  return 0;
}
