// HTTP/1.1 request framing: request line, header lines, then a body by Content-Length or chunks.
#include "web/http/request_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace watercooler {

namespace {

// RFC 9110 tchar: the characters of a method or a field name.
bool is_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c != '\0' && is_tchar(static_cast<unsigned char>(c));
  });
}

// A field value: visible characters, spaces, tabs and obs-text; no other control character.
bool is_field_value(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

// A request target: visible characters and obs-text, no space or control character.
bool is_target(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x))
                  == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

constexpr std::size_t max_chunk_line = 256; // a size and its extensions
// Bytes of chunk framing (size lines, CRLFs) a body may have besides --max-body: many tiny
// chunks must not make a small body a large request.
constexpr std::size_t max_chunk_framing = 16 * 1024;
constexpr int max_size_digits = 15; // hex digits: below 2^60, no overflow

} // namespace

bool request_reader::refuse(int status, std::string reason) {
  state_ = state::refused;
  refusal_ = {status, std::move(reason)};
  return false;
}

std::size_t request_reader::feed(std::string_view bytes) {
  std::size_t used = 0;
  while (used < bytes.size()
         && (state_ == state::idle || state_ == state::head || state_ == state::body)) {
    auto rest = bytes.substr(used);
    if (state_ == state::body && (!chunked_ || part_ == chunk_part::data)) {
      // Body bytes: all of a body by length, or one chunk's data.
      auto n = static_cast<std::size_t>(std::min<uint64_t>(left_, rest.size()));
      request_.append(rest.data(), n);
      used += n;
      left_ -= n;
      if (left_ == 0 && chunked_)
        part_ = chunk_part::data_end;
      else if (left_ == 0)
        state_ = state::complete;
      continue;
    }
    // A line: of the head, a chunk size, the CRLF after a chunk's data or a trailer.
    if (state_ == state::idle)
      state_ = state::head;
    auto end = rest.find('\n');
    auto piece = rest.substr(0, end == std::string_view::npos ? rest.size() : end + 1);
    bool in_head = state_ == state::head;
    std::size_t line_limit = in_head ? max_line_bytes : max_chunk_line;
    bool line_over = line_.size() + piece.size() > line_limit;
    if (line_over || (in_head && head_bytes_ + piece.size() > limits_.max_header)) {
      if (in_head && in_request_line_)
        refuse(414, "request line too long: at most "
                      + std::to_string(line_over ? line_limit : limits_.max_header) + " bytes");
      else if (in_head)
        refuse(431, "request header too large: at most " + std::to_string(limits_.max_header)
                      + " bytes in all, " + std::to_string(max_line_bytes) + " a line");
      else
        refuse(400, "malformed chunked body: a chunk line is too long");
      return used + piece.size();
    }
    line_.append(piece.data(), piece.size());
    used += piece.size();
    if (in_head)
      head_bytes_ += piece.size();
    if (end == std::string_view::npos)
      continue; // the rest of the line comes later
    if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
      refuse(400, "malformed request: every line must end in CRLF");
      break;
    }
    auto line = std::string(line_, 0, line_.size() - 2);
    line_.clear();
    if (!line_done(line))
      break;
  }
  return used;
}

void request_reader::keep(std::string_view raw) {
  request_.append(raw.data(), raw.size());
}

bool request_reader::line_done(std::string_view line) {
  if (state_ == state::head) {
    if (in_request_line_) {
      if (line.empty()) // RFC 9112 2.2: empty lines before a request line are ignored
        return true;
      return request_line(line);
    }
    if (line.empty()) {
      request_ += "\r\n";
      return head_done();
    }
    return header_line(line);
  }
  return chunk_line(line);
}

bool request_reader::request_line(std::string_view line) {
  in_request_line_ = false;
  auto first = line.find(' ');
  auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos)
    return refuse(400, "malformed request line: use METHOD /path HTTP/1.1");
  auto method = line.substr(0, first);
  auto target = line.substr(first + 1, second - first - 1);
  auto version = line.substr(second + 1);
  if (!is_token(method) || !is_target(target))
    return refuse(400, "malformed request line: use METHOD /path HTTP/1.1");
  method_ = std::string(method);
  target_ = std::string(target);
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return refuse(400, "unsupported HTTP version: use HTTP/1.1");
  http10_ = version == "HTTP/1.0";
  keep(std::string(line) + "\r\n");
  return true;
}

bool request_reader::header_line(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
    return refuse(400, "malformed header line: use Name: value (no space before the colon)");
  auto name = line.substr(0, colon);
  auto value = trimmed(line.substr(colon + 1));
  if (!is_field_value(value))
    return refuse(400, "malformed header line: control characters in the value");
  if (equals_ignoring_case(name, "Content-Length")) {
    ++content_lengths_;
    bool digits =
      !value.empty() && value.size() <= 18
      && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
      return refuse(400, "malformed Content-Length: a number of bytes");
    content_length_ = std::stoull(std::string(value));
  } else if (equals_ignoring_case(name, "Transfer-Encoding")) {
    ++transfer_encodings_;
    chunked_ = equals_ignoring_case(value, "chunked");
    if (!chunked_)
      return refuse(400, "unsupported Transfer-Encoding: only chunked");
  } else if (equals_ignoring_case(name, "Expect") && equals_ignoring_case(value, "100-continue")) {
    expect_continue_ = true;
    return true; // not kept: answered by the front, before the body
  }
  keep(std::string(line) + "\r\n");
  return true;
}

bool request_reader::head_done() {
  // Two framings, or one twice: a proxy in front may have read the body the other way.
  if (content_lengths_ > 0 && transfer_encodings_ > 0)
    return refuse(400, "conflicting Content-Length and Transfer-Encoding headers");
  if (content_lengths_ > 1 || transfer_encodings_ > 1)
    return refuse(400, "conflicting Content-Length or Transfer-Encoding headers");
  if (chunked_ && http10_)
    return refuse(400, "chunked bodies need HTTP/1.1");
  auto too_large = [this] {
    return refuse(413, "message too large: at most " + std::to_string(limits_.max_body) + " bytes");
  };
  if (content_length_ > limits_.max_body)
    return too_large();
  head_size_ = request_.size();
  if (chunked_) {
    state_ = state::body;
    part_ = chunk_part::size;
  } else if (content_length_ > 0) {
    state_ = state::body;
    left_ = content_length_;
  } else {
    state_ = state::complete;
  }
  continue_due_ = expect_continue_ && state_ == state::body;
  return true;
}

bool request_reader::chunk_line(std::string_view line) {
  auto malformed = [this] { return refuse(400, "malformed chunked body"); };
  switch (part_) {
    case chunk_part::size: {
      auto digits =
        std::find_if(line.begin(), line.end(),
                     [](char c) { return !std::isxdigit(static_cast<unsigned char>(c)); })
        - line.begin();
      auto rest = trimmed(line.substr(static_cast<std::size_t>(digits)));
      if (digits == 0 || digits > max_size_digits || !(rest.empty() || rest.front() == ';'))
        return malformed();
      auto size =
        std::stoull(std::string(line.substr(0, static_cast<std::size_t>(digits))), nullptr, 16);
      if (decoded_ + size > limits_.max_body
          || request_.size() - head_size_ - decoded_ > max_chunk_framing)
        return refuse(413,
                      "message too large: at most " + std::to_string(limits_.max_body) + " bytes");
      request_ += std::string(line) + "\r\n";
      decoded_ += size;
      left_ = size;
      part_ = size == 0 ? chunk_part::trailer : chunk_part::data;
      return true;
    }
    case chunk_part::data_end:
      if (!line.empty())
        return malformed();
      request_ += "\r\n";
      part_ = chunk_part::size;
      return true;
    case chunk_part::trailer:
      // httplib reads no trailer fields: they are dropped (RFC 9112 7.1.2 allows it).
      if (line.empty()) {
        request_ += "\r\n";
        state_ = state::complete;
      } else if (line.find(':') == std::string_view::npos) {
        return malformed();
      }
      return true;
    case chunk_part::data:
      break;
  }
  return malformed();
}

std::string request_reader::take() {
  auto request = std::move(request_);
  *this = request_reader(limits_);
  return request;
}

bool request_reader::take_continue() {
  bool due = continue_due_;
  continue_due_ = false;
  return due;
}

} // namespace watercooler
