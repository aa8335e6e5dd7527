// escape_control: what the one-line messages print of file names, ids and
// input lines. Control bytes never reach the terminal raw (an escape
// sequence could rewrite it, a newline would split the line); valid UTF-8
// stays readable.
#include <gtest/gtest.h>

#include "dals/core/log.hpp"

namespace dals {
namespace {

TEST(EscapeControl, PlainTextIsUnchanged) {
  EXPECT_EQ(escape_control("data/by-user/block-00000.h5: checksum mismatch"),
            "data/by-user/block-00000.h5: checksum mismatch");
  EXPECT_EQ(escape_control(""), "");
}

TEST(EscapeControl, EscapeAndNewline) {
  EXPECT_EQ(escape_control("a\x1b[31mred"), "a\\x1b[31mred");
  EXPECT_EQ(escape_control("two\nlines"), "two\\nlines");
}

TEST(EscapeControl, OtherControlBytesAsHex) {
  EXPECT_EQ(escape_control(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(escape_control("tab\tcr\rbell\a"), "tab\\x09cr\\x0dbell\\x07");
  EXPECT_EQ(escape_control("del\x7f"), "del\\x7f");
}

TEST(EscapeControl, ValidUtf8IsKept) {
  EXPECT_EQ(escape_control("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac");
}

TEST(EscapeControl, InvalidUtf8AndC1ControlsAsHex) {
  // a lone continuation byte, a truncated sequence, an overlong '/'
  EXPECT_EQ(escape_control("a\x80z"), "a\\x80z");
  EXPECT_EQ(escape_control("a\xe2\x82"), "a\\xe2\\x82");
  EXPECT_EQ(escape_control("\xc0\xaf"), "\\xc0\\xaf");
  // U+009B, the one-character CSI some terminals obey
  EXPECT_EQ(escape_control("x\xc2\x9b"
                           "31m"),
            "x\\xc2\\x9b31m");
}

}  // namespace
}  // namespace dals
