# One run of heaplab, checked from the outside (a CTest test; see
# heaplab_run_test() in tools/CMakeLists.txt):
#   HEAPLAB         the executable;
#   ARGS            its arguments (a list);
#   EXIT            the exit code it must return;
#   STDOUT_MATCHES  if not empty, a regular expression its standard output must match;
#   STDERR_IS       if not empty, the one line its standard error must be, exactly;
#   STDOUT_TO       if not empty, the file its standard output goes to (/dev/full),
#                   instead of being read for STDOUT_MATCHES.
# Any difference fails the test with the command, what was expected and what came.
if(STDOUT_TO STREQUAL "")
  execute_process(COMMAND "${HEAPLAB}" ${ARGS}
                  RESULT_VARIABLE status OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
else()
  execute_process(COMMAND "${HEAPLAB}" ${ARGS}
                  RESULT_VARIABLE status OUTPUT_FILE "${STDOUT_TO}" ERROR_VARIABLE stderr)
  set(stdout "(written to ${STDOUT_TO})")
endif()
string(JOIN " " command "heaplab" ${ARGS})

if(NOT status STREQUAL EXIT)
  message(FATAL_ERROR "`${command}` exited with '${status}', not ${EXIT}.\n"
                      "Standard output:\n${stdout}\nStandard error:\n${stderr}")
endif()
if(NOT STDOUT_MATCHES STREQUAL "" AND NOT stdout MATCHES "${STDOUT_MATCHES}")
  message(FATAL_ERROR "The output of `${command}` does not match '${STDOUT_MATCHES}':\n${stdout}")
endif()
if(NOT STDERR_IS STREQUAL "" AND NOT stderr STREQUAL "${STDERR_IS}\n")
  message(FATAL_ERROR "`${command}` should print exactly the line\n${STDERR_IS}\n"
                      "to standard error, but printed:\n${stderr}")
endif()
