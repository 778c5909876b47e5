/// \file
/// TaggedHeap::check(): chapter 2's checks of a heap of blocks (tiling,
/// sane headers, the start map), then chapter 4's, block by block. Every
/// failure names the invariant and the offset of the block that breaks it.
#pragma once

#include "stage4_coalescing/tagged_heap.hpp"

namespace heaplab {

// [check]
template <TagLayout Tags>
CheckResult TaggedHeap<Tags>::check(BlockCensus& census, bool neighbours_merged) const noexcept {
  census = {};
  if (!is_open()) return CheckResult::pass();  // a region too small: nothing carved
  if (const CheckResult blocks = blocks_.check(census, Tags::kHeaderFlags); !blocks) return blocks;
  census = {};
  const auto fail = [&](std::string_view invariant, const void* at) {
    return CheckResult::fail(invariant, blocks_.offset_of(at));
  };
  BlockHeader& prologue = *blocks_.first();
  if (!is_allocated(prologue) || block_size(prologue) != kPrologueSize ||
      footer_of(prologue).size_and_flags != prologue.size_and_flags) {
    return fail("the prologue is an allocated block with its footer", &prologue);
  }
  if (blocks_.brk() + kEpilogueSize > blocks_.end()) return fail("the epilogue fits in the region", blocks_.brk());
  if (block_size(epilogue()) != 0 || !is_allocated(epilogue())) {
    return fail("the epilogue is an allocated header of size 0", blocks_.brk());
  }
  bool prev_allocated = true;  // the prologue
  const auto broken = [&](BlockHeader& block) -> std::string_view {
    const bool allocated = is_allocated(block);
    if (block_size(block) < kMinTaggedBlockSize) return "block size >= the smallest tagged block";
    if (const std::string_view tag = Tags::broken_tag(block); !tag.empty()) return tag;
    if (const std::string_view tag = Tags::broken_prev_record(block, prev_allocated); !tag.empty()) return tag;
    if (neighbours_merged && !allocated && !prev_allocated) {
      return "no two free blocks are adjacent (immediate coalescing)";
    }
    if (allocated && block.requested > tagged_payload_capacity<Tags>(block)) return "requested bytes fit the payload";
    return {};
  };
  CheckResult result = CheckResult::pass();
  for_each_header([&](BlockHeader& block) {
    if (!result) return;
    if (const std::string_view invariant = broken(block); !invariant.empty()) {
      result = fail(invariant, &block);
      return;
    }
    if (!is_allocated(block)) {
      ++census.free_blocks;
      census.free_bytes += block_size(block);
    } else {
      ++census.allocated_blocks;
      census.requested += block.requested;
      census.payload_bytes += tagged_payload_capacity<Tags>(block);
    }
    ++census.blocks;
    prev_allocated = is_allocated(block);
  });
  if (!result) return result;
  // The epilogue has no footer, but records the last block's state too.
  if (const std::string_view tag = Tags::broken_prev_record(epilogue(), prev_allocated); !tag.empty()) {
    return fail(tag, blocks_.brk());
  }
  return CheckResult::pass();
}
// [check]

}  // namespace heaplab
