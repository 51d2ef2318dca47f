// The version from CMake's project() and the revision cmake/git_revision.cmake found.
#include "app/version.hpp"

#include "git_revision.hpp"

namespace watercooler {

std::string git_revision() {
  return WATERCOOLER_GIT_REVISION;
}

std::string version_text() {
  return std::string("watercooler ") + WATERCOOLER_VERSION + " (git " + git_revision() + ")";
}

} // namespace watercooler
