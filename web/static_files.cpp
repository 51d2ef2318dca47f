// The files of assets/ that browsers fetch by name; page templates (*.html) are not among them.
#include <string_view>

#include "web/actions.hpp"
#include "web/assets.hpp"

namespace watercooler {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const char* content_type(std::string_view name) {
  if (ends_with(name, ".css"))
    return "text/css; charset=utf-8";
  if (ends_with(name, ".js"))
    return "application/javascript; charset=utf-8";
  if (ends_with(name, ".ico"))
    return "image/vnd.microsoft.icon";
  if (ends_with(name, ".svg"))
    return "image/svg+xml";
  if (ends_with(name, ".png"))
    return "image/png";
  return nullptr; // not served
}

const asset* find(const std::string& path) {
  if (path.size() < 2 || path[0] != '/')
    return nullptr;
  std::string_view name(path);
  name.remove_prefix(1);
  for (const auto& a : embedded_assets())
    if (a.name == name && content_type(a.name) != nullptr)
      return &a;
  return nullptr;
}

} // namespace

bool is_static_file(const std::string& path) {
  return find(path) != nullptr;
}

bool static_file(const httplib::Request& req, httplib::Response& res) {
  const auto* a = find(req.path);
  if (a == nullptr)
    return false;
  res.set_header("Cache-Control", "no-cache");
  res.set_content(std::string(a->bytes), content_type(a->name));
  return true;
}

} // namespace watercooler
