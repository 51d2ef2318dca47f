// Checks and holds the --dist-tls files, hands them to CAF's OpenSSL module, logs the peer
// certificates it refuses and repairs its error handling.
#include "app/dist_tls.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/log.hpp"

namespace watercooler {

namespace {

struct bio_free {
  void operator()(BIO* b) const {
    BIO_free(b);
  }
};
struct x509_free {
  void operator()(X509* x) const {
    X509_free(x);
  }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const {
    EVP_PKEY_free(k);
  }
};
struct store_free {
  void operator()(X509_STORE* s) const {
    X509_STORE_free(s);
  }
};
struct store_ctx_free {
  void operator()(X509_STORE_CTX* c) const {
    X509_STORE_CTX_free(c);
  }
};
struct chain_free {
  void operator()(STACK_OF(X509) * s) const {
    sk_X509_pop_free(s, X509_free);
  }
};
using x509_ptr = std::unique_ptr<X509, x509_free>;

// Refuses to ask for a passphrase: OpenSSL would prompt on the terminal, and so would CAF.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

// An open file descriptor, closed at scope exit unless kept.
class held_file {
public:
  held_file() = default;
  held_file(const held_file&) = delete;
  held_file& operator=(const held_file&) = delete;
  ~held_file() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  // Opens `path`; otherwise why not: "--dist-ca FILE: cannot read it: No such file...".
  outcome<void> open(const std::string& flag, const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode))
      errno = EISDIR;
    else if (fd_ >= 0)
      return outcome<void>::ok();
    return outcome<void>::fail(flag + " " + path + ": cannot read it: " + std::strerror(errno));
  }
  // A path that opens this very file as long as the process lives, even if it is replaced or
  // removed meanwhile.
  std::string proc_path() const {
    return "/proc/self/fd/" + std::to_string(fd_);
  }
  std::unique_ptr<BIO, bio_free> bio() const {
    return std::unique_ptr<BIO, bio_free>{BIO_new_file(proc_path().c_str(), "rb")};
  }
  void keep() {
    fd_ = -1;
  }

private:
  int fd_ = -1;
};

// Every PEM certificate in the file, in order.
std::vector<x509_ptr> read_certificates(BIO* bio) {
  std::vector<x509_ptr> result;
  while (X509* x = PEM_read_bio_X509(bio, nullptr, no_passphrase, nullptr))
    result.emplace_back(x);
  ERR_clear_error(); // the end of the file reads as an error
  return result;
}

std::string subject_of(X509* x) {
  if (x == nullptr)
    return "(none)";
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof(buf));
  return buf;
}

std::atomic<bool> logging_refusals{false};
std::atomic<unsigned> refused_dialling{0}; // certificates of nodes that dialled us
std::atomic<unsigned> refused_dialled{0};  // certificates of nodes we dialled

std::string peer_address(SSL* ssl) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (ssl == nullptr || getpeername(SSL_get_fd(ssl), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
    port = ntohs(in4->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

// OpenSSL's verdict stands; this only says it out loud. A node that redials keeps being
// refused, so each direction logs its first five refusals and then every hundredth.
int log_refusal(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1)
    return ok;
  auto* ssl =
    static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  bool server = ssl != nullptr && SSL_is_server(ssl) == 1;
  auto n = ++(server ? refused_dialling : refused_dialled);
  if (n > 5 && n % 100 != 0)
    return ok;
  // The peer's own certificate, then what failed: it or a certificate of its chain.
  auto* leaf = X509_STORE_CTX_get0_cert(ctx);
  auto* failed = X509_STORE_CTX_get_current_cert(ctx);
  log_line("TLS refused the certificate of ",
           server ? "a node dialling from " : "the node dialled at ", peer_address(ssl), " (",
           subject_of(leaf), "): ", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)),
           failed != nullptr && failed != leaf ? " at " + subject_of(failed) : "", " (", n,
           " refused so far)");
  return ok;
}

} // namespace

outcome<dist_tls_files> load_dist_tls(const dist_tls_files& files) {
  using result = outcome<dist_tls_files>;
  held_file cert_file, key_file, ca_file;
  if (auto opened = cert_file.open("--dist-cert", files.certificate); !opened)
    return result::fail(opened.error);
  if (auto opened = key_file.open("--dist-key", files.key); !opened)
    return result::fail(opened.error);
  if (auto opened = ca_file.open("--dist-ca", files.ca); !opened)
    return result::fail(opened.error);
  auto cert_bio = cert_file.bio();
  auto key_bio = key_file.bio();
  auto ca_bio = ca_file.bio();
  if (!cert_bio || !key_bio || !ca_bio)
    return result::fail("cannot read the --dist-tls files: /proc/self/fd is not available");

  auto chain = read_certificates(cert_bio.get());
  if (chain.empty())
    return result::fail("--dist-cert " + files.certificate + " holds no PEM certificate");
  std::unique_ptr<EVP_PKEY, pkey_free> key{
    PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr)};
  ERR_clear_error();
  if (!key)
    return result::fail("--dist-key " + files.key + " holds no unencrypted PEM private key");
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return result::fail("--dist-key " + files.key + " is not the private key of --dist-cert "
                        + files.certificate);
  }
  auto authorities = read_certificates(ca_bio.get());
  if (authorities.empty())
    return result::fail("--dist-ca " + files.ca + " holds no PEM certificate");

  // Our own certificate must pass the check our peers will make, or no peer lets us in.
  std::unique_ptr<X509_STORE, store_free> store{X509_STORE_new()};
  for (const auto& ca : authorities)
    X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<STACK_OF(X509), chain_free> untrusted{sk_X509_new_null()};
  for (size_t i = 1; i < chain.size(); ++i)
    sk_X509_push(untrusted.get(), X509_dup(chain[i].get()));
  std::unique_ptr<X509_STORE_CTX, store_ctx_free> ctx{X509_STORE_CTX_new()};
  if (!ctx
      || X509_STORE_CTX_init(ctx.get(), store.get(), chain.front().get(), untrusted.get()) != 1)
    return result::fail("cannot check --dist-cert " + files.certificate + " (out of memory)");
  if (X509_verify_cert(ctx.get()) != 1) {
    auto why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    ERR_clear_error();
    return result::fail("--dist-cert " + files.certificate + " (" + subject_of(chain.front().get())
                        + ") does not verify against --dist-ca " + files.ca + ": " + why);
  }
  dist_tls_files held{cert_file.proc_path(), key_file.proc_path(), ca_file.proc_path()};
  for (auto* file : {&cert_file, &key_file, &ca_file})
    file->keep();
  return result::ok(std::move(held));
}

void configure_dist_tls(caf::actor_system_config& cfg, const dist_tls_files& files) {
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = files.certificate;
  cfg.openssl_key = files.key;
  cfg.openssl_cafile = files.ca;
}

void log_refused_certificates() {
  logging_refusals = true;
}

} // namespace watercooler

// Two repairs to CAF 0.17's OpenSSL module, made by defining OpenSSL functions in the program:
// the executable comes first in symbol lookup, so libcaf_openssl (and the rest of the process)
// calls these, and they call libssl's own through dlsym(RTLD_NEXT).
namespace {

template <class Fn>
Fn libssl(const char* name) {
  static_assert(sizeof(Fn) == sizeof(void*));
  void* symbol = dlsym(RTLD_NEXT, name);
  if (symbol == nullptr) {
    watercooler::log_line("libssl has no ", name);
    std::abort();
  }
  Fn fn;
  std::memcpy(&fn, &symbol, sizeof(fn));
  return fn;
}

} // namespace

// 1. CAF builds a fresh SSL_CTX for every connection, asks OpenSSL to verify the peer without a
// callback, and reports a failed handshake only at a log level the Debian build leaves out. Here
// it gets a callback that logs refusals; OpenSSL's decision is unchanged, and other callers and
// callbacks pass through as they are.
extern "C" void SSL_CTX_set_verify(SSL_CTX* ctx, int mode, SSL_verify_cb callback) {
  static const auto real = libssl<void (*)(SSL_CTX*, int, SSL_verify_cb)>("SSL_CTX_set_verify");
  if (callback == nullptr && (mode & SSL_VERIFY_PEER) != 0 && watercooler::logging_refusals)
    callback = watercooler::log_refusal;
  real(ctx, mode, callback);
}

// 2. SSL_get_error reads the thread's error queue, which must be empty before each TLS I/O call.
// CAF never empties it, and all its connections share one thread: after any failed handshake
// or a peer that hangs up without close_notify, the next "want read" of another connection read
// as a fatal error and CAF closed that healthy connection. Emptying the queue first cures that.
extern "C" int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = libssl<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

extern "C" int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = libssl<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

extern "C" int SSL_accept(SSL* ssl) {
  static const auto real = libssl<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

extern "C" int SSL_connect(SSL* ssl) {
  static const auto real = libssl<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}
