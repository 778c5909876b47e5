# The book as plain Markdown with its code: docs/book/, written by
# tools/book/render_book.py from the chapters and the docs pages (which
# quote code with Doxygen's \snippet, shown only once filled in).
#
#   cmake --build --preset dev --target book    writes docs/book/ again
#
# and the test "book: ..." fails when a page changed and docs/book/ was not
# written again, or when a page quotes code or a section that is not there.
# The same target writes each chapter page's reading time
# (tools/book/reading_time.py), which a test checks too.
find_program(HEAPLAB_PYTHON3 python3)
if(NOT HEAPLAB_PYTHON3)
  return()
endif()
set(render ${HEAPLAB_PYTHON3} ${PROJECT_SOURCE_DIR}/tools/book/render_book.py)
set(reading_time ${HEAPLAB_PYTHON3} ${PROJECT_SOURCE_DIR}/tools/book/reading_time.py)
add_custom_target(book
    COMMAND ${reading_time} --source ${PROJECT_SOURCE_DIR}
    COMMAND ${render} --source ${PROJECT_SOURCE_DIR}
    VERBATIM COMMENT "Writing each chapter's reading time, and docs/book/: every page with the code it quotes")
if(NOT HEAPLAB_BUILD_TESTS OR HEAPLAB_YOUR_TURN)
  return()
endif()
add_test(NAME "book: docs/book/ holds every page with its code, up to date"
    COMMAND ${render} --source ${PROJECT_SOURCE_DIR} --check)
set_tests_properties("book: docs/book/ holds every page with its code, up to date"
    PROPERTIES LABELS docs TIMEOUT 60)

add_test(NAME "book: every chapter page opens with the reading time its words give"
    COMMAND ${reading_time} --source ${PROJECT_SOURCE_DIR} --check)
set_tests_properties("book: every chapter page opens with the reading time its words give"
    PROPERTIES LABELS docs TIMEOUT 60)

add_test(NAME "book: every exercise says how hard it is"
    COMMAND ${HEAPLAB_PYTHON3} ${PROJECT_SOURCE_DIR}/tools/book/check_marks.py --source ${PROJECT_SOURCE_DIR})
set_tests_properties("book: every exercise says how hard it is" PROPERTIES LABELS docs TIMEOUT 60)

# A test that a book tool, run on a broken book, answers with status EXIT
# and output matching every one of MATCHES (tools/grade/expect_grade.cmake).
#   heaplab_book_answer_test(NAME COMMAND <tool and arguments...> EXIT <status> MATCHES <regex>...)
function(heaplab_book_answer_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "EXIT" "COMMAND;MATCHES")
  list(JOIN arg_COMMAND "$<SEMICOLON>" command)
  list(JOIN arg_MATCHES "$<SEMICOLON>" matches)
  add_test(NAME "book: ${name}"
      COMMAND ${CMAKE_COMMAND} "-DCOMMAND=${command}" -DEXIT=${arg_EXIT} "-DMATCHES=${matches}"
              -P ${PROJECT_SOURCE_DIR}/tools/grade/expect_grade.cmake)
  set_tests_properties("book: ${name}" PROPERTIES LABELS docs TIMEOUT 60)
endfunction()

# A page that quotes code that is not there is one line and status 2.
set(broken_book ${CMAKE_CURRENT_BINARY_DIR}/book_with_a_missing_quote)
file(MAKE_DIRECTORY ${broken_book}/docs)
file(WRITE ${broken_book}/README.md "# A page {#a_page}\n\n\\snippet nowhere.hpp tag\n")
heaplab_book_answer_test("a page that quotes a file that is not there is one line"
    COMMAND ${render} --source ${broken_book}
    EXIT 2
    MATCHES "^render_book: .snippet nowhere.hpp tag: No such file or directory.$")

# A chapter page in a folder that refers to a page of docs/ links to it
# from docs/book/, where both pages are written side by side.
set(linked_book ${CMAKE_CURRENT_BINARY_DIR}/book_with_a_chapter_link)
file(MAKE_DIRECTORY ${linked_book}/docs ${linked_book}/stage1_a)
file(WRITE ${linked_book}/README.md "# The book {#the_book}\n\nText.\n")
file(WRITE ${linked_book}/stage1_a/README.md "# A chapter {#a_chapter}\n\nSee \\ref a_docs_page.\n")
file(WRITE ${linked_book}/docs/other.md "# A docs page {#a_docs_page}\n\nText.\n")
add_test(NAME "book: a chapter's reference to a docs page links to it in docs/book/"
    COMMAND ${CMAKE_COMMAND} -DPYTHON3=${HEAPLAB_PYTHON3} -DRENDER=${PROJECT_SOURCE_DIR}/tools/book/render_book.py
            -DSOURCE=${linked_book} -DPAGE=stage1_a.md "-DLINK=[A docs page](other.md)"
            -P ${PROJECT_SOURCE_DIR}/tools/book/expect_book_link.cmake)
set_tests_properties("book: a chapter's reference to a docs page links to it in docs/book/"
    PROPERTIES LABELS docs TIMEOUT 60)

# The glossary explains words the book uses, each with its section.
add_test(NAME "docs: every glossary term is used by the book and points to its section"
    COMMAND ${CMAKE_COMMAND} -DSOURCE=${PROJECT_SOURCE_DIR} -P ${PROJECT_SOURCE_DIR}/docs/check_glossary.cmake)
set_tests_properties("docs: every glossary term is used by the book and points to its section"
    PROPERTIES LABELS docs TIMEOUT 60)

# Every output a page quotes (a block opening with `$ heaplab ...`, or after
# `<!-- output: PROGRAM ARGS -->`) is what the program prints today.
add_test(NAME "book: every output a page quotes is what its program prints today"
    COMMAND ${HEAPLAB_PYTHON3} ${PROJECT_SOURCE_DIR}/tools/book/check_outputs.py
            --source ${PROJECT_SOURCE_DIR} --build ${PROJECT_BINARY_DIR})
set_tests_properties("book: every output a page quotes is what its program prints today"
    PROPERTIES LABELS docs TIMEOUT 300)

# Every number a page states in a sentence (42 bytes, 10 MiB, 88.2%) is
# printed by a program the page names, a constant of the code
# (book_constants), or listed in tools/book/prose_numbers.txt with why.
add_test(NAME "book: every number a page states in its prose is checked or listed with why"
    COMMAND ${HEAPLAB_PYTHON3} ${PROJECT_SOURCE_DIR}/tools/book/check_prose_numbers.py
            --source ${PROJECT_SOURCE_DIR} --build ${PROJECT_BINARY_DIR})
set_tests_properties("book: every number a page states in its prose is checked or listed with why"
    PROPERTIES LABELS docs TIMEOUT 300)

# A number no program prints and nobody listed is one line and status 1; a
# listed one whose arithmetic no longer holds too.
set(drifted_book ${CMAKE_CURRENT_BINARY_DIR}/book_with_a_drifted_number)
file(MAKE_DIRECTORY ${drifted_book}/stage1_drift ${drifted_book}/docs ${drifted_book}/tools/book)
file(WRITE ${drifted_book}/stage1_drift/README.md
     "# A page {#a_page}\n\nThe heap is 123 KiB.\n\nA block is 48 bytes.\n")
file(WRITE ${drifted_book}/tools/book/prose_numbers.txt "stage1_drift/README.md | 48 bytes | arithmetic: 16 + 24\n")
heaplab_book_answer_test("a number in prose that nothing prints, or whose arithmetic fails, is named"
    COMMAND ${HEAPLAB_PYTHON3} ${PROJECT_SOURCE_DIR}/tools/book/check_prose_numbers.py
            --source ${drifted_book} --build ${PROJECT_BINARY_DIR} --list
    EXIT 1
    MATCHES "stage1_drift/README.md:3: 123 KiB: The heap is 123 KiB."
            "stage1_drift/README.md:5: 48 bytes: listed, but 16 \\+ 24 gives 40")
