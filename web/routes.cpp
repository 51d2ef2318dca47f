// The route table of a node: every request of either server is dispatched from here.
#include "web/routes.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <vector>

#include "web/actions.hpp"
#include "web/http/request_log.hpp"
#include "web/http_server.hpp"

namespace watercooler {

namespace {

using action = std::function<void(const web_context&, const httplib::Request&,
                                  const std::string& body, httplib::Response&)>;

struct route {
  const char* method;
  const char* path; // nullptr: any file of assets/ that browsers fetch
  action run;
};

const std::vector<route>& route_table() {
  static const std::vector<route> table{
    {"GET", "/",
     [](const web_context& c, const httplib::Request& q, const std::string&, httplib::Response& r) {
       home_page(c, q, r);
     }},
    {"POST", "/publish", publish},
    {"GET", "/listen",
     [](const web_context& c, const httplib::Request& q, const std::string&, httplib::Response& r) {
       listen(c, q, r);
     }},
    {"GET", "/metrics",
     [](const web_context& c, const httplib::Request& q, const std::string&, httplib::Response& r) {
       metrics_page(c, q, r);
     }},
    {"GET", nullptr,
     [](const web_context&, const httplib::Request& q, const std::string&, httplib::Response& r) {
       static_file(q, r);
     }},
  };
  return table;
}

bool path_matches(const route& r, const std::string& path) {
  return r.path != nullptr ? path == r.path : is_static_file(path);
}

// The route a request took, as a metrics label: a bounded set, whatever paths clients send.
std::string route_label(const std::string& path) {
  for (const auto& r : route_table())
    if (path_matches(r, path))
      return r.path != nullptr ? r.path : "static";
  return "other";
}

std::string too_slow_text(const web_context& context) {
  return "request timeout: a request must arrive within "
         + std::to_string(context.read_timeout.count()) + " s";
}

// Reads the body of a POST up to the context's limit; false (and a 413 answer) above it, or
// (400, 408) when it does not arrive whole.
bool read_body(const web_context& context, const httplib::Request& req,
               const httplib::ContentReader* reader, std::string& body, httplib::Response& res) {
  auto too_large = [&] {
    plain_error(res, 413,
                "message too large: at most " + std::to_string(context.max_body) + " bytes");
    res.set_header("Connection", "close"); // the rest of the body is never read
    http_server::close_after_response();
    return false;
  };
  // Two framings: a proxy in front may have read the body by the other one (request smuggling).
  auto lengths = req.get_header_value_count("Content-Length");
  if (lengths > 1 || (lengths == 1 && req.has_header("Transfer-Encoding"))) {
    plain_error(res, 400, "conflicting Content-Length and Transfer-Encoding headers");
    res.set_header("Connection", "close");
    http_server::close_after_response();
    return false;
  }
  if (req.has_header("Content-Length")) {
    auto length = req.get_header_value("Content-Length");
    bool digits = !length.empty() && length.size() <= 18
                  && std::all_of(length.begin(), length.end(),
                                 [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!digits || std::stoull(length) > context.max_body)
      return too_large();
  }
  if (reader == nullptr)
    return true;
  bool over = false;
  bool complete = (*reader)([&](const char* data, size_t size) {
    if (body.size() + size > context.max_body) {
      over = true;
      return false;
    }
    body.append(data, size);
    return true;
  });
  if (over)
    return too_large();
  if (complete)
    return true;
  // Never act on part of a body: a client that stalls, hangs up or sends bad chunks.
  if (http_server::refused() == http_server::refusal::too_slow)
    plain_error(res, 408, too_slow_text(context));
  else
    plain_error(res, 400, "incomplete or malformed request body");
  http_server::close_after_response();
  return false;
}

void dispatch(const web_context& context, const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader* reader) {
  std::string allowed;
  const route* match = nullptr;
  const std::string& method = req.method == "HEAD" ? std::string("GET") : req.method;
  for (const auto& r : route_table()) {
    if (!path_matches(r, req.path))
      continue;
    if (method == r.method)
      match = &r;
    allowed += allowed.empty() ? "" : ", ";
    allowed += r.method;
    if (std::string(r.method) == "GET")
      allowed += ", HEAD";
  }
  if (match == nullptr && allowed.empty())
    return not_found_page(context, req, res);
  if (match == nullptr) {
    res.set_header("Allow", allowed);
    return plain_error(res, 405, "method " + req.method + " not allowed; use " + allowed);
  }
  std::string body;
  if (req.method == "POST" && !read_body(context, req, reader, body, res))
    return;
  match->run(context, req, body, res);
}

// Built-in answers of httplib (bad request line, header too large, ...) get a short text too.
const char* reason_text(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 408:
      return "request timeout";
    case 413:
      return "request too large";
    case 414:
      return "request line too long";
    case 416:
      return "range not satisfiable";
    default:
      return status >= 500 ? "server error" : "request refused";
  }
}

} // namespace

void plain_error(httplib::Response& res, int status, const std::string& reason) {
  res.status = status;
  res.set_content(reason + "\n", "text/plain; charset=utf-8");
}

void install_routes(httplib::Server& server, std::shared_ptr<const web_context> context) {
  auto any = [context](const httplib::Request& req, httplib::Response& res) {
    dispatch(*context, req, res, nullptr);
  };
  auto with_body = [context](const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader) {
    dispatch(*context, req, res, &reader);
  };
  const char* everything = R"(.*)";
  server.Get(everything, any);
  server.Post(everything, with_body);
  server.Put(everything, with_body);
  server.Patch(everything, with_body);
  server.Delete(everything, any);
  server.Options(everything, any);
  server.set_default_headers(security_headers()); // on every answer, errors included
  server.set_read_timeout(context->read_timeout);
  if (auto* limited = dynamic_cast<request_limits*>(&server))
    limited->set_max_header(context->max_header);
  server.set_error_handler([context](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty())
      return;
    // httplib says 400 when our stream cut the head short; say why.
    switch (http_server::refused()) {
      case http_server::refusal::head_too_large:
        plain_error(res, 431,
                    "request header too large: at most " + std::to_string(context->max_header)
                      + " bytes in all, 8192 a line");
        res.set_header("Connection", "close");
        break;
      case http_server::refusal::too_slow:
        plain_error(res, 408, too_slow_text(*context));
        res.set_header("Connection", "close");
        break;
      case http_server::refusal::none:
        plain_error(res, res.status, reason_text(res.status));
        if (res.status == 400) { // what follows a malformed request is no request either
          res.set_header("Connection", "close");
          http_server::close_after_response();
        }
        break;
    }
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                  std::exception_ptr) { plain_error(res, 500, "internal error"); });
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_started();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  auto logger = [context](const httplib::Request& req, const httplib::Response& res) {
    if (context->metrics)
      context->metrics->request(route_label(req.path), res.status);
    if (!req.remote_addr.empty())
      return log_request(req, res);
    // httplib learns the client's address after the headers: a request refused before has none.
    auto named = req;
    named.remote_addr = http_server::client_ip();
    log_request(named, res);
  };
  server.set_logger(logger);
  if (auto* ours = dynamic_cast<request_limits*>(&server)) // refused before httplib saw them
    ours->set_refusal_logger(logger);
}

} // namespace watercooler
