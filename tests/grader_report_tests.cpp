// The grader's pictures and messages (tests/support/heap_picture.hpp,
// grader_report.hpp, served_alike.hpp): what a learner reads when a test
// of the course fails on their allocator must show the place it names.
#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "tests/support/grader_report.hpp"
#include "tests/support/heap_picture.hpp"
#include "tests/support/served_alike.hpp"

namespace {

using heaplab::BlockState;
using heaplab::BlockView;
using heaplab::CheckResult;

/// \p count blocks of 32 bytes, one after another in region 0, alternately
/// allocated and free.
std::vector<BlockView> row_of_blocks(std::size_t count) {
  std::vector<BlockView> blocks;
  for (std::size_t i = 0; i < count; ++i) {
    blocks.push_back({0, i * 32, 32, i % 2 == 0 ? BlockState::allocated : BlockState::free});
  }
  return blocks;
}

/// How many times \p needle occurs in \p text.
std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

}  // namespace

TEST_SUITE("grader") {
  TEST_CASE("a heap picture marks the block check() named, four blocks a line") {
    const std::string picture = heaplab::testing::draw_heap_picture(
        row_of_blocks(6), CheckResult::fail("an invariant", 0x48));  // inside the third block, $040
    CHECK(picture.find("region 0: $000 A 32") == 0);
    CHECK(picture.find("$040 A 32 <-- check()") != std::string::npos);
    CHECK(occurrences(picture, "<-- check()") == 1);
    CHECK(occurrences(picture, "\n") == 2);  // six blocks: two lines
    CHECK(picture.find("more blocks") == std::string::npos);
  }

  TEST_CASE("a heap picture too long to show whole is cut after the first blocks") {
    const std::string picture = heaplab::testing::draw_heap_picture(row_of_blocks(40));
    CHECK(picture.find("region 0: $000 A 32") == 0);
    CHECK(picture.find("... and 8 more blocks\n") != std::string::npos);
    CHECK(occurrences(picture, " A 32") + occurrences(picture, " F 32") == heaplab::testing::kPictureBlocks);
  }

  TEST_CASE("a heap picture shows the blocks around a marked block past the first ones") {
    // Block 35 of 40 is marked: the window is the last 32 blocks, 8 to 39.
    const std::string picture =
        heaplab::testing::draw_heap_picture(row_of_blocks(40), CheckResult::fail("an invariant", 35 * 32));
    CHECK(picture.find("... 8 blocks before\n") == 0);
    CHECK(picture.find("$460 F 32 <-- check()") != std::string::npos);
    CHECK(picture.find("$100 A 32") != std::string::npos);  // block 8, the first shown
    CHECK(picture.find("$0E0 F 32") == std::string::npos);  // block 7, not shown
    CHECK(picture.find("more blocks") == std::string::npos);
  }

  TEST_CASE("two block walks are compared block by block, and their first difference is named") {
    std::vector<BlockView> want = row_of_blocks(3);
    std::vector<BlockView> have = want;
    CHECK(heaplab::testing::walk_difference(want, have).empty());
    have[1].state = BlockState::allocated;
    CHECK(heaplab::testing::walk_difference(want, have) ==
          "block 1 of the walk differs: the course's is $020 F 32, this one's $020 A 32");
    have.pop_back();
    have[1].state = BlockState::free;
    CHECK(heaplab::testing::walk_difference(want, have) == "the course's heap has 3 blocks, this one 2");
  }
}
