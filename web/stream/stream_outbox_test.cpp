// Unit tests of a plain stream's outbox, on a socket pair.
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "web/stream/stream_outbox.hpp"

namespace watercooler {

namespace {

struct socket_pair {
  int server = -1; // the outbox writes here
  int client = -1;

  explicit socket_pair(int buffer = 0) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    server = fds[0];
    client = fds[1];
    if (buffer > 0)
      ::setsockopt(server, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
  }
  ~socket_pair() {
    ::close(server);
    ::close(client);
  }

  std::string read_all() {
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(client, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
      out.append(buf, static_cast<size_t>(n));
    return out;
  }
};

} // namespace

TEST_CASE("an outbox writes its pieces in order and reports each one written") {
  socket_pair pair;
  stream_outbox outbox(pair.server);
  outbox.push({"head\n"});
  outbox.push({"one\n", 1, 111});
  outbox.push({""}); // nothing to write is no piece
  outbox.push({"two\n", 2, 222});
  CHECK(outbox.events() == 3);
  CHECK(outbox.bytes() == 13);
  std::vector<std::string> written;
  CHECK(outbox.flush([&](const stream_outbox::piece& p) {
    written.push_back(std::string(p.bytes()));
  }) == stream_outbox::result::done);
  CHECK(written == std::vector<std::string>{"head\n", "one\n", "two\n"});
  CHECK(outbox.empty());
  CHECK(outbox.events() == 0);
  CHECK(outbox.bytes() == 0);
  CHECK(pair.read_all() == "head\none\ntwo\n");
}

TEST_CASE("an outbox on a full socket keeps the rest and drops only pieces not started") {
  socket_pair pair(4096);
  stream_outbox outbox(pair.server);
  std::string big(100000, 'a');
  outbox.push({big, 1, 1});
  outbox.push({std::string(50, 'b'), 1, 2});
  outbox.push({std::string(50, 'c'), 1, 3});
  int written = 0;
  auto count = [&](const stream_outbox::piece&) { ++written; };
  REQUIRE(outbox.flush(count) == stream_outbox::result::blocked);
  CHECK(written == 0);
  CHECK(outbox.events() == 3);
  auto first = pair.read_all();
  REQUIRE(!first.empty());
  REQUIRE(first.size() < big.size());
  CHECK(outbox.bytes() == big.size() + 100 - first.size());
  // Falling behind: the partly written piece is finished, the others are dropped.
  outbox.drop_unsent();
  CHECK(outbox.events() == 1);
  CHECK(outbox.bytes() == big.size() - first.size());
  outbox.push({"gap\n"});
  std::string got = first;
  while (outbox.flush(count) == stream_outbox::result::blocked)
    got += pair.read_all();
  got += pair.read_all();
  CHECK(written == 2);
  CHECK(got == big + "gap\n");
}

TEST_CASE("an outbox whose peer is gone fails") {
  socket_pair pair;
  ::close(pair.client);
  pair.client = ::socket(AF_UNIX, SOCK_STREAM, 0); // something for the destructor to close
  stream_outbox outbox(pair.server);
  outbox.push({"lost\n", 1, 1});
  CHECK(outbox.flush([](const stream_outbox::piece&) {}) == stream_outbox::result::failed);
}

} // namespace watercooler
