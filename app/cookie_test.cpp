#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/cookie.hpp"

using namespace watercooler;

namespace {

struct home_dir {
  std::string path;
  home_dir() {
    char pattern[] = "/tmp/watercooler-cookie-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~home_dir() {
    std::string file = path + "/.erlang.cookie";
    ::chmod(file.c_str(), 0600);
    std::remove(file.c_str());
    ::rmdir(path.c_str());
  }
  std::string cookie_file() const {
    return path + "/.erlang.cookie";
  }
  void write(const std::string& content, mode_t mode) const {
    std::ofstream(cookie_file()) << content;
    ::chmod(cookie_file().c_str(), mode);
  }
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

} // namespace

TEST_CASE("--cookie wins over the cookie file") {
  home_dir home;
  home.write("FROMFILE", 0400);
  auto cookie = load_cookie("given", "", home.path.c_str());
  REQUIRE(cookie);
  CHECK(*cookie == "given");
}

TEST_CASE("a missing cookie file is created with 20 capital letters, owner read-only") {
  home_dir home;
  auto first = load_cookie("", "", home.path.c_str());
  REQUIRE(first);
  CHECK(first->size() == 20);
  CHECK(first->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos);
  CHECK(mode_of(home.cookie_file()) == 0400);
  auto again = load_cookie("", "", home.path.c_str()); // the next node reads the same one
  REQUIRE(again);
  CHECK(*again == *first);
}

TEST_CASE("the cookie is the file's first line without surrounding blanks") {
  home_dir home;
  home.write("  SECRET \r\nignored\n", 0400);
  auto cookie = load_cookie("", "", home.path.c_str());
  REQUIRE(cookie);
  CHECK(*cookie == "SECRET");
  CHECK(trim_cookie("") == "");
  CHECK(trim_cookie("\n") == "");
  CHECK(trim_cookie("a b") == "a b");
}

TEST_CASE("unsafe or unusable cookie files are refused with a clear error") {
  home_dir home;
  SUBCASE("readable by others") {
    home.write("SECRET", 0644);
    auto cookie = load_cookie("", "", home.path.c_str());
    REQUIRE_FALSE(cookie);
    CHECK(cookie.error.find("owner only") != std::string::npos);
  }
  SUBCASE("empty") {
    home.write("\n", 0400);
    auto cookie = load_cookie("", "", home.path.c_str());
    REQUIRE_FALSE(cookie);
    CHECK(cookie.error.find("is empty") != std::string::npos);
  }
  SUBCASE("too large") {
    home.write(std::string(5000, 'A'), 0400);
    auto cookie = load_cookie("", "", home.path.c_str());
    REQUIRE_FALSE(cookie);
    CHECK(cookie.error.find("larger than") != std::string::npos);
  }
  SUBCASE("no HOME") {
    auto cookie = load_cookie("", "", nullptr);
    REQUIRE_FALSE(cookie);
    CHECK(cookie.error.find("--cookie") != std::string::npos);
  }
}

TEST_CASE("nodes starting together agree on one new cookie") {
  home_dir home;
  std::vector<std::string> cookies(8);
  std::vector<std::thread> starts;
  for (auto& cookie : cookies)
    starts.emplace_back([&] {
      auto loaded = load_cookie("", "", home.path.c_str());
      cookie = loaded ? *loaded : "error: " + loaded.error;
    });
  for (auto& t : starts)
    t.join();
  for (const auto& cookie : cookies)
    CHECK(cookie == cookies[0]);
  CHECK(cookies[0].size() == 20);
}

TEST_CASE("--cookie-file is read with the rules of ~/.erlang.cookie, never created") {
  home_dir home;
  SUBCASE("its first line, without surrounding blanks") {
    home.write("  SECRET \nsecond line\n", 0400);
    auto cookie = load_cookie("", home.cookie_file(), nullptr);
    REQUIRE(cookie);
    CHECK(*cookie == "SECRET");
  }
  SUBCASE("missing: an error naming the file, and no file made") {
    auto cookie = load_cookie("", home.cookie_file(), home.path.c_str());
    REQUIRE_FALSE(cookie);
    CHECK(cookie.error
          == "cannot read --cookie-file " + home.cookie_file() + ": No such file or directory");
    CHECK(::access(home.cookie_file().c_str(), F_OK) != 0);
  }
  SUBCASE("readable by others") {
    home.write("SECRET\n", 0644);
    auto cookie = load_cookie("", home.cookie_file(), nullptr);
    REQUIRE_FALSE(cookie);
    CHECK(cookie.error
          == "cookie file " + home.cookie_file() + " must be accessible by owner only (chmod 400)");
  }
  SUBCASE("empty") {
    home.write(" \n", 0600);
    auto cookie = load_cookie("", home.cookie_file(), nullptr);
    REQUIRE_FALSE(cookie);
    CHECK(cookie.error == "cookie file " + home.cookie_file() + " is empty");
  }
  SUBCASE("--cookie still wins") {
    auto cookie = load_cookie("given", home.cookie_file(), nullptr);
    REQUIRE(cookie);
    CHECK(*cookie == "given");
  }
}
