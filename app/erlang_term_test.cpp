// Unit tests of the Erlang term parser: what it reads, what it prints, and every error it gives.
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "app/erlang_term.hpp"
#include "test/tutorial.hpp"

namespace watercooler {

namespace {

using term_kind = erlang_term::kind;

const std::string& tutorial_config = tutorial_sys_config();

// Every term of `text` printed back, space-separated, or the error it gives.
std::string reread(std::string_view text) {
  const auto result = parse_erlang_terms(text);
  if (!result)
    return "error " + result.error;
  std::string out;
  for (const auto& term : *result)
    out += (out.empty() ? "" : " ") + to_string(term);
  return out;
}

// "line:column: message" of the error `text` gives; what was parsed when there is none.
std::string error_of(std::string_view text) {
  const auto result = parse_erlang_terms(text);
  if (result)
    return "no error, parsed: " + reread(text);
  return result.error;
}

erlang_term only_term(std::string_view text) {
  auto result = parse_erlang_terms(text);
  REQUIRE_MESSAGE(result, reread(text));
  REQUIRE(result->size() == 1);
  return result->front();
}

std::string repeat(std::string_view text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i)
    out += text;
  return out;
}

std::string nested_lists(int depth) {
  return repeat("[", depth) + repeat("]", depth) + ".";
}

std::string replace(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

} // namespace

TEST_CASE("the tutorial's sys.config parses into one list, every term with its position") {
  const auto top = only_term(tutorial_config);
  CHECK(to_string(top)
        == "[{kernel,[{sync_nodes_optional,['node1@127.0.0.1','node2@127.0.0.1']},"
           "{sync_nodes_timeout,5000}]}]");
  CHECK(top.type == term_kind::list);
  CHECK(top.line == 2);
  CHECK(top.column == 1);
  const auto& kernel = top.elements.at(0);
  CHECK(kernel.type == term_kind::tuple);
  CHECK(kernel.elements.at(0).is_atom("kernel"));
  CHECK(kernel.elements.at(0).column == 3);
  const auto& optional = kernel.elements.at(1).elements.at(0);
  CHECK(optional.line == 4);
  CHECK(optional.column == 5);
  const auto& node2 = optional.elements.at(1).elements.at(1);
  CHECK(node2.is_atom("node2@127.0.0.1"));
  CHECK(node2.line == 7);
  CHECK(node2.column == 9);
  const auto& timeout = kernel.elements.at(1).elements.at(1).elements.at(1);
  CHECK(timeout.type == term_kind::integer);
  CHECK(timeout.integer == 5000);
  CHECK(timeout.line == 9);
  CHECK(timeout.column == 26);
}

TEST_CASE("atoms are read plain or quoted, with Erlang's escapes") {
  SUBCASE("plain atoms hold letters, digits, '_' and '@'") {
    CHECK(only_term("node_1@Host.").is_atom("node_1@Host"));
    CHECK(only_term("infinity.").is_atom("infinity"));
  }
  SUBCASE("a quoted atom may hold any character") {
    CHECK(only_term("'node1@127.0.0.1'.").is_atom("node1@127.0.0.1"));
    CHECK(only_term("'Hello, World'.").is_atom("Hello, World"));
    CHECK(only_term("''.").is_atom(""));
    CHECK(only_term("'end'.").is_atom("end"));
    CHECK(only_term("'line\nbreak'.").is_atom("line\nbreak"));
    CHECK(only_term("'caf\xc3\xa9 \xe2\x82\xac'.").is_atom("caf\xc3\xa9 \xe2\x82\xac"));
  }
  SUBCASE("escapes") {
    CHECK(only_term(R"('it\'s\\\"'.)").is_atom(R"(it's\")"));
    CHECK(only_term(R"('\n\t\r\s\b\f\v\e\d'.)").is_atom("\n\t\r \b\f\v\x1b\x7f"));
    CHECK(only_term(R"('\101\0\7'.)").text == std::string("A\0\7", 3));
    CHECK(only_term(R"('\1011'.)").is_atom("A1"));
    CHECK(only_term(R"('\x41\x{20AC}\x{1F600}'.)").is_atom("A\xe2\x82\xac\xf0\x9f\x98\x80"));
    CHECK(only_term(R"('\^a\^Z'.)").is_atom("\x01\x1a"));
    CHECK(only_term(R"('\q\%'.)").is_atom("q%"));
    CHECK(only_term("'\\\xc3\xa9'.").is_atom("\xc3\xa9"));
  }
  SUBCASE("an atom may be 255 characters long, not more") {
    CHECK(only_term(repeat("a", 255) + ".").text.size() == 255);
    CHECK(only_term("'" + repeat("\xc3\xa9", 255) + "'.").text.size() == 510);
    CHECK(error_of(repeat("a", 256) + ".") == "1:1: atom longer than 255 characters");
    CHECK(error_of("{'" + repeat("\xc3\xa9", 256) + "'}.")
          == "1:2: atom longer than 255 characters");
  }
}

TEST_CASE("strings are read with escapes, and adjacent strings join") {
  SUBCASE("plain") {
    const auto term = only_term(R"("hello, world".)");
    CHECK(term.type == term_kind::string);
    CHECK(term.text == "hello, world");
    CHECK(only_term(R"("".)").text.empty());
  }
  SUBCASE("escapes and UTF-8") {
    CHECK(only_term(R"("say \"hi\"\n\x{20AC}".)").text == "say \"hi\"\n\xe2\x82\xac");
    CHECK(only_term("\"caf\xc3\xa9\".").text == "caf\xc3\xa9");
    CHECK(only_term("\"two\nlines\".").text == "two\nlines");
  }
  SUBCASE("adjacent strings, even across comments") {
    CHECK(only_term(R"("ab" "cd"
      % between
      "ef".)")
            .text
          == "abcdef");
    CHECK(reread(R"(["a" "b", "c"].)") == R"(["ab","c"])");
  }
}

TEST_CASE("integers are read with sign, digit separators and a base") {
  SUBCASE("decimal") {
    CHECK(only_term("0.").integer == 0);
    CHECK(only_term("5000.").integer == 5000);
    CHECK(only_term("-5.").integer == -5);
    CHECK(only_term("+7.").integer == 7);
    CHECK(only_term("007.").integer == 7);
    CHECK(only_term("1_000_000.").integer == 1000000);
  }
  SUBCASE("with a base") {
    CHECK(only_term("16#ff.").integer == 255);
    CHECK(only_term("16#FF.").integer == 255);
    CHECK(only_term("-16#ff.").integer == -255);
    CHECK(only_term("2#1010.").integer == 10);
    CHECK(only_term("8#1_7.").integer == 15);
    CHECK(only_term("36#zz.").integer == 36 * 36 - 1);
  }
  SUBCASE("the 64-bit limits") {
    CHECK(only_term("9223372036854775807.").integer == INT64_MAX);
    CHECK(only_term("-9223372036854775808.").integer == INT64_MIN);
    CHECK(only_term("16#7fffffffffffffff.").integer == INT64_MAX);
  }
  SUBCASE("a number ends where its digits end") {
    CHECK(reread("[1,-2,3].") == "[1,-2,3]");
    CHECK(reread("{5000}.") == "{5000}");
  }
}

TEST_CASE("floats are read and printed back with a dot") {
  CHECK(only_term("1.5.").floating == 1.5);
  CHECK(only_term("-0.25.").floating == -0.25);
  CHECK(only_term("1.0e3.").floating == 1000.0);
  CHECK(only_term("2.5E-3.").floating == 0.0025);
  CHECK(only_term("1_0.0_1.").floating == 10.01);
  CHECK(reread("[1.5, 0.1, 1.0e20, 2.0].") == "[1.5,0.1,1.0e+20,2.0]");
  CHECK(only_term("1.0e-400.").floating == 0.0);
}

TEST_CASE("lists and tuples nest, including empty ones") {
  CHECK(reread("[].") == "[]");
  CHECK(reread("{}.") == "{}");
  CHECK(reread("[[], {}, {[]}, [{}]].") == "[[],{},{[]},[{}]]");
  CHECK(reread("{a, [b, {c, \"d\", 1}], 'E'}.") == "{a,[b,{c,\"d\",1}],'E'}");
  const auto tuple = only_term("{a, 1, \"s\"}.");
  CHECK(tuple.type == term_kind::tuple);
  REQUIRE(tuple.elements.size() == 3);
  CHECK(tuple.elements[1].column == 5);
  CHECK(tuple.elements[2].column == 8);
}

TEST_CASE("comments and whitespace may appear anywhere between tokens") {
  CHECK(reread("% head\n[ % after [\n a % after a\n , % after ,\n b ] % before .\n . % end")
        == "[a,b]");
  CHECK(reread("\t\r\n{\fa\v,\r\n1}\r\n.\r\n") == "{a,1}");
  CHECK(reread("[a].% a comment right after the dot") == "[a]");
  CHECK(reread("% caf\xc3\xa9 and a latin-1 \xe9 and a \x01\n[a].") == "[a]");
  CHECK(reread("[a]. % no newline at the end") == "[a]");
}

TEST_CASE("a text is a sequence of terms, each ended by a dot") {
  SUBCASE("several terms") {
    CHECK(reread("a. b.\n{c}.") == "a b {c}");
  }
  SUBCASE("a dot may end the text") {
    CHECK(reread("[a].") == "[a]");
  }
  SUBCASE("no terms at all") {
    CHECK(parse_erlang_terms("")->empty());
    CHECK(parse_erlang_terms("").error.empty());
    CHECK(reread("  \n\t\n") == "");
    CHECK(reread("%% only a comment\n% and another") == "");
  }
  SUBCASE("a UTF-8 byte order mark is skipped") {
    CHECK(reread("\xef\xbb\xbf[a].") == "[a]");
    CHECK(error_of("\xef\xbb\xbf[a")
          == "1:3: unexpected end of input, expected ',' or ']' to "
             "close the list at 1:1");
  }
}

TEST_CASE("a missing or misplaced dot is reported where the dot belongs") {
  SUBCASE("the tutorial without its final dot") {
    CHECK(error_of(replace(std::string(tutorial_config), "].", "]"))
          == "11:2: unexpected end of input, expected '.'");
  }
  SUBCASE("missing dot after a short term, with a comment after it") {
    CHECK(error_of("[a] % no dot\n") == "1:4: unexpected end of input, expected '.'");
    CHECK(error_of("a") == "1:2: unexpected end of input, expected '.'");
  }
  SUBCASE("a second term without a dot in between") {
    CHECK(error_of("[a]\n[b].") == "2:1: expected '.' but found '['");
    CHECK(error_of("{a} b.") == "1:5: expected '.' but found atom 'b'");
  }
  SUBCASE("a dot glued to what follows") {
    CHECK(error_of("[a].b") == "1:4: expected whitespace or end of input after '.'");
    CHECK(error_of("[a].[b].") == "1:4: expected whitespace or end of input after '.'");
  }
  SUBCASE("trailing garbage after the dot") {
    CHECK(error_of("[a]. ]") == "1:6: expected a term but found ']'");
    CHECK(error_of("[a].\nfoo") == "2:4: unexpected end of input, expected '.'");
    CHECK(error_of("[a]. .") == "1:6: expected a term but found '.'");
    CHECK(error_of("[a]. ;") == "1:6: expected a term but found ';'");
  }
}

TEST_CASE("unclosed brackets and quotes are reported") {
  SUBCASE("an unclosed list names where it opened") {
    CHECK(error_of("[a, b")
          == "1:6: unexpected end of input, expected ',' or ']' to close the "
             "list at 1:1");
    CHECK(error_of(replace(std::string(tutorial_config), "\n].", ""))
          == "10:5: unexpected end of input, expected ',' or ']' to close the list at 2:1");
  }
  SUBCASE("an unclosed tuple") {
    CHECK(error_of("\n  {a, 1")
          == "2:8: unexpected end of input, expected ',' or '}' to close "
             "the tuple at 2:3");
  }
  SUBCASE("a list or tuple cut after a comma or an opening bracket") {
    CHECK(error_of("[a,") == "1:4: unexpected end of input, expected a term");
    CHECK(error_of("{") == "1:2: unexpected end of input, expected a term");
  }
  SUBCASE("an unterminated quoted atom or string is reported at its opening quote") {
    CHECK(error_of("[a, 'node1@127.0.0.1]].") == "1:5: unterminated quoted atom");
    CHECK(error_of("{\"abc}.\n") == "1:2: unterminated string");
    CHECK(error_of("'abc\\") == "1:1: unterminated quoted atom");
    CHECK(error_of("'abc\\'.") == "1:1: unterminated quoted atom");
    CHECK(error_of("\"ab\" \"cd") == "1:6: unterminated string");
  }
}

TEST_CASE("mismatched, missing and stray punctuation is reported with what was found") {
  SUBCASE("the wrong closing bracket") {
    CHECK(error_of("[a}.") == "1:3: expected ',' or ']' but found '}'");
    CHECK(error_of("{a, b].") == "1:6: expected ',' or '}' but found ']'");
  }
  SUBCASE("a missing comma") {
    CHECK(error_of("[a b].") == "1:4: expected ',' or ']' but found atom 'b'");
    CHECK(error_of(replace(std::string(tutorial_config), "1',", "1'"))
          == "7:9: expected ',' or ']' but found atom 'node2@127.0.0.1'");
    CHECK(error_of("{a \"s\"}.") == "1:4: expected ',' or '}' but found string \"s\"");
    CHECK(error_of("{a 1}.") == "1:4: expected ',' or '}' but found integer 1");
    CHECK(error_of("{a 1.5}.") == "1:4: expected ',' or '}' but found float 1.5");
    CHECK(error_of("{a [b]}.") == "1:4: expected ',' or '}' but found '['");
  }
  SUBCASE("stray or doubled commas and brackets") {
    CHECK(error_of("].") == "1:1: expected a term but found ']'");
    CHECK(error_of("[a,].") == "1:4: expected a term but found ']'");
    CHECK(error_of("[,a].") == "1:2: expected a term but found ','");
    CHECK(error_of("{a,,b}.") == "1:4: expected a term but found ','");
    CHECK(error_of("[a]].") == "1:4: expected '.' but found ']'");
    CHECK(error_of("[a.b].") == "1:3: expected ',' or ']' but found '.'");
    CHECK(error_of("[a. ].") == "1:3: expected ',' or ']' but found '.'");
  }
  SUBCASE("improper lists") {
    CHECK(error_of("[a | b].") == "1:4: improper lists like [Head | Tail] are not supported");
    CHECK(error_of("{a | b}.") == "1:4: expected ',' or '}' but found '|'");
  }
}

TEST_CASE("syntax that is no term in a config file is rejected") {
  SUBCASE("variables, with a hint to quote atoms") {
    CHECK(error_of("[Node].")
          == "1:2: expected a term but found variable Node; quote it as 'Node' if it is an atom");
    CHECK(error_of("_.")
          == "1:1: expected a term but found variable _; quote it as '_' if it is "
             "an atom");
  }
  SUBCASE("reserved words") {
    CHECK(
      error_of("{mode, end}.")
      == "1:8: expected a term but found reserved word end; quote it as 'end' if it is an atom");
  }
  SUBCASE("binaries, maps, characters, pids, funs and operators") {
    CHECK(error_of("<<\"a\">>.") == "1:1: expected a term but found '<'");
    CHECK(error_of("#{a => 1}.") == "1:1: expected a term but found '#'");
    CHECK(error_of("$a.") == "1:1: expected a term but found '$'");
    CHECK(error_of("- 5.") == "1:1: expected a term but found '-'");
    CHECK(error_of("(a).") == "1:1: expected a term but found '('");
    CHECK(error_of("1 + 2.") == "1:3: expected '.' but found '+'");
  }
  SUBCASE("digit separators only between digits") {
    CHECK(error_of("[1_].") == "1:3: expected ',' or ']' but found variable _");
    CHECK(error_of("[1__0].") == "1:3: expected ',' or ']' but found variable __0");
  }
}

TEST_CASE("integers beyond 64 bits and bad bases are rejected") {
  SUBCASE("overflow") {
    CHECK(error_of("9223372036854775808.")
          == "1:1: integer 9223372036854775808 does not fit in 64 bits");
    CHECK(error_of("[-9223372036854775809].")
          == "1:2: integer -9223372036854775809 does not fit in 64 bits");
    CHECK(error_of("16#8000000000000000.")
          == "1:1: integer 16#8000000000000000 does not fit in 64 bits");
    CHECK(error_of(repeat("9", 1000) + ".")
          == "1:1: integer " + repeat("9", 37) + "... does not fit in 64 bits");
  }
  SUBCASE("bases") {
    CHECK(error_of("37#1.") == "1:1: integer base 37 is not between 2 and 36");
    CHECK(error_of("1#0.") == "1:1: integer base 1 is not between 2 and 36");
    CHECK(error_of("999#1.") == "1:1: integer base 999 is not between 2 and 36");
    CHECK(error_of("16#.") == "1:1: expected a base-16 digit after '#' but found '.'");
    CHECK(error_of("16#") == "1:1: expected a base-16 digit after '#' but found end of input");
    CHECK(error_of("2#12.") == "1:4: expected '.' but found integer 2");
  }
  SUBCASE("floats out of range") {
    CHECK(error_of("1.0e999.") == "1:1: float 1.0e999 is out of range");
  }
}

TEST_CASE("nesting deeper than 100 levels is rejected") {
  CHECK(reread(nested_lists(100)).size() == 200);
  CHECK(error_of(nested_lists(101)) == "1:101: terms nested deeper than 100 levels");
  CHECK(error_of(repeat("{a,", 101)) == "1:301: terms nested deeper than 100 levels");
  CHECK(error_of(repeat("[", 1000000)) == "1:101: terms nested deeper than 100 levels");
}

TEST_CASE("bytes that are neither ASCII nor UTF-8 text are rejected") {
  SUBCASE("non-ASCII outside strings and quoted atoms") {
    CHECK(error_of("[caf\xc3\xa9].")
          == "1:5: unexpected non-ASCII byte 0xc3 outside a string or "
             "quoted atom");
    CHECK(error_of("\xff")
          == "1:1: unexpected non-ASCII byte 0xff outside a string or quoted atom");
  }
  SUBCASE("invalid UTF-8 inside strings and quoted atoms") {
    CHECK(error_of("\"ab\xff\".") == "1:4: invalid UTF-8 byte 0xff in string");
    CHECK(error_of("'\xe9t\xe9'.") == "1:2: invalid UTF-8 byte 0xe9 in quoted atom");
    CHECK(error_of("\"\xc0\x80\".") == "1:2: invalid UTF-8 byte 0xc0 in string");     // overlong
    CHECK(error_of("\"\xed\xa0\x80\".") == "1:2: invalid UTF-8 byte 0xed in string"); // surrogate
    CHECK(error_of("\"\xf4\x90\x80\x80\".") == "1:2: invalid UTF-8 byte 0xf4 in string"); // too big
    CHECK(error_of("\"\xe2\x82") == "1:2: invalid UTF-8 byte 0xe2 in string"); // cut short
  }
  SUBCASE("NUL and control bytes") {
    CHECK(error_of(std::string("[a,\0b].", 7)) == "1:4: unexpected NUL byte");
    CHECK(error_of(std::string("\0", 1)) == "1:1: unexpected NUL byte");
    CHECK(error_of(std::string("'a\0'.", 5)) == "1:3: unexpected NUL byte in quoted atom");
    CHECK(error_of(std::string("\"a\\\0\".", 6)) == "1:4: unexpected NUL byte in string");
    CHECK(error_of("[a,\x01].") == "1:4: unexpected control byte 0x01");
    CHECK(error_of("[a,\x7f].") == "1:4: unexpected control byte 0x7f");
  }
  SUBCASE("UTF-16 text stops at its first NUL byte") {
    CHECK(error_of(std::string("[\0a\0]\0.\0", 8)) == "1:2: unexpected NUL byte");
  }
}

TEST_CASE("malformed escapes are rejected at the backslash") {
  CHECK(error_of(R"('ab\xZZ'.)") == "1:4: expected two hex digits after \\x");
  CHECK(error_of(R"('\x4'.)") == "1:2: expected two hex digits after \\x");
  CHECK(error_of(R"("\x{}".)") == "1:2: expected hex digits and '}' after \\x{");
  CHECK(error_of(R"("\x{41".)") == "1:2: expected hex digits and '}' after \\x{");
  CHECK(error_of(R"("\x{123456789}".)") == "1:2: expected hex digits and '}' after \\x{");
  CHECK(error_of(R"("\x{110000}".)") == "1:2: escape is not a Unicode code point");
  CHECK(error_of(R"("\x{D800}".)") == "1:2: escape is not a Unicode code point");
  CHECK(error_of("\"\\^\n\".") == "1:2: expected an ASCII character after \\^");
  CHECK(error_of("\"\\^") == "1:2: expected an ASCII character after \\^");
}

TEST_CASE("to_string prints Erlang that reads back the same") {
  CHECK(reread("['node1@127.0.0.1', node@host, 'Up', 'end', '', 'a b', 'it\\'s'].")
        == "['node1@127.0.0.1',node@host,'Up','end','','a b','it\\'s']");
  CHECK(reread(R"(["tab\there", "quote\"s", "back\\slash", "\x01"].)")
        == R"(["tab\there","quote\"s","back\\slash","\x01"])");
  CHECK(reread("[-9223372036854775808, 16#10].") == "[-9223372036854775808,16]");
  const std::string printed = reread(tutorial_config);
  CHECK(reread(printed + ".") == printed);
}

TEST_CASE("describe names a term the way error messages do") {
  CHECK(describe(only_term("kernel.")) == "atom 'kernel'");
  CHECK(describe(only_term("'it\\'s'.")) == "atom 'it\\'s'");
  CHECK(describe(only_term("'" + repeat("x", 50) + "'.")) == "atom '" + repeat("x", 37) + "...'");
  CHECK(describe(only_term("5000.")) == "integer 5000");
  CHECK(describe(only_term("-1.5.")) == "float -1.5");
  CHECK(describe(only_term("\"x\".")) == "string \"x\"");
  CHECK(describe(only_term("[].")) == "an empty list");
  CHECK(describe(only_term("[a].")) == "a list");
  CHECK(describe(only_term("{}.")) == "an empty tuple");
  CHECK(describe(only_term("{a}.")) == "a tuple of 1 element");
  CHECK(describe(only_term("{a, b, c}.")) == "a tuple of 3 elements");
}

} // namespace watercooler
