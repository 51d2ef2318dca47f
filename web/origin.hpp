// Cross-site protection for POST /publish: a browser names the page that sent a form in the
// Origin header; only the node's own pages may publish.
#pragma once

#include <string_view>

namespace watercooler {

// True when there is no Origin (curl, scripts: not a browser's cross-site request) or when the
// Origin's host and port are the request's Host. "null" (sandboxed frames, file: pages) and any
// other site are foreign. With `scheme` ("http", "https": what a trusted proxy says the browser
// used) the origin's scheme must be it too, and its default port may be left out on either side.
bool same_origin(std::string_view origin, std::string_view host, std::string_view scheme = {});

} // namespace watercooler
