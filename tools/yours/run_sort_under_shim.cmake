# Runs `sort` on a few thousand lines under the malloc shim SHIM (an
# LD_PRELOAD library of heaplab_add_allocator(... SHIM)) and on glibc: the
# output must be the same, and the shim's exit report (HEAPLAB_REPORT=1)
# must show that it served the allocations.
#
#   cmake -DSHIM=<library> -DSORT=<sort> -DNAME=<shim name> -DWORK_DIR=<dir> -P run_sort_under_shim.cmake
set(input ${WORK_DIR}/sort_input.txt)
set(lines)
foreach(i RANGE 1 4000)
  math(EXPR key "(${i} * 7919) % 4001")
  string(APPEND lines "line ${key} of the shim's sort\n")
endforeach()
file(WRITE ${input} "${lines}")

execute_process(COMMAND ${SORT} ${input} OUTPUT_VARIABLE on_glibc RESULT_VARIABLE glibc_status)
execute_process(COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=${SHIM} HEAPLAB_REPORT=1 ${SORT} ${input}
                OUTPUT_VARIABLE on_shim ERROR_VARIABLE report RESULT_VARIABLE shim_status)
if(NOT glibc_status EQUAL 0 OR NOT shim_status EQUAL 0)
  message(FATAL_ERROR "sort exited with ${glibc_status} on glibc and ${shim_status} under ${NAME}:\n${report}")
endif()
if(NOT on_glibc STREQUAL on_shim)
  message(FATAL_ERROR "sort's output under ${NAME} differs from its output on glibc")
endif()
if(NOT report MATCHES "heaplab malloc \\(${NAME}\\): ([0-9]+) allocations served" OR CMAKE_MATCH_1 LESS 10)
  message(FATAL_ERROR "the shim ${NAME} did not serve sort's allocations; its report:\n${report}")
endif()
message(STATUS "sort under ${NAME}: same output as on glibc, ${CMAKE_MATCH_1} allocations served")
