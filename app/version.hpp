// What --version prints: the release and the git revision the binary was built from.
#pragma once

#include <string>

namespace watercooler {

// "watercooler 0.1.0 (git 0123456789ab)"; "(git unknown)" when not built from a git checkout.
std::string version_text();

// The revision alone, as version_text() names it.
std::string git_revision();

} // namespace watercooler
