// Decoding of application/x-www-form-urlencoded request bodies, as sent by the home page form.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace watercooler {

enum class form_error {
  malformed_percent_encoding, // '%' not followed by two hex digits
  invalid_utf8,               // a decoded name or value is not valid UTF-8
};

// Human text for a 400 response, e.g. "malformed percent-encoding".
std::string to_string(form_error error);

// Decoded (name, value) pairs in body order; a repeated name keeps every pair.
using form_fields = std::vector<std::pair<std::string, std::string>>;

// Splits at '&' and '=' first, then decodes each name and value exactly once ('+' is a space,
// %XX a byte), so an encoded "%26" stays a literal '&'. Empty pieces ("a=1&&b=2") are skipped
// and a piece without '=' is a name with an empty value.
std::variant<form_fields, form_error> decode_form(std::string_view body);

// The value of the first field called `name`: with repeated names the first one wins.
std::optional<std::string> find_form_field(const form_fields& fields, std::string_view name);

// True if `text` is well-formed UTF-8: no overlong forms, surrogates or code points > U+10FFFF.
bool is_valid_utf8(std::string_view text);

// Longest display name, in code points.
constexpr std::size_t max_name_length = 64;

// The display name of the optional form field `name`: without leading and trailing white space;
// "" (field absent or blank) is anonymous. `error` is set, for a 400, when the name is longer
// than max_name_length or holds a control character such as a line break.
struct display_name {
  std::string name;
  std::string error;
};
display_name parse_display_name(std::optional<std::string_view> field);

} // namespace watercooler
