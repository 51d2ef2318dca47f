// HTML escaping of text placed into the page template.
#pragma once

#include <string>
#include <string_view>

namespace watercooler {

// Escapes & < > " ' so `text` is safe both as element content and inside a quoted attribute.
std::string html_escape(std::string_view text);

} // namespace watercooler
