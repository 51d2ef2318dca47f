// Parsing of argv and the environment into options; every mistake becomes a usage error.
#include "app/options.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "app/sys_config.hpp"

namespace watercooler {

namespace {

std::optional<uint64_t> parse_unsigned(const std::string& text, uint64_t max) {
  if (text.empty() || text.size() > 19)
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > max)
    return std::nullopt;
  return value;
}

std::optional<uint16_t> parse_port(const std::string& text) {
  auto value = parse_unsigned(text, 65535);
  if (!value)
    return std::nullopt;
  return static_cast<uint16_t>(*value);
}

// Flags that take a whole number in [min, max]; `what` names the unit in the error.
struct number_flag {
  const char* flag;
  uint64_t min;
  uint64_t max;
  const char* what;
  void (*set)(options&, uint64_t);
};

const number_flag number_flags[] = {
  {"--max-body", 1, 1ull << 30, "a size in bytes",
   [](options& o, uint64_t n) { o.max_body = static_cast<std::size_t>(n); }},
  {"--max-header", 1024, 1ull << 20, "a size in bytes",
   [](options& o, uint64_t n) { o.max_header = static_cast<std::size_t>(n); }},
  {"--max-message", 1, 1ull << 30, "a number of characters",
   [](options& o, uint64_t n) { o.max_message = static_cast<std::size_t>(n); }},
  {"--max-streams", 0, 1000000, "a number of streams",
   [](options& o, uint64_t n) { o.max_streams = static_cast<std::size_t>(n); }},
  {"--read-timeout", 1, 3600, "a number of seconds",
   [](options& o, uint64_t n) { o.read_timeout = static_cast<unsigned>(n); }},
  {"--keep-alive-timeout", 1, 3600, "a number of seconds",
   [](options& o, uint64_t n) { o.keep_alive_timeout = static_cast<unsigned>(n); }},
  {"--max-connections", 1, 10000000, "a number of connections",
   [](options& o, uint64_t n) { o.max_connections = static_cast<std::size_t>(n); }},
  {"--max-connections-per-address", 0, 10000000, "a number of connections",
   [](options& o, uint64_t n) { o.max_connections_per_address = static_cast<std::size_t>(n); }},
  {"--h2-max-streams", 1, 1000000, "a number of streams",
   [](options& o, uint64_t n) { o.h2_max_streams = static_cast<uint32_t>(n); }},
  {"--h2-max-resets", 1, 1000000, "a number of resets",
   [](options& o, uint64_t n) { o.h2_max_resets = static_cast<uint32_t>(n); }},
  {"--history", 0, 1000000, "a number of messages",
   [](options& o, uint64_t n) { o.history = static_cast<std::size_t>(n); }},
  {"--history-age", 0, 604800, "a number of seconds",
   [](options& o, uint64_t n) { o.history_age = static_cast<unsigned>(n); }},
  {"--heartbeat", 0, 3600, "a number of seconds",
   [](options& o, uint64_t n) { o.heartbeat_seconds = static_cast<unsigned>(n); }},
  {"--stream-queue", 1, 1000000, "a number of events",
   [](options& o, uint64_t n) { o.stream_queue = static_cast<std::size_t>(n); }},
  {"--stream-queue-bytes", 1024, 1ull << 30, "a size in bytes",
   [](options& o, uint64_t n) { o.stream_queue_bytes = static_cast<std::size_t>(n); }},
  {"--publish-rate", 0, 1000000, "a number of messages",
   [](options& o, uint64_t n) { o.publish_rate = static_cast<unsigned>(n); }},
  {"--presence-grace", 0, 3600, "a number of seconds",
   [](options& o, uint64_t n) { o.presence_grace = static_cast<unsigned>(n); }},
  {"--max-present-per-address", 0, 10000000, "a number of people",
   [](options& o, uint64_t n) { o.max_present_per_address = static_cast<std::size_t>(n); }},
  {"--max-present", 0, 10000000, "a number of people",
   [](options& o, uint64_t n) { o.max_present = static_cast<std::size_t>(n); }},
  {"--publish-burst", 1, 1000000, "a number of messages",
   [](options& o, uint64_t n) { o.publish_burst = static_cast<unsigned>(n); }},
};

// A mistake on the command line or in the environment, which main() reports with exit code 2.
outcome<options> usage_error(std::string why) {
  return outcome<options>::fail(std::move(why));
}

} // namespace

outcome<options> parse_options(const std::vector<std::string>& args, env_lookup env) {
  options opts;
  auto port_from_env = [&](const char* variable, uint16_t& out) -> outcome<void> {
    const char* value = env(variable);
    if (value == nullptr || *value == '\0')
      return outcome<void>::ok();
    auto port = parse_port(value);
    if (!port)
      return outcome<void>::fail(std::string(variable) + "=" + value
                                 + " is not a port number (0-65535)");
    out = *port;
    return outcome<void>::ok();
  };
  for (auto [variable, out] : {std::pair<const char*, uint16_t*>{"PORT", &opts.port},
                               {"SECURE_PORT", &opts.secure_port},
                               {"ERL_EPMD_PORT", &opts.epmd_port}})
    if (auto read = port_from_env(variable, *out); !read)
      return usage_error(read.error);

  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    std::string flag = arg;
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      flag = arg.substr(0, arg.find('='));
      inline_value = arg.substr(arg.find('=') + 1);
    }
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value)
        return inline_value;
      if (i + 1 < args.size())
        return args[++i];
      return std::nullopt;
    };
    auto missing = [&] { return usage_error("option " + flag + " needs a value"); };
    auto number = std::find_if(std::begin(number_flags), std::end(number_flags),
                               [&](const number_flag& f) { return flag == f.flag; });
    if (number != std::end(number_flags)) {
      auto v = value();
      if (!v)
        return missing();
      auto n = parse_unsigned(*v, number->max);
      if (!n || *n < number->min)
        return usage_error(flag + " " + *v + " is not " + number->what + " ("
                           + std::to_string(number->min) + " to " + std::to_string(number->max)
                           + ")");
      number->set(opts, *n);
      continue;
    }
    if (flag == "--help" || flag == "-h") {
      opts.help = true;
    } else if (flag == "--version") {
      opts.version = true;
    } else if (flag == "--man") {
      opts.man = true;
    } else if (flag == "--inspect") {
      auto v = value();
      if (!v || v->empty())
        return missing();
      opts.inspect = *v;
    } else if (flag == "--json") {
      opts.json = true;
    } else if (flag == "--only") {
      opts.only = true;
    } else if (flag == "--watch") {
      opts.watch_seconds = default_watch_seconds;
      std::optional<std::string> v = inline_value;
      if (!v && i + 1 < args.size() && !args[i + 1].empty() && args[i + 1][0] != '-')
        v = args[++i];
      if (v) {
        auto seconds = parse_unsigned(*v, 3600);
        if (!seconds || *seconds == 0)
          return usage_error("--watch " + *v + " is not a number of seconds (1-3600)");
        opts.watch_seconds = static_cast<unsigned>(*seconds);
      }
    } else if (flag == "--cookie") {
      auto v = value();
      if (!v || v->empty())
        return missing();
      opts.cookie = *v;
    } else if (flag == "--cookie-file") {
      auto v = value();
      if (!v || v->empty())
        return missing();
      opts.cookie_file = *v;
    } else if (flag == "--trust-proxy") {
      auto v = value();
      if (!v || v->empty())
        return missing();
      auto range = parse_address_range(*v);
      if (!range)
        return usage_error("--trust-proxy " + *v
                           + " is not an IPv4 or IPv6 address or ADDRESS/BITS range (with no "
                             "bits set past BITS, e.g. 10.0.0.0/8 or fd00::/8)");
      opts.trust_proxy.push_back(*range);
    } else if (flag == "--dist-tls") {
      opts.dist_tls = true;
    } else if (flag == "--dist-cert" || flag == "--dist-key" || flag == "--dist-ca") {
      auto v = value();
      if (!v || v->empty())
        return missing();
      if (flag == "--dist-cert")
        opts.dist_cert = *v;
      else if (flag == "--dist-key")
        opts.dist_key = *v;
      else
        opts.dist_ca = *v;
    } else if (flag == "--name") {
      auto v = value();
      if (!v)
        return missing();
      opts.name = *v;
    } else if (flag == "--config") {
      auto v = value();
      if (!v || v->empty())
        return missing();
      opts.config_path = *v;
    } else if (flag == "--erl") {
      auto v = value();
      if (!v)
        return missing();
      auto path = erl_config_path(*v);
      if (!path)
        return usage_error("--erl \"" + *v + "\" has no -config FILE (the only flag understood)");
      if (path->empty())
        return usage_error("--erl \"" + *v + "\": -config needs a file name");
      opts.config_path = *path;
    } else if (flag == "--port" || flag == "--secure-port") {
      auto v = value();
      if (!v)
        return missing();
      auto port = parse_port(*v);
      if (!port)
        return usage_error(flag + " " + *v + " is not a port number (0-65535)");
      (flag == "--port" ? opts.port : opts.secure_port) = *port;
    } else if (flag == "--bind") {
      auto v = value();
      if (!v || v->empty())
        return missing();
      opts.bind = *v;
    } else if (flag == "--state-dir") {
      auto v = value();
      if (!v || v->empty())
        return missing();
      opts.state_dir = *v;
    } else {
      return usage_error("unknown option " + arg + " (see --help)");
    }
  }
  if (!opts.cookie.empty() && !opts.cookie_file.empty())
    return usage_error("--cookie and --cookie-file do not go together: give the cookie once");
  if ((opts.json || opts.only || opts.watch_seconds > 0) && opts.inspect.empty())
    return usage_error("--json, --only and --watch go with --inspect NODE");
  if (opts.json && opts.watch_seconds > 0)
    return usage_error("--watch shows a table; it does not combine with --json");
  bool any_file = !opts.dist_cert.empty() || !opts.dist_key.empty() || !opts.dist_ca.empty();
  if (any_file && !opts.dist_tls)
    return usage_error("--dist-cert, --dist-key and --dist-ca go with --dist-tls");
  if (opts.dist_tls) {
    if (opts.dist_cert.empty() || opts.dist_key.empty() || opts.dist_ca.empty())
      return usage_error("--dist-tls needs --dist-cert FILE, --dist-key FILE and --dist-ca FILE");
    if (opts.name.empty() && opts.inspect.empty())
      return usage_error("--dist-tls goes with --name or --inspect: a lone node has no peers");
  }
  return outcome<options>::ok(std::move(opts));
}

namespace {

// One entry of the option table: the flags as typed, one paragraph that explains them, with
// {field} where a default goes (filled in from `options{}` by render()).
struct option_doc {
  const char* flags;
  const char* text;
  bool nested = false; // belongs to the entry above (--dist-cert under --dist-tls)
};

const char* const summary =
  "a distributed chat room: a web page per node, messages shared by every node";

const char* const usage_lines[] = {
  R"(watercooler [--name NAME@HOST] [--erl "-config sys.config"] [options])",
  "watercooler --inspect NAME@HOST [--cookie SECRET] [--json] [--only] [--watch [SECONDS]]",
  "add --dist-tls --dist-cert FILE --dist-key FILE --dist-ca FILE to either for TLS between nodes",
};

// The one table of the command line: --help and the manual page (--man) are both made from it.
const option_doc option_docs[] = {
  {"--name NAME@HOST",
   "name this node, e.g. node1@127.0.0.1. Named nodes register with the Erlang port mapper on "
   "HOST and join the nodes listed in the config. Without --name the node runs alone as "
   "nonode@nohost."},
  {"--cookie SECRET",
   "the cluster cookie: nodes (and --inspect) must share it to connect. Default: the first line "
   "of ~/.erlang.cookie, created with a random value (mode 0400) when missing, as Erlang does. "
   "Peers prove it by challenge/response; it never crosses the network."},
  {"--cookie-file FILE",
   "read the cookie from the first line of FILE instead, with the rules of ~/.erlang.cookie: "
   "refused if others may read it; missing, unreadable or empty is an error (it is not created). "
   "Not together with --cookie."},
  {"--dist-tls",
   "connect to other nodes (and --inspect to nodes) over TLS with mutual authentication only; "
   "needs the three files below. Every node of a cluster, and its inspectors, must use it; the "
   "cookie is still checked."},
  {"--dist-cert FILE", "this node's certificate (PEM; may hold the chain up to the CA).", true},
  {"--dist-key FILE", "the certificate's private key (PEM, not encrypted).", true},
  {"--dist-ca FILE", "the CA certificate(s) (PEM) a peer's certificate must be signed by.", true},
  {R"(--erl "-config FILE")",
   R"(read FILE (Erlang terms; "sys" means sys.config) for the kernel settings )"
   "sync_nodes_optional, sync_nodes_mandatory, sync_nodes_timeout."},
  {"--config FILE", "the same, spelled plainly."},
  {"--port N", "HTTP port (default $PORT, else {port})."},
  {"--secure-port N",
   "HTTPS port with a self-signed certificate (default $SECURE_PORT, else {secure_port})."},
  {"--bind ADDRESS", "address both servers listen on (default {bind}; 0.0.0.0 for all)."},
  {"--state-dir DIR",
   "where the HTTPS certificate (cert.pem, key.pem) is made on first start and kept, so a "
   "browser's exception survives restarts (default {state_dir})."},
  {"--trust-proxy ADDRESS[/BITS]",
   "a reverse proxy (IPv4 or IPv6 address or range; repeatable; default none). For requests "
   "whose TCP peer is one, the client is the right-most address of X-Forwarded-For that is not "
   "itself trusted, for --max-streams, --publish-rate and the request log, and X-Forwarded-Host "
   "and X-Forwarded-Proto stand for Host and the scheme in the Origin check. Anyone else's "
   "X-Forwarded-* headers are ignored. Connection limits (--max-connections-per-address) still "
   "count the TCP peer."},
  {"--max-body BYTES",
   "largest POST /publish body accepted (default {max_body}); larger gets 413."},
  {"--max-message CHARS",
   "longest message, in characters (default {max_message}); longer gets 413."},
  {"--max-header BYTES",
   "largest request line and headers together (default {max_header}; each line at most 8192 in "
   "any case); larger gets 431 (414 for the request line)."},
  {"--read-timeout SECONDS",
   "a request, head and body, must arrive within this many seconds of its first byte (default "
   "{read_timeout}); a slower one gets 408 and is cut off."},
  {"--keep-alive-timeout SECONDS",
   "an idle connection between two requests stays open this long (default "
   "{keep_alive_timeout}), whatever the load."},
  {"--max-connections N",
   "HTTP and HTTPS connections open at once, event streams not counted (default: "
   "{max_connections}); more are refused (503 on HTTP, closed on HTTPS)."},
  {"--max-connections-per-address N",
   "connections open at once per client address (IPv6: per /64), event streams not counted "
   "(default {max_connections_per_address}; 0 no limit); more get 429 (HTTPS: closed). It counts "
   "the TCP peer, also behind a trusted proxy, where every client has the proxy's address: raise "
   "it or use 0 there."},
  {"--h2-max-streams N",
   "requests and event streams open at once on one HTTP/2 connection "
   "(SETTINGS_MAX_CONCURRENT_STREAMS, default {h2_max_streams}). HTTP/2 is offered on the HTTPS "
   "port (ALPN h2, else HTTP/1.1), with --max-header as its header list size and --max-body, "
   "--read-timeout as on HTTP/1.1."},
  {"--h2-max-resets N",
   "streams a client may reset on one HTTP/2 connection within 10 seconds (default "
   "{h2_max_resets}); more ends the connection with GOAWAY (rapid reset, CVE-2023-44487), "
   "counted in /metrics."},
  {"--max-streams N",
   "event streams (GET /listen) open at once per client address (IPv6: per /64) (default "
   "{max_streams}; 0 no limit); more gets 429 with Retry-After."},
  {"--publish-rate N",
   "messages a client address may publish per second, on average (default {publish_rate}; 0 no "
   "limit); faster gets 429 with Retry-After."},
  {"--publish-burst N", "messages a client address may publish at once (default {publish_burst})."},
  {"--history N",
   "recent messages the node keeps (default {history}); a page opens with the last 50 of them; a "
   "reconnecting stream gets what it missed from them."},
  {"--history-age SECONDS",
   "messages older than this leave the history (default {history_age}; 0 keeps them until "
   "--history pushes them out)."},
  {"--heartbeat SECONDS",
   "write a comment line on every event stream this often (default {heartbeat}; 0 never), so "
   "proxies keep idle streams and dead clients are found."},
  {"--stream-queue N", "events a stream's client may fall behind by (default {stream_queue}) ..."},
  {"--stream-queue-bytes BYTES",
   "... or bytes (default {stream_queue_bytes}). Beyond either, the stream gets a gap event and "
   "is ended; the client resumes where it stopped reading."},
  {"--presence-grace SECONDS",
   "a person whose last stream closed stays present this long (default {presence_grace}; 0 "
   "leaves at once): a reload or a reconnect to another node is no leave and join. A node that "
   "stops keeps its people that long too."},
  {"--max-present-per-address N",
   "people (GET /listen?client=) counted at once per client address on this node "
   "(default {max_present_per_address}; 0 no limit); more are served as anonymous listeners."},
  {"--max-present N", "people counted at once on this node (default {max_present}; 0 no limit)."},
  {"--inspect NODE",
   "print what NODE (name@host, found through its port mapper) and every node it is connected to "
   "are running: node, peers, room, sessions, actors. Then exit."},
  {"--json", "print one JSON document instead (schema in the README).", true},
  {"--only", "inspect NODE alone, not its peers.", true},
  {"--watch [SECONDS]", "refresh every SECONDS (default {watch}) with event rates, until Ctrl-C.",
   true},
  {"--version", "print the version and the git revision it was built from, and exit."},
  {"-h, --help", "print this help and exit."},
};

const option_doc environment_docs[] = {
  {"PORT, SECURE_PORT", "as --port and --secure-port."},
  {"ERL_EPMD_PORT",
   "port of the port mapper (default {epmd_port}). If no port mapper answers there, the first "
   "node on the host serves it, and a surviving node takes over."},
  {"WATERCOOLER_STATE_DIR", "default for --state-dir."},
};

const char* const exit_codes =
  "0 stopped by SIGINT/SIGTERM, 1 runtime failure (port in use, mandatory node missing), 2 usage "
  "or config error.";

// `text` with every {field} of `defaults` filled in.
std::string render(std::string text,
                   const std::vector<std::pair<const char*, std::string>>& defaults) {
  for (const auto& [field, value] : defaults)
    for (auto at = text.find(field); at != std::string::npos; at = text.find(field, at))
      text.replace(at, std::strlen(field), value);
  return text;
}

std::vector<std::pair<const char*, std::string>> defaults_with(std::string state_dir,
                                                               std::string max_connections) {
  const options d;
  return {
    {"{bind}", d.bind},
    {"{port}", std::to_string(d.port)},
    {"{secure_port}", std::to_string(d.secure_port)},
    {"{epmd_port}", std::to_string(d.epmd_port)},
    {"{state_dir}", std::move(state_dir)},
    {"{max_body}", std::to_string(d.max_body)},
    {"{max_message}", std::to_string(d.max_message)},
    {"{max_header}", std::to_string(d.max_header)},
    {"{read_timeout}", std::to_string(d.read_timeout)},
    {"{keep_alive_timeout}", std::to_string(d.keep_alive_timeout)},
    {"{max_connections}", std::move(max_connections)},
    {"{max_connections_per_address}", std::to_string(d.max_connections_per_address)},
    {"{max_streams}", std::to_string(d.max_streams)},
    {"{h2_max_streams}", std::to_string(d.h2_max_streams)},
    {"{h2_max_resets}", std::to_string(d.h2_max_resets)},
    {"{publish_rate}", std::to_string(d.publish_rate)},
    {"{publish_burst}", std::to_string(d.publish_burst)},
    {"{history}", std::to_string(d.history)},
    {"{history_age}", std::to_string(d.history_age)},
    {"{heartbeat}", std::to_string(d.heartbeat_seconds)},
    {"{stream_queue}", std::to_string(d.stream_queue)},
    {"{stream_queue_bytes}", std::to_string(d.stream_queue_bytes)},
    {"{presence_grace}", std::to_string(d.presence_grace)},
    {"{max_present_per_address}", std::to_string(d.max_present_per_address)},
    {"{max_present}", std::to_string(d.max_present)},
    {"{watch}", std::to_string(default_watch_seconds)},
  };
}

// `text` broken into lines of at most `width` columns (a longer word stands alone).
std::vector<std::string> wrap(const std::string& text, std::size_t width) {
  std::vector<std::string> lines{""};
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find(' ', at);
    auto word = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? text.size() : end + 1;
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width)
      lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " ") + word;
  }
  return lines;
}

// The help's columns: flags from column 2 (4 when nested), their text from column 24 up to 100.
constexpr std::size_t text_column = 24;
constexpr std::size_t help_width = 100;

void help_entries(std::string& out, const option_doc* first, const option_doc* last,
                  const std::vector<std::pair<const char*, std::string>>& defaults) {
  for (const auto* doc = first; doc != last; ++doc) {
    std::string line = std::string(doc->nested ? "    " : "  ") + doc->flags;
    if (line.size() + 2 > text_column) {
      out += line + "\n";
      line.clear();
    }
    for (const auto& part : wrap(render(doc->text, defaults), help_width - text_column)) {
      line.resize(text_column, ' ');
      out += line + part + "\n";
      line.clear();
    }
  }
}

// Text for roff: no request at a line's start, hyphens as minus signs (so they can be copied and
// searched for), backslashes escaped.
std::string roff(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\''))
    out.insert(0, "\\&");
  return out;
}

// "--name NAME@HOST" as \fB--name\fR \fINAME@HOST\fR: flags bold, their values italic.
std::string roff_flags(const std::string& flags) {
  std::string out;
  for (const auto& word : wrap(flags, 0)) {
    bool flag = word[0] == '-';
    out += (out.empty() ? "" : " ") + std::string(flag ? "\\fB" : "\\fI") + roff(word) + "\\fR";
  }
  return out;
}

void man_entries(std::string& out, const option_doc* first, const option_doc* last,
                 const std::vector<std::pair<const char*, std::string>>& defaults) {
  bool nested = false;
  for (const auto* doc = first; doc != last; ++doc) {
    if (doc->nested != nested)
      out += doc->nested ? ".RS\n" : ".RE\n";
    nested = doc->nested;
    out += ".TP\n" + roff_flags(doc->flags) + "\n" + roff(render(doc->text, defaults)) + "\n";
  }
  if (nested)
    out += ".RE\n";
}

} // namespace

std::string help_text(const std::string& default_state_dir, std::size_t default_connections) {
  auto defaults = defaults_with(default_state_dir, "half the open-files limit, now "
                                                     + std::to_string(default_connections));
  std::string out = std::string("watercooler - ") + summary + ".\n\nUsage:\n";
  for (const char* line : usage_lines)
    out += std::string("  ") + line + "\n";
  out += "\nOptions:\n";
  help_entries(out, std::begin(option_docs), std::end(option_docs), defaults);
  out += "\nEnvironment:\n";
  help_entries(out, std::begin(environment_docs), std::end(environment_docs), defaults);
  out += "\n";
  for (const auto& line : wrap(std::string("Exit codes: ") + exit_codes, help_width))
    out += line + "\n";
  return out;
}

std::string man_page(const std::string& version) {
  auto defaults = defaults_with("$XDG_STATE_HOME/watercooler, else ~/.local/state/watercooler",
                                "half the open-files limit");
  std::string out =
    ".\\\" Made at build time by the watercooler binary, from the table that prints --help.\n";
  out += ".TH WATERCOOLER 1 \"\" \"watercooler " + roff(version) + "\" \"User Commands\"\n";
  out += ".nh\n"; // flags must not be hyphenated across lines: they are copied and searched for
  out += ".SH NAME\nwatercooler \\- " + roff(summary) + "\n.SH SYNOPSIS\n.nf\n";
  for (const char* line : usage_lines)
    out += roff(line) + "\n";
  out += ".fi\n.SH DESCRIPTION\nEvery node serves a web page; browsers publish messages with a "
         "plain form and receive every message from every node of the cluster as a live "
         "Server\\-Sent\\-Events stream.\n.SH OPTIONS\n";
  man_entries(out, std::begin(option_docs), std::end(option_docs), defaults);
  out += ".SH ENVIRONMENT\n";
  man_entries(out, std::begin(environment_docs), std::end(environment_docs), defaults);
  out += ".SH EXIT STATUS\n" + roff(exit_codes) + "\n";
  out += ".SH FILES\n.TP\n\\fI/etc/watercooler/NODE.env\\fR\nthe options of the systemd unit "
         "\\fBwatercooler@NODE.service\\fR.\n.TP\n\\fI/usr/share/doc/watercooler/\\fR\nthe "
         "README (with deployment behind nginx), an example sys.config, env file and nginx.conf.\n";
  return out;
}

} // namespace watercooler