// The cookie handshake as the dialling side runs it; the gate (gate.cpp) is the other side.
#include "actors/handshake_client.hpp"

#include <memory>
#include <set>
#include <utility>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/protocol.hpp"
#include "actors/wire/handshake.hpp"
#include "actors/wire/message_text.hpp"

namespace watercooler {

namespace {

using failed_fn = std::function<void(const std::string&)>;

std::string duration_text(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + " s"
                               : std::to_string(d.count()) + " ms";
}

// An error as one phrase: a timeout, the refusal's own words (as a gate refuses), or CAF's.
std::string explain(caf::actor_system& system, const caf::error& err,
                    std::chrono::milliseconds timeout) {
  if (err == caf::sec::request_timeout)
    return "no answer within " + duration_text(timeout) + " (is the node hung?)";
  if (auto words = refusal_text(err)) {
    auto text = words->substr(0, 200);
    for (auto& c : text) // the other node's words, for our log
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        c = '?';
    return text;
  }
  return error_text(system, err);
}

std::string connect_failure(caf::actor_system& system, const caf::error& err, bool tls,
                            std::chrono::milliseconds timeout) {
  auto text = "cannot connect: " + explain(system, err, timeout);
  // A TLS handshake that fails, or TLS meeting plain BASP, ends the connection before CAF's own
  // handshake: CAF cannot tell which it was.
  // Which of the two CAF reports depends on when the other side hangs up (both were seen).
  constexpr const char* tls_hint =
    "TLS handshake failed: a certificate was refused, or the node does not use --dist-tls)";
  if (err == caf::sec::disconnect_during_handshake)
    text += tls ? std::string(" (") + tls_hint : " (the node may use --dist-tls)";
  else if (tls && err == caf::sec::cannot_connect_to_node)
    text += std::string(" (the node is down, or the ") + tls_hint;
  return text;
}

// The first steps of every role: connect (CAF's handshake, TLS's too), then (challenge).
void approach_gate(caf::event_based_actor* self, const gate_address& to,
                   std::function<void(const caf::actor&, const std::string&)> challenged,
                   failed_fn failed) {
  auto timeout = to.timeout;
  auto tls = to.tls;
  self->request(to.connector, timeout, caf::connect_atom::value, to.host, to.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        auto gate = caf::actor_cast<caf::actor>(std::move(ptr));
        if (!gate)
          return failed("the node publishes no gate");
        self->request(gate, timeout, challenge_atom::value)
          .then([=](const std::string& challenge) { challenged(gate, challenge); },
                [=](const caf::error& err) {
                  failed("no challenge: " + explain(self->system(), err, timeout));
                });
      },
      [=](const caf::error& err) { failed(connect_failure(self->system(), err, tls, timeout)); });
}

} // namespace

/* CHALLENGE, then HELLO <from> <dist port> <proof> <our challenge> <our gate> */
void greet_gate(caf::event_based_actor* self, const gate_address& to, const std::string& from,
                uint16_t dist_port, const caf::actor& own_gate,
                std::function<void(const caf::actor&, const std::vector<std::string>&)> greeted,
                failed_fn failed) {
  auto challenged = [=](const caf::actor& gate, const std::string& challenge) {
    auto ours = new_challenge();
    auto proof = prove(to.cookie, proof_role::dial, challenge, from, to.node);
    self->request(gate, to.timeout, hello_atom::value, from, dist_port, proof, ours, own_gate)
      .then(
        [=](bool accepted, const std::string& who, const std::string& back,
            const std::vector<std::string>& peers) {
          if (!accepted)
            return failed("refused by " + to.node + ": " + who);
          if (who != to.node)
            return failed("the node there calls itself " + who);
          if (!same_proof(prove(to.cookie, proof_role::answer, ours, to.node, from), back))
            return failed("the node there does not know our cookie");
          greeted(gate, peers);
        },
        [=](const caf::error& err) {
          failed("no handshake: " + explain(self->system(), err, to.timeout));
        });
  };
  approach_gate(self, to, challenged, failed);
}

/* CHALLENGE, then INSPECT <proof> */
void inspect_gate(caf::event_based_actor* self, const gate_address& to,
                  std::function<void(node_report)> inspected, failed_fn failed) {
  auto challenged = [=](const caf::actor& gate, const std::string& challenge) {
    auto proof = prove(to.cookie, proof_role::inspect, challenge, "inspect", to.node);
    self->request(gate, to.timeout, inspect_atom::value, proof)
      .then([=](node_report& report) { inspected(std::move(report)); },
            [=](const caf::error& err) {
              failed("refused: " + explain(self->system(), err, to.timeout));
            });
  };
  approach_gate(self, to, challenged, failed);
}

outcome<node_report> inspect_node(caf::actor_system& system, const gate_address& to) {
  // The handshake runs on a short-lived actor that answers the waiting thread once. The address is
  // a spawn argument, not a capture: CAF 0.17 dereferences a null argument tuple for an actor
  // spawned without arguments (UBSan stops there).
  auto run = [](caf::event_based_actor* self, gate_address gate) -> caf::behavior {
    return {
      [=](report_atom) -> caf::result<node_report> {
        auto promise = self->make_response_promise<node_report>();
        inspect_gate(
          self, gate,
          [=](node_report report) mutable {
            promise.deliver(std::move(report));
            self->quit();
          },
          [=](const std::string& why) mutable {
            promise.deliver(make_error(refusal::unreachable, why));
            self->quit();
          });
        return promise;
      },
    };
  };
  auto client = system.spawn(run, to);
  auto out = outcome<node_report>::fail("no answer from the handshake");
  caf::scoped_actor waiter{system};
  waiter->request(client, 3 * to.timeout + std::chrono::seconds(1), report_atom::value)
    .receive([&](node_report& report) { out = outcome<node_report>::ok(std::move(report)); },
             [&](const caf::error& err) {
               auto words = refusal_text(err);
               out = outcome<node_report>::fail(words ? *words : error_text(system, err));
             });
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  return out;
}

} // namespace watercooler
