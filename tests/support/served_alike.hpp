/// \file
/// The test of a template slot: an allocator built from the course's
/// template with a piece of its own (a bump step, a free list, a policy, a
/// split, tags, the four cases, size classes) must serve exactly as the
/// course's allocator does when that piece does what the course's does.
/// check_served_alike() runs one script of requests and frees on both and
/// compares every answer; the chapters' tests run it on the course's slots,
/// and the grader on a learner's pieces (tests/suites/reference_suite.hpp).
///
/// At the first difference it stops with a grader's message:
///
///     step 6 of 600 (seed 0x5eeda11c): allocate(15, align 8)
///     the course's allocator answers the pointer at region byte $1010, this one the pointer at region byte $1050
///     replay it alone: ... --test-case='...'
///     the course's heap (offset, A allocated / F free, size):
///     region 0: $000 A 32        $020 F 32        $040 F 120       $0B8 F 352
///     this heap:
///     region 0: $000 F 64        $040 A 32        $060 F 88        $0B8 F 352
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/grader_report.hpp"
#include "tests/support/heap_picture.hpp"

namespace heaplab::testing {

/// Bytes from the start of \p region to \p p (null: the region's size, no offset of a block).
[[nodiscard]] inline std::size_t offset_in(std::span<std::byte> region, const void* p) noexcept {
  return p == nullptr ? region.size() : address_of(p) - address_of(region.data());
}

/// One answer of an allocator, as a grader's message says it: "the
/// pointer at region byte $1010", or "null" when \p offset is past the
/// region (offset_in() of nullptr). (The heap pictures count from the
/// heap's first block, which may start a little way into the region.)
[[nodiscard]] inline std::string describe_answer(std::size_t offset, std::span<std::byte> region) {
  return offset == region.size() ? std::string("null") : "the pointer at region byte " + format_offset(offset);
}

/// The grader's message for two heaps that no longer agree after \p what:
/// the difference \p difference, the replay command and both heaps' pictures.
template <Allocator Course, Allocator Slot>
[[nodiscard]] std::string served_apart_report(const Course& course, const Slot& slot, const std::string& what,
                                              const std::string& difference) {
  return what + "\n" + difference + "\nreplay it alone: " + replay_command() +
         "\nthe course's heap (offset, A allocated / F free, size):\n" + draw_heap_picture(course) +
         "this heap:\n" + draw_heap_picture(slot);
}

/// The first block at which the walks \p want and \p have differ, as a
/// sentence; empty when they are the same.
[[nodiscard]] inline std::string walk_difference(const std::vector<BlockView>& want,
                                                 const std::vector<BlockView>& have) {
  for (std::size_t i = 0; i < want.size() && i < have.size(); ++i) {
    const BlockView& w = want[i];
    const BlockView& h = have[i];
    if (w.region != h.region || w.offset != h.offset || w.size != h.size || w.state != h.state) {
      return "block " + std::to_string(i) + " of the walk differs: the course's is " + format_offset(w.offset) +
             (w.state == BlockState::free ? " F " : " A ") + std::to_string(w.size) + ", this one's " +
             format_offset(h.offset) + (h.state == BlockState::free ? " F " : " A ") + std::to_string(h.size);
    }
  }
  if (want.size() != have.size()) {
    return "the course's heap has " + std::to_string(want.size()) + " blocks, this one " +
           std::to_string(have.size());
  }
  return {};
}

/// The seed of check_served_alike()'s script.
inline constexpr std::uint64_t kServedAlikeSeed = 0x5eed'a11c;

/// Runs \p steps requests and frees, the same on both heaps: \p course
/// over \p course_region and \p slot over \p slot_region (regions of one
/// size and one alignment). The script is drawn from a generator seeded
/// with kServedAlikeSeed: sizes mostly small (8 to 64 bytes), some up to
/// 512 and a few up to 4 KiB, one request in five aligned to 16 to 128
/// bytes, and about two steps in five free a live block. Heaps of several
/// free blocks of different sizes come and go, so that every placement
/// policy, split and merge makes its own choices. Requires that every
/// answer lies at the same offset in its region, that \p slot passes
/// check() after every step, and that both heaps' block walks agree after
/// every step.
template <Allocator Course, Allocator Slot>
void check_served_alike(Course& course, std::span<std::byte> course_region, Slot& slot,
                        std::span<std::byte> slot_region, std::size_t steps) {
  REQUIRE(course_region.size() == slot_region.size());
  std::mt19937_64 random(kServedAlikeSeed);
  const auto below = [&random](std::size_t limit) { return static_cast<std::size_t>(random() % limit); };
  std::vector<void*> course_live;
  std::vector<void*> slot_live;
  for (std::size_t i = 0; i < steps; ++i) {
    std::string what = "step " + std::to_string(i) + " of " + std::to_string(steps) + " (seed " +
                       hex_seed(kServedAlikeSeed) + "): ";
    if (below(5) < 2 && !course_live.empty()) {
      const std::size_t victim = below(course_live.size());
      what += "deallocate(" + describe_answer(offset_in(course_region, course_live[victim]), course_region) + ")";
      course.deallocate(course_live[victim]);
      slot.deallocate(slot_live[victim]);
      course_live.erase(course_live.begin() + static_cast<std::ptrdiff_t>(victim));
      slot_live.erase(slot_live.begin() + static_cast<std::ptrdiff_t>(victim));
    } else {
      const std::size_t kind = below(10);
      const std::size_t size = kind < 7 ? 8 + below(57) : kind < 9 ? 64 + below(449) : 512 + below(3585);
      const std::size_t align = below(5) == 0 ? std::size_t{16} << below(4) : kDefaultAlignment;
      what += "allocate(" + std::to_string(size) + ", align " + std::to_string(align) + ")";
      const std::size_t expected = offset_in(course_region, course.allocate(size, align));
      const std::size_t got = offset_in(slot_region, slot.allocate(size, align));
      if (got != expected) {
        FAIL(served_apart_report(course, slot, what,
                                 "the course's allocator answers " + describe_answer(expected, course_region) +
                                     ", this one " + describe_answer(got, slot_region)));
      }
      if (expected != course_region.size()) {
        course_live.push_back(course_region.data() + expected);
        slot_live.push_back(slot_region.data() + got);
      }
    }
    require_sound(slot, what);
    const std::string difference = walk_difference(walk_blocks(course), walk_blocks(slot));
    if (!difference.empty()) FAIL(served_apart_report(course, slot, what, difference));
  }
}

}  // namespace heaplab::testing
