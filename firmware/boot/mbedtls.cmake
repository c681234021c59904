# mbedtls.cmake - mbedTLS 2.28.3's own sources cross-compiled for the
# STM32G474 (included by firmware/CMakeLists.txt in the target build only):
# the library ek3_mbedcrypto, just what fwimg_verify needs (SHA-256, ECDSA
# P-256 verification) with our config, boot/mbedtls_config.h.
#
# The sources are Debian's tarball of the release (the same version as the
# host's libmbedtls-dev), pinned by its SHA-256 from Debian's
# mbedtls_2.28.3-1.dsc. It is fetched once into build/ (beside the build
# trees, never committed); EK3_MBEDTLS_TARBALL names a local copy instead
# (a machine without network). The host build includes this too, with
# EK3_MBEDTLS_OPTIONAL set, for the test that runs this very configuration
# on the host (test_fwimg_target): there a failed fetch skips that test
# (EK3_MBEDTLS_FOUND stays OFF) instead of failing the build.
set(EK3_MBEDTLS_FOUND OFF)
set(EK3_MBEDTLS_VERSION 2.28.3)
set(EK3_MBEDTLS_SHA256 3b4953aa55a681e084d31892d9904cc5328d6b4958ea57b90ae4b4f94ae69a8d)
set(EK3_MBEDTLS_URL http://deb.debian.org/debian/pool/main/m/mbedtls/mbedtls_${EK3_MBEDTLS_VERSION}.orig.tar.gz)
set(EK3_MBEDTLS_TARBALL ${PROJECT_SOURCE_DIR}/build/mbedtls_${EK3_MBEDTLS_VERSION}.orig.tar.gz
    CACHE FILEPATH "mbedTLS source tarball (fetched when missing)")

if(EXISTS ${EK3_MBEDTLS_TARBALL})
  file(SHA256 ${EK3_MBEDTLS_TARBALL} ek3_have)
  if(NOT ek3_have STREQUAL EK3_MBEDTLS_SHA256)
    message(FATAL_ERROR "${EK3_MBEDTLS_TARBALL}: SHA-256 ${ek3_have}, expected ${EK3_MBEDTLS_SHA256} "
                        "(Debian's mbedtls_${EK3_MBEDTLS_VERSION}-1.dsc): remove it to fetch it again")
  endif()
else()
  message(STATUS "Fetching ${EK3_MBEDTLS_URL}")
  file(DOWNLOAD ${EK3_MBEDTLS_URL} ${EK3_MBEDTLS_TARBALL}.part EXPECTED_HASH SHA256=${EK3_MBEDTLS_SHA256}
       STATUS ek3_st TLS_VERIFY ON)
  list(GET ek3_st 0 ek3_code)
  if(NOT ek3_code EQUAL 0)
    file(REMOVE ${EK3_MBEDTLS_TARBALL}.part)
    list(GET ek3_st 1 ek3_msg)
    if(EK3_MBEDTLS_OPTIONAL)
      message(WARNING "cannot fetch ${EK3_MBEDTLS_URL} (${ek3_msg}): test_fwimg_target is left out")
      return()
    endif()
    message(FATAL_ERROR "cannot fetch ${EK3_MBEDTLS_URL}: ${ek3_msg}; put the tarball at "
                        "${EK3_MBEDTLS_TARBALL} (SHA-256 ${EK3_MBEDTLS_SHA256}) or set EK3_MBEDTLS_TARBALL")
  endif()
  file(RENAME ${EK3_MBEDTLS_TARBALL}.part ${EK3_MBEDTLS_TARBALL})
endif()

set(EK3_MBEDTLS_DIR ${CMAKE_BINARY_DIR}/mbedtls-${EK3_MBEDTLS_VERSION})
if(NOT EXISTS ${EK3_MBEDTLS_DIR}/library/ecdsa.c)
  file(REMOVE_RECURSE ${EK3_MBEDTLS_DIR}.tmp)
  file(ARCHIVE_EXTRACT INPUT ${EK3_MBEDTLS_TARBALL} DESTINATION ${EK3_MBEDTLS_DIR}.tmp
       PATTERNS "*/include/*" "*/library/*")
  file(GLOB ek3_top ${EK3_MBEDTLS_DIR}.tmp/*)
  file(RENAME ${ek3_top} ${EK3_MBEDTLS_DIR})
  file(REMOVE_RECURSE ${EK3_MBEDTLS_DIR}.tmp)
endif()

set(ek3_mbed_src sha256.c ecdsa.c ecp.c ecp_curves.c bignum.c constant_time.c platform.c platform_util.c
    memory_buffer_alloc.c asn1parse.c asn1write.c)
list(TRANSFORM ek3_mbed_src PREPEND ${EK3_MBEDTLS_DIR}/library/)
set(EK3_MBEDTLS_FOUND ON)
add_library(ek3_mbedcrypto STATIC ${ek3_mbed_src} ${CMAKE_CURRENT_LIST_DIR}/fwimg_heap.c)
target_include_directories(ek3_mbedcrypto SYSTEM PUBLIC ${EK3_MBEDTLS_DIR}/include)
target_include_directories(ek3_mbedcrypto PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(ek3_mbedcrypto PUBLIC MBEDTLS_CONFIG_FILE="mbedtls_config.h")
# Third-party code: its own warnings are not ours to fail on.
target_compile_options(ek3_mbedcrypto PRIVATE -Os -w $<$<NOT:$<BOOL:${EK3_TARGET}>>:-fno-pie>)
set_target_properties(ek3_mbedcrypto PROPERTIES C_STANDARD 99)
