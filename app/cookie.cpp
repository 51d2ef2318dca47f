// Reads or creates ~/.erlang.cookie with Erlang's rules: owner-only access, 20 capital letters.
#include "app/cookie.hpp"

#include <cerrno>
#include <cstring>
#include <optional>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace watercooler {

namespace {

constexpr size_t max_cookie = 1024;

std::string random_cookie() {
  std::random_device rd;
  std::uniform_int_distribution<int> letter('A', 'Z');
  std::string cookie;
  for (int i = 0; i < 20; ++i)
    cookie += static_cast<char>(letter(rd));
  return cookie;
}

// Written under a private name, then linked into place: a node starting at the same moment
// finds either no file or a complete one, never a half-written one. The new cookie; none if
// another node made the file first (read theirs then).
outcome<std::optional<std::string>> create(const std::string& path) {
  using result = outcome<std::optional<std::string>>;
  std::random_device rd;
  auto draft = path + ".new." + std::to_string(::getpid()) + "." + std::to_string(rd());
  int fd = ::open(draft.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
  if (fd < 0)
    return result::fail("cannot create " + path + ": " + std::strerror(errno));
  auto cookie = random_cookie();
  bool written = ::write(fd, cookie.data(), cookie.size()) == static_cast<ssize_t>(cookie.size());
  written = ::close(fd) == 0 && written;
  int linked = written ? ::link(draft.c_str(), path.c_str()) : -1;
  int link_errno = errno;
  ::unlink(draft.c_str());
  if (!written)
    return result::fail("cannot write " + path);
  if (linked != 0 && link_errno == EEXIST)
    return result::ok(std::nullopt);
  if (linked != 0)
    return result::fail("cannot create " + path + ": " + std::strerror(link_errno));
  return result::ok(cookie);
}

} // namespace

std::string trim_cookie(const std::string& content) {
  auto line = content.substr(0, content.find('\n'));
  auto first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  auto last = line.find_last_not_of(" \t\r");
  return line.substr(first, last - first + 1);
}

namespace {

// The cookie in the file open as `fd`: a regular file of the owner's only, its first line.
outcome<std::string> read_cookie(int fd, const std::string& path) {
  struct stat st {};
  std::string content;
  std::string error;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    error = path + " is not a regular file";
  else if ((st.st_mode & 077) != 0)
    error = "cookie file " + path + " must be accessible by owner only (chmod 400)";
  else if (st.st_size > static_cast<off_t>(max_cookie))
    error = "cookie file " + path + " is larger than " + std::to_string(max_cookie) + " bytes";
  else {
    char buffer[max_cookie];
    auto n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0)
      error = "cannot read " + path + ": " + std::strerror(errno);
    else
      content.assign(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!error.empty())
    return outcome<std::string>::fail(error);
  auto cookie = trim_cookie(content);
  if (cookie.empty())
    return outcome<std::string>::fail("cookie file " + path + " is empty");
  return outcome<std::string>::ok(cookie);
}

} // namespace

outcome<std::string> load_cookie(const std::string& given, const std::string& file,
                                 const char* home) {
  if (!given.empty())
    return outcome<std::string>::ok(given);
  if (!file.empty()) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return outcome<std::string>::fail("cannot read --cookie-file " + file + ": "
                                        + std::strerror(errno));
    return read_cookie(fd, file);
  }
  if (home == nullptr || *home == '\0')
    return outcome<std::string>::fail("HOME is not set, so there is no ~/.erlang.cookie; pass "
                                      "--cookie or --cookie-file");
  std::string path = std::string(home) + "/.erlang.cookie";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) {
    auto created = create(path);
    if (!created)
      return outcome<std::string>::fail(created.error);
    if (*created)
      return outcome<std::string>::ok(**created);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0)
    return outcome<std::string>::fail("cannot read " + path + ": " + std::strerror(errno));
  return read_cookie(fd, path);
}

} // namespace watercooler
