// Fuzzes the Erlang-term parser and the sys.config reader: any bytes give terms or one error, and
// every parsed term prints (to_string) as Erlang text that parses back to the same term.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "app/erlang_term.hpp"
#include "app/sys_config.hpp"

namespace {

using watercooler::erlang_term;

bool same_term(const erlang_term& a, const erlang_term& b) {
  if (a.type != b.type || a.elements.size() != b.elements.size())
    return false;
  switch (a.type) {
    case erlang_term::kind::atom:
    case erlang_term::kind::string:
      if (a.text != b.text)
        return false;
      break;
    case erlang_term::kind::integer:
      if (a.integer != b.integer)
        return false;
      break;
    case erlang_term::kind::floating:
      if (a.floating != b.floating)
        return false;
      break;
    case erlang_term::kind::list:
    case erlang_term::kind::tuple:
      break;
  }
  for (std::size_t i = 0; i < a.elements.size(); ++i)
    if (!same_term(a.elements[i], b.elements[i]))
      return false;
  return true;
}

// "line:column: message": two numbers from 1, then a message.
bool has_position(const std::string& error) {
  std::size_t at = 0;
  for (int field = 0; field < 2; ++field) {
    auto start = at;
    while (at < error.size() && error[at] >= '0' && error[at] <= '9')
      ++at;
    if (at == start || error[start] == '0' || at == error.size() || error[at] != ':')
      return false;
    ++at;
  }
  return at + 1 < error.size() && error[at] == ' ';
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "erlang_term_fuzz: %s\n", what.c_str());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = watercooler::parse_erlang_terms(text);
  if (parsed) {
    for (const auto& term : *parsed) {
      const auto printed = watercooler::to_string(term);
      (void)watercooler::describe(term);
      const auto again = watercooler::parse_erlang_terms(printed + ".");
      if (!again)
        fail("to_string gave " + printed + ", which does not parse: " + again.error);
      if (again->size() != 1 || !same_term(term, again->front()))
        fail("to_string gave " + printed + ", which parses to another term");
    }
  } else if (!has_position(parsed.error)) {
    fail("an error must say where, then what: " + parsed.error);
  }
  const auto config = watercooler::parse_sys_config(text, "sys.config");
  if (!config && config.error.rfind("sys.config:", 0) != 0)
    fail("a sys.config error must start with its file name: " + config.error);
  return 0;
}
