# Run at every build (scenarios/CMakeLists.txt, ek3_rig_version): writes
# OUT, the rig's version in every verdict (vrd_rig_version), as the
# project's version and the commit built (git describe, "-dirty" with
# uncommitted changes), and rewrites it only when that changed, so an
# unchanged tree rebuilds nothing. -DSRC=source dir -DVER=version -DOUT=file
execute_process(COMMAND git describe --always --dirty --tags WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE d OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT d)
  set(d "no-git")
endif()
set(text "/* Written by scenarios/version.cmake at build time. */\n#include \"vrd.h\"\n\nconst char vrd_rig_version[] = \"${VER}+${d}\";\n")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
