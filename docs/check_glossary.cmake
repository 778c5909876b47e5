# Checks the glossary (docs/glossary.md) against the book: every term it
# defines ("**Term.**", or "**Term, other term.**" for several) is used by
# a chapter or a docs page, so that no entry outlives the text it explains,
# and every entry points to a section (a \ref).
#
#   cmake -DSOURCE=<repository root> -P check_glossary.cmake
file(READ ${SOURCE}/docs/glossary.md glossary)
string(REPLACE ";" "," glossary "${glossary}")  # a semicolon would cut an entry of the list below
file(GLOB pages ${SOURCE}/stage*/*.md ${SOURCE}/docs/*.md)
list(FILTER pages EXCLUDE REGEX "/docs/(glossary|prerequisites)\\.md$")
set(book "")
foreach(page IN LISTS pages)
  file(READ ${page} text)
  string(APPEND book "${text}")
endforeach()
string(TOLOWER "${book}" book)

string(REGEX MATCHALL "\n\\*\\*[^*]+\\.\\*\\*[^\n]*(\n[^\n]+)*" entries "${glossary}")
list(LENGTH entries count)
if(count LESS 20)
  message(FATAL_ERROR "only ${count} entries found in the glossary: has its layout changed?")
endif()
foreach(entry IN LISTS entries)
  string(REGEX MATCH "\\*\\*([^*]+)\\.\\*\\*" _ "${entry}")
  set(heading "${CMAKE_MATCH_1}")
  if(NOT entry MATCHES "\\\\ref [a-z0-9_]+")
    message(FATAL_ERROR "the glossary's entry \"${heading}\" points to no section (\\ref)")
  endif()
  string(REGEX REPLACE " \\([^)]*\\)" "" names "${heading}")
  string(REPLACE ", " ";" names "${names}")
  foreach(name IN LISTS names)
    string(TOLOWER "${name}" name)
    string(FIND "${book}" "${name}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "the glossary defines \"${name}\", which no chapter or docs page uses")
    endif()
  endforeach()
endforeach()
message(STATUS "the glossary's ${count} entries are all used by the book")
