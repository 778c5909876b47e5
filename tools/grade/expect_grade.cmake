# Runs a command (the grader, tools/grade/grade.py, or another tool of the
# course) and checks how it answered: its exit status and, in its standard
# output and error together, every one of a list of regular expressions.
#
#   cmake "-DCOMMAND=<grade.py command, ;-separated>" -DEXIT=<status>
#         "-DMATCHES=<regex>;<regex>..." -P expect_grade.cmake
execute_process(COMMAND ${COMMAND} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
set(output "${out}${err}")
if(NOT status STREQUAL EXIT)
  message(FATAL_ERROR "the command exited with ${status}, not ${EXIT}:\n${output}")
endif()
foreach(pattern IN LISTS MATCHES)
  if(NOT output MATCHES "${pattern}")
    message(FATAL_ERROR "the output lacks /${pattern}/:\n${output}")
  endif()
endforeach()
message(STATUS "${output}")
