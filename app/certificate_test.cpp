// Unit tests of the self-signed certificate kept in the state directory.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/certificate.hpp"

namespace watercooler {

namespace {

using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct temporary_directory {
  std::string path;
  temporary_directory() {
    char name[] = "/tmp/watercooler_certificate_XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~temporary_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

unsigned mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

tls_files ensured(const std::string& state_dir) {
  auto result = ensure_self_signed_certificate(state_dir);
  if (!result)
    FAIL(result.error);
  return *result;
}

x509_ptr load_certificate(const std::string& path) {
  std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "r"), &std::fclose);
  REQUIRE(file);
  x509_ptr certificate(PEM_read_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
  REQUIRE(certificate);
  return certificate;
}

pkey_ptr load_key(const std::string& path) {
  std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "r"), &std::fclose);
  REQUIRE(file);
  pkey_ptr key(PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  REQUIRE(key);
  return key;
}

std::vector<std::string> subject_alt_names(X509* certificate) {
  std::vector<std::string> names;
  auto* general_names = static_cast<GENERAL_NAMES*>(
    X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(general_names != nullptr);
  for (int i = 0; i < sk_GENERAL_NAME_num(general_names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(general_names, i);
    int type = 0;
    auto* value = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    std::string bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                      static_cast<std::size_t>(ASN1_STRING_length(value)));
    names.push_back((type == GEN_DNS ? "DNS:" : type == GEN_IPADD ? "IP:" : "other:") + bytes);
  }
  GENERAL_NAMES_free(general_names);
  return names;
}

// Replaces cert.pem with a certificate for the same key that ends `not_after_seconds` from now.
void rewrite_certificate_ending_in(const tls_files& files, long not_after_seconds) {
  auto key = load_key(files.key_path);
  x509_ptr certificate(X509_new(), &X509_free);
  REQUIRE(X509_set_version(certificate.get(), X509_VERSION_3) == 1);
  REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 1) == 1);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -30L * 24 * 60 * 60));
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(certificate.get()), not_after_seconds));
  X509_NAME* name = X509_get_subject_name(certificate.get());
  REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0)
          == 1);
  REQUIRE(X509_set_issuer_name(certificate.get(), name) == 1);
  REQUIRE(X509_set_pubkey(certificate.get(), key.get()) == 1);
  REQUIRE(X509_sign(certificate.get(), key.get(), EVP_sha256()) > 0);
  std::unique_ptr<FILE, decltype(&std::fclose)> file(
    std::fopen(files.certificate_path.c_str(), "w"), &std::fclose);
  REQUIRE(file);
  REQUIRE(PEM_write_X509(file.get(), certificate.get()) == 1);
}

// Restores an environment variable when the test ends.
struct saved_variable {
  std::string name;
  std::optional<std::string> value;
  explicit saved_variable(std::string variable) : name(std::move(variable)) {
    if (const char* current = std::getenv(name.c_str()))
      value = current;
  }
  ~saved_variable() {
    if (value)
      ::setenv(name.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
};

} // namespace

TEST_CASE("a missing state directory gets a private directory, key and certificate") {
  temporary_directory tmp;
  auto state_dir = tmp.path + "/state/watercooler";
  auto files = ensured(state_dir);
  CHECK(files.certificate_path == state_dir + "/cert.pem");
  CHECK(files.key_path == state_dir + "/key.pem");
  CHECK(mode_of(tmp.path + "/state") == 0700);
  CHECK(mode_of(state_dir) == 0700);
  CHECK(mode_of(files.key_path) == 0600);
  CHECK(mode_of(files.certificate_path) == 0644);
  CHECK(read_file(files.key_path).rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
  CHECK(read_file(files.certificate_path).rfind("-----BEGIN CERTIFICATE-----\n", 0) == 0);
  SUBCASE("no temporary files are left behind") {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(state_dir))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"cert.pem", "certificate.lock", "key.pem"});
  }
  SUBCASE("a trailing slash gives the same paths") {
    auto again = ensured(state_dir + "/");
    CHECK(again.certificate_path == state_dir + "/cert.pem");
    CHECK(again.key_path == state_dir + "/key.pem");
  }
}

TEST_CASE("the generated certificate is a self-signed localhost certificate for its key") {
  temporary_directory tmp;
  auto files = ensured(tmp.path);
  auto certificate = load_certificate(files.certificate_path);
  auto key = load_key(files.key_path);

  SUBCASE("the key matches the certificate") {
    CHECK(X509_check_private_key(certificate.get(), key.get()) == 1);
  }
  SUBCASE("the key is EC P-256") {
    CHECK(EVP_PKEY_is_a(key.get(), "EC") == 1);
    char group[64] = {};
    REQUIRE(EVP_PKEY_get_group_name(key.get(), group, sizeof group, nullptr) == 1);
    CHECK(std::string(group) == "prime256v1");
  }
  SUBCASE("subject and issuer are CN=localhost") {
    char common_name[64] = {};
    REQUIRE(X509_NAME_get_text_by_NID(X509_get_subject_name(certificate.get()), NID_commonName,
                                      common_name, sizeof common_name)
            > 0);
    CHECK(std::string(common_name) == "localhost");
    CHECK(X509_NAME_cmp(X509_get_subject_name(certificate.get()),
                        X509_get_issuer_name(certificate.get()))
          == 0);
    CHECK(X509_check_issued(certificate.get(), certificate.get()) == X509_V_OK);
  }
  SUBCASE("it names localhost, 127.0.0.1 and ::1") {
    CHECK(subject_alt_names(certificate.get())
          == std::vector<std::string>{"DNS:localhost", std::string("IP:\x7F\0\0\x01", 7),
                                      "IP:" + std::string(15, '\0') + "\x01"});
    CHECK(X509_check_host(certificate.get(), "localhost", 0, 0, nullptr) == 1);
    CHECK(X509_check_ip_asc(certificate.get(), "127.0.0.1", 0) == 1);
    CHECK(X509_check_ip_asc(certificate.get(), "::1", 0) == 1);
    CHECK(X509_check_host(certificate.get(), "example.com", 0, 0, nullptr) == 0);
  }
  SUBCASE("it is a v3 end-entity certificate for TLS servers") {
    CHECK(X509_get_version(certificate.get()) == X509_VERSION_3);
    CHECK(X509_check_ca(certificate.get()) == 0);
    CHECK((X509_get_extended_key_usage(certificate.get()) & XKU_SSL_SERVER) != 0);
    CHECK(X509_get0_subject_key_id(certificate.get()) != nullptr);
  }
  SUBCASE("it is signed with ECDSA SHA-256 by its own key") {
    CHECK(X509_get_signature_nid(certificate.get()) == NID_ecdsa_with_SHA256);
    CHECK(X509_verify(certificate.get(), key.get()) == 1);
  }
  SUBCASE("it is valid from now for 825 days") {
    int days = 0;
    int seconds = 0;
    REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(certificate.get()),
                           X509_get0_notAfter(certificate.get()))
            == 1);
    CHECK(days == 825);
    CHECK(seconds == 0);
    CHECK(X509_cmp_current_time(X509_get0_notBefore(certificate.get())) <= 0);
  }
  SUBCASE("its serial is a random positive number of at most 128 bits") {
    std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate.get()), nullptr), &BN_free);
    REQUIRE(serial);
    CHECK(BN_is_negative(serial.get()) == 0);
    CHECK(BN_num_bits(serial.get()) <= 128);
    CHECK(BN_num_bits(serial.get()) > 64); // fails with probability 2^-64

    temporary_directory other_tmp;
    auto other = load_certificate(ensured(other_tmp.path).certificate_path);
    CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(certificate.get()),
                           X509_get0_serialNumber(other.get()))
          != 0);
  }
}

TEST_CASE("a valid certificate and key are reused byte for byte") {
  temporary_directory tmp;
  auto first = ensured(tmp.path);
  auto certificate = read_file(first.certificate_path);
  auto key = read_file(first.key_path);
  auto second = ensured(tmp.path);
  CHECK(second.certificate_path == first.certificate_path);
  CHECK(second.key_path == first.key_path);
  CHECK(read_file(second.certificate_path) == certificate);
  CHECK(read_file(second.key_path) == key);
}

TEST_CASE("an unusable certificate or key is replaced by a new matching pair") {
  temporary_directory tmp;
  auto files = ensured(tmp.path);
  auto old_certificate = read_file(files.certificate_path);
  auto old_key = read_file(files.key_path);

  SUBCASE("a corrupt certificate") {
    write_file(files.certificate_path, "-----BEGIN CERTIFICATE-----\ngarbage\n");
  }
  SUBCASE("a truncated key") {
    write_file(files.key_path, old_key.substr(0, old_key.size() / 2));
  }
  SUBCASE("a missing certificate") {
    REQUIRE(::unlink(files.certificate_path.c_str()) == 0);
  }
  SUBCASE("a missing key") {
    REQUIRE(::unlink(files.key_path.c_str()) == 0);
  }
  SUBCASE("a key of another pair") {
    temporary_directory other_tmp;
    write_file(files.key_path, read_file(ensured(other_tmp.path).key_path));
  }
  SUBCASE("an expired certificate") {
    rewrite_certificate_ending_in(files, -60);
  }
  SUBCASE("a certificate expiring within a day") {
    rewrite_certificate_ending_in(files, 60 * 60);
  }

  auto replaced = ensured(tmp.path);
  CHECK(read_file(replaced.certificate_path) != old_certificate);
  CHECK(read_file(replaced.key_path) != old_key);
  CHECK(mode_of(replaced.key_path) == 0600);
  CHECK(mode_of(replaced.certificate_path) == 0644);
  auto certificate = load_certificate(replaced.certificate_path);
  auto key = load_key(replaced.key_path);
  CHECK(X509_check_private_key(certificate.get(), key.get()) == 1);
  CHECK(X509_cmp_current_time(X509_get0_notAfter(certificate.get())) > 0);
}

TEST_CASE("a certificate valid for more than a day is still reused") {
  temporary_directory tmp;
  auto files = ensured(tmp.path);
  rewrite_certificate_ending_in(files, 2L * 24 * 60 * 60);
  auto certificate = read_file(files.certificate_path);
  ensured(tmp.path);
  CHECK(read_file(files.certificate_path) == certificate);
}

TEST_CASE("an unusable state directory gives an error text instead of a crash") {
  temporary_directory tmp;
  SUBCASE("a regular file in the way") {
    write_file(tmp.path + "/file", "not a directory");
    auto result = ensure_self_signed_certificate(tmp.path + "/file/state");
    REQUIRE_FALSE(result);
    CHECK(result.error == "cannot create " + tmp.path + "/file/state: Not a directory");
  }
  SUBCASE("the state directory is a regular file") {
    write_file(tmp.path + "/file", "not a directory");
    auto result = ensure_self_signed_certificate(tmp.path + "/file");
    REQUIRE_FALSE(result);
    CHECK(result.error == "cannot create " + tmp.path + "/file: Not a directory");
  }
  SUBCASE("an empty path") {
    auto result = ensure_self_signed_certificate("");
    REQUIRE_FALSE(result);
    CHECK(result.error == "cannot use an empty state directory");
  }
  SUBCASE("a read-only directory") {
    if (::geteuid() == 0)
      return; // root writes anyway
    REQUIRE(::chmod(tmp.path.c_str(), 0500) == 0);
    auto result = ensure_self_signed_certificate(tmp.path);
    ::chmod(tmp.path.c_str(), 0700);
    REQUIRE_FALSE(result);
    CHECK(result.error == "cannot create " + tmp.path + "/certificate.lock: Permission denied");
  }
}

TEST_CASE("nodes ensuring a certificate at the same time end up sharing one matching pair") {
  temporary_directory tmp;
  std::vector<outcome<tls_files>> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results)
    threads.emplace_back([&] { result = ensure_self_signed_certificate(tmp.path); });
  for (auto& thread : threads)
    thread.join();
  for (const auto& result : results)
    CHECK(result);
  auto certificate = load_certificate(tmp.path + "/cert.pem");
  auto key = load_key(tmp.path + "/key.pem");
  CHECK(X509_check_private_key(certificate.get(), key.get()) == 1);
}

TEST_CASE("the default state directory follows the environment") {
  saved_variable own("WATERCOOLER_STATE_DIR");
  saved_variable xdg("XDG_STATE_HOME");
  saved_variable home("HOME");
  ::setenv("WATERCOOLER_STATE_DIR", "/srv/watercooler", 1);
  ::setenv("XDG_STATE_HOME", "/home/ada/.state", 1);
  ::setenv("HOME", "/home/ada", 1);

  SUBCASE("WATERCOOLER_STATE_DIR first") {
    CHECK(default_state_dir() == "/srv/watercooler");
  }
  SUBCASE("then XDG_STATE_HOME") {
    ::unsetenv("WATERCOOLER_STATE_DIR");
    CHECK(default_state_dir() == "/home/ada/.state/watercooler");
  }
  SUBCASE("then HOME") {
    ::unsetenv("WATERCOOLER_STATE_DIR");
    ::unsetenv("XDG_STATE_HOME");
    CHECK(default_state_dir() == "/home/ada/.local/state/watercooler");
  }
  SUBCASE("then the working directory") {
    ::unsetenv("WATERCOOLER_STATE_DIR");
    ::unsetenv("XDG_STATE_HOME");
    ::unsetenv("HOME");
    CHECK(default_state_dir() == "./.watercooler");
  }
  SUBCASE("empty variables count as unset") {
    ::setenv("WATERCOOLER_STATE_DIR", "", 1);
    ::setenv("XDG_STATE_HOME", "", 1);
    CHECK(default_state_dir() == "/home/ada/.local/state/watercooler");
  }
  SUBCASE("a relative XDG_STATE_HOME is ignored") {
    ::unsetenv("WATERCOOLER_STATE_DIR");
    ::setenv("XDG_STATE_HOME", "relative/state", 1);
    CHECK(default_state_dir() == "/home/ada/.local/state/watercooler");
  }
}

} // namespace watercooler
