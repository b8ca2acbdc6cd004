# Unicode tables for the tokenizers, generated at build time from Debian's
# Unicode Character Database (package unicode-data, see scripts/setup.sh) by the
# host tool tools/gen_unicode.cpp. The generated files live in the build tree
# (${CMAKE_BINARY_DIR}/generated) and are never committed.
#
# Sets TANDEM_UNICODE_GENERATED: the generated sources to add to tandem_tokenizer.

set(TANDEM_UCD_UNICODE_DATA ${TANDEM_UCD_DIR}/UnicodeData.txt)
set(TANDEM_UCD_PROP_LIST ${TANDEM_UCD_DIR}/PropList.txt)
foreach(f ${TANDEM_UCD_UNICODE_DATA} ${TANDEM_UCD_PROP_LIST})
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "Unicode Character Database file ${f} not found: install Debian's "
                        "unicode-data (scripts/setup.sh) or set TANDEM_UCD_DIR")
  endif()
endforeach()

add_executable(gen_unicode ${CMAKE_SOURCE_DIR}/tools/gen_unicode.cpp)

set(TANDEM_UNICODE_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
set(TANDEM_UNICODE_GENERATED
    ${TANDEM_UNICODE_GENERATED_DIR}/unicode_tables.cpp
    ${TANDEM_UNICODE_GENERATED_DIR}/unicode_tables.h)

add_custom_command(
  OUTPUT ${TANDEM_UNICODE_GENERATED}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${TANDEM_UNICODE_GENERATED_DIR}
  COMMAND gen_unicode ${TANDEM_UCD_UNICODE_DATA} ${TANDEM_UCD_PROP_LIST} ${TANDEM_UNICODE_GENERATED_DIR}
  DEPENDS gen_unicode ${TANDEM_UCD_UNICODE_DATA} ${TANDEM_UCD_PROP_LIST}
  COMMENT "Generating Unicode tables from ${TANDEM_UCD_DIR}"
  VERBATIM)
