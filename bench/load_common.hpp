// What both load generators need: opening GET /listen streams on an epoll loop, reading their
// responses, and what /proc says of the server under load.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bench {

// A number from /proc/PID/status, such as "VmRSS:" (kB) or "Threads:"; -1 if unknown.
inline long proc_status(int pid, const char* key) {
  if (pid <= 0)
    return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0)
      return std::atol(line.c_str() + std::strlen(key));
  return -1;
}

// utime + stime in seconds, from /proc/PID/stat (fields 14 and 15, after the command's ')').
inline double proc_cpu_s(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stoull(field);
    if (i == 15)
      stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Connects to `addr`, sends `request`, and watches the socket on `ep` (EPOLLIN, `tag` as its
// data); the socket, or -1 after saying why on stderr.
inline int open_stream(int ep, const sockaddr_in& addr, const std::string& request, uint32_t tag) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::fprintf(stderr, "connect %u: %s\n", tag, std::strerror(errno));
    if (fd >= 0)
      ::close(fd);
    return -1;
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = tag;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  return fd;
}

// One event-stream response read from a non-blocking socket: its head, then its body, de-chunked
// when the server chunks it.
class response_reader {
public:
  // Reads what `fd` has and hands each piece of the body to `body(const char*, size_t)`; false
  // once the response ended or failed, or its status was not 200.
  template <class Body>
  bool pump(int fd, Body&& body) {
    char raw[65536];
    for (;;) {
      ssize_t n = ::recv(fd, raw, sizeof(raw), 0);
      if (n == 0)
        return false;
      if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK;
      if (!feed(raw, static_cast<size_t>(n), body))
        return false;
    }
  }

  // The same for bytes read elsewhere (such as from TLS).
  template <class Body>
  bool feed(const char* raw, size_t n, Body&& body) {
    buf_.append(raw, n);
    if (!head_done_) {
      auto end = buf_.find("\r\n\r\n");
      if (end == std::string::npos)
        return true;
      if (buf_.compare(0, 12, "HTTP/1.1 200") != 0) {
        std::fprintf(stderr, "subscribe: %s\n", buf_.substr(0, buf_.find('\r')).c_str());
        return false;
      }
      std::string head = buf_.substr(0, end);
      std::transform(head.begin(), head.end(), head.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      chunked_ = head.find("transfer-encoding: chunked") != std::string::npos;
      head_done_ = true;
      buf_.erase(0, end + 4);
    }
    if (chunked_)
      return dechunk(body);
    body(buf_.data(), buf_.size());
    buf_.clear();
    return true;
  }

  bool head_done() const {
    return head_done_;
  }

private:
  // Hands the payload of the chunks in buf_ to `body`; false at the last chunk.
  template <class Body>
  bool dechunk(Body& body) {
    size_t pos = 0;
    while (pos < buf_.size()) {
      if (chunk_left_ > 0) {
        size_t take = std::min(chunk_left_, buf_.size() - pos);
        body(buf_.data() + pos, take);
        pos += take;
        chunk_left_ -= take;
        chunk_crlf_ = chunk_left_ == 0;
        continue;
      }
      if (chunk_crlf_) {
        if (buf_.size() - pos < 2)
          break;
        pos += 2;
        chunk_crlf_ = false;
        continue;
      }
      auto eol = buf_.find("\r\n", pos);
      if (eol == std::string::npos)
        break;
      chunk_left_ = std::strtoul(buf_.c_str() + pos, nullptr, 16);
      pos = eol + 2;
      if (chunk_left_ == 0)
        return false; // the last chunk: the server ended the stream
    }
    buf_.erase(0, pos);
    return true;
  }

  std::string buf_; // wire bytes not yet handed on
  bool head_done_ = false;
  bool chunked_ = false;
  size_t chunk_left_ = 0; // payload bytes left in the current chunk
  bool chunk_crlf_ = false;
};

} // namespace bench
