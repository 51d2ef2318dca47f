// Log text for messages and errors that came from other nodes, safe for any bytes they sent.
#pragma once

#include <string>

#include <caf/all.hpp>

namespace watercooler {

// "('publish', \"hi\", 42, @duration)": atoms, strings (cut, control bytes and quotes as '?')
// and integers as values, any other element by its type name. Never caf::to_string on a peer's
// message: CAF 0.17 prints a duration of unknown unit by reading past an array, and crashes.
std::string message_text(caf::actor_system& system, const caf::message& msg);

// "system_error(request_timeout)", or "error(<category>, <code>)", with the context as above.
std::string error_text(caf::actor_system& system, const caf::error& err);

} // namespace watercooler
