// The command line as parse_options sees it: --dist-tls and its three files.
#include <string>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

#include "app/options.hpp"

using namespace watercooler;

namespace {

const char* no_env(const char*) {
  return nullptr;
}

// The usage error's text, or "" if the arguments parse.
std::string error_of(const std::vector<std::string>& args) {
  auto parsed = parse_options(args, no_env);
  if (const auto* error = std::get_if<usage_error>(&parsed))
    return error->text;
  return "";
}

} // namespace

TEST_CASE("--dist-tls takes a certificate, a key and a CA file") {
  SUBCASE("all three, with a node name") {
    auto parsed = parse_options({"--name", "a@127.0.0.1", "--dist-tls", "--dist-cert", "c.pem",
                                 "--dist-key=k.pem", "--dist-ca", "ca.pem"},
                                no_env);
    REQUIRE(std::holds_alternative<options>(parsed));
    const auto& opts = std::get<options>(parsed);
    CHECK(opts.dist_tls);
    CHECK(opts.dist_cert == "c.pem");
    CHECK(opts.dist_key == "k.pem");
    CHECK(opts.dist_ca == "ca.pem");
  }
  SUBCASE("all three, with --inspect") {
    CHECK(error_of({"--inspect", "a@127.0.0.1", "--dist-tls", "--dist-cert", "c", "--dist-key", "k",
                    "--dist-ca", "ca"})
          == "");
  }
  SUBCASE("off by default") {
    auto parsed = parse_options({"--name", "a@127.0.0.1"}, no_env);
    REQUIRE(std::holds_alternative<options>(parsed));
    CHECK_FALSE(std::get<options>(parsed).dist_tls);
  }
}

TEST_CASE("--dist-tls flags given wrongly are usage errors") {
  SUBCASE("a file is missing") {
    CHECK(error_of({"--name", "a@h", "--dist-tls", "--dist-cert", "c", "--dist-key", "k"})
          == "--dist-tls needs --dist-cert FILE, --dist-key FILE and --dist-ca FILE");
    CHECK(error_of({"--name", "a@h", "--dist-tls"})
          == "--dist-tls needs --dist-cert FILE, --dist-key FILE and --dist-ca FILE");
  }
  SUBCASE("files without --dist-tls") {
    CHECK(error_of({"--name", "a@h", "--dist-cert", "c", "--dist-key", "k", "--dist-ca", "ca"})
          == "--dist-cert, --dist-key and --dist-ca go with --dist-tls");
  }
  SUBCASE("a flag without its value") {
    CHECK(error_of({"--name", "a@h", "--dist-tls", "--dist-cert"})
          == "option --dist-cert needs a value");
    CHECK(error_of({"--name", "a@h", "--dist-tls", "--dist-ca="})
          == "option --dist-ca needs a value");
  }
  SUBCASE("a lone node") {
    CHECK(error_of({"--dist-tls", "--dist-cert", "c", "--dist-key", "k", "--dist-ca", "ca"})
          == "--dist-tls goes with --name or --inspect: a lone node has no peers");
  }
}
