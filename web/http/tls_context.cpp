// TLS 1.2 and up, no compression or renegotiation, HTTP/2 or HTTP/1.1 by ALPN.
#include "web/http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace watercooler {

namespace {

// ALPN: HTTP/2 if the client offers it, else HTTP/1.1; a client that offers neither goes on
// without ALPN (and is served HTTP/1.1).
int select_protocol(SSL*, const unsigned char** out, unsigned char* out_length,
                    const unsigned char* offered, unsigned int offered_length, void*) {
  static const unsigned char ours[] = "\x02h2\x08http/1.1";
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length, ours, sizeof(ours) - 1, offered, offered_length)
      != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

} // namespace

std::shared_ptr<SSL_CTX> server_tls(const std::string& certificate_chain,
                                    const std::string& private_key, std::string& error) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx) {
    error = "cannot create a TLS context";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certificate_chain.c_str()) != 1
      || SSL_CTX_use_PrivateKey_file(ctx.get(), private_key.c_str(), SSL_FILETYPE_PEM) != 1
      || SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    error = "cannot use the certificate " + certificate_chain + " with the key " + private_key;
    return nullptr;
  }
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_protocol, nullptr);
  return ctx;
}

} // namespace watercooler
