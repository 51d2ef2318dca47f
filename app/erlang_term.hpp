// Erlang term syntax as written in config files (what file:consult/1 reads), parsed without Erlang.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/outcome.hpp"

namespace watercooler {

// Deeper nesting is reported as an error instead of exhausting the stack.
inline constexpr int max_term_depth = 100;

// Erlang's limit: an atom holds at most 255 characters.
inline constexpr std::size_t max_atom_length = 255;

// One parsed term; `line` and `column` (1-based, in bytes) say where it starts in the text.
struct erlang_term {
  enum class kind { atom, integer, floating, string, list, tuple };

  kind type = kind::atom;
  std::string text;                  // atom name or string contents, UTF-8, escapes resolved
  std::int64_t integer = 0;          // kind::integer
  double floating = 0;               // kind::floating
  std::vector<erlang_term> elements; // kind::list or kind::tuple
  int line = 0;
  int column = 0;

  bool is_atom(std::string_view name) const {
    return type == kind::atom && text == name;
  }
};

// Parses a sequence of terms, each ended by '.' and whitespace, '%' or end of input.
// Supported: atoms (plain and quoted), strings (adjacent ones concatenate), integers (sign,
// `1_000`, `16#ff`, 64-bit), floats, lists and tuples. Not supported, reported as errors:
// improper lists `[H|T]`, binaries, maps, characters `$a`, pids, funs, unquoted reserved words
// such as `end`. A leading UTF-8 byte order mark is skipped. Strings and quoted atoms must be
// UTF-8 without NUL bytes; elsewhere only ASCII is allowed, and no control bytes but whitespace.
// Comments may hold any byte. Either every term of the text, or the first problem found, as
// "line:column: message" (1-based, in bytes) where the message says what was expected and what
// was found.
outcome<std::vector<erlang_term>> parse_erlang_terms(std::string_view text);

// Erlang syntax for `term` in the compact form of `io:format("~w")`: `[a,{'b c',1},"s"]`.
std::string to_string(const erlang_term& term);

// For error messages: `atom 'kernel'`, `integer 5000`, `string "x"`, `a list`, `an empty list`,
// `a tuple of 3 elements`.
std::string describe(const erlang_term& term);

} // namespace watercooler
