// POST /publish : decode message=<text> once, hand it to the room, send the browser back to /.
#include <variant>

#include "actors/protocol.hpp"
#include "web/actions.hpp"
#include "web/form.hpp"

namespace watercooler {

void publish(const web_context& context, const httplib::Request& req, const std::string& body,
             httplib::Response& res) {
  auto type = req.get_header_value("Content-Type");
  if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded")
    return plain_error(res, 415, "send the message as application/x-www-form-urlencoded");
  auto decoded = decode_form(body);
  if (auto* error = std::get_if<form_error>(&decoded))
    return plain_error(res, 400, to_string(*error));
  auto message = find_form_field(std::get<form_fields>(decoded), "message");
  if (!message)
    return plain_error(res, 400, "missing field: message");
  if (message->empty())
    return plain_error(res, 400, "empty message");
  caf::scoped_actor self{*context.system};
  bool accepted = false;
  self->request(context.room, context.room_timeout, publish_atom::value, *message)
    .receive([&](uint64_t) { accepted = true; }, [&](const caf::error&) {});
  if (!accepted)
    return plain_error(res, 503, "the chat room is not answering; try again");
  res.status = 303;
  res.set_header("Location", "/");
  res.set_content("This resource has moved <a href=\"/\">here</a>.", "text/html; charset=utf-8");
}

} // namespace watercooler
