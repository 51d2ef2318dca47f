// The cluster cookie, found as Erlang finds it: --cookie, else --cookie-file, else
// ~/.erlang.cookie, which is created with a random value (mode 0400) when missing.
#pragma once

#include <string>

#include "actors/outcome.hpp"

namespace watercooler {

// `given` is --cookie, `file` --cookie-file ("" when absent); `home` is $HOME (nullptr when
// unset). A --cookie-file must exist: it is never created.
outcome<std::string> load_cookie(const std::string& given, const std::string& file,
                                 const char* home);

// A cookie's bytes as written in a file: one line; surrounding blanks are not part of it.
std::string trim_cookie(const std::string& content);

} // namespace watercooler
