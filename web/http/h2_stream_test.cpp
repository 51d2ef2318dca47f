// Unit tests of the channel between an event stream's session and its HTTP/2 connection, and of
// the transport the session sees: room, wakes, the end and the stream's going.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "web/http/h2_stream.hpp"

namespace watercooler {

namespace {

// A channel whose wakes and events are counted.
struct watched_channel {
  int wakes = 0;
  bool front_running = true;
  std::vector<transport::event> events;
  std::shared_ptr<h2_channel> channel = std::make_shared<h2_channel>([this] {
    ++wakes;
    return front_running;
  });

  watched_channel() {
    channel->on_event([this](transport::event e) { events.push_back(e); });
  }

  long write(const std::string& text) {
    iovec piece{const_cast<char*>(text.data()), text.size()};
    return channel->write(&piece, 1);
  }
  // What the connection takes, up to `size` bytes at a time, until nothing comes.
  std::string read_all(std::size_t size, bool& eof) {
    std::string out;
    std::vector<uint8_t> buf(size);
    for (;;) {
      auto n = channel->read(buf.data(), buf.size(), eof);
      out.append(reinterpret_cast<const char*>(buf.data()), n);
      if (n == 0 || eof)
        return out;
    }
  }
};

using events = std::vector<transport::event>;

} // namespace

TEST_CASE("a channel keeps what is written, in order, and wakes the connection once") {
  watched_channel w;
  std::string a = "data: a\n\n", b = "data: b\n\n";
  iovec pieces[] = {{a.data(), a.size()}, {b.data(), b.size()}};
  CHECK(w.channel->write(pieces, 2) == 18);
  CHECK(w.write("data: c\n\n") == 9);
  CHECK(w.wakes == 1); // the connection has not looked yet
  CHECK(w.channel->pending() == 27);
  bool eof = true;
  CHECK(w.read_all(10, eof) == "data: a\n\ndata: b\n\ndata: c\n\n");
  CHECK_FALSE(eof);
  CHECK(w.channel->pending() == 0);
  CHECK(w.write("data: d\n\n") == 9);
  CHECK(w.wakes == 2); // it looked: the next bytes wake it again
  CHECK(w.write("") == 0);
  CHECK(w.wakes == 2); // nothing written wakes nobody
  CHECK(w.events.empty());
}

TEST_CASE("a full channel takes nothing until the connection has taken half of it") {
  watched_channel w;
  constexpr auto room = static_cast<long>(h2_channel::high_water);
  CHECK(w.write(std::string(room - 10, 'x')) == room - 10);
  CHECK(w.write(std::string(100, 'y')) == 10); // what fits below the mark
  CHECK(w.write("z") == 0);
  CHECK(w.channel->pending() == h2_channel::high_water);
  std::vector<uint8_t> buf(h2_channel::high_water);
  auto quarter = h2_channel::high_water / 4;
  bool eof = false;
  CHECK(w.channel->read(buf.data(), quarter, eof) == quarter);
  CHECK(w.events.empty()); // three quarters full: still waiting
  CHECK(w.channel->read(buf.data(), quarter + 1, eof) == quarter + 1);
  CHECK(w.events == events{transport::event::writable});
  CHECK(w.channel->read(buf.data(), quarter, eof) == quarter);
  CHECK(w.events == events{transport::event::writable}); // once per time it was full
  CHECK(w.write("z") == 1);
}

TEST_CASE("end: the connection reads what is left, then the end") {
  watched_channel w;
  CHECK(w.write("data: last\n\n") == 12);
  w.channel->end();
  CHECK(w.channel->ended());
  CHECK(w.wakes == 1); // already woken by the write
  CHECK(w.write("more") == -1);
  bool eof = false;
  CHECK(w.read_all(5, eof) == "data: last\n\n");
  CHECK(eof);
  SUBCASE("an end alone wakes the connection") {
    watched_channel quiet;
    quiet.channel->end();
    quiet.channel->end(); // once
    CHECK(quiet.wakes == 1);
    uint8_t byte;
    CHECK(quiet.channel->read(&byte, 1, eof) == 0);
    CHECK(eof);
  }
}

TEST_CASE("a channel whose stream is gone refuses writes and tells its session") {
  watched_channel w;
  CHECK(w.write("data: x\n\n") == 9);
  w.channel->close();
  CHECK(w.channel->gone());
  CHECK(w.channel->pending() == 0); // nobody will send it
  CHECK(w.write("data: y\n\n") == -1);
  CHECK(w.events == events{transport::event::closed});
  w.channel->close();
  CHECK(w.events == events{transport::event::closed}); // once
  SUBCASE("a session that asks later is told at once") {
    events late;
    w.channel->on_event([&](transport::event e) { late.push_back(e); });
    CHECK(late == events{transport::event::closed});
  }
  SUBCASE("an end after it is gone wakes nobody") {
    auto wakes = w.wakes;
    w.channel->end();
    CHECK(w.wakes == wakes);
  }
}

TEST_CASE("a write fails once the front has stopped taking wakes") {
  watched_channel w;
  w.front_running = false;
  CHECK(w.write("data: x\n\n") == -1);
}

TEST_CASE("an HTTP/2 stream's transport writes to its channel and has no socket") {
  watched_channel w;
  auto io = h2_stream_transport(w.channel);
  CHECK(io->fd() == -1);
  CHECK(io->protocol() == "h2");
  CHECK(io->handshake() == transport::status::done);
  CHECK(io->write("data: x\n\n", 9) == 9);
  CHECK(io->flush() == transport::status::done);
  char buf[8];
  CHECK(io->read(buf, sizeof(buf)) == 0); // the body was the connection's to read
  std::vector<transport::event> seen;
  io->on_event([&](transport::event e) { seen.push_back(e); });
  SUBCASE("closing it ends the stream after what was written") {
    io.reset();
    CHECK(w.channel->ended());
    bool eof = false;
    CHECK(w.read_all(64, eof) == "data: x\n\n");
    CHECK(eof);
  }
  SUBCASE("once the stream is gone it fails") {
    w.channel->close();
    CHECK(seen == events{transport::event::closed});
    CHECK(io->read(buf, sizeof(buf)) == -1);
    CHECK(io->flush() == transport::status::failed);
    CHECK(io->write("late", 4) == -1);
  }
}

} // namespace watercooler
