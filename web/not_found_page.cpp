// Any unknown path: the original's "Nothing here!" page.
#include "web/actions.hpp"
#include "web/assets.hpp"

namespace watercooler {

void not_found_page(const web_context&, const httplib::Request&, httplib::Response& res) {
  res.status = 404;
  for (const auto& a : embedded_assets())
    if (a.name == "not_found_page.html")
      res.set_content(std::string(a.bytes), "text/html; charset=utf-8");
}

} // namespace watercooler
