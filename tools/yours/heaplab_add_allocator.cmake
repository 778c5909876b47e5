# heaplab_add_allocator(): any allocator joins the course's tests, lab,
# fuzzing and malloc shims with one call (docs/your_own_allocator.md).
#
#   heaplab_add_allocator(<name>
#       TYPE <C++ type>
#       HEADER <header>
#       [SOURCES <file>...]
#       [LIBRARIES <target>...]
#       [ALSO <name2> <type2> [<name3> <type3> ...]]
#       [CHAPTER <text>] [SUMMARY <text>]
#       [CAPACITY <bytes>]
#       [LABELS <label>...]
#       [REFERENCE <lab name>...]
#       [SAME_AS <type>...]
#       [YOUR_TURN <N>]
#       [SHIM]
#       [BUILD_ONLY])
#
#   <name>      what the allocator is called everywhere: the test fixture's
#               display name, the CTest label, the lab's name, the shim's.
#               Lowercase letters, digits and '-', starting with a letter.
#   TYPE        the C++ type; models heaplab::Allocator
#               (stage1_static_bump/contract.hpp). Constructible from
#               std::span<std::byte> (it then runs over the test's region),
#               else default-constructible (it brings its own memory).
#   HEADER      the header that declares TYPE: absolute, or relative to the
#               calling CMakeLists.txt's folder.
#   SOURCES     compiled into a static library heaplab_yours_<name_>
#               (<name_> is <name> with '-' as '_'); with none, the
#               allocator is header-only.
#   LIBRARIES   what the allocator links, e.g. heaplab::stage3.
#   ALSO        more allocators of the same HEADER and library, as name and
#               type pairs: one test program and one lab for all of them.
#   CHAPTER     the lab's "chapter" column (default "yours").
#   SUMMARY     the lab's one-line description (`heaplab-<name> list`).
#   CAPACITY    bytes of each test heap (default 262144, 256 KiB).
#   LABELS      more CTest labels for every test of the call.
#   REFERENCE   the course's allocator to compare with, by its lab name
#               (e.g. first-fit): one for all, or one per allocator
#               (<name>, then each of ALSO); recorded for the grader
#               (tools/grade/).
#   SAME_AS     one C++ type per allocator (<name>, then each of ALSO): the
#               course's allocator each must serve exactly as, block for
#               block (tests/suites/reference_suite.hpp), in a test case of
#               the suite "chapter". For a learner's piece in the course's
#               template, which must make the chapter's decisions.
#   YOUR_TURN   <N>: a learner's allocator of chapter <N>. The name (with
#               its REFERENCE, as "<name>=<reference>") is appended to the
#               global property HEAPLAB_YOUR_TURN_<N>. With
#               HEAPLAB_YOUR_TURN on, the graded tests are registered, also
#               labelled stage<N> and yourturn<N>; off (the dev build), the
#               grader checks the skeleton as shipped instead, one test per
#               chapter (tools/grade/grade.cmake).
#   SHIM        also an LD_PRELOAD malloc over TYPE,
#               ${CMAKE_BINARY_DIR}/tools/shim/libheaplab-malloc-<name>.so
#               (tools/shim/CMakeLists.txt), and a test that runs `sort`
#               under it. TYPE's code must come from SOURCES and the
#               course's stage libraries only.
#   BUILD_ONLY  build everything but register no graded test (for an
#               allocator whose failures other tests check).
#
# What it makes, in the dev and asan builds:
#   <name>_tests     the contract suite and the bad-input catalogue, the
#                    model test if TYPE models heaplab::Reallocating, and
#                    with SAME_AS the reference suite; each case a CTest
#                    test labelled <name>, its suite (contract, catalogue,
#                    model, chapter) and LABELS;
#   heaplab-<name>   the heaplab lab with the course's allocators and these;
#   <name>           a target that builds all of them (and the shim).
# In the fuzz build (HEAPLAB_FUZZ) only fuzz_<name_>, a libFuzzer target
# over the course's harness, in `fuzzers` and with a short run as a test;
# in the tsan and docs builds nothing (they build the course's parts only).
include_guard(GLOBAL)

# heaplab_yours_generate(<template> <output>)
#   configure_file() of tools/yours/<template> with the calling function's
#   variables.
macro(heaplab_yours_generate template output)
  configure_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${template} ${output} @ONLY)
endmacro()

function(heaplab_add_allocator name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "SHIM;BUILD_ONLY"
      "TYPE;HEADER;CHAPTER;SUMMARY;CAPACITY;YOUR_TURN" "SOURCES;LIBRARIES;ALSO;LABELS;SAME_AS;REFERENCE")
  set(usage "usage: heaplab_add_allocator(<name> TYPE <type> HEADER <header> ...), see ${CMAKE_CURRENT_FUNCTION_LIST_FILE}")
  if(NOT arg_TYPE OR NOT arg_HEADER OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "heaplab_add_allocator(${name}): TYPE and HEADER are required, "
                        "and '${arg_UNPARSED_ARGUMENTS}' is not an argument. ${usage}")
  endif()
  list(LENGTH arg_ALSO also_length)
  math(EXPR also_odd "${also_length} % 2")
  if(also_odd)
    message(FATAL_ERROR "heaplab_add_allocator(${name}): ALSO takes pairs of a name and a type. ${usage}")
  endif()
  set(names ${name})
  set(types "${arg_TYPE}")
  while(arg_ALSO)
    list(POP_FRONT arg_ALSO also_name also_type)
    list(APPEND names ${also_name})
    list(APPEND types "${also_type}")
  endwhile()
  list(LENGTH names names_length)
  list(LENGTH arg_SAME_AS same_as_length)
  list(LENGTH arg_REFERENCE reference_length)
  if(reference_length GREATER 1 AND NOT reference_length EQUAL names_length)
    message(FATAL_ERROR "heaplab_add_allocator(${name}): REFERENCE takes one lab name, or one per allocator "
                        "(${names_length}), it has ${reference_length}. ${usage}")
  endif()
  if(arg_SAME_AS AND NOT same_as_length EQUAL names_length)
    message(FATAL_ERROR "heaplab_add_allocator(${name}): SAME_AS takes one type per allocator "
                        "(${names_length}), it has ${same_as_length}. ${usage}")
  endif()
  foreach(each IN LISTS names)
    if(NOT each MATCHES "^[a-z][a-z0-9-]*$")
      message(FATAL_ERROR "heaplab_add_allocator: the name '${each}' must be lowercase letters, digits and '-'")
    endif()
  endforeach()
  if(arg_YOUR_TURN AND NOT arg_YOUR_TURN MATCHES "^[1-5]$")
    message(FATAL_ERROR "heaplab_add_allocator(${name}): YOUR_TURN is a chapter, 1 to 5")
  endif()
  foreach(option_default IN ITEMS "CHAPTER=yours" "SUMMARY=an allocator of your own" "CAPACITY=262144")
    string(REPLACE "=" ";" pair "${option_default}")
    list(GET pair 0 option)
    list(GET pair 1 default)
    if(NOT DEFINED arg_${option})
      set(arg_${option} "${default}")
    endif()
  endforeach()
  cmake_path(ABSOLUTE_PATH arg_HEADER BASE_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} OUTPUT_VARIABLE header)
  set(arg_NAME ${name})
  string(REPLACE "-" "_" id ${name})
  list(JOIN names ", " names_list)

  # The grader builds its targets from this property (tools/grade/grade.cmake).
  if(arg_YOUR_TURN)
    set(index 0)
    foreach(each IN LISTS names)
      set(reference "${arg_REFERENCE}")
      if(reference_length GREATER 1)
        list(GET arg_REFERENCE ${index} reference)
      endif()
      set_property(GLOBAL APPEND PROPERTY HEAPLAB_YOUR_TURN_${arg_YOUR_TURN} "${each}=${reference}")
      math(EXPR index "${index} + 1")
    endforeach()
  endif()
  if(HEAPLAB_TSAN OR (NOT HEAPLAB_BUILD_TESTS AND NOT HEAPLAB_FUZZ))
    return()  # the tsan and docs builds: the course's parts only
  endif()

  # The allocator's own code: a library, or an interface target for a
  # header-only allocator.
  set(library heaplab_yours_${id})
  if(arg_SOURCES)
    add_library(${library} STATIC ${arg_SOURCES})
    target_link_libraries(${library} PUBLIC heaplab_options ${arg_LIBRARIES})
  else()
    add_library(${library} INTERFACE)
    target_link_libraries(${library} INTERFACE heaplab_options ${arg_LIBRARIES})
  endif()

  set(generated ${CMAKE_CURRENT_BINARY_DIR}/yours_${id})
  if(HEAPLAB_FUZZ)
    # A skeleton as shipped would stop every input at "not written yet", and
    # a BUILD_ONLY allocator is broken on purpose: neither is fuzzed.
    if(NOT arg_BUILD_ONLY AND (NOT arg_YOUR_TURN OR HEAPLAB_YOUR_TURN))
      heaplab_yours_fuzzer(${name})
    endif()
    return()
  endif()

  add_custom_target(${name})
  heaplab_yours_tests(${name})
  if(TARGET heaplab::cli)
    heaplab_yours_lab(${name})
  endif()
  if(arg_SHIM AND COMMAND heaplab_add_malloc_shim)
    heaplab_yours_shim(${name})
  endif()
endfunction()

# The parts of heaplab_add_allocator(), each called from it (they read its
# variables: names, types, header, library, generated, arg_*).

# <name>_tests: the three suites over a RegionFixture of each allocator.
function(heaplab_yours_tests name)
  set(fixture_lines)
  set(fixture_ids)
  set(name_lines)
  set(same_as_lines)
  set(index 0)
  foreach(each type IN ZIP_LISTS names types)
    string(APPEND fixture_lines "/// ${each}: ${type} over ${arg_CAPACITY} bytes.\n"
                                "using Fixture${index} = RegionFixture<${type}, ${arg_CAPACITY}>;\n")
    list(APPEND fixture_ids Fixture${index})
    string(APPEND name_lines "TYPE_TO_STRING_AS(\"${each}\", heaplab::testing::yours::Fixture${index});\n")
    if(arg_SAME_AS)
      list(GET arg_SAME_AS ${index} reference)
      string(APPEND same_as_lines
          "TEST_CASE(\"serves every request as the course's ${reference} does block for block<${each}>\"\n"
          "          * doctest::test_suite(\"chapter\")) {\n"
          "  heaplab::testing::check_served_as_reference<heaplab::testing::yours::Fixture${index}, ${reference}>();\n"
          "}\n")
    endif()
    math(EXPR index "${index} + 1")
  endforeach()
  list(JOIN fixture_ids ", " fixture_ids)
  heaplab_yours_generate(allocator_tests.cpp.in ${generated}/${id}_tests.cpp)
  heaplab_add_test_executable(${name}_tests ${generated}/${id}_tests.cpp LIBRARIES ${library})
  if(HEAPLAB_SANITIZE)
    target_compile_definitions(${name}_tests PRIVATE HEAPLAB_MODEL_SANITIZED_BUILD)
  endif()
  add_dependencies(${name} ${name}_tests)
  if(arg_BUILD_ONLY)
    return()
  endif()

  if(arg_YOUR_TURN)
    set_property(GLOBAL APPEND PROPERTY HEAPLAB_STAGE_TARGETS_stage${arg_YOUR_TURN} ${name}_tests)
  endif()
  if(arg_YOUR_TURN AND NOT HEAPLAB_YOUR_TURN)
    # The dev build: the grader checks the skeleton as shipped, one test
    # per chapter (tools/grade/grade.cmake), instead of a test per case.
    return()
  endif()
  set(labels)
  foreach(label IN LISTS arg_LABELS)
    list(APPEND labels LABELS ${label})
  endforeach()
  if(arg_YOUR_TURN)
    list(APPEND labels LABELS stage${arg_YOUR_TURN} LABELS yourturn${arg_YOUR_TURN})
  endif()
  # doctest's discovery reads variables its module sets where it is
  # included, so it is included here: a call from a folder that never
  # included it (a chapter's your_turn/, a learner's own) still registers
  # its tests, where it would register one "NOT_BUILT" placeholder.
  find_package(doctest REQUIRED)
  include(doctest)
  foreach(each IN LISTS names)
    doctest_discover_tests(${name}_tests TEST_SPEC "*<${each}>"
        ADD_LABELS 1  # the suite: contract, catalogue, model or chapter
        PROPERTIES LABELS ${each} ${labels} TIMEOUT 120)
  endforeach()
endfunction()

# heaplab-<name>: the lab with the course's allocators and these.
function(heaplab_yours_lab name)
  set(lab_lines)
  foreach(each type IN ZIP_LISTS names types)
    string(APPEND lab_lines "    heaplab::lab_entry<${type}>(\"${each}\", \"${arg_CHAPTER}\", \"${type}\", \"${arg_SUMMARY}\"),\n")
  endforeach()
  heaplab_yours_generate(allocator_lab.cpp.in ${generated}/${id}_lab.cpp)
  add_executable(heaplab-${name} ${generated}/${id}_lab.cpp)
  target_link_libraries(heaplab-${name} PRIVATE heaplab::cli ${library})
  add_dependencies(${name} heaplab-${name})
endfunction()

# libheaplab-malloc-<name>.so, and a real program under it.
function(heaplab_yours_shim name)
  heaplab_add_malloc_shim(${name} HEADER ${header} TYPE "${arg_TYPE}" SOURCES ${arg_SOURCES})
  add_dependencies(${name} heaplab_malloc_${id})
  if(NOT HEAPLAB_SHIM_PRELOADABLE)
    return()  # a sanitizer build: its runtime must be loaded first
  endif()
  find_program(HEAPLAB_SORT sort)
  set(test_name "shim ${name}: sort sorts the same lines under it as on glibc")
  add_test(NAME "${test_name}"
      COMMAND ${CMAKE_COMMAND} -DSHIM=$<TARGET_FILE:heaplab_malloc_${id}> -DSORT=${HEAPLAB_SORT}
              -DNAME=${name} -DWORK_DIR=${generated}
              -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/run_sort_under_shim.cmake)
  set_tests_properties("${test_name}" PROPERTIES LABELS "${name};shim" TIMEOUT 120)
endfunction()

# fuzz_<name_>: libFuzzer over the course's harness (the fuzz build).
function(heaplab_yours_fuzzer name)
  set(fuzz_lines)
  list(LENGTH names count)
  foreach(each type IN ZIP_LISTS names types)
    string(APPEND fuzz_lines "    {\"${each}\", &heaplab::fuzzing::fuzz_over_region<${type}>},\n")
  endforeach()
  heaplab_yours_generate(allocator_fuzz.cpp.in ${generated}/fuzz_${id}.cpp)
  set(fuzzer fuzz_${id})
  add_executable(${fuzzer} ${generated}/fuzz_${id}.cpp)
  target_link_libraries(${fuzzer} PRIVATE heaplab_options ${library})
  target_link_options(${fuzzer} PRIVATE -fsanitize=fuzzer)
  add_dependencies(fuzzers ${fuzzer})
  set(fuzz_dir ${PROJECT_SOURCE_DIR}/tests/fuzz)
  add_test(NAME ${fuzzer}
      COMMAND ${CMAKE_COMMAND}
          -DFUZZER=$<TARGET_FILE:${fuzzer}>
          -DCORPUS=${generated}/corpus-short
          -DARTIFACTS=${generated}/artifacts
          -DRUNS=${HEAPLAB_FUZZ_SHORT_RUNS}
          -DMAX_LEN=${HEAPLAB_FUZZ_SHORT_MAX_LEN}
          -DSECONDS=${HEAPLAB_FUZZ_SHORT_SECONDS}
          -P ${fuzz_dir}/run_short_fuzz.cmake
      WORKING_DIRECTORY ${generated})
  set_tests_properties(${fuzzer} PROPERTIES LABELS "fuzz;${name}" TIMEOUT 180)
endfunction()
