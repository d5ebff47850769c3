# BlWarnings.cmake: warning flags (warnings are errors) and the sanitizer build for project code.
set(BL_C_WARNINGS
  -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wpointer-arith -Wvla -Wundef)

# Applies the project's warnings (and sanitizers when enabled) to TARGET.
function(bl_target_defaults target)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:C>:${BL_C_WARNINGS}>)
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  if(BL_SANITIZE)
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:C>:-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer>)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
