// POST /publish : decode message=<text> (and name=<display name>) once, hand them to the room,
// send the browser back to / (or tell a script the message's id).
#include <algorithm>
#include <string_view>
#include <tuple>
#include <variant>

#include <nlohmann/json.hpp>

#include "actors/protocol.hpp"
#include "web/actions.hpp"
#include "web/form.hpp"
#include "web/http/forwarded.hpp"
#include "web/http/router.hpp"
#include "web/origin.hpp"
#include "web/stream/chat_event.hpp"

namespace watercooler {

namespace {

// Characters of valid UTF-8 (decode_form checked it): every byte that does not continue one.
std::size_t characters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

} // namespace

void publish(const web_context& context, const httplib::Request& req, const std::string& body,
             httplib::Response& res) {
  auto client = client_of(req, context.proxies);
  // Before anything else: a foreign page must not post in our users' names.
  if (!same_origin(req.get_header_value("Origin"), client.host, client.scheme))
    return plain_error(res, 403, "publishing is only allowed from this node's own page");
  // After the origin check: a foreign page must not use up its visitors' allowance either.
  if (auto wait = context.publish_rate->take(client.address)) {
    res.set_header("Retry-After", std::to_string(wait->count()));
    res.set_header("Connection", "close"); // a flood is not kept alive
    router::close_after_response();
    return plain_error(res, 429,
                       "too many messages from your address: at most "
                         + std::to_string(context.publish_rate->rate()) + " a second; try again in "
                         + std::to_string(wait->count()) + " s");
  }
  auto type = req.get_header_value("Content-Type");
  if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded")
    return plain_error(res, 415, "send the message as application/x-www-form-urlencoded");
  auto decoded = decode_form(body);
  if (auto* error = std::get_if<form_error>(&decoded))
    return plain_error(res, 400, to_string(*error));
  const auto& fields = std::get<form_fields>(decoded);
  auto message = find_form_field(fields, "message");
  if (!message)
    return plain_error(res, 400, "missing field: message");
  if (message->empty())
    return plain_error(res, 400, "empty message");
  if (characters(*message) > context.max_message)
    return plain_error(
      res, 413, "message too long: at most " + std::to_string(context.max_message) + " characters");
  auto name_field = find_form_field(fields, "name");
  auto author =
    parse_display_name(name_field ? std::optional<std::string_view>(*name_field) : std::nullopt);
  if (!author.error.empty())
    return plain_error(res, 400, author.error);
  caf::scoped_actor self{*context.system};
  std::optional<std::tuple<uint64_t, uint64_t>> identity;
  self
    ->request(context.room, context.room_timeout, publish_atom::value, std::move(author.name),
              *message)
    .receive([&](uint64_t incarnation, uint64_t seq) { identity.emplace(incarnation, seq); },
             [&](const caf::error&) {});
  if (!identity)
    return plain_error(res, 503, "the chat room is not answering; try again");
  // The page's script asks for JSON to learn the id, and so mark its own messages.
  if (req.get_header_value("Accept") == "application/json") {
    chat_message published;
    published.origin = context.node;
    std::tie(published.incarnation, published.seq) = *identity;
    nlohmann::json answer{{"id", message_id(published)}};
    res.set_content(answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
    return;
  }
  res.status = 303;
  res.set_header("Location", "/");
  res.set_content("This resource has moved <a href=\"/\">here</a>.", "text/html; charset=utf-8");
}

} // namespace watercooler
