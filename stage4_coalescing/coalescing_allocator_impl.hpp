/// \file
/// The member functions of heaplab::CoalescingAllocator, in a header so
/// that any policy and configuration can be instantiated (the usual ones
/// are, in coalescing_allocator.cpp). Everyone else includes
/// coalescing_allocator.hpp.
#pragma once

#include <algorithm>
#include <cstring>
#include <new>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage1_static_bump/tracking.hpp"
#include "stage3_fit_strategies/fit_free_list.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"

namespace heaplab {

// ---------------------------------------------------------------- set-up

template <class Policy, CoalescingConfig Config>
CoalescingAllocator<Policy, Config>::CoalescingAllocator() noexcept
    : upstream_{.source = &default_chunk_source()} {
  open_region(first_);
  note_growth();
}

template <class Policy, CoalescingConfig Config>
CoalescingAllocator<Policy, Config>::CoalescingAllocator(std::span<std::byte> region, Upstream upstream) noexcept
    : first_(region), upstream_(upstream) {
  open_region(first_);
  note_growth();
}

template <class Policy, CoalescingConfig Config>
CoalescingAllocator<Policy, Config>::~CoalescingAllocator() {
  while (mapped_ != nullptr) unmap_large(*mapped_);
  for (GrownRegion* grown = grown_; grown != nullptr;) {
    GrownRegion* const next = grown->next;
    const std::span<std::byte> chunk = grown->chunk;
    grown->~GrownRegion();
    upstream_.source->release(chunk);
    grown = next;
  }
}

// [open_region]
/// Carves the prologue, an allocated block that is never handed out, and
/// writes the epilogue after it: a header of size 0, allocated. A region
/// too small for both (and one block) stays empty: it never serves.
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::open_region(BlockHeap& heap) noexcept {
  if (heap.capacity() < kPrologueSize + kMinTaggedBlockSize + kEpilogueSize) return;
  BlockHeader* const prologue = heap.extend(kPrologueSize, kDefaultAlignment).block;
  mark_allocated(*prologue, 0);
  write_footer(*prologue);  // the first block's boundary tag: "allocated"
  track::expose(heap.brk(), kEpilogueSize);  // past the break: poisoned (tracking.hpp)
  BlockHeader* const epilogue = ::new (heap.brk()) BlockHeader{0 | kAllocatedBit, 0};
  if constexpr (kElided) set_previous_allocated_bit(*epilogue, true);
}
// [open_region]

// ---------------------------------------------------------------- allocate

// [allocate]
template <class Policy, CoalescingConfig Config>
void* CoalescingAllocator<Policy, Config>::allocate(std::size_t size, std::size_t align) noexcept {
  if constexpr (Config.quick_lists) {
    // Quick fit first: a block of exactly this size, parked by a recent
    // free. A small request with the default alignment is valid as it
    // is, so the checks below can wait for the requests that need them.
    // malloc's 16 takes a parked block whose payload happens to be
    // 16-aligned (the shim's blocks always are).
    if (align == kDefaultAlignment && size < quick_request_limit_) {
      if (BlockHeader* const parked = quick_.pop(tagged_block_size_for(size, kFooters))) {
        return hand_out_quick(*parked, size);
      }
    } else if (align == kMallocAlignment && size < quick_request_limit_) {
      if (BlockHeader* const parked = quick_.pop_aligned(tagged_block_size_for(size, kFooters), align)) {
        return hand_out_quick(*parked, size);
      }
    }
  }
  if (!is_valid_request(size, align)) {
    ++lifetime_.rejected;
    return nullptr;
  }
  align = std::max(align, kDefaultAlignment);
  if (wants_mapping(size)) return map_large(size, align);
  const std::size_t needed = tagged_block_size_for(size, kFooters);
  BlockHeader* const block = find_block(needed, align);
  if (block == nullptr) {
    ++lifetime_.exhausted;
    return nullptr;
  }
  return hand_out(*block, size);
}

template <class Policy, CoalescingConfig Config>
BlockHeader* CoalescingAllocator<Policy, Config>::find_block(std::size_t needed, std::size_t align) noexcept {
  if (BlockHeader* const reused = take_free_block(needed, align)) return reused;
  if constexpr (Config.coalescing == Coalescing::deferred) {
    // The merging that deallocate() put off, done now that it pays (and
    // only if a block was freed since the last pass: else nothing merges).
    if (unmerged_frees_ != 0) {
      merge_free_neighbours();
      if (BlockHeader* const merged = take_free_block(needed, align)) return merged;
    }
  }
  if constexpr (Config.quick_lists) {
    // The parked blocks may merge into one that fits (malloc_consolidate).
    if (quick_.blocks() != 0) {
      flush_quick_lists();
      if (BlockHeader* const merged = take_free_block(needed, align)) return merged;
    }
  }
  return grow_heap(needed, align);
}
// [allocate]

template <class Policy, CoalescingConfig Config>
BlockHeader* CoalescingAllocator<Policy, Config>::take_free_block(std::size_t needed, std::size_t align) noexcept {
  ++lifetime_.searches;
  if (align == kDefaultAlignment) {
    // Segregated fits: an exact class's head fits as it is (one block looked at).
    if (BlockHeader* const exact = free_.take_exact(needed)) {
      ++lifetime_.blocks_visited;
      return exact;
    }
  }
  const auto place = [&](BlockHeader& block) { return place_block(block, needed, align, kMinTaggedBlockSize); };
  const Choice choice = free_.choose(needed, place, lifetime_.blocks_visited);
  if (choice.block == nullptr) return nullptr;
  free_.remove(*choice.block);
  return carve(*region_of(choice.block), *choice.block, choice.placement);
}

// [carve]
/// Cuts the block to hand out from \p block, which is free and off the
/// list: chapter 3's splitting, then the pieces get their tags.
template <class Policy, CoalescingConfig Config>
BlockHeader* CoalescingAllocator<Policy, Config>::carve(BlockHeap& heap, BlockHeader& block,
                                                        const Placement& placement) noexcept {
  BlockHeader* chosen = &block;
  if (placement.front_gap != 0) {
    // The gap in front stays free; under immediate coalescing its
    // neighbour in front is allocated (or it would have merged), so it
    // goes straight back on its list.
    chosen = &split_block(heap, block, placement.front_gap);
    seal(block);
    list_unmerged(block);
  }
  if (block_size(*chosen) - placement.needed >= kMinTaggedBlockSize) {
    BlockHeader& tail = split_block(heap, *chosen, placement.needed);
    seal(tail);
    list_unmerged(tail);
  }
  return chosen;
}
// [carve]

template <class Policy, CoalescingConfig Config>
void* CoalescingAllocator<Policy, Config>::hand_out(BlockHeader& block, std::size_t size) noexcept {
  mark_allocated(block, size);
  seal(block);
  return count_in(block);
}

/// Hands out a block taken off a quick list: it is still marked allocated,
/// the P bit after it is still set and it keeps no footer, so only the
/// counters change.
template <class Policy, CoalescingConfig Config>
void* CoalescingAllocator<Policy, Config>::hand_out_quick(BlockHeader& block, std::size_t size) noexcept {
  block.requested = size;
  return count_in(block);
}

/// Counts the heap block \p block, just handed out for its `requested`
/// bytes, into the live numbers, and returns its payload.
template <class Policy, CoalescingConfig Config>
void* CoalescingAllocator<Policy, Config>::count_in(BlockHeader& block) noexcept {
  ++live_.allocated_blocks;
  live_.payload_bytes += tagged_payload_capacity(block, kFooters);
  count_allocation(block.requested);
  return payload_of(&block);
}

/// Counts the allocated heap block \p block out of the live numbers, as
/// its user frees it (before its `requested` bytes are cleared).
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::count_out(const BlockHeader& block) noexcept {
  --live_.allocated_blocks;
  live_.requested -= block.requested;
  live_.payload_bytes -= tagged_payload_capacity(block, kFooters);
}

template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::count_allocation(std::size_t size) noexcept {
  live_.requested += size;
  ++lifetime_.allocations;
  lifetime_.peak_requested = std::max(lifetime_.peak_requested, live_.requested);
}

// [seal]
/// Brings the tags around \p block up to date after its size or state
/// changed: its footer (where this configuration keeps one) and, under
/// footer elision, the P bit of the header after it.
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::seal(BlockHeader& block) noexcept {
  const bool allocated = is_allocated(block);
  if (!kElided || !allocated) write_footer(block);
  if constexpr (kElided) {
    BlockHeader& next = *block_after(block);
    set_previous_allocated_bit(next, allocated);
    if (!is_allocated(next)) write_footer(next);  // a free block's footer mirrors its whole header
  }
}
// [seal]

// ---------------------------------------------------------------- growth

// [grow_heap]
/// No free block fits: moves the current region's break (chapter 2's sbrk),
/// or maps a new region. A free block at the end of the region is grown
/// rather than left behind, as CS:APP's extend_heap does.
template <class Policy, CoalescingConfig Config>
BlockHeader* CoalescingAllocator<Policy, Config>::grow_heap(std::size_t needed, std::size_t align) noexcept {
  // Room for the block, and for an alignment gap in front if one is asked.
  std::size_t want = needed;
  if (align > kDefaultAlignment) {
    // Compare before adding: needed and align can each be close to 2^63,
    // and a sum that wraps around would look small enough to carve.
    if (needed > kMaxRequest || align + kMinTaggedBlockSize > kMaxRequest - needed) return nullptr;
    want += align + kMinTaggedBlockSize;
  }
  BlockHeap* heap = current_;
  std::size_t reuse = 0;
  if (BlockHeader* const last = last_block_if_free(*heap)) reuse = block_size(*last);
  std::size_t extra = std::max(want > reuse ? want - reuse : 0, kMinTaggedBlockSize);
  if (extra > room_in(*heap)) {
    heap = add_region(want);
    if (heap == nullptr) return nullptr;
    extra = want;
  }
  std::byte* const at = heap->brk();
  if (!extend_region(*heap, extra)) return nullptr;
  note_growth();  // the break moved: the heap may be at a new high-water mark
  // The new bytes are one free block; it merges with a free block in front.
  BlockHeader& fresh = *header_at(at);
  mark_free(fresh);
  seal(fresh);
  BlockHeader& block = coalesce(*heap, fresh);
  const Placement placement = place_block(block, needed, align, kMinTaggedBlockSize);
  return carve(*heap, block, placement);  // fits: the block has `want` bytes or more
}
// [grow_heap]

template <class Policy, CoalescingConfig Config>
BlockHeader* CoalescingAllocator<Policy, Config>::last_block_if_free(const BlockHeap& heap) noexcept {
  if (heap.first() == nullptr) return nullptr;
  BlockHeader& epilogue = *header_at(heap.brk());
  if constexpr (kElided) {
    if (previous_allocated_bit(epilogue)) return nullptr;
  } else {
    if ((footer_in_front(epilogue).size_and_flags & kAllocatedBit) != 0) return nullptr;
  }
  return block_in_front(epilogue);
}

template <class Policy, CoalescingConfig Config>
std::size_t CoalescingAllocator<Policy, Config>::room_in(const BlockHeap& heap) noexcept {
  if (heap.first() == nullptr) return 0;  // an empty region: no prologue, no room
  return static_cast<std::size_t>(heap.end() - heap.brk()) - kEpilogueSize;
}

/// Moves \p heap's break by \p bytes and writes the epilogue again past
/// it. The new bytes are left as one block (a header only); the caller
/// gives it its state. Keeps the epilogue's P bit.
template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::extend_region(BlockHeap& heap, std::size_t bytes) noexcept {
  if (bytes > room_in(heap)) return false;
  const std::size_t flags = header_at(heap.brk())->size_and_flags & kFlagMask;
  // The new block starts where the epilogue was, and takes over its flags.
  BlockHeader* const block = heap.extend(bytes, kDefaultAlignment).block;
  block->size_and_flags = bytes | flags;
  track::expose(heap.brk(), kEpilogueSize);  // past the break: poisoned (tracking.hpp)
  ::new (heap.brk()) BlockHeader{0 | kAllocatedBit, 0};
  return true;
}

// [add_region]
/// Maps a region big enough for a block of \p needed bytes and makes it
/// the one that grows. Region sizes double (Upstream::growth), so a heap
/// of n bytes has O(log n) regions. The old region's tail stays unused.
template <class Policy, CoalescingConfig Config>
BlockHeap* CoalescingAllocator<Policy, Config>::add_region(std::size_t needed) noexcept {
  if (upstream_.source == nullptr) return nullptr;
  // Bookkeeping in front of the blocks: the region record, a start map of
  // 1/64 of the chunk, the prologue, the epilogue, and alignment slack.
  const std::size_t overhead = sizeof(GrownRegion) + kPrologueSize + kEpilogueSize + 64;
  if (needed > kMaxRequest / 2) return nullptr;
  const std::size_t for_block = (needed + overhead) + (needed + overhead) / 63;
  const std::size_t bytes = std::max(next_region_size_, for_block);
  if (!may_take_from_source(bytes)) return nullptr;
  const std::span<std::byte> chunk = upstream_.source->acquire(bytes);
  if (chunk.empty()) return nullptr;
  const std::size_t record = round_up(sizeof(GrownRegion), alignof(std::max_align_t));
  auto* const grown = ::new (chunk.data()) GrownRegion{chunk, nullptr, BlockHeap(chunk.subspan(record))};
  open_region(grown->heap);
  // Link it in as the newest region.
  GrownRegion** slot = &grown_;
  while (*slot != nullptr) slot = &(*slot)->next;
  *slot = grown;
  current_ = &grown->heap;
  live_.region_bytes += chunk.size();
  next_region_size_ = std::min(next_region_size_ * 2, std::max(upstream_.growth.max_chunk, next_region_size_));
  note_growth();
  return current_;
}
// [add_region]

template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::may_take_from_source(std::size_t bytes) const noexcept {
  const std::size_t held = live_.region_bytes + live_.mapped_bytes;
  return held <= upstream_.growth.limit && bytes <= upstream_.growth.limit - held;
}

template <class Policy, CoalescingConfig Config>
BlockHeap* CoalescingAllocator<Policy, Config>::region_of(const void* p) noexcept {
  if (first_.contains(p)) return &first_;
  for (GrownRegion* grown = grown_; grown != nullptr; grown = grown->next) {
    if (grown->heap.contains(p)) return &grown->heap;
  }
  return nullptr;
}

template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::is_prologue(const BlockHeap& heap, const BlockHeader& block) noexcept {
  // The prologue is the first block of every region that has blocks.
  return reinterpret_cast<const std::byte*>(&block) == heap.begin();
}

// ---------------------------------------------------------------- large blocks

// [map_large]
template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::wants_mapping(std::size_t size) const noexcept {
  return upstream_.source != nullptr && size >= upstream_.mmap_threshold;
}

/// Serves a large request with a mapping of its own, as glibc does above
/// M_MMAP_THRESHOLD: freeing it gives the pages straight back to the
/// kernel, and it never fragments the heap.
template <class Policy, CoalescingConfig Config>
void* CoalescingAllocator<Policy, Config>::map_large(std::size_t size, std::size_t align) noexcept {
  const std::size_t front = round_up(sizeof(MappedBlock), kBlockGranularity) + kHeaderSize;
  // Enough for the record, the header, the payload, and a shift to align
  // it. The mapping is page-aligned but `front` is only a multiple of 8, so
  // any alignment above 8 (malloc's 16 too) may need the shift.
  const std::size_t slack = align > kBlockGranularity ? align : 0;
  // Compare step by step: the slack alone can be 2^63, and
  // kMaxRequest - front - slack would wrap around to a huge bound.
  if (slack > kMaxRequest - front || size > kMaxRequest - front - slack ||
      !may_take_from_source(front + slack + size)) {
    ++lifetime_.exhausted;
    return nullptr;
  }
  const std::span<std::byte> mapping = upstream_.source->acquire(front + slack + size);
  if (mapping.empty()) {
    ++lifetime_.exhausted;
    return nullptr;
  }
  std::byte* const payload = mapping.data() + front + padding_to_align(address_of(mapping.data() + front), align);
  BlockHeader* const header = ::new (payload - kHeaderSize) BlockHeader{mapping.size() | kAllocatedBit, size};
  auto* const mapped = ::new (mapping.data()) MappedBlock{mapping, mapped_, nullptr, header};
  if (mapped_ != nullptr) mapped_->prev = mapped;
  mapped_ = mapped;
  ++live_.mapped_blocks;
  live_.mapped_bytes += mapping.size();
  count_allocation(size);
  note_growth();
  return payload;
}

template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::unmap_large(MappedBlock& mapped) noexcept {
  (mapped.prev == nullptr ? mapped_ : mapped.prev->next) = mapped.next;
  if (mapped.next != nullptr) mapped.next->prev = mapped.prev;
  --live_.mapped_blocks;
  live_.mapped_bytes -= mapped.mapping.size();
  live_.requested -= mapped.header->requested;
  const std::span<std::byte> mapping = mapped.mapping;
  upstream_.source->release(mapping);
}
// [map_large]

/// The mapped block whose mapping holds \p p, or null. A linear walk: only
/// requests above the threshold are mapped, so there are few of them.
template <class Policy, CoalescingConfig Config>
auto CoalescingAllocator<Policy, Config>::mapping_of(const void* p) const noexcept -> MappedBlock* {
  for (MappedBlock* mapped = mapped_; mapped != nullptr; mapped = mapped->next) {
    const std::span<std::byte> m = mapped->mapping;
    if (address_in(p, m.data(), m.data() + m.size())) return mapped;
  }
  return nullptr;
}

// ---------------------------------------------------------------- deallocate

// [deallocate]
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::deallocate(void* p) noexcept {
  if (p == nullptr) return;
  const Found found = allocated_block_at(p, "CoalescingAllocator::deallocate");
  if (found.heap != nullptr) {
    if constexpr (Config.quick_lists) {
      if (park(*found.block)) return;
    }
    release(*found.heap, *found.block);
  } else if (found.mapped != nullptr) {
    unmap_large(*found.mapped);
  }
  // Otherwise: misuse, reported, nothing changed.
}

/// Finds the allocated block whose payload is \p p: in a region (chapter
/// 2's checks, and the prologue is nobody's) or a mapping. Reports misuse
/// on behalf of \p where and finds nothing otherwise.
template <class Policy, CoalescingConfig Config>
auto CoalescingAllocator<Policy, Config>::allocated_block_at(void* p, std::string_view where) noexcept -> Found {
  if (BlockHeap* const heap = region_of(p)) {
    BlockHeader* const block = heap->allocated_block(p, where);
    if (block == nullptr) return {};
    if (is_prologue(*heap, *block)) {
      report_misuse({Misuse::foreign_pointer, p, where});
      return {};
    }
    if constexpr (Config.quick_lists) {
      // Marked allocated for the heap's sake, but its user freed it.
      if (is_quick(*block)) {
        report_misuse({Misuse::double_free, p, where});
        return {};
      }
    }
    return {heap, block, nullptr};
  }
  if (MappedBlock* const mapped = mapping_of(p)) {
    if (p == payload_of(mapped->header)) return {nullptr, mapped->header, mapped};
    report_misuse({Misuse::interior_pointer, p, where});
    return {};
  }
  report_misuse({Misuse::foreign_pointer, p, where});
  return {};
}

template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::release(BlockHeap& heap, BlockHeader& block) noexcept {
  count_out(block);
  free_block(heap, block);
}

/// Marks the heap block \p block free, writes its tags and gives it back
/// (merged, under immediate coalescing). The counters are the caller's.
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::free_block(BlockHeap& heap, BlockHeader& block) noexcept {
  mark_free(block);
  seal(block);
  give_back(heap, block);
}

// [park]
/// Quick fit's free: parks the allocated \p block on the quick list of its
/// size, still marked allocated (with the Q bit), so nothing merges and no
/// tag changes. False when its size has no list or the list is full.
template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::park(BlockHeader& block) noexcept {
  if constexpr (Config.quick_lists) {
    if (!quick_.push(block)) return false;
    count_out(block);
    block.requested = 0;  // no live request: the block is free to its user
    return true;
  } else {
    return false;  // no quick lists: every block takes the normal path
  }
}

/// Empties the quick lists through the normal free path: each block is
/// marked free and merged with its free neighbours (quick blocks next to
/// it merge in when their own turn comes).
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::flush_quick_lists() noexcept {
  if constexpr (Config.quick_lists) {
    quick_.flush([this](BlockHeader& block) { free_block(*region_of(&block), block); });
  }
}
// [park]

/// Puts the free, off-list \p block back: merged with its free neighbours
/// first under immediate coalescing, as it is under deferred.
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::give_back(BlockHeap& heap, BlockHeader& block) noexcept {
  if constexpr (Config.coalescing == Coalescing::immediate) {
    free_.insert(coalesce(heap, block), Config.order);
  } else {
    list_unmerged(block);
  }
}

/// Puts the free \p block on its list as it is. Under deferred coalescing
/// it may lie next to a free block, so the next pass has work to do.
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::list_unmerged(BlockHeader& block) noexcept {
  free_.insert(block, Config.order);
  if constexpr (Config.coalescing == Coalescing::deferred) ++unmerged_frees_;
}
// [deallocate]

// [coalesce]
/// Merges the free \p block, which is not on a list, with whichever of its
/// neighbours are free, and returns the merged block (off the list, tags
/// written). The prologue and epilogue are allocated, so every block has
/// two neighbours to ask and there are exactly four cases.
template <class Policy, CoalescingConfig Config>
BlockHeader& CoalescingAllocator<Policy, Config>::coalesce(BlockHeap& heap, BlockHeader& block) noexcept {
  BlockHeader& next = *block_after(block);
  const bool prev_free = previous_is_free(block);
  const bool next_free = !is_allocated(next);

  if (!prev_free && !next_free) {  // Case 1: [A][block][A]: nothing to merge.
    return block;
  }
  if (!prev_free && next_free) {  // Case 2: [A][block][F]: block absorbs next.
    free_.remove(next);
    absorb(heap, block, next);
    return block;
  }
  BlockHeader& prev = *block_in_front(block);
  free_.remove(prev);
  if (prev_free && !next_free) {  // Case 3: [F][block][A]: prev absorbs block.
    absorb(heap, prev, block);
    return prev;
  }
  // Case 4: [F][block][F]: prev absorbs block and next.
  free_.remove(next);
  absorb(heap, prev, block);
  absorb(heap, prev, next);
  return prev;
}

/// Merges \p next, the free block right after the free \p block, into it:
/// the sizes add up, next's start is forgotten, the tags are rewritten.
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::absorb(BlockHeap& heap, BlockHeader& block, BlockHeader& next) noexcept {
  block.size_and_flags += block_size(next);  // sizes are whole cells: the flags are untouched
  heap.forget_block(next);
  seal(block);
  ++lifetime_.merges;
}
// [coalesce]

/// True when the block in front of \p block is free: one bit under footer
/// elision, the boundary tag otherwise.
template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::previous_is_free(BlockHeader& block) const noexcept {
  if constexpr (kElided) {
    return !previous_allocated_bit(block);
  } else {
    return (footer_in_front(block).size_and_flags & kAllocatedBit) == 0;
  }
}

// [merge_free_neighbours]
/// Deferred coalescing's pass: every run of adjacent free blocks becomes
/// one block. O(blocks), paid only when an allocation would otherwise fail.
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::merge_free_neighbours() noexcept {
  ++lifetime_.merge_passes;
  unmerged_frees_ = 0;
  const auto merge_runs = [&](BlockHeap& heap) {
    for (BlockHeader* block = heap.first(); block != nullptr; block = heap.after(block)) {
      if (is_allocated(*block)) continue;
      BlockHeader* next = block_after(*block);
      if (is_allocated(*next)) continue;
      free_.remove(*block);
      while (!is_allocated(*next)) {
        free_.remove(*next);
        absorb(heap, *block, *next);
        next = block_after(*block);
      }
      free_.insert(*block, Config.order);
    }
  };
  merge_runs(first_);
  for (GrownRegion* grown = grown_; grown != nullptr; grown = grown->next) merge_runs(grown->heap);
}
// [merge_free_neighbours]

// ---------------------------------------------------------------- reallocate

// [reallocate]
template <class Policy, CoalescingConfig Config>
void* CoalescingAllocator<Policy, Config>::reallocate(void* p, std::size_t size, std::size_t align) noexcept {
  if (p == nullptr) return allocate(size, align);
  const Found found = allocated_block_at(p, "CoalescingAllocator::reallocate");
  if (found.block == nullptr) return nullptr;  // misuse, reported
  if (!is_valid_request(size, align)) {
    ++lifetime_.rejected;
    return nullptr;
  }
  BlockHeader& block = *found.block;
  // In place only if the block already has the alignment asked for (it is
  // tested first: stays_in_place() resizes the block when it says yes).
  if (is_aligned(p, align) && stays_in_place(found, size)) {
    live_.requested = live_.requested - block.requested + size;
    lifetime_.peak_requested = std::max(lifetime_.peak_requested, live_.requested);
    block.requested = size;
    return p;
  }
  // Move: allocate first, so that a failure leaves the old block intact.
  void* const moved = allocate(size, align);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, p, std::min(block.requested, size));
  // The old block was checked above: free it without a second check. A
  // heap block is merged, never parked on a quick list: a block left
  // behind by a growing one is unlikely to be asked for again at its
  // size, and its room is what the next growth needs.
  if (found.heap != nullptr) {
    release(*found.heap, block);
  } else {
    unmap_large(*found.mapped);
  }
  return moved;
}

/// True when the block \p found can hold \p size bytes where it is (and
/// has been resized to): a heap block that stays below the mapping
/// threshold and can be resized in place, or a mapped block that stays
/// large and whose mapping (rounded up to pages) has the room.
template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::stays_in_place(const Found& found, std::size_t size) noexcept {
  if (found.heap != nullptr) {
    return !wants_mapping(size) && resize_in_place(*found.heap, *found.block, tagged_block_size_for(size, kFooters));
  }
  const std::span<std::byte> mapping = found.mapped->mapping;
  const auto room = static_cast<std::size_t>(mapping.data() + mapping.size() - payload_of(found.block));
  return wants_mapping(size) && size <= room;
}
// [reallocate]

// [resize_in_place]
/// Makes the allocated \p block exactly \p needed bytes (or a little more)
/// without moving it: a shrink gives the tail back; a grow takes in a free
/// next neighbour and, if the block is then the last of its region, moves
/// the break. False, with nothing changed, when it cannot.
template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::resize_in_place(BlockHeap& heap, BlockHeader& block,
                                                          std::size_t needed) noexcept {
  const std::size_t payload_before = tagged_payload_capacity(block, kFooters);
  BlockHeader* next = block_after(block);
  const std::size_t next_free = is_allocated(*next) ? 0 : block_size(*next);
  const std::size_t available = block_size(block) + next_free;
  // The block (with a free next neighbour) is the last of the region.
  const bool last = next_in_memory(next_free != 0 ? next : &block) == heap.brk();
  std::size_t missing = needed > available ? needed - available : 0;
  if (missing != 0) {
    if (!last) return false;
    missing = std::max(missing, kMinTaggedBlockSize);
    if (missing > room_in(heap)) return false;
  }
  if (next_free != 0) {  // grow into the free next neighbour
    free_.remove(*next);
    absorb(heap, block, *next);
  }
  if (missing != 0) {  // grow at the end of the region: move the break
    BlockHeader* const end = header_at(heap.brk());
    static_cast<void>(extend_region(heap, missing));
    mark_allocated(*end, 0);
    absorb(heap, block, *end);
  }
  trim(heap, block, needed);
  const std::size_t payload_after = tagged_payload_capacity(block, kFooters);
  // Expose only the bytes gained (tracking.hpp): the old ones hold the
  // user's data, which memcheck knows to be defined.
  if (payload_after > payload_before) {
    track::expose(payload_of(&block) + payload_before, payload_after - payload_before);
  }
  live_.payload_bytes = live_.payload_bytes - payload_before + payload_after;
  note_growth();
  return true;
}

/// Splits the tail of the allocated \p block off when it can be a block of
/// its own, and gives it back (merged with a free block after it).
template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::trim(BlockHeap& heap, BlockHeader& block, std::size_t needed) noexcept {
  if (block_size(block) < needed || block_size(block) - needed < kMinTaggedBlockSize) {
    seal(block);
    return;
  }
  // The tail begins free, and sealing the block sets the tail's P bit.
  BlockHeader& tail = split_block(heap, block, needed);
  seal(block);
  seal(tail);
  give_back(heap, tail);
}
// [resize_in_place]

template <class Policy, CoalescingConfig Config>
void* CoalescingAllocator<Policy, Config>::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  const auto allocate_bytes = [this](std::size_t bytes) { return allocate(bytes); };
  return allocate_zeroed_with(count, size, lifetime_.rejected, allocate_bytes);
}

// ---------------------------------------------------------------- numbers

template <class Policy, CoalescingConfig Config>
std::size_t CoalescingAllocator<Policy, Config>::used() const noexcept {
  std::size_t bytes = live_.mapped_bytes;
  for_each_region([&](const BlockHeap& heap) { bytes += heap.used(); });
  return bytes;
}

template <class Policy, CoalescingConfig Config>
void CoalescingAllocator<Policy, Config>::note_growth() noexcept {
  lifetime_.high_water = std::max(lifetime_.high_water, used());
}

template <class Policy, CoalescingConfig Config>
std::size_t CoalescingAllocator<Policy, Config>::usable_size(void* p) noexcept {
  if (p == nullptr) return 0;
  const Found found = allocated_block_at(p, "CoalescingAllocator::usable_size");
  if (found.heap != nullptr) return tagged_payload_capacity(*found.block, kFooters);
  if (found.mapped == nullptr) return 0;  // misuse, reported
  const std::span<std::byte> mapping = found.mapped->mapping;
  return static_cast<std::size_t>(mapping.data() + mapping.size() - static_cast<std::byte*>(p));
}

template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::owns(const void* p) const noexcept {
  bool inside = mapping_of(p) != nullptr;
  for_each_region([&](const BlockHeap& heap) { inside = inside || heap.contains(p); });
  return inside;
}

template <class Policy, CoalescingConfig Config>
CoalescingStats CoalescingAllocator<Policy, Config>::stats() const noexcept {
  CoalescingStats s;
  for_each_region([&](const BlockHeap& heap) {
    s.capacity += heap.capacity();
    ++s.regions;
  });
  s.capacity += live_.mapped_bytes;
  s.used = used();
  s.requested = live_.requested;
  s.padding = s.used - s.requested;
  s.live_allocations = live_.allocated_blocks + live_.mapped_blocks;
  s.high_water = lifetime_.high_water;
  lifetime_.fill(s);
  const FreeTally listed = free_.tally();
  s.free_blocks = listed.blocks;
  s.free_bytes = listed.bytes;
  if constexpr (Config.quick_lists) {
    s.quick_blocks = quick_.blocks();
    s.free_blocks += quick_.blocks();
    s.free_bytes += quick_.bytes();
  }
  s.payload_bytes = live_.payload_bytes;
  s.header_bytes = live_.allocated_blocks * (kHeaderSize + allocated_footer_bytes(kFooters));
  s.mapped_blocks = live_.mapped_blocks;
  s.mapped_bytes = live_.mapped_bytes;
  s.merges = lifetime_.merges;
  s.merge_passes = lifetime_.merge_passes;
  return s;
}

// ---------------------------------------------------------------- check

// [check]
template <class Policy, CoalescingConfig Config>
CheckResult CoalescingAllocator<Policy, Config>::check() const noexcept {
  BlockCensus total;
  CheckResult result = CheckResult::pass();
  for_each_region([&](const BlockHeap& heap) {
    BlockCensus census;
    if (result) result = check_region(heap, census);
    total.allocated_blocks += census.allocated_blocks;
    total.requested += census.requested;
    total.payload_bytes += census.payload_bytes;
    total.free_blocks += census.free_blocks;
    total.free_bytes += census.free_bytes;
  });
  if (!result) return result;
  const auto owned = [this](BlockHeader& block) {
    bool found = false;
    for_each_region([&](const BlockHeap& heap) {
      found = found || (heap.contains(&block) && heap.starts().is_start(block_start(&block)));
    });
    return found;
  };
  if (const CheckResult lists = free_.check(Config.order, owned); !lists) return lists;
  std::size_t quick_blocks = 0;
  std::size_t quick_bytes = 0;
  if constexpr (Config.quick_lists) {
    if (const CheckResult lists = quick_.check(owned); !lists) return lists;
    quick_blocks = quick_.blocks();
    quick_bytes = quick_.bytes();
  }
  std::size_t mapped_requested = 0;
  if (const CheckResult mappings = check_mappings(mapped_requested); !mappings) return mappings;
  const FreeTally listed = free_.tally();
  const bool stats_agree = total.allocated_blocks == live_.allocated_blocks &&
                           total.requested + mapped_requested == live_.requested &&
                           total.payload_bytes == live_.payload_bytes &&
                           total.free_blocks == listed.blocks + quick_blocks &&
                           total.free_bytes == listed.bytes + quick_bytes;
  if (!stats_agree) return CheckResult::fail("stats agree with the walk", 0);
  return CheckResult::pass();
}

/// One region: chapter 2's checks (tiling, headers, start map), then the
/// tags of this chapter, block by block. Fills \p census with this
/// chapter's numbers (the prologue left out).
template <class Policy, CoalescingConfig Config>
CheckResult CoalescingAllocator<Policy, Config>::check_region(const BlockHeap& heap,
                                                              BlockCensus& census) const noexcept {
  census = {};
  if (heap.first() == nullptr) return CheckResult::pass();  // an empty region: nothing carved
  constexpr std::size_t kFlags =
      (kElided ? kBoundaryTagFlags : kAllocatedBit) | (Config.quick_lists ? kQuickBit : 0);
  if (const CheckResult blocks = heap.check(census, kFlags); !blocks) return blocks;
  census = {};
  BlockHeader& prologue = *heap.first();
  const auto fail = [&](std::string_view invariant, const void* at) {
    return CheckResult::fail(invariant, heap.offset_of(at));
  };
  if (!is_allocated(prologue) || block_size(prologue) != kPrologueSize ||
      footer_of(prologue)->size_and_flags != prologue.size_and_flags) {
    return fail("the prologue is an allocated block with its footer", &prologue);
  }
  if (room_in(heap) > heap.capacity()) return fail("the epilogue fits in the region", heap.brk());
  BlockHeader& epilogue = *header_at(heap.brk());
  if (block_size(epilogue) != 0 || !is_allocated(epilogue)) {
    return fail("the epilogue is an allocated header of size 0", heap.brk());
  }
  bool previous_allocated = true;  // the prologue
  CheckResult result = CheckResult::pass();
  const auto check_block = [&](BlockHeader& block) {
    if (!result) return;
    const bool allocated = is_allocated(block);
    if (block_size(block) < kMinTaggedBlockSize) {
      result = fail("block size >= the smallest tagged block", &block);
    } else if ((!kElided || !allocated) && footer_of(block)->size_and_flags != block.size_and_flags) {
      result = fail("the footer equals the header", &block);
    } else if (kElided && previous_allocated_bit(block) != previous_allocated) {
      result = fail("the P bit says whether the previous block is allocated", &block);
    } else if (Config.coalescing == Coalescing::immediate && !allocated && !previous_allocated) {
      result = fail("no two free blocks are adjacent (immediate coalescing)", &block);
    } else if (allocated && block.requested > tagged_payload_capacity(block, kFooters)) {
      result = fail("requested bytes fit the payload", &block);
    } else if (!check_quick_bit(block)) {
      result = fail("a block has the Q bit exactly while it waits on its quick list", &block);
    }
    if (!is_in_use(block)) {  // a quick block is free memory (see stats())
      ++census.free_blocks;
      census.free_bytes += block_size(block);
    } else {
      ++census.allocated_blocks;
      census.requested += block.requested;
      census.payload_bytes += tagged_payload_capacity(block, kFooters);
    }
    previous_allocated = allocated;
  };
  for_each_header(heap, check_block);
  if (!result) return result;
  if (kElided && previous_allocated_bit(epilogue) != previous_allocated) {
    return fail("the P bit says whether the previous block is allocated", heap.brk());
  }
  return CheckResult::pass();
}

/// Quick fit: true unless \p block has the Q bit without being an
/// allocated block, with no request, on the quick list of its size. (A
/// listed block without the Q bit is QuickLists::check()'s to find.)
template <class Policy, CoalescingConfig Config>
bool CoalescingAllocator<Policy, Config>::check_quick_bit(const BlockHeader& block) const noexcept {
  if constexpr (Config.quick_lists) {
    return !is_quick(block) || (is_allocated(block) && block.requested == 0 && quick_.contains(block));
  } else {
    return true;  // BlockHeap::check() already refuses the bit
  }
}

/// The mapped blocks: linked both ways, each an allocated header whose
/// request fits its mapping, and as many bytes as the counters say.
template <class Policy, CoalescingConfig Config>
CheckResult CoalescingAllocator<Policy, Config>::check_mappings(std::size_t& requested) const noexcept {
  std::size_t blocks = 0;
  std::size_t bytes = 0;
  const MappedBlock* before = nullptr;
  for (const MappedBlock* mapped = mapped_; mapped != nullptr; before = mapped, mapped = mapped->next) {
    if (blocks == live_.mapped_blocks) return CheckResult::fail("the mapped blocks are accounted for", 0);
    const std::span<std::byte> mapping = mapped->mapping;
    const BlockHeader& header = *mapped->header;
    const auto room = static_cast<std::size_t>(mapping.data() + mapping.size() -
                                               payload_of(mapped->header));
    if (mapped->prev != before || !is_allocated(header) || header.requested > room ||
        !address_in(mapped->header, mapping.data(), mapping.data() + mapping.size())) {
      return CheckResult::fail("each mapped block is an allocated block inside its mapping", 0);
    }
    ++blocks;
    bytes += mapping.size();
    requested += header.requested;
  }
  if (blocks != live_.mapped_blocks || bytes != live_.mapped_bytes) {
    return CheckResult::fail("the mapped blocks are accounted for", 0);
  }
  return CheckResult::pass();
}
// [check]

}  // namespace heaplab
