# One shipped trace, checked against the generator (a CTest test per file;
# see tools/CMakeLists.txt):
#   1. run TRACE_GEN with ARGS (a space-separated string) into GENERATED;
#   2. GENERATED must equal SHIPPED byte for byte;
#   3. README must show the command that made it: "trace_gen ARGS > NAME".
# Any difference fails the test with a message that says how to fix it.
separate_arguments(args UNIX_COMMAND "${ARGS}")
get_filename_component(name "${SHIPPED}" NAME)

execute_process(COMMAND "${TRACE_GEN}" ${args} --output "${GENERATED}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "trace_gen ${ARGS} failed (exit ${status})")
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${SHIPPED}" "${GENERATED}"
                RESULT_VARIABLE different)
if(NOT different EQUAL 0)
  message(FATAL_ERROR "traces/${name} differs from what `trace_gen ${ARGS}` makes now "
                      "(${GENERATED}). If the generator changed on purpose, rebuild the "
                      "regenerate_traces target and commit the new traces.")
endif()

file(READ "${README}" readme)
string(FIND "${readme}" "trace_gen ${ARGS} > ${name}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "traces/README.md does not show the command of ${name}: "
                      "`trace_gen ${ARGS} > ${name}`")
endif()
