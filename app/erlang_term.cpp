// Lexer and recursive-descent parser for Erlang terms; every problem becomes a line:column error.
#include "app/erlang_term.hpp"

#include <cstdio>
#include <iomanip>
#include <limits>
#include <locale>
#include <sstream>
#include <tuple>
#include <utility>

namespace watercooler {

namespace {

// Words erl_scan never reads as atoms; `{mode, end}` is a syntax error in Erlang too.
constexpr std::string_view reserved_words[] = {
  "after", "and",  "andalso", "band",   "begin",   "bnot", "bor", "bsl",  "bsr",
  "bxor",  "case", "catch",   "cond",   "div",     "end",  "fun", "if",   "let",
  "not",   "of",   "or",      "orelse", "receive", "rem",  "try", "when", "xor"};

constexpr std::size_t max_shown_bytes = 40;

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_name_char(char c) {
  return is_lower(c) || is_upper(c) || is_digit(c) || c == '_' || c == '@';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_reserved(std::string_view word) {
  for (auto reserved : reserved_words)
    if (word == reserved)
      return true;
  return false;
}

// Value of `c` as a digit of bases up to 36; 36 when it is none.
int digit_value(char c) {
  if (is_digit(c))
    return c - '0';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z')
    return c - 'A' + 10;
  return 36;
}

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

std::string hex_byte(char c) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02x",
                static_cast<unsigned>(static_cast<unsigned char>(c)));
  return buffer;
}

std::string describe_byte(char c) {
  if (static_cast<unsigned char>(c) >= 0x80 || is_control(c))
    return "byte " + hex_byte(c);
  return "'" + std::string(1, c) + "'";
}

// Length of the valid UTF-8 sequence that starts `s`, or 0 when there is none.
std::size_t utf8_length(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80)
    return 1;
  const std::size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
  if (length == 0 || lead > 0xf4 || s.size() < length)
    return 0;
  for (std::size_t i = 1; i < length; ++i)
    if ((byte(i) & 0xc0) != 0x80)
      return 0;
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
  if ((lead == 0xe0 && byte(1) < 0xa0) || (lead == 0xed && byte(1) >= 0xa0)
      || (lead == 0xf0 && byte(1) < 0x90) || (lead == 0xf4 && byte(1) >= 0x90))
    return 0;
  return length;
}

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xe0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}

std::size_t count_characters(std::string_view utf8) {
  std::size_t count = 0;
  for (char c : utf8)
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80)
      ++count;
  return count;
}

bool needs_quotes(std::string_view atom) {
  if (atom.empty() || !is_lower(atom.front()) || is_reserved(atom))
    return true;
  for (char c : atom)
    if (!is_name_char(c))
      return true;
  return false;
}

// `text` between `quote`s, escaped so that Erlang reads it back.
std::string quote(std::string_view text, char quote_char) {
  std::string out(1, quote_char);
  for (char c : text) {
    if (c == quote_char || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (is_control(c)) {
      out += "\\x" + hex_byte(c).substr(2);
    } else {
      out += c;
    }
  }
  return out + quote_char;
}

// Long names in messages are cut, on a character boundary, and end in "...".
std::string shorten(std::string_view text) {
  if (text.size() <= max_shown_bytes)
    return std::string(text);
  std::size_t end = max_shown_bytes - 3;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80)
    --end;
  return std::string(text.substr(0, end)) + "...";
}

bool read_float(const std::string& spelling, double& value) {
  std::istringstream in(spelling);
  in.imbue(std::locale::classic()); // "1.5" whatever the global locale says
  in >> value;
  return static_cast<bool>(in);
}

// Shortest spelling that reads back as `value`, always with a '.' as Erlang requires.
std::string format_float(double value) {
  std::string text;
  for (int precision = 1; precision <= std::numeric_limits<double>::max_digits10; ++precision) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out << std::setprecision(precision) << value;
    text = out.str();
    double back = 0;
    if (read_float(text, back) && back == value)
      break;
  }
  if (text.find('.') == std::string::npos) {
    auto exponent = text.find('e');
    text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
  }
  return text;
}

struct token {
  enum class kind { atom, variable, string, integer, floating, punct, dot, end };

  kind type = kind::end;
  std::string text; // name, string contents, number as written, or the punctuation character
  std::int64_t integer = 0;
  double floating = 0;
  int line = 1;
  int column = 1;

  bool is(char punct) const {
    return type == kind::punct && text.size() == 1 && text[0] == punct;
  }
};

std::string describe(const token& tok) {
  switch (tok.type) {
    case token::kind::atom:
      return "atom " + quote(shorten(tok.text), '\'');
    case token::kind::variable:
      return "variable " + shorten(tok.text);
    case token::kind::string:
      return "string " + quote(shorten(tok.text), '"');
    case token::kind::integer:
      return "integer " + shorten(tok.text);
    case token::kind::floating:
      return "float " + shorten(tok.text);
    case token::kind::punct:
      return "'" + tok.text + "'";
    case token::kind::dot:
      return "'.'";
    case token::kind::end:
      break;
  }
  return "end of input";
}

std::string position(int line, int column) {
  return std::to_string(line) + ":" + std::to_string(column);
}

class term_parser {
public:
  explicit term_parser(std::string_view text) : text_(text) {
    if (text_.substr(0, 3) == "\xef\xbb\xbf") // byte order mark, as epp skips it
      text_.remove_prefix(3);
  }

  outcome<std::vector<erlang_term>> parse() {
    std::vector<erlang_term> terms;
    while (true) {
      auto first = next_token();
      if (!first)
        return failure();
      if (first->type == token::kind::end)
        return outcome<std::vector<erlang_term>>::ok(std::move(terms));
      auto term = parse_term(*first, 1);
      if (!term)
        return failure();
      auto dot = next_token();
      if (!dot)
        return failure();
      if (dot->type != token::kind::dot)
        return expected_dot(*dot);
      terms.push_back(std::move(*term));
    }
  }

private:
  // Lexing ----------------------------------------------------------------------------------

  bool at_end(std::size_t ahead = 0) const {
    return at_ + ahead >= text_.size();
  }

  // The byte `ahead` of the cursor; '\0' past the end (a real NUL is caught before use).
  char peek(std::size_t ahead = 0) const {
    return at_end(ahead) ? '\0' : text_[at_ + ahead];
  }

  void advance() {
    if (text_[at_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++at_;
  }

  void skip_space_and_comments() {
    while (!at_end()) {
      if (is_space(peek())) {
        advance();
      } else if (peek() == '%') {
        while (!at_end() && peek() != '\n')
          advance();
      } else {
        return;
      }
    }
  }

  std::optional<token> next_token() {
    skip_space_and_comments();
    token tok;
    tok.line = line_;
    tok.column = column_;
    if (at_end()) {
      tok.line = end_line_; // right after the last token: where the missing part belongs
      tok.column = end_column_;
      return tok;
    }
    if (!lex(tok))
      return std::nullopt;
    end_line_ = line_;
    end_column_ = column_;
    return tok;
  }

  bool lex(token& tok) {
    const char c = peek();
    if (is_lower(c))
      return lex_atom(tok);
    if (is_upper(c) || c == '_') {
      tok.type = token::kind::variable;
      tok.text = take_name();
      return true;
    }
    if (is_digit(c) || ((c == '-' || c == '+') && is_digit(peek(1))))
      return lex_number(tok);
    if (c == '\'') {
      tok.type = token::kind::atom;
      if (!lex_quoted(tok, '\''))
        return false;
      if (count_characters(tok.text) > max_atom_length)
        return lex_error(tok,
                         "atom longer than " + std::to_string(max_atom_length) + " characters");
      return true;
    }
    if (c == '"')
      return lex_strings(tok);
    if (static_cast<unsigned char>(c) >= 0x80)
      return lex_error(tok, "unexpected non-ASCII byte " + hex_byte(c)
                              + " outside a string or quoted atom");
    if (c == '\0')
      return lex_error(tok, "unexpected NUL byte");
    if (is_control(c))
      return lex_error(tok, "unexpected control byte " + hex_byte(c));
    // A '.' ends a term only before whitespace, a comment or the end, so "1.5" stays one number.
    const bool ends_term = c == '.' && (at_end(1) || is_space(peek(1)) || peek(1) == '%');
    tok.type = ends_term ? token::kind::dot : token::kind::punct;
    tok.text = std::string(1, c);
    advance();
    return true;
  }

  std::string take_name() {
    const std::size_t start = at_;
    while (!at_end() && is_name_char(peek()))
      advance();
    return std::string(text_.substr(start, at_ - start));
  }

  bool lex_atom(token& tok) {
    tok.type = token::kind::atom;
    tok.text = take_name();
    if (is_reserved(tok.text))
      return lex_error(tok, "expected a term but found reserved word " + tok.text
                              + "; quote it as '" + tok.text + "' if it is an atom");
    if (tok.text.size() > max_atom_length)
      return lex_error(tok, "atom longer than " + std::to_string(max_atom_length) + " characters");
    return true;
  }

  // Digits of `base` into `digits`; '_' is skipped only between two digits, like Erlang's 1_000.
  void take_digits(int base, std::string& digits) {
    while (!at_end()) {
      if (digit_value(peek()) < base) {
        digits += peek();
        advance();
      } else if (peek() == '_' && !digits.empty() && digit_value(peek(1)) < base) {
        advance();
      } else {
        return;
      }
    }
  }

  bool lex_number(token& tok) {
    const std::size_t start = at_;
    const bool negative = peek() == '-';
    if (peek() == '-' || peek() == '+')
      advance();
    std::string digits;
    take_digits(10, digits);
    int base = 10;
    if (peek() == '#') {
      base = digits.size() <= 2 ? std::stoi(digits) : 0;
      if (base < 2 || base > 36)
        return lex_error(tok, "integer base " + shorten(digits) + " is not between 2 and 36");
      advance();
      digits.clear();
      take_digits(base, digits);
      if (digits.empty())
        return lex_error(tok, "expected a base-" + std::to_string(base)
                                + " digit after '#' but found "
                                + (at_end() ? std::string("end of input") : describe_byte(peek())));
    } else if (peek() == '.' && is_digit(peek(1))) {
      return lex_float(tok, start, digits);
    }
    tok.type = token::kind::integer;
    tok.text = std::string(text_.substr(start, at_ - start));
    // 2^63 is allowed only as a magnitude of a negative number.
    const std::uint64_t limit =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
    std::uint64_t magnitude = 0;
    for (char digit : digits) {
      const auto value = static_cast<std::uint64_t>(digit_value(digit));
      if (magnitude > (limit - value) / static_cast<std::uint64_t>(base))
        return lex_error(tok, "integer " + shorten(tok.text) + " does not fit in 64 bits");
      magnitude = magnitude * static_cast<std::uint64_t>(base) + value;
    }
    if (!negative)
      tok.integer = static_cast<std::int64_t>(magnitude);
    else if (magnitude == limit)
      tok.integer = std::numeric_limits<std::int64_t>::min();
    else
      tok.integer = -static_cast<std::int64_t>(magnitude);
    return true;
  }

  // After the integer part: ".digits" and an optional exponent "e-3".
  bool lex_float(token& tok, std::size_t start, std::string digits) {
    digits.insert(0, text_[start] == '-' ? "-" : "");
    digits += '.';
    advance();
    take_digits(10, digits);
    const bool signed_exponent = (peek(1) == '-' || peek(1) == '+') && is_digit(peek(2));
    if ((peek() == 'e' || peek() == 'E') && (is_digit(peek(1)) || signed_exponent)) {
      digits += 'e';
      advance();
      if (signed_exponent) {
        digits += peek();
        advance();
      }
      take_digits(10, digits);
    }
    tok.type = token::kind::floating;
    tok.text = std::string(text_.substr(start, at_ - start));
    if (!read_float(digits, tok.floating))
      return lex_error(tok, "float " + shorten(tok.text) + " is out of range");
    return true;
  }

  // One or more adjacent string literals, which Erlang joins: "ab" "cd" is "abcd".
  bool lex_strings(token& tok) {
    tok.type = token::kind::string;
    while (true) {
      token part;
      part.line = line_;
      part.column = column_;
      if (!lex_quoted(part, '"'))
        return false;
      tok.text += part.text;
      const auto saved = std::make_tuple(at_, line_, column_);
      skip_space_and_comments();
      if (peek() != '"') {
        std::tie(at_, line_, column_) = saved;
        return true;
      }
    }
  }

  // A quoted atom or string from its opening quote; `tok` gets the contents.
  bool lex_quoted(token& tok, char quote_char) {
    const std::string what = quote_char == '\'' ? "quoted atom" : "string";
    advance();
    while (true) {
      if (at_end())
        return lex_error(tok, "unterminated " + what);
      const char c = peek();
      if (c == quote_char) {
        advance();
        return true;
      }
      if (c == '\0')
        return lex_error(here(), "unexpected NUL byte in " + what);
      if (c == '\\') {
        if (!lex_escape(tok, what))
          return false;
      } else if (static_cast<unsigned char>(c) >= 0x80) {
        const std::size_t length = utf8_length(text_.substr(at_));
        if (length == 0)
          return lex_error(here(), "invalid UTF-8 byte " + hex_byte(c) + " in " + what);
        tok.text.append(text_.substr(at_, length));
        for (std::size_t i = 0; i < length; ++i)
          advance();
      } else {
        tok.text += c;
        advance();
      }
    }
  }

  // Erlang's escapes: \n \t ... \s (space) \d (delete) \e (escape), \101 octal, \x41, \x{20AC},
  // \^a (control-a); any other character stands for itself, so \\ \' \" work too.
  bool lex_escape(token& tok, const std::string& what) {
    const token backslash = here();
    advance();
    if (at_end())
      return lex_error(tok, "unterminated " + what);
    const char c = peek();
    std::uint32_t code = 0;
    if (c >= '0' && c <= '7') {
      for (int i = 0; i < 3 && peek() >= '0' && peek() <= '7'; ++i) {
        code = code * 8 + static_cast<std::uint32_t>(peek() - '0');
        advance();
      }
    } else if (c == 'x') {
      advance();
      const bool braced = peek() == '{';
      if (braced)
        advance();
      int count = 0;
      while (digit_value(peek()) < 16 && (braced || count < 2) && count < 8) {
        code = code * 16 + static_cast<std::uint32_t>(digit_value(peek()));
        advance();
        ++count;
      }
      if (braced ? (count == 0 || peek() != '}') : count != 2)
        return lex_error(backslash, braced ? "expected hex digits and '}' after \\x{"
                                           : "expected two hex digits after \\x");
      if (braced)
        advance();
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return lex_error(backslash, "escape is not a Unicode code point");
    } else if (c == '^') {
      advance();
      if (at_end() || is_control(peek()) || static_cast<unsigned char>(peek()) >= 0x80)
        return lex_error(backslash, "expected an ASCII character after \\^");
      code = static_cast<std::uint32_t>(peek()) & 0x1f;
      advance();
    } else if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') {
      return true; // the main loop copies or rejects it
    } else {
      constexpr std::string_view letters = "bdefnrstv";
      constexpr std::string_view codes = "\b\x7f\x1b\f\n\r \t\v";
      const auto index = letters.find(c);
      code = static_cast<unsigned char>(index == std::string_view::npos ? c : codes[index]);
      advance();
    }
    append_utf8(tok.text, code);
    return true;
  }

  token here() const {
    token tok;
    tok.line = line_;
    tok.column = column_;
    return tok;
  }

  // Parsing ---------------------------------------------------------------------------------

  std::optional<erlang_term> parse_term(const token& first, int depth) {
    erlang_term term;
    term.line = first.line;
    term.column = first.column;
    switch (first.type) {
      case token::kind::atom:
        term.type = erlang_term::kind::atom;
        term.text = first.text;
        return term;
      case token::kind::string:
        term.type = erlang_term::kind::string;
        term.text = first.text;
        return term;
      case token::kind::integer:
        term.type = erlang_term::kind::integer;
        term.integer = first.integer;
        return term;
      case token::kind::floating:
        term.type = erlang_term::kind::floating;
        term.floating = first.floating;
        return term;
      case token::kind::variable:
        return fail(first, "expected a term but found variable " + shorten(first.text)
                             + "; quote it as '" + shorten(first.text) + "' if it is an atom");
      case token::kind::end:
        return fail(first, "unexpected end of input, expected a term");
      case token::kind::punct:
        if (first.is('[') || first.is('{'))
          return parse_sequence(first, depth, std::move(term));
        break;
      case token::kind::dot:
        break;
    }
    return fail(first, "expected a term but found " + describe(first));
  }

  // A list or tuple from its opening bracket.
  std::optional<erlang_term> parse_sequence(const token& open, int depth, erlang_term term) {
    if (depth > max_term_depth)
      return fail(open, "terms nested deeper than " + std::to_string(max_term_depth) + " levels");
    const bool is_list = open.is('[');
    const char close = is_list ? ']' : '}';
    const std::string expected = std::string("',' or '") + close + "'";
    term.type = is_list ? erlang_term::kind::list : erlang_term::kind::tuple;
    auto next = next_token();
    if (!next)
      return std::nullopt;
    if (next->is(close))
      return term;
    while (true) {
      auto element = parse_term(*next, depth + 1);
      if (!element)
        return std::nullopt;
      term.elements.push_back(std::move(*element));
      auto separator = next_token();
      if (!separator)
        return std::nullopt;
      if (separator->is(close))
        return term;
      if (separator->type == token::kind::end)
        return fail(*separator, "unexpected end of input, expected " + expected + " to close the "
                                  + (is_list ? "list" : "tuple") + " at "
                                  + position(open.line, open.column));
      if (is_list && separator->is('|'))
        return fail(*separator, "improper lists like [Head | Tail] are not supported");
      if (!separator->is(','))
        return fail(*separator, "expected " + expected + " but found " + describe(*separator));
      next = next_token();
      if (!next)
        return std::nullopt;
    }
  }

  outcome<std::vector<erlang_term>> expected_dot(const token& found) {
    if (found.type == token::kind::end)
      fail(found, "unexpected end of input, expected '.'");
    else if (found.is('.'))
      fail(found, "expected whitespace or end of input after '.'");
    else
      fail(found, "expected '.' but found " + describe(found));
    return failure();
  }

  std::nullopt_t fail(const token& at, const std::string& message) {
    error_ = std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + message;
    return std::nullopt;
  }

  bool lex_error(const token& at, const std::string& message) {
    fail(at, message);
    return false;
  }

  outcome<std::vector<erlang_term>> failure() {
    return outcome<std::vector<erlang_term>>::fail(std::move(error_));
  }

  std::string_view text_;
  std::size_t at_ = 0;
  int line_ = 1;
  int column_ = 1;
  int end_line_ = 1; // just after the last token read
  int end_column_ = 1;
  std::string error_; // "line:column: message" of the first problem
};

} // namespace

outcome<std::vector<erlang_term>> parse_erlang_terms(std::string_view text) {
  return term_parser(text).parse();
}

std::string to_string(const erlang_term& term) {
  switch (term.type) {
    case erlang_term::kind::atom:
      return needs_quotes(term.text) ? quote(term.text, '\'') : term.text;
    case erlang_term::kind::integer:
      return std::to_string(term.integer);
    case erlang_term::kind::floating:
      return format_float(term.floating);
    case erlang_term::kind::string:
      return quote(term.text, '"');
    case erlang_term::kind::list:
    case erlang_term::kind::tuple:
      break;
  }
  const bool is_list = term.type == erlang_term::kind::list;
  std::string out(1, is_list ? '[' : '{');
  for (std::size_t i = 0; i < term.elements.size(); ++i)
    out += (i == 0 ? "" : ",") + to_string(term.elements[i]);
  return out + (is_list ? ']' : '}');
}

std::string describe(const erlang_term& term) {
  switch (term.type) {
    case erlang_term::kind::atom:
      return "atom " + quote(shorten(term.text), '\'');
    case erlang_term::kind::integer:
      return "integer " + std::to_string(term.integer);
    case erlang_term::kind::floating:
      return "float " + format_float(term.floating);
    case erlang_term::kind::string:
      return "string " + quote(shorten(term.text), '"');
    case erlang_term::kind::list:
      return term.elements.empty() ? "an empty list" : "a list";
    case erlang_term::kind::tuple:
      break;
  }
  const auto size = term.elements.size();
  if (size == 0)
    return "an empty tuple";
  return "a tuple of " + std::to_string(size) + (size == 1 ? " element" : " elements");
}

} // namespace watercooler
