// The cookie handshake between nodes, as Erlang's: each side proves it knows the cluster cookie by
// answering the other's random challenge; the cookie itself never crosses the wire.
#pragma once

#include <string>

namespace watercooler {

// 32 random bytes from OpenSSL, in hex: a challenge nobody can guess or replay.
std::string new_challenge();

// Who proves what to whom: a dialling node to the node it dials, the dialled node back to the
// dialler, or an inspector to the node it inspects. The role, both names and the challenge are
// all signed, so an answer cannot be replayed in another direction or towards another node.
enum class proof_role { dial, answer, inspect };

// HMAC-SHA256 of (role, challenge, from, to) keyed with the cookie, in hex.
std::string prove(const std::string& cookie, proof_role role, const std::string& challenge,
                  const std::string& from, const std::string& to);

// Compares in constant time: how long it takes says nothing of where the proofs differ.
bool same_proof(const std::string& expected, const std::string& given);

} // namespace watercooler
