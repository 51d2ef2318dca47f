// httplib's process_request on a request held in memory.
#include "web/http/router.hpp"

#include <algorithm>
#include <cstring>

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

} // namespace

router::answer router::serve(const std::string& request, const endpoint& client,
                             const endpoint& local) {
  answer result;
  memory_stream stream(request, result.bytes, client, local);
  bool closed = false;
  current = &result;
  bool ok = process_request(stream, false, closed, nullptr);
  current = nullptr;
  result.close = result.close || closed || !ok;
  if (result.adopt)
    result.bytes.clear();
  return result;
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
