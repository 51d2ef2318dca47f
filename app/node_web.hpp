// A node's web side: the routes and the HTTP/HTTPS front that serves them.
#pragma once

#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/metrics.hpp"
#include "actors/outcome.hpp"
#include "app/certificate.hpp"
#include "app/node_settings.hpp"
#include "web/http/front.hpp"
#include "web/http/router.hpp"

namespace watercooler {

// The routes and the front that serves them; the front goes first.
struct node_web {
  router routes;
  std::unique_ptr<http_front> front;
};

// The front listening on HTTP and HTTPS (with the certificate `https`), its workers answering
// through the room; or why it cannot serve.
outcome<void> start_web(caf::actor_system& system, const options& opts, const node_settings& s,
                        const tls_files& https, const caf::actor& room, const caf::actor& presence,
                        std::shared_ptr<node_metrics> metrics, node_web& web);

} // namespace watercooler
