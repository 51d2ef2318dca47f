// Any unknown path: the original's "Nothing here!" page.
#include "web/actions.hpp"

namespace watercooler {

void not_found_page(const web_context& context, const httplib::Request&, httplib::Response& res) {
  res.status = 404;
  set_page(res, context.not_found_html);
}

} // namespace watercooler
