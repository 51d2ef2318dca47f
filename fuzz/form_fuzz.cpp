// Fuzzes the POST /publish form decoder as the action uses it: fields are valid UTF-8 and
// re-encode to a body that decodes the same; display names obey their rules.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "web/form.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "form_fuzz: %s\n", what);
  std::abort();
}

// Every byte but unreserved ones as %XX, spaces as '+': the browser's encoding, overdone.
std::string encode_component(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 15];
    }
  }
  return out;
}

// A second, plain UTF-8 check: code points decoded by hand and range-checked.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::size_t n = lead < 0x80         ? 1
                    : (lead >> 5) == 6  ? 2
                    : (lead >> 4) == 14 ? 3
                    : (lead >> 3) == 30 ? 4
                                        : 0;
    if (n == 0 || i + n > s.size())
      return false;
    std::uint32_t code = n == 1 ? lead : lead & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80)
        return false;
      code = (code << 6) | (next & 0x3f);
    }
    const std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < least[n] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

void check_display_name(const std::string& field) {
  const auto name = watercooler::parse_display_name(field);
  if (!name.error.empty()) {
    if (!name.name.empty())
      fail("a refused display name must be empty");
    return;
  }
  if (!name.name.empty() && (is_space(name.name.front()) || is_space(name.name.back())))
    fail("a display name must be trimmed");
  std::size_t length = 0;
  for (char c : name.name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f)
      fail("a display name must not hold control characters");
    length += (byte & 0xc0) != 0x80;
  }
  if (length > watercooler::max_name_length)
    fail("a display name must not be longer than max_name_length");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (watercooler::is_valid_utf8(body) != valid_utf8(body))
    fail("is_valid_utf8 disagrees with a plain decoder");
  const auto decoded = watercooler::decode_form(body);
  const auto* fields = std::get_if<watercooler::form_fields>(&decoded);
  if (!fields)
    return 0;
  std::string encoded;
  for (const auto& [name, value] : *fields) {
    if (!watercooler::is_valid_utf8(name) || !watercooler::is_valid_utf8(value))
      fail("a decoded field must be valid UTF-8");
    encoded +=
      (encoded.empty() ? "" : "&") + encode_component(name) + "=" + encode_component(value);
  }
  const auto again = watercooler::decode_form(encoded);
  const auto* fields_again = std::get_if<watercooler::form_fields>(&again);
  if (!fields_again)
    fail("re-encoded fields must decode");
  // Fields with an empty name and value re-encode as "=", which decodes to the same pair.
  if (*fields_again != *fields)
    fail("re-encoded fields must decode to the same fields");
  // The action reads only `name` as a display name; any field is a fine test of the rules.
  for (const auto& field : *fields)
    check_display_name(field.second);
  if (auto name = watercooler::find_form_field(*fields, "name"))
    check_display_name(*name);
  return 0;
}
