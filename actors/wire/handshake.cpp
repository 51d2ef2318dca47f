// HMAC-SHA256 and random challenges from OpenSSL's libcrypto.
#include "actors/wire/handshake.hpp"

#include <array>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace watercooler {

namespace {

std::string hex(const unsigned char* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xf];
  }
  return out;
}

const char* role_name(proof_role role) {
  switch (role) {
    case proof_role::dial:
      return "dial";
    case proof_role::answer:
      return "answer";
    case proof_role::inspect:
      return "inspect";
  }
  return "?";
}

} // namespace

std::string new_challenge() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("OpenSSL has no random bytes to give");
  return hex(bytes.data(), bytes.size());
}

std::string prove(const std::string& cookie, proof_role role, const std::string& challenge,
                  const std::string& from, const std::string& to) {
  // Lengths before each field: no two different tuples sign the same bytes.
  std::string signed_bytes = "watercooler-1";
  for (const std::string& field : {std::string(role_name(role)), challenge, from, to})
    signed_bytes += '|' + std::to_string(field.size()) + ':' + field;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), cookie.data(), static_cast<int>(cookie.size()),
       reinterpret_cast<const unsigned char*>(signed_bytes.data()), signed_bytes.size(),
       digest.data(), &length);
  return hex(digest.data(), length);
}

bool same_proof(const std::string& expected, const std::string& given) {
  return expected.size() == given.size() && !expected.empty()
         && CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

} // namespace watercooler
