// Pages rendered from assets/: the tutorial's markup inside the layout, the node name escaped.
#include <doctest/doctest.h>

#include "web/actions.hpp"

namespace watercooler {

TEST_CASE("the home page is the tutorial's template inside the layout") {
  auto page = render_page("home_page.html", "node1@127.0.0.1");
  for (const char* part :
       {"<!DOCTYPE html>", "<title>watercooler</title>",
        "<link rel=\"stylesheet\" href=\"/main.css\">", "<h1>Watercooler</h1>",
        "<h2>Node: node1@127.0.0.1</h2>", "<iframe name=\"myframe\" width=\"0\" height=\"0\"",
        "<form action=\"/publish\" method=\"post\" target=\"myframe\">", "name=\"message\"",
        "<ul id=\"messages\" aria-live=\"polite\"",
        "<script src=\"/main.js\"></script>\n</body>"}) {
    INFO("part: ", part);
    CHECK(page.find(part) != std::string::npos);
  }
  CHECK(page.find("{{") == std::string::npos);
}

TEST_CASE("the home page labels its inputs and has no inline script") {
  auto page = render_page("home_page.html", "node1@127.0.0.1");
  for (const char* part :
       {"<label for=\"name\">", "id=\"name\" name=\"name\"", "<label for=\"message\">",
        "id=\"message\" name=\"message\"", "role=\"status\"", "role=\"alert\""}) {
    INFO("part: ", part);
    CHECK(page.find(part) != std::string::npos);
  }
  // Every script has a src: the Content-Security-Policy allows no inline script.
  for (auto at = page.find("<script"); at != std::string::npos; at = page.find("<script", at + 1))
    CHECK(page.compare(at, 13, "<script src=\"") == 0);
  CHECK(page.find(" on") == std::string::npos); // no inline event handlers
  CHECK(std::string(page_security_policy).find("'unsafe-inline'") == std::string::npos);
}

TEST_CASE("the node name on a page is HTML-escaped") {
  auto page = render_page("home_page.html", "<script>x</script>@h");
  CHECK(page.find("<h2>Node: &lt;script&gt;x&lt;/script&gt;@h</h2>") != std::string::npos);
  CHECK(page.find("<script>x") == std::string::npos);
}

TEST_CASE("the not-found page says nothing is here and opens no stream") {
  auto page = render_page("not_found_page.html", "nonode@nohost");
  CHECK(page.find("<h1>Nothing here!</h1>") != std::string::npos);
  CHECK(page.find("<title>watercooler</title>") != std::string::npos);
  CHECK(page.find("main.js") == std::string::npos);
  CHECK(page.find("{{") == std::string::npos);
}

} // namespace watercooler
