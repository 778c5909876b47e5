# Runs Doxygen and fails, printing every warning, if it wrote any.
# Doxygen sends warnings to its log file (WARN_LOGFILE), not the terminal, and
# FAIL_ON_WARNINGS only sets the exit code; this script makes the failure
# readable in a terminal and in CI.
file(REMOVE "${LOG}")
execute_process(COMMAND "${DOXYGEN}" "${DOXYFILE}" RESULT_VARIABLE status)
set(warnings "")
if(EXISTS "${LOG}")
  file(READ "${LOG}" warnings)
endif()
if(NOT status EQUAL 0 OR NOT warnings STREQUAL "")
  message(FATAL_ERROR "Doxygen failed (exit ${status}); its warnings:\n${warnings}")
endif()
message(STATUS "Doxygen: no warnings")
