# The grader of the hands-on track: `grade1` .. `grade5`, one target per
# chapter, which `cmake --workflow --preset yourturn<N>` builds.
#
# Each chapter's your_turn/CMakeLists.txt registers the learner's
# allocators with heaplab_add_allocator(... YOUR_TURN <N> REFERENCE <name>),
# which records them in the global property HEAPLAB_YOUR_TURN_<N> as
# "<name>=<reference>" items. The target grade<N> builds their test
# programs and their lab, then runs tools/grade/grade.py on them: every
# test case in its own process, a report like a marker's, and, once every
# case passes, the shipped traces replayed beside the course's allocators.
#
# In the dev build (HEAPLAB_YOUR_TURN off) the same command, with
# --skeleton, is a test per chapter: the skeleton as shipped answers every
# test case by passing or by saying "not written yet", and never fails
# otherwise, crashes or hangs.
find_program(HEAPLAB_PYTHON3 python3)

# heaplab_grade_command(<out-var> <N> [SKELETON])
#   The grade.py command line for chapter <N>'s learner allocators, empty
#   when the chapter registered none or this build made no test programs
#   for them (the tsan and docs builds). SKELETON: the check of the
#   skeleton as shipped, which runs the tests only.
function(heaplab_grade_command out chapter)
  cmake_parse_arguments(PARSE_ARGV 2 arg "SKELETON" "" "")
  get_property(entries GLOBAL PROPERTY HEAPLAB_YOUR_TURN_${chapter})
  set(command)
  set(programs)
  set(names)
  set(references)
  foreach(entry IN LISTS entries)
    string(REPLACE "=" ";" pair "${entry}")
    list(GET pair 0 name)
    list(GET pair 1 reference)
    list(APPEND names ${name})
    list(APPEND references ${reference})
    # One test program may hold several allocators (ALSO): list it once.
    if(TARGET ${name}_tests)
      list(APPEND programs --tests $<TARGET_FILE:${name}_tests>)
    endif()
  endforeach()
  if(programs AND HEAPLAB_PYTHON3)
    list(GET names 0 first)
    list(REMOVE_DUPLICATES references)
    list(JOIN references "," course)
    list(JOIN names "," yours)
    set(command ${HEAPLAB_PYTHON3} ${PROJECT_SOURCE_DIR}/tools/grade/grade.py
        --title "chapter ${chapter}, your turn (${yours})" ${programs})
    if(arg_SKELETON)
      list(APPEND command --skeleton)
    elseif(TARGET heaplab-${first})
      list(APPEND command --lab $<TARGET_FILE:heaplab-${first}> --allocators ${course},${yours}
                          --traces ${PROJECT_SOURCE_DIR}/traces)
    endif()
  endif()
  set(${out} "${command}" PARENT_SCOPE)
endfunction()

foreach(chapter RANGE 1 5)
  heaplab_grade_command(command ${chapter})
  if(NOT command)
    continue()
  endif()
  add_custom_target(grade${chapter} ${command}
      USES_TERMINAL VERBATIM
      COMMENT "Grading your code of chapter ${chapter} with the course's tests and lab")
  get_property(entries GLOBAL PROPERTY HEAPLAB_YOUR_TURN_${chapter})
  foreach(entry IN LISTS entries)
    string(REGEX REPLACE "=.*" "" name "${entry}")
    if(TARGET ${name})
      add_dependencies(grade${chapter} ${name})
    endif()
    # `--target stage<N>` builds what the chapter's tests run, this one's too.
    foreach(program IN ITEMS ${name}_tests heaplab-${name})
      if(TARGET ${program})
        set_property(GLOBAL APPEND PROPERTY HEAPLAB_STAGE_TARGETS_stage${chapter} ${program})
      endif()
    endforeach()
  endforeach()
  if(HEAPLAB_BUILD_TESTS AND NOT HEAPLAB_YOUR_TURN)
    heaplab_grade_command(skeleton ${chapter} SKELETON)
    set(test_name "your turn ${chapter}: the skeleton as shipped passes or says not written yet, test by test")
    add_test(NAME "${test_name}" COMMAND ${skeleton})
    set_tests_properties("${test_name}" PROPERTIES LABELS "stage${chapter};yourturn" TIMEOUT 1800)
  endif()
endforeach()

# The grader's own tests: every outcome told apart on a program made to end
# each way (tests/grade_outcomes.cpp); the example allocator of
# tools/yours/ graded, passing with the lab's summary; its broken twin
# caught; a missing program answered with one line.
if(HEAPLAB_BUILD_TESTS AND NOT HEAPLAB_YOUR_TURN AND HEAPLAB_PYTHON3 AND COMMAND heaplab_add_test_executable)
  heaplab_add_test_executable(grade_outcomes ${PROJECT_SOURCE_DIR}/tools/grade/tests/grade_outcomes.cpp
      LIBRARIES heaplab::stage1)
  set(grade ${HEAPLAB_PYTHON3} ${PROJECT_SOURCE_DIR}/tools/grade/grade.py)

  # heaplab_grade_test(<name> EXIT <status> MATCHES <regex>... COMMAND <argument>...)
  #   The test "grader: <name>": grade.py with the arguments answers with
  #   the status and every regex (expect_grade.cmake).
  function(heaplab_grade_test name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "EXIT" "MATCHES;COMMAND")
    # $<SEMICOLON> keeps each list one argument through to the script.
    list(JOIN arg_COMMAND "$<SEMICOLON>" command)
    list(JOIN arg_MATCHES "$<SEMICOLON>" matches)
    add_test(NAME "grader: ${name}"
        COMMAND ${CMAKE_COMMAND} "-DCOMMAND=${grade}$<SEMICOLON>${command}" -DEXIT=${arg_EXIT}
                "-DMATCHES=${matches}" -P ${PROJECT_SOURCE_DIR}/tools/grade/expect_grade.cmake)
    set_tests_properties("grader: ${name}" PROPERTIES LABELS "grader;tools" TIMEOUT 600)
  endfunction()

  heaplab_grade_test("each case is reported passed, not written yet, failed, crashed or hung"
      EXIT 1
      MATCHES "contract +1 +1 +0 +0 +0"
              "model +0 +0 +2 +1 +1"
              "1 of 6 test cases passed"
              "\\[model\\] a case, whose name no filter matches: failed"
              "grade_outcomes\\(\\): the step under test \\(tools/grade/tests/grade_outcomes.cpp:[0-9]+\\) +-- reached by 1 test case"
              "First problem: \\[model\\] a case that fails: failed"
              "the answer the grader must quote"
              "run it alone: [^\n]*grade_outcomes --test-case='a case that fails'"
              "\\[model\\] a case that crashes: crashed \\(killed by SIGABRT\\)"
              "\\[model\\] a case that hangs: hung \\(still running after 3 s: stopped\\)"
      COMMAND --title outcomes --timeout 3 --tests $<TARGET_FILE:grade_outcomes>)
  heaplab_grade_test("a skeleton check fails on a case that failed, crashed or hung"
      EXIT 1
      MATCHES "Skeleton check: 4 case\\(s\\) failed, crashed or hung"
      COMMAND --title outcomes --timeout 3 --skeleton --tests $<TARGET_FILE:grade_outcomes>)
  heaplab_grade_test("a missing program is one line and status 2"
      EXIT 2
      MATCHES "^grade: [^\n]*no-such-program: no such program \\(build it first\\)\n$"
      COMMAND --title missing --tests ${CMAKE_CURRENT_BINARY_DIR}/no-such-program)
  # The suites of a real allocator run whole: their longest case, the model
  # test, takes about 20 s alone and several times that on a loaded
  # machine, so these two give each case 300 s before calling it hung.
  if(TARGET example-first-fit_tests AND TARGET heaplab-example-first-fit)
    heaplab_grade_test("a correct allocator passes every case, then the lab compares it"
        EXIT 0
        MATCHES "contract +[0-9]+ +0 +0 +0 +0." "catalogue +[0-9]+ +0 +0 +0 +0." "model +[0-9]+ +0 +0 +0 +0."
                "heaplab-example-first-fit compare --allocators first-fit,example-first-fit"
                "Summary over [0-9]+ traces"
                "example-first-fit"
        COMMAND --title example --timeout 300 --tests $<TARGET_FILE:example-first-fit_tests>
                --lab $<TARGET_FILE:heaplab-example-first-fit> --allocators first-fit,example-first-fit
                --traces ${PROJECT_SOURCE_DIR}/traces)
  endif()
  if(TARGET first-fit-as-best_tests)
    heaplab_grade_test("a correct allocator that places as another policy is caught by the chapter's check"
        EXIT 1
        MATCHES "contract +[0-9]+ +0 +0 +0 +0." "model +[0-9]+ +0 +0 +0 +0." "chapter +0 +0 +1 +0 +0."
                "First problem: \\[chapter\\] serves every request as the course's heaplab::BestFitAllocator does"
                "step [0-9]+ of [0-9]+ \\(seed 0x[0-9a-f]+\\): allocate\\([0-9]+, align [0-9]+\\)"
                "the course's allocator answers the pointer at region byte \\$[0-9A-F]+, this one the pointer at region byte \\$[0-9A-F]+"
                "the course's heap \\(offset, A allocated / F free, size\\):[^a-z]+region 0: \\$0+ "
                "this heap:[^a-z]+region 0: \\$0+ "
        COMMAND --title first-fit-as-best --timeout 300 --tests $<TARGET_FILE:first-fit-as-best_tests>)
  endif()
  if(TARGET example-broken_tests)
    heaplab_grade_test("a broken allocator is caught, with the first problem in full"
        EXIT 1
        MATCHES "First problem: \\[(contract|model|catalogue)\\] [^\n]*<example-broken>: failed"
                "check\\(\\) failed: \"[^\"]+\" at offset \\$[0-9A-F]+"
                "region 0: \\$[0-9A-F]+ [AF] [0-9]+"
                "The lab runs once every test case passes."
        COMMAND --title broken --tests $<TARGET_FILE:example-broken_tests>)
  endif()
endif()

# The page of the hands-on track names each chapter's skeleton, command and
# lab names as the chapters' your_turn/ calls register them.
if(HEAPLAB_BUILD_TESTS AND NOT HEAPLAB_YOUR_TURN)
  set(page_entries)
  foreach(chapter RANGE 1 5)
    get_property(entries GLOBAL PROPERTY HEAPLAB_YOUR_TURN_${chapter})
    foreach(entry IN LISTS entries)
      list(APPEND page_entries "${chapter}:${entry}")
    endforeach()
  endforeach()
  list(JOIN page_entries "$<SEMICOLON>" page_entries)
  heaplab_grade_command(chapter1 1 SKELETON)
  list(JOIN chapter1 "$<SEMICOLON>" chapter1)
endif()
if(HEAPLAB_BUILD_TESTS AND NOT HEAPLAB_YOUR_TURN AND chapter1)
  set(test_name "docs: the your-turn page names every chapter's skeleton, command and lab names, and quotes the grader")
  add_test(NAME "${test_name}"
      COMMAND ${CMAKE_COMMAND} -DPAGE=${PROJECT_SOURCE_DIR}/docs/your_turn.md -DSOURCE=${PROJECT_SOURCE_DIR}
              "-DENTRIES=${page_entries}" "-DGRADE=${chapter1}"
              -P ${PROJECT_SOURCE_DIR}/tools/grade/check_your_turn_page.cmake)
  set_tests_properties("${test_name}" PROPERTIES LABELS "docs;yourturn;stage1" TIMEOUT 300)
endif()
