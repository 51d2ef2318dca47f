// Fuzzes the strict parser of stream positions (a browser's Last-Event-ID, untrusted) and the
// resume plan made from one: a parsed position prints and parses back to itself, and a stream
// resuming at it gets every kept message it has not had, and none it had.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "actors/logic/stream_clock.hpp"

namespace {

using watercooler::chat_message;
using watercooler::stream_clock;

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "stream_clock_fuzz: %s\nposition: %.*s\n", what,
               static_cast<int>(text.size()), text.data());
  std::abort();
}

// A room's history around the position: per origin, messages before, at and after its seq, of
// its incarnation and of the next one, and an origin the position does not name.
std::deque<chat_message> history_around(const stream_clock& clock) {
  std::deque<chat_message> history;
  for (const auto& [origin, entry] : clock) {
    if (entry.seq > 1)
      history.push_back({origin, entry.incarnation, entry.seq - 1, 0, "", ""});
    if (entry.seq > 0)
      history.push_back({origin, entry.incarnation, entry.seq, 0, "", ""});
    if (entry.seq < UINT64_MAX)
      history.push_back({origin, entry.incarnation, entry.seq + 1, 0, "", ""});
    history.push_back({origin, entry.incarnation + 1, 1, 0, "", ""});
  }
  history.push_back({"new@host", 1, 1, 0, "", ""});
  return history;
}

void check_plan(const stream_clock& clock, std::string_view text) {
  auto history = history_around(clock);
  std::map<std::pair<std::string, uint64_t>, uint64_t> last_seen;
  for (const auto& m : history)
    last_seen[{m.origin, m.incarnation}] = m.seq;
  // The oldest message has fallen out of the history: the plan may report a gap for it.
  if (!history.empty())
    history.pop_front();
  const auto plan = watercooler::plan_resume(history, last_seen, clock);
  std::size_t at = 0;
  for (const auto& m : plan.replay) {
    while (at < history.size() && !(history[at] == m))
      ++at;
    if (at == history.size())
      fail("the replay must be history messages in history order", text);
    ++at;
    if (watercooler::clock_covers(clock, m))
      fail("the replay must not hold a message the stream had", text);
  }
  for (const auto& m : history) {
    auto it = clock.find(m.origin);
    const bool unseen =
      it == clock.end() || (it->second.incarnation == m.incarnation && m.seq > it->second.seq);
    bool replayed = false;
    for (const auto& r : plan.replay)
      replayed = replayed || r == m;
    if (unseen && !replayed)
      fail("the replay must hold every kept message the stream has not had", text);
  }
  for (const auto& gap : plan.gaps)
    if (clock.count(gap.origin) == 0 || (gap.to != 0 && gap.to < gap.from))
      fail("a gap must name an origin of the position and a range", text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto clock = watercooler::parse_clock(text);
  if (!clock)
    return 0;
  if (clock->size() > watercooler::max_clock_origins || text.size() > watercooler::max_clock_text)
    fail("a position must be bounded", text);
  const auto printed = watercooler::encode_clock(*clock);
  if (printed.size() > text.size())
    fail("a parsed position must not print longer than it was written", text);
  const auto again = watercooler::parse_clock(printed);
  if (!again || *again != *clock)
    fail("a parsed position must print as one that parses back to it", text);
  for (char c : printed)
    if (c < '!' || c > '~')
      fail("a printed position must be printable ASCII, a valid SSE id", text);
  check_plan(*clock, text);
  return 0;
}
