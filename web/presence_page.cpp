// GET /presence : who is here in the whole cluster, as JSON; the ids of browsers are never shown.
#include <optional>

#include "actors/protocol.hpp"
#include "web/actions.hpp"
#include "web/stream/presence_event.hpp"

namespace watercooler {

void presence_page(const web_context& context, const httplib::Request&, httplib::Response& res) {
  std::optional<presence_view> view;
  if (context.presence) {
    caf::scoped_actor self{*context.system};
    self->request(context.presence, context.room_timeout, people_atom::value)
      .receive([&](presence_view& answer) { view = std::move(answer); }, [&](const caf::error&) {});
  }
  if (!view)
    return plain_error(res, 503, "presence is not answering; try again");
  res.set_header("Cache-Control", "no-cache");
  res.set_content(presence_json(*view), "application/json");
}

} // namespace watercooler
