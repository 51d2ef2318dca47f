// The HTTP actions, one file each; each translates a request into actor messages and back.
#pragma once

#include <string>
#include <string_view>

#include <httplib.h>

#include "web/web_context.hpp"

namespace watercooler {

// GET / : the tutorial's page with this node's name.
void home_page(const web_context& context, const httplib::Request& req, httplib::Response& res);

// POST /publish : message=<text> (x-www-form-urlencoded) -> 303 See Other, Location: /.
void publish(const web_context& context, const httplib::Request& req, const std::string& body,
             httplib::Response& res);

// GET /listen : every message of the cluster as a Server-Sent Event.
void listen(const web_context& context, const httplib::Request& req, httplib::Response& res);

// GET /presence : {"count":…,"listeners":…,"people":[…]}, the cluster's presence.
void presence_page(const web_context& context, const httplib::Request& req, httplib::Response& res);

// GET /metrics : Prometheus text exposition of the node's counters.
void metrics_page(const web_context& context, const httplib::Request& req, httplib::Response& res);
std::string render_metrics(const node_metrics& metrics);

// Any unknown path: the "Nothing here!" page.
void not_found_page(const web_context& context, const httplib::Request& req,
                    httplib::Response& res);

// GET /main.css and the other files of assets/ that browsers fetch.
bool static_file(const httplib::Request& req, httplib::Response& res);
bool is_static_file(const std::string& path);

// A short plain-text answer for a client error or an unavailable room.
void plain_error(httplib::Response& res, int status, const std::string& reason);

// assets/layout.html around the assets/ file `fragment`, {{node}} filled in (HTML-escaped).
std::string render_page(std::string_view fragment, const std::string& node);

// The Content-Security-Policy of every response: scripts, styles, frames and workers from this
// node only, no inline script, framed only by this node's own pages.
extern const char* const page_security_policy;

// The headers every response carries (install_routes makes them httplib's default headers).
const httplib::Headers& security_headers();

// Sets an HTML page as the body of `res`.
void set_page(httplib::Response& res, const std::string& html);

} // namespace watercooler
