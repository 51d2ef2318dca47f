// Unit tests of HTML escaping.
#include <doctest/doctest.h>

#include "web/html.hpp"

namespace watercooler {

TEST_CASE("html escaping replaces the five special characters with entities") {
  SUBCASE("each special character") {
    CHECK(html_escape("&") == "&amp;");
    CHECK(html_escape("<") == "&lt;");
    CHECK(html_escape(">") == "&gt;");
    CHECK(html_escape("\"") == "&quot;");
    CHECK(html_escape("'") == "&#39;");
  }
  SUBCASE("a script tag becomes text") {
    CHECK(html_escape("<img src=x onerror=\"alert('hi')\">")
          == "&lt;img src=x onerror=&quot;alert(&#39;hi&#39;)&quot;&gt;");
  }
  SUBCASE("an existing entity is escaped again, not left alone") {
    CHECK(html_escape("&amp;") == "&amp;amp;");
  }
  SUBCASE("a node name is unchanged") {
    CHECK(html_escape("node1@127.0.0.1") == "node1@127.0.0.1");
  }
  SUBCASE("empty text") {
    CHECK(html_escape("") == "");
  }
  SUBCASE("UTF-8 and control bytes pass through") {
    CHECK(html_escape("caf\xC3\xA9 \xF0\x9F\x98\x80\n\t") == "caf\xC3\xA9 \xF0\x9F\x98\x80\n\t");
  }
  SUBCASE("embedded NUL bytes pass through") {
    CHECK(html_escape(std::string_view("a\0<", 3)) == std::string("a\0&lt;", 6));
  }
}

} // namespace watercooler
