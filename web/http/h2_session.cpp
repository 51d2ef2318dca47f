// nghttp2's server session, glued to the router's HTTP/1.1 bytes.
#include "web/http/h2_session.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <nghttp2/nghttp2.h>

namespace watercooler {

namespace {

// The head of a request's HTTP/1.1 form may exceed --max-header by this much before it stops
// being kept (the reader then refuses it with 431 or 414, as on HTTP/1.1).
constexpr std::size_t head_slack = 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// Fields of HTTP/1.1 that mean nothing on HTTP/2 (RFC 9113 8.2.2), and the length the DATA
// frames carry themselves.
bool connection_specific(const std::string& name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection"
         || name == "transfer-encoding" || name == "upgrade";
}

} // namespace

struct h2_session::stream {
  clock::time_point began;
  std::string method, path, authority;
  std::string head;        // the header lines, HTTP/1.1 style
  bool has_host = false;   // a host field came (else :authority becomes one)
  uint64_t body_bytes = 0; // received, also those not kept
  std::string body;
  bool too_large = false; // the head outgrew --max-header: refused at the header block's end
  bool receiving = true;  // the request's end has not come
  bool answered = false;  // a response was submitted (or refused)
  std::string response;   // the answer's body not yet sent
  std::size_t sent = 0;
  std::shared_ptr<h2_channel> channel;
  std::string cookie;       // the cookie fields' crumbs, joined
  std::string channel_head; // goes out with the channel's first bytes, once its session has joined
};

// The C callbacks of nghttp2, each with the session as user data.
struct h2_session::callbacks {
  static h2_session& of(void* user) {
    return *static_cast<h2_session*>(user);
  }

  static int begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      auto& self = of(user);
      self.streams_[frame->hd.stream_id].began = self.now_;
    }
    return 0;
  }

  static int header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto& self = of(user);
    auto* s = self.find(frame->hd.stream_id);
    if (s == nullptr || s->answered || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
      return 0; // trailers are not read
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method")
      s->method = v;
    else if (n == ":path")
      s->path = v;
    else if (n == ":authority")
      s->authority = v;
    else if (!n.empty() && n[0] == ':')
      return 0;               // :scheme, :protocol
    else if (n == "cookie") { // split into crumbs for HPACK: one line again (RFC 9113 8.2.3)
      if (s->cookie.size() <= self.limits_.max_header + head_slack)
        s->cookie.append(s->cookie.empty() ? "" : "; ").append(v);
    } else if (n != "content-length") { // the body's length is the frames'
      s->has_host = s->has_host || n == "host";
      if (s->head.size() <= self.limits_.max_header + head_slack)
        s->head.append(n).append(": ").append(v).append("\r\n");
    }
    // :authority counts only while it would become the Host field. Refused once the block ends,
    // when the request line is whole (pseudo-fields come in any order), without waiting for a body.
    auto authority = s->has_host ? 0 : s->authority.size();
    if (s->method.size() + s->path.size() + authority + s->head.size() + s->cookie.size()
        > self.limits_.max_header + head_slack)
      s->too_large = true;
    return 0;
  }

  static int data_chunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                        void* user) {
    auto& self = of(user);
    auto* s = self.find(id);
    if (s == nullptr || s->answered)
      return 0;
    s->body_bytes += len;
    if (s->body_bytes > self.limits_.max_body)
      self.finish(id, *s); // refused as too large, before the rest comes
    else
      s->body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int frame_received(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto& self = of(user);
    auto id = frame->hd.stream_id;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
      case NGHTTP2_DATA:
        if (auto* s = self.find(id);
            s != nullptr && s->receiving && !s->answered
            && ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 || s->too_large))
          self.finish(id, *s);
        break;
      case NGHTTP2_RST_STREAM:
        if (!self.take_reset(self.now_) && !self.reset_flood_) {
          self.reset_flood_ = true;
          nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
        }
        break;
      default:
        break;
    }
    return 0;
  }

  // A whole answer to a request the client has not finished (a refusal): RST_STREAM(NO_ERROR)
  // asks it to stop sending (RFC 9113 8.1). Else the stream stays half-closed for as long as the
  // client likes, and keeps its connection busy past every deadline.
  static int frame_sent(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    auto id = frame->hd.stream_id;
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)
        && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0
        && nghttp2_session_get_stream_remote_close(session, id) == 0)
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
    return 0;
  }

  static int stream_closed(nghttp2_session*, int32_t id, uint32_t, void* user) {
    auto& self = of(user);
    if (auto it = self.streams_.find(id); it != self.streams_.end()) {
      if (it->second.channel)
        it->second.channel->close();
      self.streams_.erase(it);
    }
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t length,
                           uint32_t* flags, nghttp2_data_source*, void* user) {
    auto* s = of(user).find(id);
    if (s == nullptr)
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (s->channel) {
      bool eof = false;
      auto n = s->channel->read(buf, length, eof);
      if (eof)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
      else if (n == 0)
        return NGHTTP2_ERR_DEFERRED;
      return static_cast<ssize_t>(n);
    }
    auto n = std::min(length, s->response.size() - s->sent);
    std::memcpy(buf, s->response.data() + s->sent, n);
    s->sent += n;
    if (s->sent == s->response.size())
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

h2_session::h2_session(handler& owner, h2_limits limits)
    : handler_(owner), limits_(limits), reset_tokens_(limits.max_resets) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, callbacks::header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, callbacks::frame_received);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, callbacks::frame_sent);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, callbacks::stream_closed);
  nghttp2_option* options = nullptr;
  nghttp2_option_new(&options);
  // Ours ends a connection first (and counts it); nghttp2's own bound stays as a backstop.
  nghttp2_option_set_stream_reset_rate_limit(options, 2ULL * limits.max_resets + 1,
                                             std::max<uint64_t>(1, limits.max_resets / 5));
  nghttp2_option_set_max_continuations(options, 8); // CONTINUATION flood
  nghttp2_session_server_new2(&session_, cbs, this, options);
  nghttp2_option_del(options);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_settings_entry settings[] = {
    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.max_streams},
    {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(limits.max_header)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2);
}

h2_session::~h2_session() {
  for (auto& [id, s] : streams_)
    if (s.channel)
      s.channel->close();
  nghttp2_session_del(session_);
}

h2_session::stream* h2_session::find(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

bool h2_session::receive(const char* data, std::size_t size, clock::time_point now) {
  now_ = now;
  auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), size);
  if (n < 0)
    failed_ = true; // not HTTP/2 (bad preface) or a flood nghttp2 stopped
  return !failed_;
}

void h2_session::send(std::string& out, std::size_t max) {
  while (!failed_ && out.size() < max) {
    const uint8_t* data = nullptr;
    auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0)
      failed_ = true;
    if (n <= 0)
      return;
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
}

bool h2_session::alive() const {
  return !failed_
         && (nghttp2_session_want_read(session_) != 0 || nghttp2_session_want_write(session_) != 0);
}

// The request is whole (or refused early): its HTTP/1.1 form goes through the same reader as on
// HTTP/1.1, then to the handler or back as a refusal.
void h2_session::finish(int32_t id, stream& s) {
  s.receiving = false;
  std::string bytes = s.method + " " + s.path + " HTTP/1.1\r\n";
  if (!s.has_host && !s.authority.empty())
    bytes += "Host: " + s.authority + "\r\n";
  bytes += s.head;
  if (!s.cookie.empty())
    bytes += "cookie: " + s.cookie + "\r\n";
  if (s.body_bytes > 0 || s.method == "POST" || s.method == "PUT" || s.method == "PATCH")
    bytes += "Content-Length: " + std::to_string(s.body_bytes) + "\r\n";
  bytes += "\r\n";
  if (s.body_bytes <= limits_.max_body)
    bytes += s.body;
  request_reader reader({limits_.max_header, limits_.max_body});
  reader.feed(bytes);
  if (reader.current() == request_reader::state::complete) {
    s.answered = true;
    ++in_flight_;
    s.head.clear();
    s.body.clear();
    handler_.request(id, reader.take());
    return;
  }
  if (reader.current() == request_reader::state::refused)
    return refuse(id, s, reader.refusal());
  refuse(id, s, {400, "malformed request"});
}

void h2_session::refuse(int32_t id, stream& s, const request_refusal& refusal) {
  s.answered = true;
  s.receiving = false;
  s.head.clear();
  s.body.clear();
  submit(id, handler_.refused(id, refusal, s.method, s.path), false);
}

void h2_session::respond(int32_t id, const std::string& http1_response) {
  --in_flight_;
  if (find(id) != nullptr)
    submit(id, http1_response, false);
}

std::shared_ptr<h2_channel> h2_session::respond_with_channel(int32_t id,
                                                             const std::string& http1_head,
                                                             std::function<bool()> wake) {
  --in_flight_;
  auto* s = find(id);
  if (s == nullptr)
    return nullptr;
  s->channel = std::make_shared<h2_channel>(std::move(wake));
  // Not sent yet: the session joins the room before it writes, so whatever the client publishes
  // after it sees the head reaches the stream (as on HTTP/1.1, where the session sends the head).
  s->channel_head = http1_head;
  return s->channel;
}

// The status, fields and body of an HTTP/1.1 answer as one HEADERS frame and DATA frames.
void h2_session::submit(int32_t id, const std::string& http1_response, bool body_from_channel) {
  auto& s = streams_.at(id);
  auto head_end = http1_response.find("\r\n\r\n");
  std::string_view head(http1_response.data(), std::min(head_end, http1_response.size()));
  if (head_end != std::string::npos && !body_from_channel)
    s.response = http1_response.substr(head_end + 4);
  std::vector<std::pair<std::string, std::string>> fields;
  auto line_end = head.find("\r\n");
  auto status_line = head.substr(0, line_end);
  fields.emplace_back(":status", std::string(status_line.substr(9, 3)));
  while (line_end != std::string_view::npos) {
    auto start = line_end + 2;
    line_end = head.find("\r\n", start);
    auto line = head.substr(start, line_end == std::string_view::npos ? head.size() - start
                                                                      : line_end - start);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto name = lower(line.substr(0, colon));
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    if (connection_specific(name) || (body_from_channel && name == "content-length"))
      continue;
    fields.emplace_back(std::move(name), std::string(value));
  }
  std::vector<nghttp2_nv> nva;
  for (auto& [name, value] : fields)
    nva.push_back({reinterpret_cast<uint8_t*>(name.data()),
                   reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                   NGHTTP2_NV_FLAG_NONE});
  nghttp2_data_provider body{};
  body.read_callback = callbacks::read_body;
  bool has_body = body_from_channel || !s.response.empty();
  nghttp2_submit_response(session_, id, nva.data(), nva.size(), has_body ? &body : nullptr);
}

void h2_session::resume(int32_t id) {
  auto* s = find(id);
  if (s == nullptr)
    return;
  if (!s->channel_head.empty()) {
    auto head = std::move(s->channel_head);
    s->channel_head.clear();
    return submit(id, head, true);
  }
  nghttp2_session_resume_data(session_, id); // an error only says it was not deferred
}

void h2_session::go_away() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

h2_session::clock::time_point h2_session::oldest_request() const {
  auto oldest = clock::time_point::max();
  for (const auto& [id, s] : streams_)
    if (s.receiving && !s.answered)
      oldest = std::min(oldest, s.began);
  return oldest;
}

void h2_session::time_out_requests(clock::time_point limit, std::size_t read_timeout_seconds) {
  std::vector<int32_t> late;
  for (const auto& [id, s] : streams_)
    if (s.receiving && !s.answered && s.began <= limit)
      late.push_back(id);
  for (auto id : late)
    refuse(id, streams_.at(id),
           {408, "request timeout: a request must arrive within "
                   + std::to_string(read_timeout_seconds) + " s"});
}

bool h2_session::take_reset(clock::time_point now) {
  double rate = limits_.max_resets / 10.0;
  if (reset_refill_ != clock::time_point{}) {
    std::chrono::duration<double> passed = now - reset_refill_;
    reset_tokens_ = std::min<double>(limits_.max_resets, reset_tokens_ + passed.count() * rate);
  }
  reset_refill_ = now;
  if (reset_tokens_ < 1)
    return false;
  reset_tokens_ -= 1;
  return true;
}

} // namespace watercooler
