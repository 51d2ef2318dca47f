# Compiles files into a C++ source: one watercooler::asset{name, bytes} per file.
function(watercooler_embed target output)
  set(inputs ${ARGN})
  string(REPLACE ";" "|" joined "${inputs}") # one argument, whatever the number of files
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} -DINPUTS=${joined} -P
            ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    DEPENDS ${inputs} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    COMMENT "Embedding assets"
    VERBATIM)
  add_custom_target(${target} DEPENDS ${output})
endfunction()
