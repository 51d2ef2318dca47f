// Fuzzes the path from nghttp2's callbacks into the routes: a client's bytes after the connection
// preface go to an h2_session whose requests a real router serves (some at once, some after the
// bytes that brought them, as the workers would), an event stream answered through a channel.
// Every request handed over is one whole HTTP/1.1 request, every refusal a 4xx with a reason,
// requests in flight are those not yet answered, and each send stays near its bound. The seeds
// (fuzz/corpus/h2_session/) are a browser's first frames, written by h2_session_seeds.py.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "web/http/h2_session.hpp"
#include "web/http/request_reader.hpp"
#include "web/http/router.hpp"

namespace {

using watercooler::h2_channel;
using watercooler::h2_limits;
using watercooler::h2_session;
using watercooler::request_reader;
using watercooler::request_refusal;
using watercooler::router;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "h2_session_fuzz: %s\n", what);
  std::abort();
}

// Small, so that fuzzed inputs reach each limit.
const h2_limits limits{2048, 512, 8, 16};
constexpr std::size_t send_max = 64 * 1024;
// One frame may go past the bound: DATA of the largest size nghttp2 sends, or an answer's HEADERS.
constexpr std::size_t frame_slack = 16 * 1024 + 9 + 4096;

const std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// A route of each kind: a page, a form echoed back, an event stream.
struct fuzz_routes : router {
  fuzz_routes() {
    set_default_headers({{"X-Content-Type-Options", "nosniff"}});
    Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<p>watercooler</p>", "text/html; charset=utf-8");
    });
    Post("/publish", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "text/plain");
    });
    Get("/listen", [](const httplib::Request&, httplib::Response& res) {
      router::hand_off([](std::unique_ptr<watercooler::transport>) {});
      res.set_header("Content-Type", "text/event-stream");
    });
  }
};

// The connection's side, without the workers: answers come from the router.
class connection final : public h2_session::handler {
public:
  explicit connection(router& routes)
      : routes_(routes), session_(std::make_unique<h2_session>(*this, limits)) {}
  ~connection() override {
    session_.reset();
    for (const auto& channel : channels_)
      if (!channel->gone())
        fail("a channel outlived its session");
  }

  h2_session& session() {
    return *session_;
  }
  // Answers the requests kept back, then sends what their channels were woken for.
  void answer_later() {
    auto due = std::move(later_);
    later_.clear();
    for (auto& [stream, request] : due)
      answer(stream, request);
    for (auto stream : woken_)
      session_->resume(stream);
    woken_.clear();
  }
  std::size_t waiting() const {
    return later_.size();
  }

private:
  void request(int32_t stream, std::string http1_request) override {
    // One whole request, as the reader would hand it to httplib over HTTP/1.1.
    if (http1_request.find("\r\n\r\n") == std::string::npos)
      fail("a request without the blank line after its head");
    request_reader reader({limits.max_header, limits.max_body});
    if (reader.feed(http1_request) != http1_request.size()
        || reader.current() != request_reader::state::complete || reader.take() != http1_request)
      fail("a request that is not one whole HTTP/1.1 request");
    if (stream % 4 == 1) // at once, from inside nghttp2's callback
      answer(stream, http1_request);
    else // after the bytes that brought it, as from a worker
      later_.emplace_back(stream, std::move(http1_request));
  }

  std::string refused(int32_t, const request_refusal& refusal, const std::string&,
                      const std::string&) override {
    if (refusal.status < 400 || refusal.status > 499 || refusal.reason.empty())
      fail("a refusal without a 4xx status and a reason");
    auto res = routes_.refusal(refusal.status, refusal.reason);
    std::string out = "HTTP/1.1 " + std::to_string(res.status) + " Refused\r\n";
    for (const auto& [name, value] : res.headers)
      out += name + ": " + value + "\r\n";
    return out + "Content-Length: " + std::to_string(res.body.size()) + "\r\n\r\n" + res.body;
  }

  void answer(int32_t stream, const std::string& request) {
    auto answer = routes_.serve(request, {"192.0.2.1", 40000}, {"127.0.0.1", 8443}, "HTTP/2");
    if (answer.bytes.rfind("HTTP/1.1 ", 0) != 0)
      fail("an answer that is no HTTP/1.1 response");
    if (!answer.adopt)
      return session_->respond(stream, answer.bytes);
    auto channel = session_->respond_with_channel(stream, answer.bytes, [this, stream] {
      woken_.push_back(stream);
      return true;
    });
    if (!channel)
      return; // the client reset the stream meanwhile
    std::string event = "retry: 2000\n\ndata: hello\n\n";
    iovec piece{event.data(), event.size()};
    if (channel->write(&piece, 1) != static_cast<long>(event.size()))
      fail("a new channel did not take a small write");
    if (stream % 8 == 3)
      channel->end();
    channels_.push_back(std::move(channel));
  }

  router& routes_;
  std::vector<std::pair<int32_t, std::string>> later_;
  std::vector<int32_t> woken_;
  std::vector<std::shared_ptr<h2_channel>> channels_;
  std::unique_ptr<h2_session> session_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz_routes routes;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The bytes arrive in pieces of a size the input chooses; a second passes with each piece, and
  // requests begun 60 s before are refused.
  std::size_t step = 1 + size % 97;
  auto now = h2_session::clock::time_point{} + std::chrono::hours(1);
  connection c(routes);
  auto receive = [&](std::string_view piece) {
    bool go_on = c.session().receive(piece.data(), piece.size(), now);
    if (c.session().in_flight() != c.waiting())
      fail("requests in flight are not those waiting for their answer");
    c.answer_later();
    if (c.session().in_flight() != 0)
      fail("requests answered are still in flight");
    c.session().time_out_requests(now - std::chrono::seconds(60), 60);
    std::string out;
    c.session().send(out, send_max);
    if (out.size() > send_max + frame_slack)
      fail("a send went far past its bound");
    if (c.session().open_streams() > limits.max_streams)
      fail("more streams open than SETTINGS_MAX_CONCURRENT_STREAMS");
    now += std::chrono::seconds(1);
    return go_on;
  };
  if (!receive(preface))
    fail("the preface alone ended the connection");
  for (std::size_t at = 0; at < bytes.size() && c.session().alive(); at += step) {
    if (size % 5 == 0 && at >= bytes.size() / 2 && at < bytes.size() / 2 + step)
      c.session().go_away(); // the node stops halfway: the streams open may finish
    if (!receive(bytes.substr(at, step)))
      break;
  }
  return 0;
}
