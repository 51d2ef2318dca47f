# Writes OUTPUT, the manual page, as BINARY --man prints it; a failure fails the build.
execute_process(COMMAND ${BINARY} --man OUTPUT_FILE ${OUTPUT}.new RESULT_VARIABLE failed)
if(failed)
  file(REMOVE ${OUTPUT}.new)
  message(FATAL_ERROR "${BINARY} --man: ${failed}")
endif()
file(RENAME ${OUTPUT}.new ${OUTPUT})
