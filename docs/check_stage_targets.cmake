# Keeps README.md's "Running one stage alone" true (a CTest test; see the
# top-level CMakeLists.txt): for each chapter, every program that a test
# labelled with the chapter runs is one the chapter's aggregate target
# (`stage1` .. `stage5`) builds, so that building that target alone and
# running `ctest -L stageN` finds every program it needs.
#   CTEST  the ctest executable;
#   BUILD  the build tree (it holds stage_targets/<stage>.txt, one program per line).
cmake_minimum_required(VERSION 3.25)  # string(JSON)

set(problems "")
foreach(stage IN ITEMS stage1 stage2 stage3 stage4 stage5)
  file(STRINGS "${BUILD}/stage_targets/${stage}.txt" built)
  execute_process(COMMAND "${CTEST}" --test-dir "${BUILD}" -N -L "^${stage}$" --show-only=json-v1
                  OUTPUT_VARIABLE json RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "ctest could not list the tests of ${stage}")
  endif()
  string(JSON count LENGTH "${json}" tests)
  if(count EQUAL 0)
    string(APPEND problems "\n  ${stage}: no test carries the label")
    continue()
  endif()
  math(EXPR last "${count} - 1")
  foreach(index RANGE ${last})
    string(JSON name GET "${json}" tests ${index} name)
    string(JSON words LENGTH "${json}" tests ${index} command)
    math(EXPR last_word "${words} - 1")
    foreach(word_index RANGE ${last_word})
      string(JSON word GET "${json}" tests ${index} command ${word_index})
      # A program of the build tree that the test runs (not a script).
      if(word MATCHES "^${BUILD}/" AND NOT word MATCHES "\\.cmake$" AND NOT word IN_LIST built)
        string(APPEND problems "\n  ${stage}: \"${name}\" runs ${word}, which `${stage}` does not build")
      endif()
    endforeach()
  endforeach()
endforeach()
if(problems)
  message(FATAL_ERROR "a chapter's target misses programs its tests need:${problems}")
endif()
message(STATUS "each chapter's target builds every program its tests run")
