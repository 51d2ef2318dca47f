// Decodes form bodies once and rejects bad escapes and bad UTF-8 instead of guessing.
#include "web/form.hpp"

namespace watercooler {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::optional<form_error> decode_component(std::string_view encoded, std::string& out) {
  out.clear();
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (encoded.size() - i < 3)
        return form_error::malformed_percent_encoding;
      int high = hex_value(encoded[i + 1]);
      int low = hex_value(encoded[i + 2]);
      if (high < 0 || low < 0)
        return form_error::malformed_percent_encoding;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  if (!is_valid_utf8(out))
    return form_error::invalid_utf8;
  return std::nullopt;
}

} // namespace

std::string to_string(form_error error) {
  switch (error) {
    case form_error::malformed_percent_encoding:
      return "malformed percent-encoding";
    case form_error::invalid_utf8:
      return "message is not valid UTF-8";
  }
  return "unknown form error";
}

std::variant<form_fields, form_error> decode_form(std::string_view body) {
  form_fields fields;
  while (!body.empty()) {
    auto amp = body.find('&');
    auto piece = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (piece.empty())
      continue;
    auto eq = piece.find('=');
    auto name = piece.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
    std::pair<std::string, std::string> field;
    if (auto error = decode_component(name, field.first))
      return *error;
    if (auto error = decode_component(value, field.second))
      return *error;
    fields.push_back(std::move(field));
  }
  return fields;
}

std::optional<std::string> find_form_field(const form_fields& fields, std::string_view name) {
  for (const auto& [field_name, value] : fields)
    if (field_name == name)
      return value;
  return std::nullopt;
}

display_name parse_display_name(std::optional<std::string_view> field) {
  display_name result;
  if (!field)
    return result;
  constexpr std::string_view space = " \t\r\n\f\v";
  auto first = field->find_first_not_of(space);
  if (first == std::string_view::npos)
    return result;
  auto trimmed = field->substr(first, field->find_last_not_of(space) - first + 1);
  std::size_t length = 0;
  for (char c : trimmed) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      result.error = "the name must not contain control characters";
      return result;
    }
    if ((byte & 0xC0) != 0x80) // count code points: every byte but continuation bytes
      ++length;
  }
  if (length > max_name_length) {
    result.error = "name too long: at most " + std::to_string(max_name_length) + " characters";
    return result;
  }
  result.name = trimmed;
  return result;
}

bool is_valid_utf8(std::string_view text) {
  // Unicode 15, table 3-7: the second byte's range depends on the first byte.
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char first = byte(i);
    if (first < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (first >= 0xC2 && first <= 0xDF) {
      length = 2;
    } else if (first >= 0xE0 && first <= 0xEF) {
      length = 3;
      if (first == 0xE0)
        low = 0xA0; // overlong
      else if (first == 0xED)
        high = 0x9F; // surrogates
    } else if (first >= 0xF0 && first <= 0xF4) {
      length = 4;
      if (first == 0xF0)
        low = 0x90; // overlong
      else if (first == 0xF4)
        high = 0x8F; // above U+10FFFF
    } else {
      return false; // continuation byte, C0/C1 overlong or F5..FF
    }
    if (text.size() - i < length)
      return false;
    if (byte(i + 1) < low || byte(i + 1) > high)
      return false;
    for (std::size_t k = 2; k < length; ++k)
      if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
        return false;
    i += length;
  }
  return true;
}

} // namespace watercooler
