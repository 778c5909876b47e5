# The short fuzz run of a CTest test (tests/fuzz/CMakeLists.txt):
#   cmake -DFUZZER=<fuzzer> -DCORPUS=<dir> -DARTIFACTS=<dir> -DRUNS=<n>
#         -DMAX_LEN=<bytes> -DSECONDS=<s> [-DFIRST_INPUTS=<dir>] -P run_short_fuzz.cmake
# The corpus starts empty every time (with the inputs of FIRST_INPUTS, if
# given, read and never written) and the seed is fixed, so a run replays the same
# inputs (unless SECONDS cuts it short on a slow machine).
# The test passes when the fuzzer finds nothing.
file(REMOVE_RECURSE "${CORPUS}")
file(MAKE_DIRECTORY "${CORPUS}" "${ARTIFACTS}")
execute_process(
    COMMAND "${FUZZER}" "${CORPUS}" ${FIRST_INPUTS}
        -seed=1 -runs=${RUNS} -max_len=${MAX_LEN} -len_control=0 -max_total_time=${SECONDS}
        -timeout=30 -print_final_stats=1 "-artifact_prefix=${ARTIFACTS}/"
    RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} found a failing input (exit status ${result}): the crash file is "
                      "in ${ARTIFACTS}/; replay it with `${FUZZER} <crash file>` (see docs/fuzzing.md)")
endif()
