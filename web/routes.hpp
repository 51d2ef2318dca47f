// The route table: which action answers which method and path.
#pragma once

#include <memory>

#include <httplib.h>

#include "web/http/router.hpp"
#include "web/web_context.hpp"

namespace watercooler {

// Sends every request of `server` through the route table, with request logging and error
// pages. Returns the request logger, for the requests the front answers itself.
httplib::Logger install_routes(router& server, std::shared_ptr<const web_context> context);

} // namespace watercooler
