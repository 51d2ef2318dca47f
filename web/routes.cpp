// The route table of a node: every request of either server is dispatched from here.
#include "web/routes.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <vector>

#include "web/actions.hpp"
#include "web/http/forwarded.hpp"
#include "web/http/request_log.hpp"

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
    {"GET", "/presence",
     [](const web_context& c, const httplib::Request& q, const std::string&, httplib::Response& r) {
       presence_page(c, q, r);
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

// Reads the body of a POST (whole in memory: the front has read it) up to the context's limit.
bool read_body(const web_context& context, const httplib::ContentReader* reader, std::string& body,
               httplib::Response& res) {
  if (reader == nullptr)
    return true;
  bool over = false;
  bool complete = (*reader)([&](const char* data, size_t size) {
    over = body.size() + size > context.max_body;
    if (!over)
      body.append(data, size);
    return !over;
  });
  if (over) {
    plain_error(res, 413,
                "message too large: at most " + std::to_string(context.max_body) + " bytes");
    return false;
  }
  if (!complete) // never act on part of a body
    plain_error(res, 400, "incomplete or malformed request body");
  return complete;
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
  if (req.method == "POST" && !read_body(context, reader, body, res))
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

httplib::Logger install_routes(router& server, std::shared_ptr<const web_context> context) {
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
  server.set_payload_max_length(context->max_body + 1);
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty())
      return;
    plain_error(res, res.status, reason_text(res.status));
    if (res.status == 400) { // what follows a malformed request is no request either
      res.set_header("Connection", "close");
      router::close_after_response();
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
    log_request(req, res, client_of(req, context->proxies).address);
  };
  server.set_logger(logger);
  return logger;
}

} // namespace watercooler
