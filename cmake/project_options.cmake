# Warnings and sanitizers live on INTERFACE targets that every target links.
add_library(watercooler_warnings INTERFACE)
target_compile_options(watercooler_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
if(WATERCOOLER_WERROR)
  target_compile_options(watercooler_warnings INTERFACE -Werror)
endif()

add_library(watercooler_options INTERFACE)
if(WATERCOOLER_SANITIZERS)
  list(JOIN WATERCOOLER_SANITIZERS "," sanitizers)
  target_compile_options(watercooler_options INTERFACE -fsanitize=${sanitizers}
                         -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(watercooler_options INTERFACE -fsanitize=${sanitizers})
endif()
