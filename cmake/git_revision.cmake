# Writes OUTPUT, a header defining WATERCOOLER_GIT_REVISION: the commit SOURCE_DIR is checked
# out at (with "-dirty" for uncommitted changes), or "unknown" when it is no git checkout of its
# own. Run at configure time and at every build; OUTPUT changes only with the revision.
set(revision unknown)
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} rev-parse --show-toplevel
                  OUTPUT_VARIABLE toplevel OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE failed ERROR_QUIET)
  # a tarball unpacked inside some other checkout is not that checkout's commit
  if(NOT failed)
    file(REAL_PATH "${toplevel}" toplevel)
    file(REAL_PATH "${SOURCE_DIR}" source)
  endif()
  if(NOT failed AND toplevel STREQUAL source)
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} describe --always --dirty
                            --abbrev=12 --exclude=*
                    OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE failed ERROR_QUIET)
    if(NOT failed AND described)
      set(revision ${described})
    endif()
  endif()
endif()
set(content "// Made by cmake/git_revision.cmake.\n#pragma once\n\n#define WATERCOOLER_GIT_REVISION \"${revision}\"\n")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
endif()
if(NOT old STREQUAL content)
  file(WRITE ${OUTPUT} "${content}")
endif()
