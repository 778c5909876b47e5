# Runs one misuse of use_after_free.cpp under a tool and passes only if the
# tool caught it: the process exits with the tool's error status, and its
# output holds the tool's report, whose first frame is the access itself.
#
#   cmake -DTOOL=asan|memcheck -DACCESS=read|write -DEXIT_CODE=<n>
#         -P expect_report.cmake -- <command>...
#
# EXIT_CODE is the status the tool gives when it finds an error. Under asan,
# <command> is the instrumented program (this script sets ASAN_OPTIONS to
# exit with EXIT_CODE); under memcheck it is valgrind, already told
# --error-exitcode=<n>, then the program.
cmake_minimum_required(VERSION 3.25)

if(NOT EXIT_CODE MATCHES "^[1-9][0-9]*$")
  message(FATAL_ERROR "expect_report.cmake: EXIT_CODE must be a positive number, not '${EXIT_CODE}'")
endif()
set(tool_exit_code ${EXIT_CODE})

# The command: everything after "--".
set(command)
set(after_separator FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(index RANGE ${last})
  if(after_separator)
    list(APPEND command "${CMAKE_ARGV${index}}")
  elseif(CMAKE_ARGV${index} STREQUAL "--")
    set(after_separator TRUE)
  endif()
endforeach()
if(NOT command)
  message(FATAL_ERROR "expect_report.cmake: no command after --")
endif()

# What the report must say, and the function that made the access (each on
# its own line of the report, in this order).
if(ACCESS STREQUAL "read")
  set(asan_kind "READ")
  set(memcheck_kind "Invalid read")
  set(function "read_byte")
elseif(ACCESS STREQUAL "write")
  set(asan_kind "WRITE")
  set(memcheck_kind "Invalid write")
  set(function "write_byte")
else()
  message(FATAL_ERROR "expect_report.cmake: ACCESS must be read or write, not '${ACCESS}'")
endif()
set(line "[^\n]*\n")
if(TOOL STREQUAL "asan")
  # ASan reports memory poisoned by the program itself (tracking.hpp) as
  # use-after-poison. No abort: the exit status is the one asked for.
  set(ENV{ASAN_OPTIONS} "abort_on_error=0:exitcode=${tool_exit_code}:detect_leaks=1")
  set(report "AddressSanitizer: use-after-poison on address ${line}"
             "${asan_kind} of size 1 at ${line}"
             " *#0 0x[0-9a-f]+ in [^\n]*${function}[^\n]*use_after_free.cpp:[0-9]+")
elseif(TOOL STREQUAL "memcheck")
  # The file as the debug information names it: alone (GCC), or with its
  # directory (clang).
  set(report "== ${memcheck_kind} of size 1\n"
             "==[0-9]+== +at 0x[0-9A-F]+: [^\n]*${function}[^\n]*\\(([^\n()]*/)?use_after_free.cpp:[0-9]+\\)")
else()
  message(FATAL_ERROR "expect_report.cmake: TOOL must be asan or memcheck, not '${TOOL}'")
endif()
string(CONCAT report ${report})

execute_process(COMMAND ${command} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
message("${output}")
if(NOT result STREQUAL "${tool_exit_code}")
  message(FATAL_ERROR "expected exit status ${tool_exit_code} (${TOOL} found an error), got '${result}'")
endif()
if(NOT output MATCHES "${report}")
  message(FATAL_ERROR "the output lacks ${TOOL}'s report of a bad ${ACCESS} in ${function}()")
endif()
message("${TOOL} reported the bad ${ACCESS} in ${function}(), and exited with ${result}")
