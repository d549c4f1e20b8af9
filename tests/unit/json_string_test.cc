// JSON string escaping shared by the CLI, the scan reports and the daemon's audit log.
#include "hashmatch/core/json_string.h"

#include <gtest/gtest.h>

#include <string>

namespace hashmatch {
namespace {

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonEscape("plain key"), "plain key");
  EXPECT_EQ(JsonEscape("a\"b"), "a\\\"b");
  EXPECT_EQ(JsonEscape("C:\\dir"), "C:\\\\dir");
  EXPECT_EQ(JsonEscape("tab\there"), "tab\\u0009here");
  EXPECT_EQ(JsonEscape("line\nbreak\r"), "line\\u000abreak\\u000d");
  EXPECT_EQ(JsonEscape(std::string("nul\0x", 5)), "nul\\u0000x");
  EXPECT_EQ(JsonEscape("\x1f"), "\\u001f");
  EXPECT_EQ(JsonEscape("\x7f"), "\x7f");  // DEL is legal in a JSON string
  EXPECT_EQ(JsonEscape(""), "");
}

TEST(JsonString, PassesUtf8Through) {
  EXPECT_EQ(JsonEscape("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93");
}

TEST(JsonString, AppendQuotes) {
  std::string out = "{\"k\":";
  AppendJsonString(&out, "v\"1");
  EXPECT_EQ(out, "{\"k\":\"v\\\"1\"");
  std::string empty;
  AppendJsonString(&empty, "");
  EXPECT_EQ(empty, "\"\"");
}

}  // namespace
}  // namespace hashmatch
