// Stream positions as SSE ids, and what a stream resuming at one has not seen.
#include "actors/logic/stream_clock.hpp"

#include <set>

namespace watercooler {

namespace {

bool needs_escape(unsigned char c) {
  return c == '%' || c == '~' || c == ',' || c < '!' || c > '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1; // upper case only: one spelling per origin
}

std::optional<std::string> unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '%') {
      if (needs_escape(static_cast<unsigned char>(c)))
        return std::nullopt;
      out.push_back(c);
      continue;
    }
    if (i + 2 >= text.size())
      return std::nullopt;
    int hi = hex_value(text[i + 1]);
    int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    auto byte = static_cast<unsigned char>(hi * 16 + lo);
    if (!needs_escape(byte))
      return std::nullopt;
    out.push_back(static_cast<char>(byte));
    i += 2;
  }
  if (out.empty())
    return std::nullopt;
  return out;
}

std::optional<uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0'))
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10)
      return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

} // namespace

std::string encode_clock(const stream_clock& clock) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const auto& [origin, entry] : clock) {
    if (!out.empty())
      out += ',';
    for (char c : origin) {
      auto byte = static_cast<unsigned char>(c);
      if (needs_escape(byte)) {
        out += '%';
        out += hex[byte >> 4];
        out += hex[byte & 15];
      } else {
        out += c;
      }
    }
    out += '~' + std::to_string(entry.incarnation) + '~' + std::to_string(entry.seq);
  }
  return out;
}

std::optional<stream_clock> parse_clock(std::string_view text) {
  stream_clock clock;
  if (text.empty())
    return clock;
  if (text.size() > max_clock_text)
    return std::nullopt;
  for (;;) {
    auto end = text.find(',');
    auto item = text.substr(0, end);
    auto second = item.rfind('~');
    if (second == std::string_view::npos || second == 0)
      return std::nullopt;
    auto first = item.rfind('~', second - 1);
    if (first == std::string_view::npos)
      return std::nullopt;
    auto origin = unescape(item.substr(0, first));
    auto inc = parse_number(item.substr(first + 1, second - first - 1));
    auto seq = parse_number(item.substr(second + 1));
    if (!origin || !inc || !seq || clock.count(*origin) != 0 || clock.size() == max_clock_origins)
      return std::nullopt;
    clock[*origin] = {*inc, *seq};
    if (end == std::string_view::npos)
      return clock;
    text.remove_prefix(end + 1);
  }
}

bool clock_covers(const stream_clock& clock, const std::string& origin, uint64_t incarnation,
                  uint64_t seq) {
  auto it = clock.find(origin);
  return it != clock.end() && it->second.incarnation == incarnation && seq <= it->second.seq;
}

resume_plan plan_resume(const std::deque<chat_message>& history,
                        const std::map<std::pair<std::string, uint64_t>, uint64_t>& last_seen,
                        const stream_clock& clock) {
  resume_plan plan;
  std::set<std::string> present; // origins whose clock incarnation is in the history
  std::set<std::string> other;   // origins with another incarnation in the history
  for (const auto& message : history) {
    auto it = clock.find(message.origin);
    if (it != clock.end())
      (message.incarnation == it->second.incarnation ? present : other).insert(message.origin);
  }
  // Another incarnation before the clock's one is older and was seen; after it, the origin
  // restarted and it is new. Without the clock's one here, it may be new.
  std::set<std::string> reached;
  std::map<std::string, uint64_t> first_new; // origin -> first unseen seq of its clock incarnation
  for (const auto& message : history) {
    auto it = clock.find(message.origin);
    if (it == clock.end()) {
      plan.replay.push_back(message);
    } else if (message.incarnation == it->second.incarnation) {
      reached.insert(message.origin);
      if (message.seq > it->second.seq) {
        first_new.emplace(message.origin, message.seq);
        plan.replay.push_back(message);
      }
    } else if (present.count(message.origin) == 0 || reached.count(message.origin) != 0) {
      plan.replay.push_back(message);
    }
  }
  for (const auto& [origin, entry] : clock) {
    auto seen = last_seen.find({origin, entry.incarnation});
    auto next = entry.seq + 1;
    if (seen != last_seen.end()) {
      if (seen->second <= entry.seq)
        continue;
      auto first = first_new.find(origin);
      if (first == first_new.end())
        plan.gaps.push_back({origin, entry.incarnation, next, seen->second});
      else if (first->second > next)
        plan.gaps.push_back({origin, entry.incarnation, next, first->second - 1});
    } else if (other.count(origin) != 0) {
      plan.gaps.push_back({origin, entry.incarnation, next, 0}); // restarted: the rest is unknown
    }
  }
  return plan;
}

} // namespace watercooler
