// Fuzzes the front's request reader with a connection's bytes: split anywhere, it reads the same
// requests and refusals; it never uses more than it is given, never keeps more than its limits
// allow, and what it hands to httplib is framed as it read it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "web/http/request_reader.hpp"

namespace {

using watercooler::request_reader;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "request_reader_fuzz: %s\n", what);
  std::abort();
}

const request_reader::limits limits{2048, 512};

// What a connection gets out of `bytes` fed in pieces of `step`: each request, then the refusal.
std::vector<std::string> read_all(std::string_view bytes, std::size_t step) {
  request_reader reader(limits);
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    auto piece = bytes.substr(at, std::min(step, bytes.size() - at));
    auto used = reader.feed(piece);
    if (used > piece.size())
      fail("used more than it was given");
    at += used;
    if (reader.current() == request_reader::state::complete) {
      auto request = reader.take();
      if (request.size() > limits.max_header + limits.max_body + 16 * 1024 + 256)
        fail("kept more than its limits");
      if (request.find("\r\n\r\n") == std::string::npos)
        fail("a request without the end of its head");
      out.push_back(request);
      continue;
    }
    if (reader.current() == request_reader::state::refused) {
      auto status = reader.refusal().status;
      if (status < 400 || status > 499 || reader.refusal().reason.empty())
        fail("a refusal without a 4xx status and a reason");
      out.push_back("refused " + std::to_string(status));
      break;
    }
    if (used < piece.size())
      fail("stopped early without a request or a refusal");
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  // The first byte chooses how the rest arrives.
  std::size_t step = 1 + data[0] % 17;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto whole = read_all(bytes, bytes.size() + 1);
  if (read_all(bytes, step) != whole)
    fail("the requests depend on how the bytes were split");
  // Each request read is read again alone, whole and the same.
  for (const auto& request : whole)
    if (request.rfind("refused ", 0) != 0
        && read_all(request, request.size()) != std::vector<std::string>{request})
      fail("a request read alone is not itself");
  return 0;
}
