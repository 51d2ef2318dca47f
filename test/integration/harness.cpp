// Integration harness: processes by PID, sockets with deadlines, never sleeping to assert.
#include "test/integration/harness.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace watercooler::integration {

namespace {

// Our own writes to a closed socket must fail with EPIPE, not kill the test binary.
const bool sigpipe_ignored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

std::vector<std::string> make_environment(const env_overrides& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    auto key = text.substr(0, text.find('='));
    bool overridden = std::any_of(overrides.begin(), overrides.end(),
                                  [&](const auto& o) { return o.first == key; });
    if (!overridden)
      result.emplace_back(text);
  }
  for (const auto& [key, value] : overrides)
    if (value)
      result.push_back(key + "=" + *value);
  return result;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings)
    result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

// posix_spawn with stdin from /dev/null, default signal handling and an empty signal mask.
pid_t spawn_process(const std::vector<std::string>& args, const env_overrides& env,
                    const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  if (err_path == out_path)
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  else
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  auto argv_strings = args;
  auto envp_strings = make_environment(env);
  auto argv = c_strings(argv_strings);
  auto envp = c_strings(envp_strings);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    INFO("posix_spawn ", args[0], ": ", std::strerror(rc));
    FAIL("cannot spawn a process");
  }
  return pid;
}

std::optional<int> decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return -WTERMSIG(status);
  return std::nullopt;
}

} // namespace

uint16_t free_port() {
  static std::mutex mutex;
  static std::set<uint16_t> handed_out;
  static std::mt19937 random(std::random_device{}());
  std::lock_guard<std::mutex> guard(mutex);
  // Below the ephemeral range, so no node's outgoing or distribution socket can take the port
  // between our check and the node's bind.
  int low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low;
  std::uniform_int_distribution<int> pick(10000, std::max(10001, low - 1));
  for (int attempt = 0; attempt < 1000; ++attempt) {
    bool ephemeral = attempt >= 500 || low <= 10001; // fall back on the kernel's choice
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    auto addr = loopback(ephemeral ? 0 : static_cast<uint16_t>(pick(random)));
    socklen_t size = sizeof addr;
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
              && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0;
    ::close(fd);
    if (!ok)
      continue;
    auto port = ntohs(addr.sin_port);
    if (port != 4369 && handed_out.insert(port).second)
      return port;
  }
  FAIL("no free port");
  return 0;
}

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
    std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/watercooler-it-XXXXXX";
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string temp_dir::file(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

std::string temp_dir::write(std::string_view name, std::string_view content) const {
  auto path = file(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  REQUIRE(out.good());
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

bool has_sanitizer_report(std::string_view output) {
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                             "runtime error: ", "WARNING: ThreadSanitizer"})
    if (output.find(marker) != std::string_view::npos)
      return true;
  return false;
}

run_result run_process(const std::vector<std::string>& args, const env_overrides& env,
                       const temp_dir& dir, clock::duration timeout) {
  static int runs = 0;
  auto base = dir.file("run" + std::to_string(++runs));
  // Never the real home: a ~/.erlang.cookie made by a test lives in a temp dir.
  auto with_home = env;
  if (std::none_of(env.begin(), env.end(), [](const auto& o) { return o.first == "HOME"; }))
    with_home.emplace_back("HOME", dir.path());
  pid_t pid = spawn_process(args, with_home, base + ".out", base + ".err");
  run_result result;
  auto deadline = in(timeout);
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result.exit_code = decode_status(status);
      break;
    }
    if (r < 0 && errno != EINTR)
      break;
    if (clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  result.out = read_file(base + ".out");
  result.err = read_file(base + ".err");
  return result;
}

child_process::~child_process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

void child_process::spawn(const std::vector<std::string>& args, const env_overrides& env,
                          const std::string& log_path) {
  REQUIRE_FALSE((pid_ > 0 && !status_)); // one process at a time
  status_.reset();
  pid_ = spawn_process(args, env, log_path, log_path);
}

bool child_process::reap(bool block) {
  if (pid_ <= 0 || status_)
    return true;
  int status = 0;
  pid_t r;
  do
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = decode_status(status);
    if (!status_)
      status_ = -1;
    return true;
  }
  if (r < 0) { // not our child any more: nothing left to reap
    status_ = -1;
    return true;
  }
  return false;
}

bool child_process::running() {
  return pid_ > 0 && !reap(false);
}

void child_process::kill(int signal) {
  if (!running())
    return;
  ::kill(pid_, signal);
  if (signal == SIGKILL)
    reap(true);
  else
    wait_exit(in(5s));
}

std::optional<int> child_process::wait_exit(clock::time_point deadline) {
  while (!reap(false)) {
    if (clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return status_;
}

std::optional<int> child_process::stop(clock::duration grace) {
  if (!running())
    return status_;
  ::kill(pid_, SIGTERM);
  if (wait_exit(in(grace)))
    return status_;
  ::kill(pid_, SIGKILL);
  reap(true);
  return status_;
}

std::optional<int> child_process::exit_code() {
  reap(false);
  return status_;
}

node_process::node_process(node_config config, std::string log_path)
    : config_(std::move(config)), log_path_(std::move(log_path)) {}

node_process::~node_process() {
  process_.kill(SIGKILL);
  auto text = log();
  CHECK_MESSAGE(!has_sanitizer_report(text), "sanitizer report in the log:\n" << describe());
}

void node_process::start() {
  std::vector<std::string> args = config_.launcher; // it execs the node: the PID stays
  args.push_back(WATERCOOLER_BINARY);
  if (!config_.name.empty())
    args.insert(args.end(), {"--name", config_.name});
  if (!config_.config_path.empty()) {
    if (config_.config_via_erl)
      args.insert(args.end(), {"--erl", "-config " + config_.config_path});
    else
      args.insert(args.end(), {"--config", config_.config_path});
  }
  args.insert(args.end(), config_.extra_args.begin(), config_.extra_args.end());
  REQUIRE(config_.epmd_port != 0);
  REQUIRE(config_.epmd_port != 4369);
  REQUIRE(!config_.home.empty());
  env_overrides env{
    {"PORT", std::to_string(config_.port)},
    {"SECURE_PORT", std::to_string(config_.secure_port)},
    {"ERL_EPMD_PORT", std::to_string(config_.epmd_port)},
    {"WATERCOOLER_STATE_DIR", config_.state_dir},
    {"HOME", config_.home},
  };
  {
    std::ofstream log(log_path_, std::ios::app);
    log << "---- harness: starting";
    for (const auto& a : args)
      log << ' ' << a;
    log << " (PORT=" << config_.port << " SECURE_PORT=" << config_.secure_port
        << " ERL_EPMD_PORT=" << config_.epmd_port << ")\n";
  }
  process_.spawn(args, env, log_path_);
}

bool node_process::wait_ready(clock::time_point deadline) {
  bool http_ok = false;
  while (clock::now() < deadline) {
    if (!process_.running())
      return false;
    if (!http_ok) {
      auto client = http_client(config_.port);
      client->set_connection_timeout(1s);
      client->set_read_timeout(2s);
      auto res = client->Get("/");
      http_ok = res && res->status == 200;
    }
    if (http_ok) {
      auto client = https_client(config_.secure_port);
      client->set_connection_timeout(1s);
      client->set_read_timeout(2s);
      auto res = client->Get("/");
      if (res && res->status == 200)
        return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void node_process::require_ready(clock::duration timeout) {
  if (!process_.running() && !process_.exit_code())
    start();
  INFO(describe());
  bool ready = wait_ready(in(timeout));
  auto code = process_.exit_code();
  REQUIRE_MESSAGE(ready, "node " << (name().empty() ? "(unnamed)" : name())
                                 << " is not serving GET / on HTTP and HTTPS; "
                                 << (code ? "it exited with " + std::to_string(*code)
                                          : std::string("it is still running")));
}

std::string node_process::log() const {
  return read_file(log_path_);
}

bool node_process::logged(const std::regex& pattern) const {
  std::istringstream lines(log());
  std::string line;
  while (std::getline(lines, line))
    if (std::regex_search(line, pattern))
      return true;
  return false;
}

std::string node_process::describe() const {
  return "---- log of " + (name().empty() ? std::string("(unnamed node)") : name()) + " ("
         + log_path_ + "):\n" + log();
}

std::string sandbox::write_sys_config(std::string_view file,
                                      const std::vector<std::string>& optional, int timeout_ms,
                                      const std::vector<std::string>& mandatory) {
  auto list = [](const std::vector<std::string>& names) {
    std::string text = "[";
    for (std::size_t i = 0; i < names.size(); ++i)
      text += (i > 0 ? ", '" : "'") + names[i] + "'";
    return text + "]";
  };
  std::string text = "%% written by the integration harness\n[{kernel,\n  [";
  if (!optional.empty())
    text += "{sync_nodes_optional, " + list(optional) + "},\n   ";
  if (!mandatory.empty())
    text += "{sync_nodes_mandatory, " + list(mandatory) + "},\n   ";
  text += "{sync_nodes_timeout, " + std::to_string(timeout_ms) + "}]}].\n";
  return dir_.write(file, text);
}

node_config sandbox::config(const std::string& name, const std::string& sys_config) const {
  node_config result;
  result.name = name;
  result.config_path = sys_config;
  result.epmd_port = epmd_port_;
  result.state_dir = dir_.file("state-" + (name.empty() ? std::string("unnamed") : name));
  result.home = dir_.path(); // one ~/.erlang.cookie for the sandbox's nodes
  return result;
}

node_process& sandbox::start(node_config config) {
  auto label = config.name.empty() ? std::string("unnamed") : config.name;
  auto log = dir_.file(label + "-" + std::to_string(nodes_.size()) + ".log");
  nodes_.push_back(std::make_unique<node_process>(std::move(config), log));
  nodes_.back()->start();
  return *nodes_.back();
}

node_process& sandbox::start_ready(std::vector<std::string> extra_args) {
  auto config = this->config("");
  config.extra_args = std::move(extra_args);
  auto& node = start(std::move(config));
  node.require_ready();
  return node;
}

std::string describe(const std::vector<const node_process*>& nodes) {
  std::string text;
  for (const auto* node : nodes)
    text += node->describe() + "\n";
  return text;
}

std::unique_ptr<httplib::Client> http_client(uint16_t port) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_connection_timeout(5s);
  client->set_read_timeout(10s);
  client->set_write_timeout(10s);
  client->set_follow_location(false);
  return client;
}

std::unique_ptr<httplib::SSLClient> https_client(uint16_t port) {
  auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
  client->enable_server_certificate_verification(false);
  client->set_connection_timeout(5s);
  client->set_read_timeout(10s);
  client->set_write_timeout(10s);
  client->set_follow_location(false);
  return client;
}

std::string form_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string result;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      result += static_cast<char>(c);
    } else if (c == ' ') {
      result += '+';
    } else {
      result += '%';
      result += hex[c >> 4];
      result += hex[c & 15];
    }
  }
  return result;
}

int publish(uint16_t port, std::string_view text) {
  auto res = http_client(port)->Post("/publish", "message=" + form_encode(text),
                                     "application/x-www-form-urlencoded");
  return res ? res->status : -1;
}

double metric(uint16_t port, std::string_view sample) {
  auto res = http_client(port)->Get("/metrics");
  if (!res || res->status != 200)
    return -1;
  auto prefix = std::string(sample) + " ";
  std::istringstream lines(res->body);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(prefix, 0) == 0)
      return std::stod(line.substr(prefix.size()));
  return 0;
}

std::unique_ptr<connection> connection::open(uint16_t port, bool tls, clock::time_point deadline,
                                             int receive_buffer, const char* source) {
  std::unique_ptr<connection> conn(new connection());
  conn->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (conn->fd_ < 0)
    return nullptr;
  if (receive_buffer > 0) // before connect, so the window stays small
    ::setsockopt(conn->fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  int one = 1;
  ::setsockopt(conn->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source != nullptr) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source, &from.sin_addr) != 1
        || ::bind(conn->fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0)
      return nullptr;
  }
  auto addr = loopback(port);
  if (::connect(conn->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS || !conn->wait_io(true, deadline))
      return nullptr;
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(conn->fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0)
      return nullptr;
  }
  if (!tls)
    return conn;
  auto* ctx = SSL_CTX_new(TLS_client_method());
  conn->ctx_ = ctx;
  if (ctx == nullptr)
    return nullptr;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  auto* ssl = SSL_new(ctx);
  conn->ssl_ = ssl;
  if (ssl == nullptr || SSL_set_fd(ssl, conn->fd_) != 1)
    return nullptr;
  SSL_set_tlsext_host_name(ssl, "127.0.0.1");
  while (true) {
    int rc = SSL_connect(ssl);
    if (rc == 1)
      return conn;
    int error = SSL_get_error(ssl, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      if (!conn->wait_io(error == SSL_ERROR_WANT_WRITE, deadline))
        return nullptr;
      continue;
    }
    ERR_clear_error();
    return nullptr;
  }
}

connection::~connection() {
  if (ssl_ != nullptr)
    SSL_free(static_cast<SSL*>(ssl_));
  if (ctx_ != nullptr)
    SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
  if (fd_ >= 0)
    ::close(fd_);
}

bool connection::wait_io(bool for_write, clock::time_point deadline) {
  while (true) {
    pollfd p{fd_, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0)
      return true;
    if (rc == 0)
      return false;
    if (errno != EINTR)
      return false;
  }
}

bool connection::write_all(std::string_view data, clock::time_point deadline) {
  while (!data.empty()) {
    if (ssl_ != nullptr) {
      auto* ssl = static_cast<SSL*>(ssl_);
      int rc = SSL_write(ssl, data.data(), static_cast<int>(data.size()));
      if (rc > 0) {
        data.remove_prefix(static_cast<std::size_t>(rc));
        continue;
      }
      int error = SSL_get_error(ssl, rc);
      if ((error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
          || !wait_io(error == SSL_ERROR_WANT_WRITE, deadline))
        return false;
    } else {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if ((errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || !wait_io(true, deadline))
        return false;
    }
  }
  return true;
}

connection::read_status connection::read_some(std::string& out, clock::time_point deadline) {
  char buffer[16384];
  while (true) {
    if (ssl_ != nullptr) {
      auto* ssl = static_cast<SSL*>(ssl_);
      int rc = SSL_read(ssl, buffer, sizeof buffer);
      if (rc > 0) {
        out.append(buffer, static_cast<std::size_t>(rc));
        return read_status::data;
      }
      int error = SSL_get_error(ssl, rc);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        if (!wait_io(error == SSL_ERROR_WANT_WRITE, deadline))
          return read_status::timeout;
        continue;
      }
      ERR_clear_error();
      return read_status::closed;
    }
    auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
      return read_status::data;
    }
    if (n == 0)
      return read_status::closed;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return read_status::closed;
    if (!wait_io(false, deadline))
      return read_status::timeout;
  }
}

std::string raw_exchange(uint16_t port, std::string_view request, clock::time_point deadline,
                         bool tls) {
  auto conn = connection::open(port, tls, deadline);
  REQUIRE_MESSAGE(conn != nullptr, "cannot connect to 127.0.0.1:" << port);
  REQUIRE(conn->write_all(request, deadline));
  std::string response;
  while (conn->read_some(response, deadline) == connection::read_status::data) {
  }
  return response;
}

sse_stream::sse_stream(uint16_t port, bool tls, clock::duration timeout, const std::string& path,
                       int receive_buffer, const std::string& headers, const char* source) {
  auto deadline = in(timeout);
  connection_ = connection::open(port, tls, deadline, receive_buffer, source);
  REQUIRE_MESSAGE(connection_ != nullptr, "cannot connect to 127.0.0.1:" << port);
  REQUIRE(connection_->write_all("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n",
                                 deadline));
  std::string received;
  std::size_t end = std::string::npos;
  while ((end = received.find("\r\n\r\n")) == std::string::npos) {
    auto status = connection_->read_some(received, deadline);
    INFO("received so far: ", received);
    REQUIRE_MESSAGE(status == connection::read_status::data,
                    "no complete response head for GET /listen on port " << port);
  }
  head_ = received.substr(0, end + 4);
  raw_ = received.substr(end + 4);

  std::istringstream lines(head_);
  std::string line;
  std::getline(lines, line);
  INFO("status line: ", line);
  REQUIRE(line.rfind("HTTP/1.1 ", 0) == 0);
  status_ = std::atoi(line.c_str() + 9);
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    headers_.emplace_back(lower(line.substr(0, colon)), value);
  }
  chunked_ = lower(header("transfer-encoding")).find("chunked") != std::string::npos;
  decode();
}

std::string sse_stream::header(std::string_view name) const {
  auto key = lower(name);
  for (const auto& [k, v] : headers_)
    if (k == key)
      return v;
  return {};
}

void sse_stream::decode() {
  auto feed = [this](std::string_view bytes) {
    for (auto& event : parser_.feed(bytes))
      events_.push_back(std::move(event));
  };
  if (!chunked_) {
    feed(raw_);
    raw_.clear();
    return;
  }
  while (state_ != chunk_state::done) {
    if (state_ == chunk_state::size) {
      auto eol = raw_.find("\r\n");
      if (eol == std::string::npos)
        return;
      auto line = raw_.substr(0, eol);
      raw_.erase(0, eol + 2);
      INFO("chunk size line: ", line);
      REQUIRE(!line.empty());
      remaining_ = std::stoul(line.substr(0, line.find(';')), nullptr, 16);
      state_ = remaining_ == 0 ? chunk_state::done : chunk_state::data;
      if (state_ == chunk_state::done)
        ended_ = true;
    } else if (state_ == chunk_state::data) {
      if (raw_.empty())
        return;
      auto take = std::min(remaining_, raw_.size());
      feed(std::string_view(raw_).substr(0, take));
      raw_.erase(0, take);
      remaining_ -= take;
      if (remaining_ == 0)
        state_ = chunk_state::crlf;
    } else {
      if (raw_.size() < 2)
        return;
      REQUIRE_MESSAGE(raw_.compare(0, 2, "\r\n") == 0, "a chunk is not followed by CRLF");
      raw_.erase(0, 2);
      state_ = chunk_state::size;
    }
  }
}

std::optional<sse_message> sse_stream::next_event(clock::time_point deadline) {
  // As a browser's onmessage, readers of messages do not see presence events.
  while (!presence_ && !events_.empty() && events_.front().type == "presence")
    events_.pop_front();
  while (events_.empty()) {
    if (ended_ || connection_ == nullptr)
      return std::nullopt;
    auto status = connection_->read_some(raw_, deadline);
    if (status == connection::read_status::timeout)
      return std::nullopt;
    if (status == connection::read_status::closed) {
      ended_ = true;
      connection_.reset();
    }
    decode();
    while (!presence_ && !events_.empty() && events_.front().type == "presence")
      events_.pop_front();
  }
  auto event = std::move(events_.front());
  events_.pop_front();
  return event;
}

bool sse_stream::wait_for(std::string_view data, clock::time_point deadline) {
  while (auto event = next_event(deadline))
    if (event->data == data)
      return true;
  return false;
}

void require_flow(const node_process& from, sse_stream& listener, clock::time_point deadline) {
  auto prefix = "probe from " + std::to_string(from.port()) + " #";
  for (int n = 1; clock::now() < deadline; ++n) {
    publish(from.port(), prefix + std::to_string(n));
    auto until = std::min(deadline, in(500ms));
    while (auto event = listener.next_event(until))
      if (event->data.rfind(prefix, 0) == 0)
        return;
    REQUIRE_FALSE_MESSAGE(listener.ended(), "the listener's stream ended");
  }
  FAIL("messages published on " << (from.name().empty() ? "a node" : from.name())
                                << " never reached the listener");
}

void publish_everywhere(uint16_t port, const std::string& text,
                        const std::vector<sse_stream*>& listeners) {
  REQUIRE(publish(port, text) == 303);
  for (auto* listener : listeners)
    REQUIRE(listener->wait_for(text, in(15s)));
}

std::pair<node_process&, node_process&> start_two_nodes(sandbox& sb,
                                                        std::vector<std::string> extra_args) {
  const std::string node1 = "node1@127.0.0.1";
  const std::string node2 = "node2@127.0.0.1";
  auto config = sb.write_sys_config("sys.config", {node1, node2}, 3000);
  auto first_config = sb.config(node1, config);
  auto second_config = sb.config(node2, config);
  first_config.extra_args = extra_args;
  second_config.extra_args = std::move(extra_args);
  auto& first = sb.start(std::move(first_config));
  auto& second = sb.start(std::move(second_config));
  INFO(describe({&first, &second}));
  first.require_ready();
  second.require_ready();
  return {first, second};
}

} // namespace watercooler::integration
