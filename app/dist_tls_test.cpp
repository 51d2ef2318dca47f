// load_dist_tls on files that cannot serve; certificates proper are tested end to end in
// test/integration/dist_tls_test.cpp, which makes them with the openssl CLI.
#include <cstdio>
#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include <unistd.h>

#include "app/dist_tls.hpp"

using namespace watercooler;

namespace {

struct scratch_dir {
  std::string path;
  scratch_dir() {
    char pattern[] = "/tmp/watercooler-dist-tls-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~scratch_dir() {
    for (const char* name : {"junk.pem", "empty.pem"})
      std::remove((path + "/" + name).c_str());
    ::rmdir(path.c_str());
  }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path + "/" + name) << content;
    return path + "/" + name;
  }
};

// The usage error of load_dist_tls, or "" if the files are fine.
std::string error_of(const dist_tls_files& files) {
  auto loaded = load_dist_tls(files);
  return loaded ? "" : loaded.error;
}

} // namespace

TEST_CASE("load_dist_tls names the flag and the file that cannot serve") {
  scratch_dir dir;
  auto junk = dir.write("junk.pem", "not a certificate\n");
  auto missing = dir.path + "/missing.pem";
  SUBCASE("a file that does not exist") {
    CHECK(error_of({missing, junk, junk})
          == "--dist-cert " + missing + ": cannot read it: No such file or directory");
    CHECK(error_of({junk, missing, junk})
          == "--dist-key " + missing + ": cannot read it: No such file or directory");
    CHECK(error_of({junk, junk, missing})
          == "--dist-ca " + missing + ": cannot read it: No such file or directory");
  }
  SUBCASE("a directory") {
    CHECK(error_of({dir.path, junk, junk})
          == "--dist-cert " + dir.path + ": cannot read it: Is a directory");
  }
  SUBCASE("a file that is not PEM") {
    CHECK(error_of({junk, junk, junk}) == "--dist-cert " + junk + " holds no PEM certificate");
    auto empty = dir.write("empty.pem", "");
    CHECK(error_of({empty, junk, junk}) == "--dist-cert " + empty + " holds no PEM certificate");
  }
}
