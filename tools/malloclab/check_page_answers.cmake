# Checks that every answer docs/malloc_lab.md quotes whole in its table of
# answers is one the tests of the broken mm.c files require, word for word:
# each quote (the first cell of a row, between backticks, with no "N" or
# "..." standing for a number) must appear in tools/malloclab/CMakeLists.txt
# once the regular expressions there are read as text (backslashes dropped).
#
#   cmake -DPAGE=<docs/malloc_lab.md> -DTESTS=<tools/malloclab/CMakeLists.txt> -P check_page_answers.cmake
file(READ ${PAGE} page)
# The section of answers: from its anchor to the next section.
string(FIND "${page}" "{#malloc_lab_errors}" start)
if(start EQUAL -1)
  message(FATAL_ERROR "${PAGE} has no section {#malloc_lab_errors}")
endif()
string(SUBSTRING "${page}" ${start} -1 page)
string(FIND "${page}" "\n## " end)
string(SUBSTRING "${page}" 0 ${end} page)
file(READ ${TESTS} tests)
string(REPLACE "\\" "" tests_as_text "${tests}")
string(REGEX MATCHALL "\n\\| `[^`]+` \\|" rows "${page}")
set(checked 0)
foreach(row IN LISTS rows)
  string(REGEX REPLACE "^\n\\| `([^`]+)` \\|$" "\\1" quote "${row}")
  if(quote MATCHES "(^| )N( |:|$)|\\.\\.\\.")
    continue()  # a pattern of answers, not one answer
  endif()
  string(FIND "${tests_as_text}" "${quote}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the page quotes `${quote}`, which no test of ${TESTS} requires")
  endif()
  math(EXPR checked "${checked} + 1")
endforeach()
if(checked LESS 5)
  message(FATAL_ERROR "only ${checked} answers found in the page's table: has its layout changed?")
endif()
message(STATUS "${checked} answers quoted by the page are required by the tests")
