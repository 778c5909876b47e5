# Runs one test case of a deliberately broken allocator's tests and checks
# that the grader catches it the way a learner must see it:
#   - the case fails;
#   - the message names the broken invariant (check() failed: "...");
#   - it says how to replay the case alone (and, for the model test, the
#     operation and the seed: "op N of seed 0x...: <call>");
#   - it shows the heap's picture ("region 0: $0000 A ...").
# The whole output is kept in OUTPUT, where docs/your_own_allocator.md
# quotes it from.
#
#   cmake -DPROGRAM=<tests> -DCASE=<test case> -DSUITE=<model|contract> -DOUTPUT=<file> -P expect_grader_message.cmake
execute_process(COMMAND ${PROGRAM} "--test-case=${CASE}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
set(output "${out}${err}")
file(WRITE ${OUTPUT} "${output}")
set(expected
    "check\\(\\) failed: \"[^\"]+\" at offset \\$[0-9A-F]+"
    "replay it alone: [^\n]*--test-case="
    "region 0: \\$[0-9A-F]+ [AF] [0-9]+")
if(SUITE STREQUAL "model")
  list(APPEND expected
      "op [0-9]+ of seed 0x[0-9a-f]+: (allocate|allocate_zeroed|deallocate|reallocate)\\("
      "HEAPLAB_MODEL_SEED=0x[0-9a-f]+ HEAPLAB_MODEL_OPS=[0-9]+ ")
endif()
if(status EQUAL 0)
  message(FATAL_ERROR "the broken allocator passed \"${CASE}\": the grader did not catch it\n${output}")
endif()
foreach(pattern IN LISTS expected)
  if(NOT output MATCHES "${pattern}")
    message(FATAL_ERROR "the grader's message lacks /${pattern}/:\n${output}")
  endif()
endforeach()
message(STATUS "caught, with a grader's message (in ${OUTPUT})")
