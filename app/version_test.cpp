// --version: the release of CMake's project() and the revision found at build time.
#include <string>

#include <doctest/doctest.h>

#include "app/version.hpp"

using namespace watercooler;

TEST_CASE("--version names the release and the git revision it was built from") {
  auto text = version_text();
  CHECK(text
        == std::string("watercooler ") + WATERCOOLER_VERSION + " (git " + git_revision() + ")");
  auto revision = git_revision();
  CAPTURE(revision);
  REQUIRE_FALSE(revision.empty());
  // a commit's abbreviated hash (maybe -dirty), or unknown outside a git checkout
  bool hash = revision.find_first_not_of("0123456789abcdef") >= 12;
  CHECK((revision == "unknown" || hash));
}
