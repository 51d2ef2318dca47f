// Unit tests of form body decoding.
#include <doctest/doctest.h>

#include "web/form.hpp"

namespace watercooler {

namespace {

form_fields decoded(std::string_view body) {
  auto result = decode_form(body);
  REQUIRE(std::holds_alternative<form_fields>(result));
  return std::get<form_fields>(result);
}

form_error rejected(std::string_view body) {
  auto result = decode_form(body);
  REQUIRE(std::holds_alternative<form_error>(result));
  return std::get<form_error>(result);
}

} // namespace

TEST_CASE("form decoding turns plus into space and decodes percent escapes once") {
  SUBCASE("an encoded ampersand stays inside the value") {
    CHECK(decoded("message=two+words+%26+more") == form_fields{{"message", "two words & more"}});
  }
  SUBCASE("an encoded equals sign stays inside the value") {
    CHECK(decoded("message=a%3Db") == form_fields{{"message", "a=b"}});
  }
  SUBCASE("an encoded percent sign is not decoded a second time") {
    CHECK(decoded("message=100%2541") == form_fields{{"message", "100%41"}});
  }
  SUBCASE("an encoded plus is a plus, not a space") {
    CHECK(decoded("message=1%2B1") == form_fields{{"message", "1+1"}});
  }
  SUBCASE("upper and lower case hex digits") {
    CHECK(decoded("message=%c3%A9%2f") == form_fields{{"message", "\xC3\xA9/"}});
  }
  SUBCASE("names are decoded like values") {
    CHECK(decoded("my+name%21=x") == form_fields{{"my name!", "x"}});
  }
  SUBCASE("a plain value is unchanged") {
    CHECK(decoded("message=hello") == form_fields{{"message", "hello"}});
  }
  SUBCASE("multi-byte UTF-8 and line breaks survive") {
    CHECK(decoded("message=caf%C3%A9%0D%0A%F0%9F%98%80")
          == form_fields{{"message", "caf\xC3\xA9\r\n\xF0\x9F\x98\x80"}});
  }
}

TEST_CASE("form decoding splits fields at ampersands and the first equals sign") {
  SUBCASE("several fields keep their order") {
    CHECK(decoded("b=2&a=1&c=3") == form_fields{{"b", "2"}, {"a", "1"}, {"c", "3"}});
  }
  SUBCASE("a value may contain a raw equals sign") {
    CHECK(decoded("message=a=b") == form_fields{{"message", "a=b"}});
  }
  SUBCASE("an empty value") {
    CHECK(decoded("message=") == form_fields{{"message", ""}});
  }
  SUBCASE("a name without equals sign has an empty value") {
    CHECK(decoded("message") == form_fields{{"message", ""}});
  }
  SUBCASE("empty pieces are skipped") {
    CHECK(decoded("&a=1&&b=2&") == form_fields{{"a", "1"}, {"b", "2"}});
  }
  SUBCASE("an empty body has no fields") {
    CHECK(decoded("") == form_fields{});
  }
  SUBCASE("repeated names are all kept") {
    CHECK(decoded("message=first&message=second")
          == form_fields{{"message", "first"}, {"message", "second"}});
  }
}

TEST_CASE("form decoding rejects malformed percent escapes") {
  SUBCASE("non-hex digits") {
    CHECK(rejected("message=%zz") == form_error::malformed_percent_encoding);
  }
  SUBCASE("one non-hex digit") {
    CHECK(rejected("message=%4g") == form_error::malformed_percent_encoding);
  }
  SUBCASE("an escape truncated to one digit") {
    CHECK(rejected("message=%4") == form_error::malformed_percent_encoding);
  }
  SUBCASE("a lone percent sign at the end") {
    CHECK(rejected("message=100%") == form_error::malformed_percent_encoding);
  }
  SUBCASE("a truncated escape before the next field") {
    CHECK(rejected("message=%4&other=1") == form_error::malformed_percent_encoding);
  }
  SUBCASE("a bad escape in a name") {
    CHECK(rejected("mess%age=hello") == form_error::malformed_percent_encoding);
  }
  SUBCASE("a bad escape in a later field") {
    CHECK(rejected("message=ok&x=%%") == form_error::malformed_percent_encoding);
  }
}

TEST_CASE("form decoding rejects values that are not valid UTF-8") {
  SUBCASE("a lone continuation byte") {
    CHECK(rejected("message=%80") == form_error::invalid_utf8);
  }
  SUBCASE("a Latin-1 byte") {
    CHECK(rejected("message=caf%E9") == form_error::invalid_utf8);
  }
  SUBCASE("an overlong slash") {
    CHECK(rejected("message=%C0%AF") == form_error::invalid_utf8);
  }
  SUBCASE("an encoded surrogate") {
    CHECK(rejected("message=%ED%A0%80") == form_error::invalid_utf8);
  }
  SUBCASE("a code point above U+10FFFF") {
    CHECK(rejected("message=%F4%90%80%80") == form_error::invalid_utf8);
  }
  SUBCASE("a truncated sequence") {
    CHECK(rejected("message=%E2%82") == form_error::invalid_utf8);
  }
  SUBCASE("raw invalid bytes in the body") {
    CHECK(rejected("message=\xFF") == form_error::invalid_utf8);
  }
  SUBCASE("an invalid name") {
    CHECK(rejected("%FF=hello") == form_error::invalid_utf8);
  }
}

TEST_CASE("form errors have a human text") {
  CHECK(to_string(form_error::malformed_percent_encoding) == "malformed percent-encoding");
  CHECK(to_string(form_error::invalid_utf8) == "message is not valid UTF-8");
}

TEST_CASE("finding a form field returns the first value of that name") {
  form_fields fields{{"message", "first"}, {"other", "x"}, {"message", "second"}};
  SUBCASE("the first of repeated names wins") {
    CHECK(find_form_field(fields, "message") == std::optional<std::string>("first"));
  }
  SUBCASE("a single field") {
    CHECK(find_form_field(fields, "other") == std::optional<std::string>("x"));
  }
  SUBCASE("a missing field") {
    CHECK(find_form_field(fields, "missing") == std::nullopt);
  }
  SUBCASE("names are case-sensitive") {
    CHECK(find_form_field(fields, "Message") == std::nullopt);
  }
  SUBCASE("an empty value is found, not missing") {
    CHECK(find_form_field(form_fields{{"message", ""}}, "message")
          == std::optional<std::string>(""));
  }
}

TEST_CASE("UTF-8 validation follows the Unicode well-formed byte sequences") {
  SUBCASE("valid text") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8(std::string_view("\0", 1)));
    CHECK(is_valid_utf8("plain ASCII \x7F"));
    CHECK(is_valid_utf8("\xC2\x80"));         // U+0080
    CHECK(is_valid_utf8("\xDF\xBF"));         // U+07FF
    CHECK(is_valid_utf8("\xE0\xA0\x80"));     // U+0800
    CHECK(is_valid_utf8("\xED\x9F\xBF"));     // U+D7FF
    CHECK(is_valid_utf8("\xEE\x80\x80"));     // U+E000
    CHECK(is_valid_utf8("\xEF\xBF\xBF"));     // U+FFFF
    CHECK(is_valid_utf8("\xF0\x90\x80\x80")); // U+10000
    CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF")); // U+10FFFF
    CHECK(is_valid_utf8("\xEF\xBB\xBF"
                        "a\xE2\x82\xAC"
                        "b")); // BOM, a, euro, b
  }
  SUBCASE("overlong forms") {
    CHECK_FALSE(is_valid_utf8("\xC0\x80"));
    CHECK_FALSE(is_valid_utf8("\xC1\xBF"));
    CHECK_FALSE(is_valid_utf8("\xE0\x9F\xBF"));
    CHECK_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));
  }
  SUBCASE("surrogates") {
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));
    CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));
  }
  SUBCASE("beyond U+10FFFF") {
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));
    CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
    CHECK_FALSE(is_valid_utf8("\xFF"));
  }
  SUBCASE("broken sequences") {
    CHECK_FALSE(is_valid_utf8("\x80"));
    CHECK_FALSE(is_valid_utf8("\xC3"));
    CHECK_FALSE(is_valid_utf8("\xC3"
                              "a"));
    CHECK_FALSE(is_valid_utf8("\xE2\x82"));
    CHECK_FALSE(is_valid_utf8("\xE2\x82"
                              "a"));
    CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98"));
    CHECK_FALSE(is_valid_utf8("ok\xF0\x9F\x98\x80\x80"));
  }
}

TEST_CASE("a display name is trimmed, bounded and free of control characters") {
  SUBCASE("absent or blank is anonymous") {
    for (auto field : {std::optional<std::string_view>{}, std::optional<std::string_view>{""},
                       std::optional<std::string_view>{" \t "}}) {
      auto name = parse_display_name(field);
      CHECK(name.name.empty());
      CHECK(name.error.empty());
    }
  }
  SUBCASE("white space around the name goes") {
    auto name = parse_display_name("  Ada Lovelace \t");
    CHECK(name.name == "Ada Lovelace");
    CHECK(name.error.empty());
  }
  SUBCASE("markup is just text") {
    CHECK(parse_display_name("<b>bold</b>").name == "<b>bold</b>");
  }
  SUBCASE("the limit counts characters, not bytes") {
    std::string ascii(max_name_length, 'a');
    CHECK(parse_display_name(ascii).name == ascii);
    std::string umlauts;
    for (std::size_t i = 0; i < max_name_length; ++i)
      umlauts += "ü"; // two bytes each
    CHECK(parse_display_name(umlauts).name == umlauts);
    CHECK(parse_display_name(ascii + "a").error == "name too long: at most 64 characters");
    CHECK(parse_display_name(umlauts + "ü").error == "name too long: at most 64 characters");
    CHECK(parse_display_name("  " + ascii + "  ").name == ascii);
  }
  SUBCASE("control characters inside are refused") {
    CHECK(parse_display_name("two\nlines").error == "the name must not contain control characters");
    CHECK(parse_display_name(std::string_view("nul\0", 4)).error
          == "the name must not contain control characters");
    CHECK(parse_display_name("del\x7F").error == "the name must not contain control characters");
  }
}

} // namespace watercooler
