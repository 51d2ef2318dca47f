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
