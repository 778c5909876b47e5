# The example page (docs/your_own_allocator.md) quotes two things, and both
# must be the real ones:
#   - its ```cmake block is the example's call in tools/yours/CMakeLists.txt,
#     between the "# [example call]" lines;
#   - its plain ``` block is the grader's message for the broken example, as
#     the test "grader: the broken example fails the model ..." wrote it to
#     OUTPUT, with the build folder written build/dev/ and source paths
#     relative to the repository.
#
#   cmake -DPAGE=<page> -DCALLS=<CMakeLists.txt> -DOUTPUT=<grader output> -DSOURCE=<repo> -DBUILD=<build> -P check_page_quotes.cmake
file(READ ${PAGE} page)
file(READ ${CALLS} calls)
string(REPLACE "# [example call]\n" ";" parts "${calls}")
list(GET parts 1 call)
string(FIND "${page}" "```cmake\n${call}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${PAGE} does not quote the example's call as ${CALLS} has it:\n${call}")
endif()

file(READ ${OUTPUT} output)
string(REPLACE "${BUILD}/" "build/dev/" output "${output}")
string(REPLACE "${SOURCE}/" "" output "${output}")
if(NOT page MATCHES "\n```\n([^`]+)\n```\n")
  message(FATAL_ERROR "${PAGE} has no quoted failure")
endif()
string(FIND "${output}" "${CMAKE_MATCH_1}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${PAGE}'s failure is not what the grader prints now:\n${output}")
endif()
message(STATUS "both quotes of ${PAGE} are the real ones")
