// A test program whose every case ends one way the grader tells apart
// (tools/grade/grade.py): passed, not written yet, failed, crashed, hung,
// and one the grader cannot select by name.
// The grader's own tests (tools/grade/grade.cmake) grade it and require
// each outcome to be reported as what it is.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "stage1_static_bump/your_turn.hpp"

TEST_SUITE("contract") {
  TEST_CASE("a case that passes") { CHECK(1 + 1 == 2); }

  TEST_CASE("a case that reaches a step not written yet") {
    HEAPLAB_NOT_WRITTEN_YET("grade_outcomes(): the step under test");
  }
}

TEST_SUITE("model") {
  TEST_CASE("a case that fails") {
    const int answer = 41;
    CHECK_MESSAGE(answer == 42, "the answer the grader must quote");
  }

  TEST_CASE("a case that crashes") { std::abort(); }

  TEST_CASE("a case that hangs") {
    // Far past the grader's --timeout in the test; ends on its own so a
    // lost process cannot linger.
    std::this_thread::sleep_for(std::chrono::seconds(120));
  }

  // doctest reads a comma in a --test-case filter as "or": run by its name,
  // this case runs nothing, which the grader must not count as a pass.
  TEST_CASE("a case, whose name no filter matches") { CHECK(true); }
}
