// --dist-tls between real nodes, with a CA and certificates made by the openssl CLI per test:
// TLS nodes join, a certificate of another CA and a plain node are refused, and so are inspectors.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const std::string node1 = "node1@127.0.0.1";
const std::string node2 = "node2@127.0.0.1";
const std::string node3 = "node3@127.0.0.1";

// The openssl CLI, found on $PATH (the harness spawns programs by path).
std::string openssl_binary() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    auto end = std::min(dirs.find(':', start), dirs.size());
    auto candidate = dirs.substr(start, end - start) + "/openssl";
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return "/usr/bin/openssl";
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A CA and certificates signed by it, plus a rogue CA, all in the sandbox's temp dir.
class pki {
public:
  explicit pki(const sandbox& sb) : sb_(sb) {
    make_ca("ca", "watercooler test CA");
    make_ca("rogue-ca", "rogue CA");
    for (const char* name : {"node1", "node2", "inspector"})
      make_cert(name, "ca");
    make_cert("rogue", "rogue-ca");
    // The rogue trusts our CA too: only our side's checks can keep it out.
    sb.dir().write("rogue-trust.pem", read_file(file("rogue-ca.pem")) + read_file(file("ca.pem")));
  }

  std::string file(const std::string& name) const {
    return sb_.dir().file(name);
  }
  // --dist-tls with `name`'s certificate and key, trusting `ca`.
  std::vector<std::string> args(const std::string& name, const std::string& ca = "ca.pem") const {
    return {"--dist-tls", "--dist-cert", file(name + ".pem"), "--dist-key", file(name + ".key"),
            "--dist-ca",  file(ca)};
  }
  run_result openssl(std::vector<std::string> args) const {
    args.insert(args.begin(), openssl_binary());
    return run_process(args, {}, sb_.dir(), 60s);
  }

private:
  void make_ca(const std::string& name, const std::string& subject) const {
    auto run = openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", file(name + ".key"), "-out", file(name + ".pem"),
                        "-days", "2", "-subj", "/CN=" + subject});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
  }
  void make_cert(const std::string& name, const std::string& ca) const {
    auto request =
      openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
               file(name + ".key"), "-out", file(name + ".csr"), "-subj", "/CN=" + name});
    INFO(request.err);
    REQUIRE(request.exit_code == 0);
    auto sign = openssl({"x509", "-req", "-in", file(name + ".csr"), "-CA", file(ca + ".pem"),
                         "-CAkey", file(ca + ".key"), "-set_serial", std::to_string(++serial_),
                         "-days", "2", "-out", file(name + ".pem")});
    INFO(sign.err);
    REQUIRE(sign.exit_code == 0);
  }

  const sandbox& sb_;
  mutable int serial_ = 0;
};

// A TLS node of the sandbox; `cert` names its certificate and key.
node_process& start_tls(sandbox& sb, const pki& keys, const std::string& name,
                        const std::string& sys_config, const std::string& cert,
                        const std::string& ca = "ca.pem") {
  auto config = sb.config(name, sys_config);
  config.extra_args = keys.args(cert, ca);
  return sb.start(config);
}

run_result inspect(const sandbox& sb, std::vector<std::string> args) {
  args.insert(args.begin(), WATERCOOLER_BINARY);
  return run_process(args,
                     {{"ERL_EPMD_PORT", std::to_string(sb.epmd_port())}, {"HOME", sb.dir().path()}},
                     sb.dir(), 30s);
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The peer `peer` as `node` sees it, through a TLS inspector; null if not listed.
nlohmann::json peer_seen_by(const sandbox& sb, const pki& keys, const std::string& node,
                            const std::string& peer) {
  auto run = inspect(sb, with({"--inspect", node, "--only", "--json"}, keys.args("inspector")));
  INFO("stdout: ", run.out, "\nstderr: ", run.err);
  REQUIRE(run.exit_code == 0);
  auto doc = nlohmann::json::parse(run.out, nullptr, false);
  REQUIRE(!doc.is_discarded());
  for (const auto& p : doc["nodes"][0]["peers"])
    if (p["name"] == peer)
      return p;
  return nullptr;
}

// Waits until `node` reports an error for `peer` that contains `part`; returns that error.
std::string wait_peer_error(const sandbox& sb, const pki& keys, const std::string& node,
                            const std::string& peer, std::string_view part) {
  std::string error;
  for (auto deadline = in(30s); clock::now() < deadline;) {
    auto seen = peer_seen_by(sb, keys, node, peer);
    if (seen.is_object()) {
      CHECK(seen["state"] != "connected");
      error = seen["error"];
      if (contains(error, part))
        return error;
    }
  }
  return error;
}

// Waits until the node's log holds `part`.
bool wait_log(const node_process& node, std::string_view part) {
  for (auto deadline = in(30s); clock::now() < deadline;) {
    if (contains(node.log(), part))
      return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

} // namespace

TEST_CASE("two --dist-tls nodes deliver every message to every listener once, in order") {
  sandbox sb;
  pki keys(sb);
  auto config = sb.write_sys_config("sys.config", {node1, node2}, 3000);
  auto& first = start_tls(sb, keys, node1, config, "node1");
  auto& second = start_tls(sb, keys, node2, config, "node2");
  INFO(describe({&first, &second}));
  first.require_ready();
  second.require_ready();
  CHECK(contains(first.log(), " with TLS, port mapper"));

  sse_stream on1(first.port()), on2(second.port());
  require_flow(first, on2, in(30s));
  require_flow(second, on1, in(30s));
  const int per_node = 5;
  for (int i = 0; i < per_node; ++i) {
    CHECK(publish(first.port(), "from node1 #" + std::to_string(i)) == 303);
    CHECK(publish(second.port(), "from node2 #" + std::to_string(i)) == 303);
  }
  CHECK(publish(first.port(), "end of node1") == 303);
  CHECK(publish(second.port(), "end of node2") == 303);
  for (auto* listener : {&on1, &on2}) {
    int ends = 0;
    auto heard = listener->read_until(
      [&](const std::string& data) { return data.rfind("end of ", 0) == 0 && ++ends == 2; },
      in(20s));
    std::vector<std::string> from1, from2, expected1, expected2;
    for (const auto& data : heard)
      (contains(data, "node1") ? from1 : from2).push_back(data);
    for (int i = 0; i < per_node; ++i) {
      expected1.push_back("from node1 #" + std::to_string(i));
      expected2.push_back("from node2 #" + std::to_string(i));
    }
    expected1.push_back("end of node1");
    expected2.push_back("end of node2");
    CHECK(ends == 2);
    CHECK(from1 == expected1);
    CHECK(from2 == expected2);
  }

  // The node holds its files open: removed now, they still serve every new connection.
  for (const char* name : {"node1.pem", "node1.key"})
    REQUIRE(std::remove(keys.file(name).c_str()) == 0);

  // An inspector with a certificate of the CA sees both nodes, connected.
  auto seen = inspect(sb, with({"--inspect", node1, "--json"}, keys.args("inspector")));
  INFO("inspect: ", seen.out, seen.err);
  REQUIRE(seen.exit_code == 0);
  auto doc = nlohmann::json::parse(seen.out);
  REQUIRE(doc["nodes"].size() == 2);
  CHECK(doc["nodes"][1]["name"] == node2);
  CHECK(doc["nodes"][0]["peers"][0]["state"] == "connected");

  // Without TLS, or with a certificate of another CA, it gets one clear line and exit code 1.
  auto plain = inspect(sb, {"--inspect", node1});
  CHECK(plain.exit_code == 1);
  CHECK(plain.err.rfind("watercooler: cannot inspect node1@127.0.0.1: cannot connect: ", 0) == 0);
  CHECK(contains(plain.err, "(the node may use --dist-tls)\n"));
  auto rogue = inspect(sb, with({"--inspect", node1}, keys.args("rogue", "rogue-trust.pem")));
  CHECK(rogue.exit_code == 1);
  CHECK(rogue.err.rfind("watercooler: cannot inspect node1@127.0.0.1: cannot connect: ", 0) == 0);
  CHECK(contains(rogue.err, "TLS handshake failed: a certificate was refused, or the node does "
                            "not use --dist-tls)\n")); // either of CAF's two errors (see below)
  CHECK(wait_log(first, "TLS refused the certificate of a node dialling from 127.0.0.1:"));
  CHECK(contains(first.log(), " (/CN=rogue): "));

  // CAF itself, at the TLS level: a client without a certificate, or with one of another CA,
  // is turned away by the node's distribution port with the matching TLS alert.
  std::smatch port;
  auto log = first.log();
  REQUIRE(std::regex_search(log, port, std::regex("distribution port ([0-9]+) with TLS")));
  auto s_client = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"s_client", "-connect",          "127.0.0.1:" + port[1].str(),
                                  "-CAfile",  keys.file("ca.pem"), "-verify_return_error",
                                  "-ign_eof"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto run = keys.openssl(args);
    return run.out + run.err;
  };
  auto no_cert = s_client({});
  INFO("s_client: ", no_cert);
  CHECK(contains(no_cert, "Verify return code: 0 (ok)")); // the node's own certificate is good
  CHECK(contains(no_cert, "alert certificate required"));
  auto other_ca = s_client({"-cert", keys.file("rogue.pem"), "-key", keys.file("rogue.key")});
  INFO("s_client: ", other_ca);
  CHECK(contains(other_ca, "alert unknown ca"));

  // The nodes still serve each other: refused handshakes never cut their link.
  publish_everywhere(second.port(), "after the inspectors", {&on1, &on2});
  CHECK_FALSE(contains(first.log(), "lost node"));
  CHECK_FALSE(contains(second.log(), "lost node"));
}

TEST_CASE("a --dist-tls node with a certificate of another CA is refused by both sides") {
  sandbox sb;
  pki keys(sb);
  auto config = sb.write_sys_config("sys.config", {node1, node2, node3}, 1000);
  auto& first = start_tls(sb, keys, node1, config, "node1");
  auto& second = start_tls(sb, keys, node2, config, "node2");
  auto& rogue = start_tls(sb, keys, node3, config, "rogue", "rogue-trust.pem");
  INFO(describe({&first, &second, &rogue}));
  first.require_ready();
  second.require_ready();
  rogue.require_ready();

  sse_stream on1(first.port()), on2(second.port()), on3(rogue.port());
  require_flow(first, on2, in(30s));
  require_flow(second, on1, in(30s));

  // Both good nodes refuse the rogue's certificate when it dials them and when they dial it.
  for (auto* node : {&first, &second}) {
    CHECK(wait_log(*node, "TLS refused the certificate of a node dialling from 127.0.0.1:"));
    CHECK(wait_log(*node, "TLS refused the certificate of the node dialled at 127.0.0.1:"));
    CHECK(contains(node->log(), " (/CN=rogue): "));
    auto error = wait_peer_error(sb, keys, node->name(), node3, "TLS handshake failed");
    CHECK(error.rfind("cannot connect: ", 0) == 0);
    // CAF reports a refused handshake as disconnect_during_handshake or, depending on when the
    // other side hangs up, as cannot_connect_to_node: both carry the hint.
    CHECK(contains(error, "TLS handshake failed: a certificate was refused, or the node does not "
                          "use --dist-tls)"));
  }
  CHECK(wait_log(rogue, "waiting for node node1@127.0.0.1: cannot connect: "));
  CHECK(contains(rogue.log(), "TLS handshake failed"));

  // Their metrics show the rogue as a peer that is down.
  for (auto* node : {&first, &second}) {
    auto metrics = http_client(node->port())->Get("/metrics");
    REQUIRE(metrics);
    CHECK(contains(metrics->body, "watercooler_peer_up{node=\"node3@127.0.0.1\"} 0\n"));
  }

  // The good nodes keep serving each other; nothing reaches the rogue.
  publish_everywhere(first.port(), "not for the rogue", {&on1, &on2});
  CHECK_FALSE(on3.wait_for("not for the rogue", in(3s)));
  for (auto* node : {&first, &second, &rogue}) {
    CHECK(node->running());
    CHECK_FALSE(contains(node->log(), "connected to node " + node3));
  }
  CHECK_FALSE(contains(rogue.log(), "connected to node"));
}

TEST_CASE("a plain node and a --dist-tls node do not join, and both keep serving") {
  sandbox sb;
  pki keys(sb);
  auto config = sb.write_sys_config("sys.config", {node1, node2}, 1000);
  auto& secure = start_tls(sb, keys, node1, config, "node1");
  auto& plain = sb.start(sb.config(node2, config));
  INFO(describe({&secure, &plain}));
  secure.require_ready();
  plain.require_ready();

  auto error = wait_peer_error(sb, keys, node1, node2, "TLS handshake failed");
  CHECK(contains(error, "TLS handshake failed: a certificate was refused, or the node does not "
                        "use --dist-tls)"));
  CHECK(wait_log(plain, "waiting for node node1@127.0.0.1: cannot connect: "));
  CHECK(contains(plain.log(), "(the node may use --dist-tls)"));

  sse_stream on1(secure.port()), on2(plain.port());
  publish_everywhere(plain.port(), "plain only", {&on2});
  CHECK_FALSE(on1.wait_for("plain only", in(3s)));
  for (auto* node : {&secure, &plain}) {
    CHECK(node->running());
    CHECK_FALSE(contains(node->log(), "connected to node"));
  }
}

TEST_CASE("--dist-tls files that cannot serve are usage errors with exit code 2") {
  sandbox sb;
  pki keys(sb);
  auto run_node = [&](const std::vector<std::string>& tls) {
    auto args = with({WATERCOOLER_BINARY, "--name", node1}, tls);
    return run_process(args,
                       {{"ERL_EPMD_PORT", std::to_string(sb.epmd_port())},
                        {"PORT", std::to_string(free_port())},
                        {"SECURE_PORT", std::to_string(free_port())},
                        {"WATERCOOLER_STATE_DIR", sb.dir().file("state")}},
                       sb.dir(), 30s);
  };
  auto cert = keys.file("node1.pem"), key = keys.file("node1.key"), ca = keys.file("ca.pem");
  auto flags = [](const std::string& c, const std::string& k, const std::string& a) {
    return std::vector<std::string>{
      "--dist-tls", "--dist-cert", c, "--dist-key", k, "--dist-ca", a};
  };
  struct bad_case {
    const char* label;
    std::vector<std::string> tls;
    std::string error;
  };
  auto missing = keys.file("missing.pem");
  auto encrypted = keys.file("encrypted.key");
  auto encrypt =
    keys.openssl({"pkey", "-in", key, "-out", encrypted, "-aes256", "-passout", "pass:secret"});
  REQUIRE(encrypt.exit_code == 0);
  std::vector<bad_case> cases{
    {"missing file", flags(missing, key, ca),
     "watercooler: --dist-cert " + missing + ": cannot read it: No such file or directory\n"},
    {"a key as the certificate", flags(key, key, ca),
     "watercooler: --dist-cert " + key + " holds no PEM certificate\n"},
    {"an encrypted key", flags(cert, encrypted, ca),
     "watercooler: --dist-key " + encrypted + " holds no unencrypted PEM private key\n"},
    {"another certificate's key", flags(cert, keys.file("node2.key"), ca),
     "watercooler: --dist-key " + keys.file("node2.key") + " is not the private key of --dist-cert "
       + cert + "\n"},
    {"a certificate of another CA", flags(keys.file("rogue.pem"), keys.file("rogue.key"), ca),
     "watercooler: --dist-cert " + keys.file("rogue.pem") + " (/CN=rogue) does not verify against "
       + "--dist-ca " + ca + ": unable to get local issuer certificate\n"},
    {"a CA file without certificates", flags(cert, key, key),
     "watercooler: --dist-ca " + key + " holds no PEM certificate\n"},
    {"a missing flag",
     {"--dist-tls", "--dist-cert", cert, "--dist-key", key},
     "watercooler: --dist-tls needs --dist-cert FILE, --dist-key FILE and --dist-ca FILE\n"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    auto node = run_node(c.tls);
    CHECK(node.exit_code == 2);
    CHECK(node.err == c.error);
    auto inspector = inspect(sb, with({"--inspect", node1}, c.tls));
    CHECK(inspector.exit_code == 2);
    CHECK(inspector.err == c.error);
  }
}

} // namespace watercooler::integration
