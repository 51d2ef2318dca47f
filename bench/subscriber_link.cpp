// Subscriber connections for pubsub_load: a plain socket, OpenSSL on a non-blocking socket, and
// libnghttp2's client session over it (one stream per subscriber).
#include "bench/subscriber_link.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include <fcntl.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/load_common.hpp"

namespace bench {

subscriber_link::~subscriber_link() {
  ::close(fd_); // also leaves the epoll set
}

namespace {

std::string http1_request(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n";
}

// One subscriber on a plain socket.
class plain_link final : public subscriber_link {
public:
  plain_link(int fd, int first) : subscriber_link(fd, first, 1) {}

  bool pump(link_events& events) override {
    bool was = reader_.head_done();
    bool alive =
      reader_.pump(fd_, [&](const char* data, size_t size) { events.body(first_, data, size); });
    if (!was && reader_.head_done())
      events.subscribed(first_);
    if (!alive)
      events.ended(first_);
    return alive;
  }

private:
  response_reader reader_;
};

// TLS on a non-blocking socket: the handshake, then bytes both ways. What cannot be written now
// waits in out_ with EPOLLOUT asked for; a subclass speaks the protocol.
class tls_link : public subscriber_link {
public:
  tls_link(int fd, int ep, uint32_t tag, int first, int count, SSL_CTX* ctx)
      : subscriber_link(fd, first, count), ssl_(SSL_new(ctx)), ep_(ep), tag_(tag) {
    SSL_set_fd(ssl_, fd);
    SSL_set_connect_state(ssl_);
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  ~tls_link() override {
    SSL_free(ssl_);
  }

  bool pump(link_events& events) final {
    bool want_write = false;
    ERR_clear_error(); // the queue is the thread's: another link's error must not show here
    if (!handshaken_) {
      int r = SSL_do_handshake(ssl_);
      if (r != 1) {
        int err = SSL_get_error(ssl_, r);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
          return arm(err == SSL_ERROR_WANT_WRITE);
        std::fprintf(stderr, "subscribe: TLS handshake failed\n");
        return fail(events);
      }
      handshaken_ = true;
      if (!start(events))
        return fail(events);
    }
    char buf[65536];
    for (;;) {
      if (!flush(want_write))
        return fail(events);
      int n = SSL_read(ssl_, buf, sizeof(buf));
      if (n <= 0) {
        int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
          want_write = want_write || err == SSL_ERROR_WANT_WRITE;
          break;
        }
        return fail(events); // closed, with or without close_notify, or broken
      }
      if (!received(buf, static_cast<size_t>(n), events))
        return fail(events);
    }
    if (!alive())
      return fail(events);
    return arm(want_write);
  }

protected:
  // The handshake is done: put the first bytes to send in out_; false to give up.
  virtual bool start(link_events& events) = 0;
  // Bytes from the server; false to end the connection.
  virtual bool received(const char* data, size_t size, link_events& events) = 0;
  // False once the protocol has nothing more to say or hear.
  virtual bool alive() const {
    return true;
  }

  std::string out_; // to write, in order
  SSL* ssl_;

private:
  bool flush(bool& want_write) {
    while (!out_.empty()) {
      int n =
        SSL_write(ssl_, out_.data(), static_cast<int>(std::min<size_t>(out_.size(), INT_MAX)));
      if (n <= 0) {
        int err = SSL_get_error(ssl_, n);
        want_write = want_write || err == SSL_ERROR_WANT_WRITE;
        return err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ;
      }
      out_.erase(0, static_cast<size_t>(n));
    }
    return true;
  }
  // Asks for EPOLLOUT only while something waits to be written; true.
  bool arm(bool want_write) {
    if (want_write != armed_out_) {
      epoll_event ev{};
      ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
      ev.data.u32 = tag_;
      ::epoll_ctl(ep_, EPOLL_CTL_MOD, fd_, &ev);
      armed_out_ = want_write;
    }
    return true;
  }
  bool fail(link_events& events) {
    ERR_clear_error();
    for (int i = first_; i < first_ + count_; ++i)
      events.ended(i);
    return false;
  }

  int ep_;
  uint32_t tag_;
  bool handshaken_ = false;
  bool armed_out_ = true; // the socket starts watched for EPOLLOUT: the handshake's first write
};

// One subscriber: HTTP/1.1 over TLS.
class http1_tls_link final : public tls_link {
public:
  http1_tls_link(int fd, int ep, uint32_t tag, int first, SSL_CTX* ctx, std::string path)
      : tls_link(fd, ep, tag, first, 1, ctx), path_(std::move(path)) {}

protected:
  bool start(link_events&) override {
    out_ = http1_request(path_);
    return true;
  }
  bool received(const char* data, size_t size, link_events& events) override {
    bool was = reader_.head_done();
    bool ok = reader_.feed(data, size, [&](const char* p, size_t n) { events.body(first_, p, n); });
    if (!was && reader_.head_done())
      events.subscribed(first_);
    return ok;
  }

private:
  std::string path_;
  response_reader reader_;
};

// `count` subscribers, one HTTP/2 stream each, on one TLS connection (ALPN h2). nghttp2 sends
// WINDOW_UPDATE as data is received (its default), with its default 64 KiB windows.
class h2_link final : public tls_link {
public:
  h2_link(int fd, int ep, uint32_t tag, int first, int count, SSL_CTX* ctx, std::string path)
      : tls_link(fd, ep, tag, first, count, ctx), path_(std::move(path)) {}
  ~h2_link() override {
    nghttp2_session_del(session_); // accepts nullptr
  }

protected:
  bool start(link_events& events) override {
    const unsigned char* proto = nullptr;
    unsigned size = 0;
    SSL_get0_alpn_selected(ssl_, &proto, &size);
    if (size != 2 || std::memcmp(proto, "h2", 2) != 0) {
      std::fprintf(stderr, "subscribe: the server did not select h2 by ALPN\n");
      return false;
    }
    events_ = &events;
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
    int rv = nghttp2_session_client_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0)
      return false;
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1);
    std::string fields[][2] = {{":method", "GET"},
                               {":scheme", "https"},
                               {":authority", "bench"},
                               {":path", path_},
                               {"accept", "text/event-stream"}};
    nghttp2_nv nva[5];
    for (size_t i = 0; i < 5; ++i)
      nva[i] = {reinterpret_cast<uint8_t*>(fields[i][0].data()),
                reinterpret_cast<uint8_t*>(fields[i][1].data()), fields[i][0].size(),
                fields[i][1].size(), NGHTTP2_NV_FLAG_NONE};
    for (int i = 0; i < count_; ++i) {
      int32_t id = nghttp2_submit_request(session_, nullptr, nva, 5, nullptr, nullptr);
      if (id < 0) {
        std::fprintf(stderr, "subscribe: %s\n", nghttp2_strerror(id));
        return false;
      }
      subs_[id] = first_ + i;
    }
    return send_frames();
  }

  bool received(const char* data, size_t size, link_events& events) override {
    events_ = &events;
    auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), size);
    if (n < 0) {
      std::fprintf(stderr, "subscribe: h2: %s\n", nghttp2_strerror(static_cast<int>(n)));
      return false;
    }
    return send_frames(); // WINDOW_UPDATE, SETTINGS and PING acknowledgements
  }

  bool alive() const override {
    return nghttp2_session_want_read(session_) != 0 || nghttp2_session_want_write(session_) != 0;
  }

private:
  bool send_frames() {
    for (;;) {
      const uint8_t* data = nullptr;
      auto n = nghttp2_session_mem_send(session_, &data);
      if (n < 0)
        return false;
      if (n == 0)
        return true;
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
  }

  static h2_link& of(void* user) {
    return *static_cast<h2_link*>(user);
  }
  int* sub_of(int32_t stream) {
    auto it = subs_.find(stream);
    return it == subs_.end() ? nullptr : &it->second;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_RESPONSE
        && std::string_view(reinterpret_cast<const char*>(name), namelen) == ":status")
      of(user).status_[frame->hd.stream_id].assign(reinterpret_cast<const char*>(value), valuelen);
    return 0;
  }
  // The response's head: a subscriber, or (not 200) one refused, whose body is not read.
  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = of(user);
    auto id = frame->hd.stream_id;
    auto* sub = self.sub_of(id);
    if (sub == nullptr || frame->hd.type != NGHTTP2_HEADERS
        || frame->headers.cat != NGHTTP2_HCAT_RESPONSE)
      return 0;
    if (self.status_[id] == "200") {
      self.events_->subscribed(*sub);
    } else {
      std::fprintf(stderr, "subscribe: h2 status %s\n", self.status_[id].c_str());
      self.events_->ended(*sub);
      self.subs_.erase(id);
    }
    self.status_.erase(id);
    return 0;
  }
  static int on_data(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t size,
                     void* user) {
    auto& self = of(user);
    if (auto* sub = self.sub_of(id))
      self.events_->body(*sub, reinterpret_cast<const char*>(data), size);
    return 0;
  }
  static int on_close(nghttp2_session*, int32_t id, uint32_t, void* user) {
    auto& self = of(user);
    if (auto* sub = self.sub_of(id)) {
      self.events_->ended(*sub);
      self.subs_.erase(id);
    }
    return 0;
  }

  std::string path_;
  nghttp2_session* session_ = nullptr;
  link_events* events_ = nullptr;                   // the caller of the pump under way
  std::unordered_map<int32_t, int> subs_;           // stream id -> subscriber
  std::unordered_map<int32_t, std::string> status_; // of heads being received
};

} // namespace

SSL_CTX* client_context(wire w) {
  if (w == wire::http1)
    return nullptr;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr)
    return nullptr;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
  static const unsigned char h2[] = "\x02h2";
  static const unsigned char http11[] = "\x08http/1.1";
  bool ok = w == wire::h2 ? SSL_CTX_set_alpn_protos(ctx, h2, sizeof(h2) - 1) == 0
                          : SSL_CTX_set_alpn_protos(ctx, http11, sizeof(http11) - 1) == 0;
  if (!ok) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

std::unique_ptr<subscriber_link> open_link(wire w, SSL_CTX* tls, int ep, uint32_t tag,
                                           const sockaddr_in& addr, const std::string& path,
                                           int first, int count) {
  if (w == wire::http1) {
    int fd = open_stream(ep, addr, http1_request(path), tag);
    return fd < 0 ? nullptr : std::make_unique<plain_link>(fd, first);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::fprintf(stderr, "connect %u: %s\n", tag, std::strerror(errno));
    if (fd >= 0)
      ::close(fd);
    return nullptr;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); // WINDOW_UPDATEs go at once
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT; // writable at once: the handshake begins in the first pump
  ev.data.u32 = tag;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  if (w == wire::h2)
    return std::make_unique<h2_link>(fd, ep, tag, first, count, tls, path);
  return std::make_unique<http1_tls_link>(fd, ep, tag, first, tls, path);
}

} // namespace bench
