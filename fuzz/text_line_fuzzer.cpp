// libFuzzer target: dals-partition's line parser (LineParser, over
// FieldSplitter, parse_rating, parse_timestamp and the raw id rules), on the
// lines the LineReader would hand it, in every separator and column layout,
// and the one-line error made from a bad line.
//
// Input: byte 0 picks the separator, byte 1 the columns, the id type and
// the seed; the rest is the text, cut into lines at '\n' (a trailing '\r'
// dropped). Besides AddressSanitizer and UBSan, it checks what the parse
// phase relies on: an accepted line has non-empty ids, a finite rating,
// integer ids exactly when canonical, string ids valid UTF-8 within
// kMaxIdBytes; a rejected line says why; and the error line, escaped as
// every message is, holds no control byte and no newline.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dals/core/log.hpp"
#include "dals/data/id_keys.hpp"
#include "dals/partition/text_format.hpp"
#include "line_parser.hpp"

namespace {

void require(bool ok, const char* what, std::string_view line) {
  if (ok) return;
  std::fprintf(stderr, "text_line_fuzzer: %s: %s\n", what, dals::escape_control(line).c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static const char* const kSeparators[] = {",", "\\t", ";", "::", "whitespace", "|", " ,"};
  dals::TextFormat format;
  dals::set_separator(format, kSeparators[data[0] % 7]);
  const std::uint8_t c = data[1];
  if (c & 1) format.rating = -1;  // implicit feedback
  if (c & 2) format.time = 3;
  if (c & 4) std::swap(format.user, format.item);
  const dals::IdType id_type = (c & 8) ? dals::IdType::int64 : dals::IdType::automatic;
  dals::part::LineParser parser(format, id_type, c >> 4);
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    dals::part::Record r{};
    std::string_view user, item;
    if (parser.parse(line, r, user, item)) {
      require(!user.empty() && !item.empty(), "accepted an empty id", line);
      require(std::isfinite(r.value), "accepted a non-finite rating", line);
      for (auto [id, flag] : {std::pair{user, dals::part::kUserString}, std::pair{item, dals::part::kItemString}}) {
        const bool is_int = dals::parse_canonical_int(id).has_value();
        require(is_int == !(r.flags & flag), "an id's type is not what its text says", line);
        if (!is_int) {
          require(id_type != dals::IdType::int64, "accepted a string id under --id-type int64", line);
          require(id.size() <= dals::kMaxIdBytes, "accepted a string id longer than kMaxIdBytes", line);
          require(dals::utf8_problem(id) == nullptr, "accepted a string id that is not UTF-8", line);
        } else {
          require(std::to_string(*dals::parse_canonical_int(id)) == id, "a canonical integer does not print back",
                  line);
        }
      }
    } else {
      require(!parser.problem().empty(), "rejected a line without saying why", line);
      // The message read_share makes of it, escaped as Log::error prints it.
      const std::string message = dals::escape_control("in.csv:7: " + parser.problem() + ": " + dals::cut_line(line));
      for (unsigned char ch : message) require(ch >= 0x20 && ch != 0x7f, "a control byte in the error line", line);
    }
    start = end + 1;
  }
  return 0;
}
