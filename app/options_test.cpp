// The command line as parse_options sees it: --dist-tls and its three files, the front's
// flags, and the help that states the defaults.
#include <regex>
#include <set>
#include <sstream>
#include <string>
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
  return parsed ? "" : parsed.error;
}

} // namespace

TEST_CASE("--dist-tls takes a certificate, a key and a CA file") {
  SUBCASE("all three, with a node name") {
    auto parsed = parse_options({"--name", "a@127.0.0.1", "--dist-tls", "--dist-cert", "c.pem",
                                 "--dist-key=k.pem", "--dist-ca", "ca.pem"},
                                no_env);
    REQUIRE(parsed);
    const auto& opts = *parsed;
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
    REQUIRE(parsed);
    CHECK_FALSE(parsed->dist_tls);
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

TEST_CASE("--help states every default from the options themselves, once") {
  const options d;
  auto help = help_text("/state", 1234);
  CHECK(help.find('{') == std::string::npos); // every placeholder filled in
  for (const std::string& expected : std::vector<std::string>{
         "(default " + std::to_string(d.max_body) + ")",
         "(default " + std::to_string(d.max_message) + ")",
         "(default " + std::to_string(d.max_header) + ";",
         "(default " + std::to_string(d.keep_alive_timeout) + ")", "now 1234)",
         "(default " + std::to_string(d.max_connections_per_address) + ";",
         "(default " + std::to_string(d.history) + ")",
         "(default " + std::to_string(d.history_age) + ";",
         "(default " + std::to_string(d.heartbeat_seconds) + ";",
         "(default " + std::to_string(d.stream_queue) + ")",
         "(default " + std::to_string(d.stream_queue_bytes) + ")", std::string("(default /state)"),
         "else " + std::to_string(d.port) + ")"}) {
    CAPTURE(expected);
    CHECK(help.find(expected) != std::string::npos);
  }
}

TEST_CASE("the front's flags parse into the options") {
  auto parsed = parse_options(
    {"--keep-alive-timeout", "30", "--max-connections=5000", "--max-connections-per-address", "0"},
    no_env);
  REQUIRE(parsed);
  const auto& o = *parsed;
  CHECK(o.keep_alive_timeout == 30);
  CHECK(o.max_connections == 5000);
  CHECK(o.max_connections_per_address == 0);
  CHECK(error_of({"--keep-alive-timeout", "0"}).find("--keep-alive-timeout 0") == 0);
}

TEST_CASE("the presence flags parse into the options, with their defaults in --help") {
  const options d;
  CHECK(d.presence_grace == 5);
  auto parsed = parse_options(
    {"--presence-grace", "0", "--max-present-per-address=3", "--max-present", "100"}, no_env);
  REQUIRE(parsed);
  CHECK(parsed->presence_grace == 0);
  CHECK(parsed->max_present_per_address == 3);
  CHECK(parsed->max_present == 100);
  CHECK(error_of({"--presence-grace", "3601"}).find("--presence-grace 3601") == 0);
  CHECK(error_of({"--max-present", "many"}).find("--max-present many") == 0);
  auto help = help_text("/state", 1234);
  CHECK(help.find("(default " + std::to_string(d.presence_grace) + ";") != std::string::npos);
  CHECK(help.find("(default " + std::to_string(d.max_present_per_address) + ";")
        != std::string::npos);
  CHECK(help.find("(default " + std::to_string(d.max_present) + ";") != std::string::npos);
}

TEST_CASE("--trust-proxy is repeatable and refuses what is not an address or range") {
  auto parsed = parse_options({"--trust-proxy", "127.0.0.1", "--trust-proxy=fd00::/8"}, no_env);
  REQUIRE(parsed);
  REQUIRE(parsed->trust_proxy.size() == 2);
  CHECK(trusted_proxies(parsed->trust_proxy).contains("fd00::5"));
  CHECK(trusted_proxies(parsed->trust_proxy).contains("127.0.0.1"));
  CHECK(parse_options({}, no_env)->trust_proxy.empty()); // nobody by default
  CHECK(error_of({"--trust-proxy", "10.0.0.1/8"})
        == "--trust-proxy 10.0.0.1/8 is not an IPv4 or IPv6 address or ADDRESS/BITS range (with "
           "no bits set past BITS, e.g. 10.0.0.0/8 or fd00::/8)");
  CHECK(error_of({"--trust-proxy", "nginx"}).find("--trust-proxy nginx is not") == 0);
  CHECK(error_of({"--trust-proxy"}) == "option --trust-proxy needs a value");
}

TEST_CASE("--cookie-file names the cookie's file; with --cookie it is a usage error") {
  auto parsed = parse_options({"--cookie-file", "/var/lib/watercooler/cookie"}, no_env);
  REQUIRE(parsed);
  CHECK(parsed->cookie_file == "/var/lib/watercooler/cookie");
  CHECK(error_of({"--cookie", "a", "--cookie-file", "f"})
        == "--cookie and --cookie-file do not go together: give the cookie once");
  CHECK(error_of({"--cookie-file="}) == "option --cookie-file needs a value");
}

namespace {

// Every --flag a text names, as typed (roff's "\-" read as "-").
std::set<std::string> flags_in(std::string text) {
  for (auto at = text.find("\\-"); at != std::string::npos; at = text.find("\\-", at))
    text.erase(at, 1);
  std::set<std::string> flags;
  std::regex flag(R"(--[a-z0-9][a-z0-9-]*)");
  for (std::sregex_iterator it(text.begin(), text.end(), flag), end; it != end; ++it)
    flags.insert(it->str());
  return flags;
}

} // namespace

TEST_CASE("the manual page is made from the table of --help and names every flag it names") {
  auto help = help_text("/state", 1234);
  auto man = man_page("9.8.7");
  CHECK(man.find(".TH WATERCOOLER 1 \"\" \"watercooler 9.8.7\"") != std::string::npos);
  CHECK(man.find('{') == std::string::npos); // every default filled in
  auto in_help = flags_in(help);
  CHECK(in_help.count("--trust-proxy") == 1);
  CHECK(in_help.count("--cookie-file") == 1);
  CHECK(in_help.count("--man") == 0); // the build's, not the user's
  CHECK(flags_in(man) == in_help);
  SUBCASE("each entry is a tagged paragraph, hyphens escaped") {
    CHECK(man.find(".TP\n\\fB\\-\\-trust\\-proxy\\fR \\fIADDRESS[/BITS]\\fR\n")
          != std::string::npos);
    CHECK(man.find(".TP\n\\fB\\-\\-dist\\-cert\\fR \\fIFILE\\fR\n") != std::string::npos);
    CHECK(man.find("\n.RS\n") != std::string::npos); // --dist-cert and the like, indented
  }
  SUBCASE("help lines stay within 100 columns, the texts from column 24") {
    std::istringstream lines(help);
    for (std::string line; std::getline(lines, line);) {
      CAPTURE(line);
      CHECK(line.size() <= 100);
    }
    CHECK(help.find("\n  --trust-proxy ADDRESS[/BITS]\n                        a reverse proxy")
          != std::string::npos);
    CHECK(help.find("\n  --port N              HTTP port (default $PORT, else 8080).\n")
          != std::string::npos);
  }
}
