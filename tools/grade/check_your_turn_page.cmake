# Checks docs/your_turn.md against the course: each row of its table
# names a skeleton that exists and still has steps to write, a workflow
# preset that exists, and the lab names the chapter's your_turn/ call
# registers; the time the page says the grader waits is grade.py's; and
# every line of the report it quotes (its ```text block) is a line that
# the grader prints for the skeleton as shipped (GRADE, the chapter's
# grade.py command with --skeleton).
#
#   cmake -DPAGE=<docs/your_turn.md> -DSOURCE=<source dir>
#         "-DENTRIES=<N>:<name>=<reference>;..." "-DGRADE=<command;...>"
#         -P check_your_turn_page.cmake
cmake_minimum_required(VERSION 3.25)  # IN_LIST
file(READ ${PAGE} page)
file(READ ${SOURCE}/CMakePresets.json presets)
file(READ ${SOURCE}/tools/grade/grade.py grader)
string(REGEX MATCHALL "\n\\| [1-5], [^\n]*" rows "${page}")
list(LENGTH rows count)
if(NOT count EQUAL 5)
  message(FATAL_ERROR "the page's table has ${count} chapter rows, not 5")
endif()
foreach(row IN LISTS rows)
  string(REGEX MATCH "^\n\\| ([1-5]), " _ "${row}")
  set(chapter ${CMAKE_MATCH_1})
  string(REGEX MATCH "`(stage[^`]*/your_turn/[^`]*)`" _ "${row}")
  set(skeleton ${CMAKE_MATCH_1})
  if(NOT skeleton OR NOT EXISTS ${SOURCE}/${skeleton})
    message(FATAL_ERROR "chapter ${chapter}: the skeleton '${skeleton}' does not exist")
  endif()
  file(READ ${SOURCE}/${skeleton} code)
  if(NOT code MATCHES "HEAPLAB_NOT_WRITTEN_YET\\(\"")
    message(FATAL_ERROR "chapter ${chapter}: ${skeleton} has no step left to write")
  endif()
  if(NOT row MATCHES "`cmake --workflow --preset yourturn${chapter}`" OR
     NOT presets MATCHES "\"name\": \"yourturn${chapter}\"")
    message(FATAL_ERROR "chapter ${chapter}: the row or CMakePresets.json lacks the preset yourturn${chapter}")
  endif()
  # Every name of the chapter's registrations is in the row, and its reference.
  foreach(entry IN LISTS ENTRIES)
    if(entry MATCHES "^${chapter}:([a-z0-9-]+)=([a-z0-9-]+)$")
      if(NOT row MATCHES "`${CMAKE_MATCH_1}`" OR NOT row MATCHES "`${CMAKE_MATCH_2}`")
        message(FATAL_ERROR "chapter ${chapter}: the row does not name `${CMAKE_MATCH_1}` beside `${CMAKE_MATCH_2}`")
      endif()
    endif()
  endforeach()
endforeach()
string(REGEX MATCH "\"--timeout\", type=int, default=([0-9]+)" _ "${grader}")
math(EXPR minutes "${CMAKE_MATCH_1} / 60")
set(words_1 "one minute")
set(words_2 "two minutes")
set(words_3 "three minutes")
if(NOT page MATCHES "stopped[ \n]+after[ \n]+${words_${minutes}}")
  message(FATAL_ERROR "the page does not say the grader stops a case after ${words_${minutes}} (grade.py's --timeout)")
endif()

string(REGEX MATCH "```text\n([^`]*)```" _ "${page}")
set(quoted "${CMAKE_MATCH_1}")
if(NOT quoted)
  message(FATAL_ERROR "the page quotes no report (a ```text block)")
endif()
execute_process(COMMAND ${GRADE} OUTPUT_VARIABLE report ERROR_VARIABLE errors)
string(REPLACE "\n" ";" quoted_lines "${quoted}")
string(REPLACE "\n" ";" report_lines "${report}")
foreach(line IN LISTS quoted_lines)
  if(NOT line STREQUAL "" AND NOT line IN_LIST report_lines)
    message(FATAL_ERROR "the page quotes the line\n${line}\nwhich the grader does not print:\n${report}${errors}")
  endif()
endforeach()
message(STATUS "the page's table, timeout and report match the course")
