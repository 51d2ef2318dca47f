// Integration harness: real node processes, private ports and temp dirs, HTTP and SSE clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>
#include <sys/types.h>

#include "web/stream/sse.hpp"

// Exit codes print as "3", "-9" (killed by signal 9) or "none" (still running, timed out).
template <>
struct doctest::StringMaker<std::optional<int>> {
  static doctest::String convert(const std::optional<int>& value) {
    return value ? doctest::toString(*value) : doctest::String("none");
  }
};

// Lists of texts print as ["a", "b"], so a failed comparison shows what came.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
  static doctest::String convert(const std::vector<std::string>& texts) {
    std::string out = "[";
    for (const auto& text : texts)
      out += (out.size() > 1 ? ", \"" : "\"") + text + "\"";
    return (out + "]").c_str();
  }
};

namespace watercooler::integration {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline clock::time_point in(clock::duration d) {
  return clock::now() + d;
}

// A port on 127.0.0.1 that was free a moment ago and that this process never handed out before.
uint16_t free_port();

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope exit.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const {
    return path_;
  }
  std::string file(std::string_view name) const;
  // Writes `content` to `name` inside the directory; returns the full path.
  std::string write(std::string_view name, std::string_view content) const;

private:
  std::string path_;
};

std::string read_file(const std::string& path);

// True if `output` holds an AddressSanitizer, LeakSanitizer or UBSan report.
bool has_sanitizer_report(std::string_view output);

// Environment overrides for a child: inherited environ plus these (a nullopt value unsets).
using env_overrides = std::vector<std::pair<std::string, std::optional<std::string>>>;

// The outcome of a process run to its end: exit status, or -signal; nullopt if it timed out.
struct run_result {
  std::optional<int> exit_code;
  std::string out;
  std::string err;
};

// Runs `args` (args[0] is the program) to completion with stdout and stderr kept apart; a
// process still running at the timeout is killed and reaped.
run_result run_process(const std::vector<std::string>& args, const env_overrides& env,
                       const temp_dir& dir, clock::duration timeout = 20s);

// A child process, always killed (SIGKILL) and reaped by PID when the object dies.
class child_process {
public:
  child_process() = default;
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // Spawns `args` with stdout and stderr appended to `log_path`; REQUIREs success.
  void spawn(const std::vector<std::string>& args, const env_overrides& env,
             const std::string& log_path);
  bool running();
  // Sends `signal` and reaps the process.
  void kill(int signal = 9);
  // SIGTERM, then SIGKILL if still running after `grace`; the exit code (-signal if killed).
  std::optional<int> stop(clock::duration grace = 5s);
  // Waits until the process has exited or the deadline passes.
  std::optional<int> wait_exit(clock::time_point deadline);
  // The exit status, -signal if killed by one; nullopt while it runs.
  std::optional<int> exit_code();
  pid_t pid() const {
    return pid_;
  }

private:
  bool reap(bool block);
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// How to start one node; the ports default to fresh free ones.
struct node_config {
  std::string name;           // --name; empty: run unnamed (nonode@nohost)
  std::string config_path;    // sys.config for the node; empty: none
  bool config_via_erl = true; // --erl "-config PATH" rather than --config PATH
  uint16_t port = free_port();
  uint16_t secure_port = free_port();
  uint16_t epmd_port = 0; // ERL_EPMD_PORT: always private, never 4369
  std::string state_dir;  // WATERCOOLER_STATE_DIR
  std::string home;       // HOME, where the node's ~/.erlang.cookie is
  std::vector<std::string> extra_args;
  std::vector<std::string> launcher; // runs the node, e.g. {"ip", "netns", "exec", "ns1"}
};

// One `watercooler` process; the log keeps the output of every start.
class node_process {
public:
  node_process(node_config config, std::string log_path);
  // Kills the process, then CHECKs that its log holds no sanitizer report.
  ~node_process();

  // (Re)starts the process with the same configuration.
  void start();
  // True once GET / answers 200 over HTTP and HTTPS; false if it exited or the deadline passed.
  bool wait_ready(clock::time_point deadline);
  // Starts if needed and REQUIREs readiness, showing the log otherwise.
  void require_ready(clock::duration timeout = 20s);
  void kill(int signal = 9) {
    process_.kill(signal);
  }
  std::optional<int> stop() {
    return process_.stop();
  }
  std::optional<int> wait_exit(clock::time_point deadline) {
    return process_.wait_exit(deadline);
  }
  std::optional<int> exit_code() {
    return process_.exit_code();
  }
  bool running() {
    return process_.running();
  }
  pid_t pid() const {
    return process_.pid();
  }
  std::string log() const;
  // Whether a line of the log (so far) matches `pattern`.
  bool logged(const std::regex& pattern) const;
  // "name: log contents", for INFO on failure.
  std::string describe() const;

  const node_config& config() const {
    return config_;
  }
  uint16_t port() const {
    return config_.port;
  }
  uint16_t secure_port() const {
    return config_.secure_port;
  }
  const std::string& name() const {
    return config_.name;
  }

private:
  node_config config_;
  std::string log_path_;
  child_process process_;
};

// A private cluster: one temp dir and one ERL_EPMD_PORT for all its nodes.
class sandbox {
public:
  sandbox() = default;

  const temp_dir& dir() const {
    return dir_;
  }
  uint16_t epmd_port() const {
    return epmd_port_;
  }
  // Writes a kernel sys.config; returns its path.
  std::string write_sys_config(std::string_view file, const std::vector<std::string>& optional,
                               int timeout_ms, const std::vector<std::string>& mandatory = {});
  // A configuration with fresh ports, this sandbox's port mapper and a state dir per name.
  node_config config(const std::string& name, const std::string& sys_config = "") const;
  // Starts a node (not yet waited for); the sandbox owns it.
  node_process& start(node_config config);
  // Starts an unnamed node with `extra_args` and REQUIREs that it is ready.
  node_process& start_ready(std::vector<std::string> extra_args);

private:
  temp_dir dir_;
  uint16_t epmd_port_ = free_port();
  std::vector<std::unique_ptr<node_process>> nodes_;
};

// Logs of every node for INFO(...).
std::string describe(const std::vector<const node_process*>& nodes);

// HTTP via cpp-httplib; nothing follows redirects.
std::unique_ptr<httplib::Client> http_client(uint16_t port);
std::unique_ptr<httplib::SSLClient> https_client(uint16_t port);
std::string form_encode(std::string_view text);
// POST /publish message=<text>; the status, or -1 if the request failed.
int publish(uint16_t port, std::string_view text);
// The value of a sample of the node's GET /metrics, named as written there with its labels, e.g.
// `watercooler_sessions` or `watercooler_http_requests_total{route="/",status="200"}`; 0 when
// the node has none (a labelled counter appears with its first count); -1 if the request failed.
double metric(uint16_t port, std::string_view sample);

// A client socket on 127.0.0.1, plain or TLS (no verification), non-blocking with deadlines.
class connection {
public:
  enum class read_status { data, timeout, closed };

  // nullptr if it could not connect (and handshake) before the deadline. `receive_buffer` > 0
  // makes the socket's receive buffer that small (a client slow to read); `source`, another
  // loopback address such as 127.0.0.2, is the address it connects from (a second client).
  static std::unique_ptr<connection> open(uint16_t port, bool tls, clock::time_point deadline,
                                          int receive_buffer = 0, const char* source = nullptr);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  bool write_all(std::string_view data, clock::time_point deadline);
  // Appends what arrives to `out`.
  read_status read_some(std::string& out, clock::time_point deadline);

private:
  connection() = default;
  bool wait_io(bool for_write, clock::time_point deadline);
  int fd_ = -1;
  void* ctx_ = nullptr; // SSL_CTX*
  void* ssl_ = nullptr; // SSL*
};

// Sends `request` as is and returns every byte until the server closes (or the deadline).
std::string raw_exchange(uint16_t port, std::string_view request, clock::time_point deadline,
                         bool tls = false);

// GET /listen read by hand: head, de-chunked body, events through watercooler::sse_parser.
class sse_stream {
public:
  // REQUIREs a complete response head within `timeout`; `path` may add a query, e.g. format=json;
  // `receive_buffer` and `source` as for connection::open; `headers`, lines ending in \r\n, go
  // with the request.
  explicit sse_stream(uint16_t port, bool tls = false, clock::duration timeout = 10s,
                      const std::string& path = "/listen", int receive_buffer = 0,
                      const std::string& headers = "", const char* source = nullptr);

  int status() const {
    return status_;
  }
  // The value of a header, by case-insensitive name; empty if absent.
  std::string header(std::string_view name) const;
  const std::string& head() const {
    return head_;
  }

  // The next event, or nullopt if none arrives before the deadline or the stream ends.
  std::optional<sse_message> next_event(clock::time_point deadline);
  std::optional<sse_message> next_event(clock::duration timeout) {
    return next_event(in(timeout));
  }
  // Reads events until one carries exactly `data`; false at the deadline or end of stream.
  bool wait_for(std::string_view data, clock::time_point deadline);
  // Data of the events read until `stop` returns true for one (included) or the deadline; probes
  // ("probe ..." messages of require_flow) are left out.
  template <class Pred>
  std::vector<std::string> read_until(Pred stop, clock::time_point deadline) {
    std::vector<std::string> result;
    while (auto event = next_event(deadline)) {
      if (is_probe(event->data))
        continue;
      result.push_back(event->data);
      if (stop(event->data))
        break;
    }
    return result;
  }
  bool ended() const {
    return ended_;
  }
  // From now on next_event() returns `event: presence` too, which it skips by default.
  void with_presence() {
    presence_ = true;
  }
  static bool is_probe(std::string_view data) {
    return data.rfind("probe ", 0) == 0;
  }

private:
  void decode(); // moves de-chunked bytes of raw_ into the parser

  std::unique_ptr<connection> connection_;
  std::string head_;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool chunked_ = false;
  std::string raw_;
  enum class chunk_state { size, data, crlf, done } state_ = chunk_state::size;
  std::size_t remaining_ = 0;
  bool ended_ = false;
  bool presence_ = false;
  sse_parser parser_;
  std::deque<sse_message> events_;
};

// Publishes "probe from <from> #n" on `from` every half second until `listener` sees one of
// them; REQUIREs that before the deadline. Proves that messages flow from `from` to the
// listener's node.
void require_flow(const node_process& from, sse_stream& listener, clock::time_point deadline);

// Publishes `text` on `port`; REQUIREs that every listener hears it.
void publish_everywhere(uint16_t port, const std::string& text,
                        const std::vector<sse_stream*>& listeners);

// node1@127.0.0.1 and node2@127.0.0.1 from one sys.config listing both, both ready; each runs
// with `extra_args`.
std::pair<node_process&, node_process&> start_two_nodes(sandbox& sb,
                                                        std::vector<std::string> extra_args = {});

} // namespace watercooler::integration
