// Server-Sent Events framing and parsing, following the WHATWG HTML event stream format.
#include "web/stream/sse.hpp"

#include <limits>

namespace watercooler {

namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ':';
  if (value.empty())
    return; // "data:" alone; a space would be stripped anyway
  out += ' ';
  out += value;
}

std::string without_line_breaks(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '\r' && c != '\n')
      out.push_back(c);
  return out;
}

} // namespace

std::string sse_event(std::string_view data, const sse_fields& fields) {
  std::string out;
  out.reserve(data.size() + 16);
  if (fields.id) {
    append_field(out, "id", without_line_breaks(*fields.id));
    out += '\n';
  }
  if (!fields.event.empty()) {
    append_field(out, "event", without_line_breaks(fields.event));
    out += '\n';
  }
  for (;;) {
    auto end = data.find_first_of("\r\n");
    append_field(out, "data", data.substr(0, end));
    out += '\n';
    if (end == std::string_view::npos)
      break;
    if (data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n')
      ++end;
    data.remove_prefix(end + 1); // a trailing break leaves "" and so an empty last data line
  }
  out += '\n';
  return out;
}

std::vector<sse_message> sse_parser::feed(std::string_view bytes) {
  std::vector<sse_message> events;
  if (at_stream_start_) {
    // One U+FEFF at the very start of the stream is ignored, even split over chunks.
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    stream_start_.append(bytes);
    if (stream_start_.size() < bom.size() && bom.substr(0, stream_start_.size()) == stream_start_)
      return events;
    at_stream_start_ = false;
    std::string start = std::move(stream_start_);
    std::string_view rest = start;
    if (rest.substr(0, bom.size()) == bom)
      rest.remove_prefix(bom.size());
    feed_lines(rest, events);
    return events;
  }
  feed_lines(bytes, events);
  return events;
}

void sse_parser::feed_lines(std::string_view bytes, std::vector<sse_message>& events) {
  if (after_cr_ && !bytes.empty()) {
    after_cr_ = false;
    if (bytes.front() == '\n')
      bytes.remove_prefix(1);
  }
  while (!bytes.empty()) {
    auto end = bytes.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      line_ += bytes;
      return;
    }
    line_ += bytes.substr(0, end);
    process_line(events);
    line_.clear();
    if (bytes[end] == '\r') {
      if (end + 1 == bytes.size())
        after_cr_ = true;
      else if (bytes[end + 1] == '\n')
        ++end;
    }
    bytes.remove_prefix(end + 1);
  }
}

void sse_parser::process_line(std::vector<sse_message>& events) {
  std::string_view line = line_;
  if (line.empty()) {
    // Dispatch: the id sticks for later events, the data and type do not.
    if (data_.empty()) {
      event_type_.clear();
      return;
    }
    data_.pop_back(); // the "\n" after the last data line
    sse_message event;
    event.type = event_type_.empty() ? "message" : event_type_;
    event.data = std::move(data_);
    event.last_event_id = last_event_id_;
    events.push_back(std::move(event));
    data_.clear();
    event_type_.clear();
    return;
  }
  if (line.front() == ':')
    return; // comment, e.g. a keep-alive
  auto colon = line.find(':');
  auto field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
  }
  if (field == "event") {
    event_type_ = value;
  } else if (field == "data") {
    data_ += value;
    data_ += '\n';
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos)
      last_event_id_ = value;
  } else if (field == "retry") {
    if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos)
      return;
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t ms = 0;
    for (char digit : value) {
      auto d = static_cast<std::uint64_t>(digit - '0');
      ms = ms > (max - d) / 10 ? max : ms * 10 + d;
    }
    retry_ms_ = ms;
  }
  // Any other field is ignored.
}

} // namespace watercooler
