# Asks ctest, in the build tree BUILD, for the tests of the fixture named
# "odd-one probe bump" (tests/support/unstaged_probe.cpp), whose name has
# no stage: there must be one, found by -R and labelled `unstaged` and
# `contract`. Fails with ctest's answer otherwise.
foreach(label IN ITEMS unstaged contract)
  execute_process(COMMAND ${CTEST} --test-dir ${BUILD} -N -R "odd-one probe bump" -L "^${label}$"
                  OUTPUT_VARIABLE listing RESULT_VARIABLE status)
  if(NOT status EQUAL 0 OR NOT listing MATCHES "Total Tests: 1\n")
    message(FATAL_ERROR "ctest -R 'odd-one probe bump' -L ${label} should list one test:\n${listing}")
  endif()
endforeach()
execute_process(COMMAND ${CTEST} --test-dir ${BUILD} -N -R "stage1: probe bump" -L "^unstaged$"
                OUTPUT_VARIABLE listing)
if(NOT listing MATCHES "Total Tests: 0\n")
  message(FATAL_ERROR "the staged probe must not be registered twice:\n${listing}")
endif()
message(STATUS "the fixture without a stage is a test, labelled unstaged and contract")
