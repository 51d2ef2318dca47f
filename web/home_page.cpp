// GET / : the tutorial's home page, rendered once per node (the node name is fixed).
#include "web/actions.hpp"

namespace watercooler {

void home_page(const web_context& context, const httplib::Request&, httplib::Response& res) {
  set_page(res, context.home_page_html);
}

} // namespace watercooler
