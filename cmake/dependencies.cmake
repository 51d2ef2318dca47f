# Every dependency comes from a Debian package (scripts/setup installs them).
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)

# CAF 0.17 ships no CMake config on Debian: headers in /usr/include/caf, libs caf_core/caf_io
# and caf_openssl (--dist-tls).
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIB caf_core REQUIRED)
find_library(CAF_IO_LIB caf_io REQUIRED)
find_library(CAF_OPENSSL_LIB caf_openssl REQUIRED)
add_library(caf::core INTERFACE IMPORTED)
target_include_directories(caf::core INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(caf::core INTERFACE ${CAF_CORE_LIB} Threads::Threads)
add_library(caf::io INTERFACE IMPORTED)
target_link_libraries(caf::io INTERFACE ${CAF_IO_LIB} caf::core)
add_library(caf::openssl INTERFACE IMPORTED)
target_link_libraries(caf::openssl INTERFACE ${CAF_OPENSSL_LIB} caf::io OpenSSL::SSL OpenSSL::Crypto)

# cpp-httplib is a compiled library; its pkg-config flags are part of its ABI.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# HTTP/2: framing, HPACK, flow control and stream states.
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)

find_package(nlohmann_json 3 REQUIRED)
find_package(doctest REQUIRED)
