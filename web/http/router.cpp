// httplib's process_request on a request held in memory.
#include "web/http/router.hpp"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace watercooler {

namespace {

// One request's bytes in, its answer's bytes out.
class memory_stream final : public httplib::Stream {
public:
  memory_stream(const std::string& in, std::string& out, const endpoint& client,
                const endpoint& local)
      : in_(in), out_(out), client_(client), local_(local) {}

  bool is_readable() const override {
    return at_ < in_.size();
  }
  bool is_writable() const override {
    return true;
  }
  ssize_t read(char* ptr, size_t size) override {
    auto n = std::min(size, in_.size() - at_);
    std::memcpy(ptr, in_.data() + at_, n);
    at_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = client_.ip;
    port = client_.port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_.ip;
    port = local_.port;
  }
  socket_t socket() const override {
    return INVALID_SOCKET; // there is none; httplib only compares it with FD_SETSIZE
  }

private:
  const std::string& in_;
  std::string& out_;
  endpoint client_;
  endpoint local_;
  std::size_t at_ = 0;
};

thread_local router::answer* current = nullptr;
thread_local const char* current_protocol = "HTTP/1.1";

} // namespace

endpoint endpoint_of(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  endpoint e;
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    e.port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    e.port = ntohs(in6->sin6_port);
  }
  e.ip = text;
  return e;
}

router::answer router::serve(const std::string& request, const endpoint& client,
                             const endpoint& local, const char* protocol) {
  answer result;
  memory_stream stream(request, result.bytes, client, local);
  bool closed = false;
  current = &result;
  current_protocol = protocol;
  bool ok = process_request(stream, false, closed, nullptr);
  current = nullptr;
  current_protocol = "HTTP/1.1";
  result.close = result.close || closed || !ok;
  if (result.adopt) // the head only: a stream's body is its session's
    result.bytes.erase(std::min(result.bytes.size(), result.bytes.find("\r\n\r\n") + 4));
  return result;
}

httplib::Response router::refusal(int status, const std::string& reason) const {
  httplib::Response res;
  res.status = status;
  res.headers = headers_;
  res.set_content(reason + "\n", "text/plain; charset=utf-8");
  return res;
}

const char* router::protocol() {
  return current_protocol;
}

void router::log_as(const char* protocol, const std::function<void()>& fn) {
  current_protocol = protocol;
  fn();
  current_protocol = "HTTP/1.1";
}

bool router::hand_off(adopt_fn adopt) {
  if (current == nullptr)
    return false;
  current->adopt = std::move(adopt);
  return true;
}

void router::close_after_response() {
  if (current != nullptr)
    current->close = true;
}

} // namespace watercooler
