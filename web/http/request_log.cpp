// Request log lines: client address, method, path, status and time taken, to stdout.
#include "web/http/request_log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "web/http/router.hpp"

namespace watercooler {

namespace {

thread_local std::chrono::steady_clock::time_point started;

// Paths are decoded: a "%0A" must not start a forged log line.
std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

} // namespace

void request_started() {
  started = std::chrono::steady_clock::now();
}

std::string format_duration(long long us) {
  char buf[32];
  if (us < 1000)
    std::snprintf(buf, sizeof(buf), "%lldµs", us);
  else if (us < 1000000)
    std::snprintf(buf, sizeof(buf), "%.1fms", static_cast<double>(us) / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.1fs", static_cast<double>(us) / 1e6);
  return buf;
}

void log_request(const httplib::Request& req, const httplib::Response& res,
                 const std::string& client) {
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count();
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char clock[16];
  std::strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
  // One fprintf per line so lines from different threads never interleave.
  // HTTP/1.1 as always; another protocol says so at the end.
  std::string protocol = router::protocol();
  protocol = protocol == "HTTP/1.1" ? "" : " (" + protocol + ")";
  std::fprintf(
    stdout, "%s.%03d [info] %s %s %s Sent %d in %s%s\n", clock, static_cast<int>(ms.count()),
    printable(client.empty() ? req.remote_addr : client).c_str(), req.method.c_str(),
    printable(req.path).c_str(), res.status, format_duration(elapsed).c_str(), protocol.c_str());
  std::fflush(stdout);
}

} // namespace watercooler
