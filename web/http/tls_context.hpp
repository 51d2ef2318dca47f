// The server side of TLS for the HTTPS port: certificate, protocol versions, and ALPN.
#pragma once

#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace watercooler {

// A TLS server context with a certificate chain and key from PEM files; nullptr (and `error`) if
// they cannot be used.
std::shared_ptr<SSL_CTX> server_tls(const std::string& certificate_chain,
                                    const std::string& private_key, std::string& error);

} // namespace watercooler
