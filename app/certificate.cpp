// Makes or reuses the self-signed HTTPS certificate; OpenSSL 3, errors returned as text.
#include "app/certificate.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <system_error>

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/outcome.hpp"

namespace watercooler {

namespace {

using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using file_ptr = std::unique_ptr<FILE, decltype(&std::fclose)>;

constexpr int validity_days = 825; // the most Apple platforms accept for a TLS server
constexpr long renew_margin_seconds = 24 * 60 * 60;

std::string system_error(const std::string& what, const std::string& path) {
  return "cannot " + what + " " + path + ": "
         + std::error_code(errno, std::generic_category()).message();
}

// Takes the whole OpenSSL error queue so it does not leak into later calls.
std::string openssl_error(const std::string& what) {
  std::string reason;
  while (auto code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    reason = text; // the last one is the outermost
  }
  return "cannot " + what + ": " + (reason.empty() ? "unknown OpenSSL error" : reason);
}

// Never prompts for a passphrase on the terminal: an encrypted key just fails to load.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

// mkdir -p with mode 0700 for every directory it creates.
outcome<void> make_directories(const std::string& dir) {
  for (auto slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    auto prefix = dir.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return outcome<void>::fail(system_error("create", prefix));
    if (slash == std::string::npos)
      break;
  }
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0)
    return outcome<void>::fail(system_error("create", dir));
  if (!S_ISDIR(info.st_mode)) {
    errno = ENOTDIR;
    return outcome<void>::fail(system_error("create", dir));
  }
  return outcome<void>::ok();
}

x509_ptr read_certificate(const std::string& path) {
  file_ptr file(std::fopen(path.c_str(), "re"), &std::fclose);
  if (!file)
    return {nullptr, &X509_free};
  return {PEM_read_X509(file.get(), nullptr, no_passphrase, nullptr), &X509_free};
}

pkey_ptr read_private_key(const std::string& path) {
  file_ptr file(std::fopen(path.c_str(), "re"), &std::fclose);
  if (!file)
    return {nullptr, &EVP_PKEY_free};
  return {PEM_read_PrivateKey(file.get(), nullptr, no_passphrase, nullptr), &EVP_PKEY_free};
}

bool reusable(const tls_files& files) {
  auto certificate = read_certificate(files.certificate_path);
  auto key = read_private_key(files.key_path);
  auto renew_at = std::time(nullptr) + renew_margin_seconds;
  bool ok = certificate && key && X509_check_private_key(certificate.get(), key.get()) == 1
            && X509_cmp_time(X509_get0_notAfter(certificate.get()), &renew_at) > 0;
  ERR_clear_error(); // a missing or corrupt file is expected here, not an error
  return ok;
}

bool add_extension(X509* certificate, X509V3_CTX* context, int nid, const char* value) {
  X509_EXTENSION* extension = X509V3_EXT_nconf_nid(nullptr, context, nid, value);
  if (!extension)
    return false;
  bool ok = X509_add_ext(certificate, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return ok;
}

x509_ptr make_certificate(EVP_PKEY* key) {
  x509_ptr certificate(X509_new(), &X509_free);
  unsigned char serial_bytes[16];
  if (!certificate || X509_set_version(certificate.get(), X509_VERSION_3) != 1
      || RAND_bytes(serial_bytes, sizeof serial_bytes) != 1)
    return {nullptr, &X509_free};
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(
    BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr), &BN_free);
  if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())))
    return {nullptr, &X509_free};
  X509_NAME* name = X509_get_subject_name(certificate.get());
  auto localhost = reinterpret_cast<const unsigned char*>("localhost");
  X509V3_CTX context;
  X509V3_set_ctx(&context, certificate.get(), certificate.get(), nullptr, nullptr, 0);
  bool ok =
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0)
    && X509_time_adj_ex(X509_getm_notAfter(certificate.get()), validity_days, 0, nullptr)
    && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, localhost, -1, -1, 0) == 1
    && X509_set_issuer_name(certificate.get(), name) == 1
    && X509_set_pubkey(certificate.get(), key) == 1
    && add_extension(certificate.get(), &context, NID_basic_constraints, "critical,CA:FALSE")
    && add_extension(certificate.get(), &context, NID_subject_key_identifier, "hash")
    && add_extension(certificate.get(), &context, NID_ext_key_usage, "serverAuth")
    && add_extension(certificate.get(), &context, NID_subject_alt_name,
                     "DNS:localhost,IP:127.0.0.1,IP:::1")
    && X509_sign(certificate.get(), key, EVP_sha256()) > 0;
  if (!ok)
    return {nullptr, &X509_free};
  return certificate;
}

// Writes a temporary file with `mode` from the start, then renames it over `path`, so a reader
// sees the old file or the whole new one.
outcome<void> write_atomically(const std::string& path, mode_t mode,
                               const std::function<bool(FILE*)>& write) {
  std::string temporary = path + ".XXXXXX";
  int fd = ::mkstemp(temporary.data()); // O_EXCL, mode 0600
  if (fd < 0)
    return outcome<void>::fail(system_error("create", temporary));
  auto fail = [&](std::string error) {
    ::unlink(temporary.c_str());
    return outcome<void>::fail(std::move(error));
  };
  if (::fchmod(fd, mode) != 0) {
    auto error = system_error("change mode of", temporary);
    ::close(fd);
    return fail(error);
  }
  file_ptr file(::fdopen(fd, "w"), &std::fclose);
  if (!file) {
    auto error = system_error("open", temporary);
    ::close(fd);
    return fail(error);
  }
  if (!write(file.get()))
    return fail(openssl_error("write " + temporary));
  if (std::fflush(file.get()) != 0 || ::fsync(fd) != 0)
    return fail(system_error("write", temporary));
  if (std::fclose(file.release()) != 0)
    return fail(system_error("write", temporary));
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    return fail(system_error("rename " + temporary + " to", path));
  return outcome<void>::ok();
}

} // namespace

outcome<tls_files> ensure_self_signed_certificate(const std::string& state_dir) {
  using result = outcome<tls_files>;
  if (state_dir.empty())
    return result::fail("cannot use an empty state directory");
  if (auto made = make_directories(state_dir); !made)
    return result::fail(made.error);
  std::string prefix = state_dir.back() == '/' ? state_dir : state_dir + "/";
  tls_files files{prefix + "cert.pem", prefix + "key.pem"};

  // Nodes starting together take turns, so they never write mismatched halves of two pairs.
  auto lock_path = prefix + "certificate.lock";
  fd_guard lock{::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)};
  if (lock.fd < 0)
    return result::fail(system_error("create", lock_path));
  int locked;
  while ((locked = ::flock(lock.fd, LOCK_EX)) != 0 && errno == EINTR) {
  }
  if (locked != 0)
    return result::fail(system_error("lock", lock_path));

  if (reusable(files))
    return result::ok(files);

  pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  if (!key)
    return result::fail(openssl_error("generate an EC P-256 key"));
  auto certificate = make_certificate(key.get());
  if (!certificate)
    return result::fail(openssl_error("make a certificate"));
  auto write_key = [&](FILE* file) {
    return PEM_write_PrivateKey(file, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  };
  if (auto written = write_atomically(files.key_path, 0600, write_key); !written)
    return result::fail(written.error);
  auto write_certificate = [&](FILE* file) { return PEM_write_X509(file, certificate.get()) == 1; };
  if (auto written = write_atomically(files.certificate_path, 0644, write_certificate); !written)
    return result::fail(written.error);
  return result::ok(files);
}

std::string default_state_dir() {
  auto variable = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value ? value : "";
  };
  if (auto dir = variable("WATERCOOLER_STATE_DIR"); !dir.empty())
    return dir;
  // The XDG base directory spec ignores relative paths.
  if (auto dir = variable("XDG_STATE_HOME"); !dir.empty() && dir.front() == '/')
    return dir + "/watercooler";
  if (auto dir = variable("HOME"); !dir.empty())
    return dir + "/.local/state/watercooler";
  return "./.watercooler";
}

} // namespace watercooler
