// GET / : the tutorial's home page, rendered once per node from assets/home_page.html.
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

} // namespace

std::string render_home_page(const std::string& node) {
  std::string page(find_asset("home_page.html"));
  const std::string placeholder = "{{node}}";
  auto escaped = html_escape(node);
  for (auto at = page.find(placeholder); at != std::string::npos;
       at = page.find(placeholder, at + escaped.size()))
    page.replace(at, placeholder.size(), escaped);
  return page;
}

void home_page(const web_context& context, const httplib::Request&, httplib::Response& res) {
  res.set_content(context.home_page_html, "text/html; charset=utf-8");
}

} // namespace watercooler
