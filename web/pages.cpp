// Pages: a fragment of assets/ inside assets/layout.html, with the node's name filled in.
#include <string_view>

#include "web/actions.hpp"
#include "web/assets.hpp"
#include "web/html.hpp"

namespace watercooler {

namespace {

std::string_view find_asset(std::string_view name) {
  for (const auto& a : embedded_assets())
    if (a.name == name)
      return a.bytes;
  return {};
}

void fill(std::string& page, const std::string& placeholder, const std::string& value) {
  for (auto at = page.find(placeholder); at != std::string::npos;
       at = page.find(placeholder, at + value.size()))
    page.replace(at, placeholder.size(), value);
}

} // namespace

const char* const page_security_policy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
  "connect-src 'self'; frame-src 'self'; child-src 'self'; worker-src 'self'; "
  "form-action 'self'; frame-ancestors 'self'; base-uri 'none'; object-src 'none'";

const httplib::Headers& security_headers() {
  static const httplib::Headers headers{
    {"Content-Security-Policy", page_security_policy},
    {"X-Content-Type-Options", "nosniff"},
    // The page posts into its own hidden iframe: same origin may frame, no one else.
    {"X-Frame-Options", "SAMEORIGIN"},
    // same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the
    // page's own form posts, which the cross-site check (web/origin.hpp) must refuse.
    {"Referrer-Policy", "same-origin"},
  };
  return headers;
}

void set_page(httplib::Response& res, const std::string& html) {
  res.set_content(html, "text/html; charset=utf-8");
}

std::string render_page(std::string_view fragment, const std::string& node) {
  std::string page(find_asset("layout.html"));
  auto content = find_asset(fragment);
  if (!content.empty() && content.back() == '\n')
    content.remove_suffix(1); // the layout ends the line
  fill(page, "{{content}}", std::string(content));
  fill(page, "{{node}}", html_escape(node));
  return page;
}

} // namespace watercooler
