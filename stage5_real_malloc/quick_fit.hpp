/// \file
/// Quick fit in front of a heap: QuickCache keeps small freed blocks aside
/// on quick lists (quick_lists.hpp) and hands them out again before the
/// heap behind it is asked at all, as glibc's per-thread cache (tcache)
/// sits in front of its bins.
///
///     allocate(size, align)                    deallocate(p)
///       1. a parked block of exactly the         1. check p: the heap's checks,
///          size: popped, counted back in            and a parked block is a
///          (take_back); nothing else changes        double free
///       2. else a free block of the heap         2. small: parked on the quick
///          (reuse_free_block)                       list of its size, counted
///       3. none fits: every parked block is         out (set_aside), still
///          freed into the heap, where it            allocated to the heap
///          merges (glibc's malloc_consolidate),  3. else (or its list is full):
///          then 2 again                             the heap's free (release)
///       4. none still: the break moves
///          (extend_heap)
///
/// Step 3 comes before step 4 so that parked blocks, which never merge
/// while parked, are merged before the heap grows past them.
///
/// The heap behind is one region of chapter 4's CoalescingAllocator with
/// the parking verbs of parking_heap.hpp. What is new is the cache; the
/// heap is chapter 4's.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage5_real_malloc/malloc_stats.hpp"
#include "stage5_real_malloc/parking_heap.hpp"
#include "stage5_real_malloc/quick_lists.hpp"

namespace heaplab {

/// Quick lists in front of \p Inner, a ParkingHeap: one region of chapter
/// 4's CoalescingAllocator that can park blocks (see the file comment). Not thread-safe: wrap it
/// in Synchronized.
template <class Inner>
class QuickCache {
 public:
  /// The tag layout of the heap behind (for layers, tools and tests).
  using tags_type = typename Inner::tags_type;


  /// The largest request whose block has a quick list (232 bytes under
  /// footer elision): the largest block below QuickLists::kLimit, less
  /// its tags.
  static constexpr std::size_t kLargestParked =
      QuickLists::kLimit - kBlockGranularity - kHeaderSize - tags_type::kAllocatedFooterBytes;
  static_assert(QuickLists::has_list(tagged_block_size_for<tags_type>(kLargestParked)) &&
                !QuickLists::has_list(tagged_block_size_for<tags_type>(kLargestParked + 1)));

  /// A cache in front of a heap on the static 10 MiB heap.
  QuickCache() noexcept = default;
  /// A cache in front of a heap on \p region, which the caller keeps alive.
  explicit QuickCache(std::span<std::byte> region) noexcept : inner_(region) {}
  QuickCache(const QuickCache&) = delete;
  QuickCache& operator=(const QuickCache&) = delete;
  ~QuickCache() = default;

  /// Returns \p size bytes aligned to `max(align, 8)`, or nullptr (see the
  /// contract): a parked block of the size when there is one, else the
  /// heap's (see the file comment).
  [[nodiscard, gnu::always_inline]] inline void* allocate(std::size_t size,
                                                          std::size_t align = kDefaultAlignment) noexcept;
  /// allocate()'s first step alone: a parked block for the request,
  /// counted back in, or null. For a layer that puts a slow path of its
  /// own behind the fast one (GrowingHeap).
  [[nodiscard, gnu::always_inline]] inline void* allocate_parked(std::size_t size, std::size_t align) noexcept;
  /// Gives the block at \p p back: parked when it is small and its list
  /// has room, else freed into the heap (nullptr: nothing happens).
  [[gnu::always_inline]] inline void deallocate(void* p) noexcept;
  /// Resizes the block at \p p as the heap does: in place when it can,
  /// else moved to a block from this cache's allocate() (a parked block of
  /// the new size serves it), the old block freed into the heap, merged
  /// rather than parked: a block a growing one leaves behind is unlikely to
  /// be asked for again at its size. A parked block is misuse.
  [[nodiscard]] void* reallocate(void* p, std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Returns \p count * \p size zeroed bytes, or nullptr when the product
  /// overflows (counted as rejected) or cannot be served, like calloc.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// Bytes the caller may use at \p p, as the heap answers; 0 for null and
  /// for misuse (a parked block too), which is reported.
  [[nodiscard]] std::size_t usable_size(void* p) noexcept;

  /// The heap's numbers, with the parked blocks counted as free and in
  /// MallocStats::quick_blocks.
  [[nodiscard]] MallocStats stats() const noexcept;
  /// Verifies the heap, where the blocks with the Q bit count as free,
  /// then the quick lists (QuickLists::check()).
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block (allocated, parked or free) of the heap.
  [[nodiscard]] bool owns(const void* p) const noexcept { return inner_.owns(p); }
  /// Calls \p visit with every block of the heap in address order, a
  /// parked block as free (it is, to its user).
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    const BlockHeap& blocks = heap().blocks();
    inner_.for_each_block([&](BlockView view) {
      if (is_quick(*header_at(blocks.begin() + view.offset))) {
        view.state = BlockState::free;
        view.links = QuickLists::kLinkBytes;
      }
      visit(view);
    });
  }

  /// Blocks handed out and not freed by their users (parked ones are free
  /// to them): zero when the heap holds nothing a user still has.
  [[nodiscard]] std::size_t live_allocations() const noexcept { return inner_.live_allocations(); }
  /// Frees every parked block into the heap, where it merges (for a layer
  /// about to give an emptied heap back: parked blocks would keep it from
  /// being one free block).
  void unpark_all() noexcept { flush(); }
  /// True when deallocate() would park an allocated block of \p size bytes
  /// (for a layer that looks at what a free merges: a parked block merges
  /// with nothing).
  [[nodiscard]] bool would_park(std::size_t size) const noexcept { return quick_.has_room_for(size); }

  /// The header of the block at \p p, allocated and not parked, or null
  /// after reporting the misuse on behalf of \p where (for layers).
  [[nodiscard, gnu::always_inline]] BlockHeader* allocated_block(void* p, std::string_view where) noexcept {
    BlockHeader* const block = inner_.allocated_block(p, where);
    if (block != nullptr && is_quick(*block)) [[unlikely]] {
      report_misuse({Misuse::double_free, p, where});  // marked allocated for the heap, but its user freed it
      return nullptr;
    }
    return block;
  }

  /// The heap behind the cache (for diagrams and tests).
  [[nodiscard]] const Inner& inner() const noexcept { return inner_; }
  /// The region of the heap behind, and its verbs (for layers and diagrams).
  [[nodiscard]] const auto& heap() const noexcept { return inner_.heap(); }
  /// The quick lists (for diagrams and tests).
  [[nodiscard]] const QuickLists& quick_lists() const noexcept { return quick_; }

 private:
  [[nodiscard, gnu::always_inline]] inline BlockHeader* pop_parked(std::size_t size, std::size_t align) noexcept;
  [[nodiscard, gnu::noinline]] void* allocate_unparked(std::size_t size, std::size_t align) noexcept;
  [[nodiscard, gnu::always_inline]] inline bool park(BlockHeader& block) noexcept;
  void flush() noexcept;

  Inner inner_;                ///< The heap: every parked block is one of its allocated blocks.
  QuickLists quick_;           ///< Invariant: exactly the heap's blocks with the Q bit.
  std::size_t overflows_ = 0;  ///< Lifetime: allocate_zeroed() products that overflowed (rejected).
};

// ---------------------------------------------------------------- allocate

// [allocate]
template <class Inner>
void* QuickCache<Inner>::allocate(std::size_t size, std::size_t align) noexcept {
  if (void* const p = allocate_parked(size, align)) return p;
  return allocate_unparked(size, align);
}

template <class Inner>
void* QuickCache<Inner>::allocate_parked(std::size_t size, std::size_t align) noexcept {
  BlockHeader* const parked = pop_parked(size, align);
  return parked == nullptr ? nullptr : inner_.take_back(*parked, size);
}

/// The parked block for the request, off its list, or null. Only the
/// alignments the lists can promise are looked at: the default, and
/// malloc's 16 when the list's head happens to have it (a heap of blocks in
/// whole 16-byte steps, as the malloc shim makes them, always does). A
/// request small enough for a list is valid as it is, so no other check is
/// needed on this path.
template <class Inner>
BlockHeader* QuickCache<Inner>::pop_parked(std::size_t size, std::size_t align) noexcept {
  if (size > kLargestParked) return nullptr;
  if (align == kDefaultAlignment) return quick_.pop(tagged_block_size_for<tags_type>(size));
  if (align == kMallocAlignment) return quick_.pop_aligned(tagged_block_size_for<tags_type>(size), align);
  return nullptr;
}

/// Steps 2 to 4 of allocate() (see the file comment). Out of line, so
/// that the fast path before it has no registers to save.
template <class Inner>
void* QuickCache<Inner>::allocate_unparked(std::size_t size, std::size_t align) noexcept {
  // A request no heap may serve is refused, and counted, by the first ask.
  if (void* const p = inner_.reuse_free_block(size, align); p != nullptr || !is_valid_request(size, align)) return p;
  if (quick_.blocks() != 0) {
    flush();
    if (void* const p = inner_.reuse_free_block(size, align)) return p;
  }
  return inner_.extend_heap(size, align);
}
// [allocate]

// ---------------------------------------------------------------- deallocate

// [deallocate]
template <class Inner>
void QuickCache<Inner>::deallocate(void* p) noexcept {
  if (p == nullptr) return;
  BlockHeader* const block = allocated_block(p, "QuickCache::deallocate");
  if (block == nullptr) return;  // misuse, reported
  if (!park(*block)) inner_.release(*block);
}

/// Parks the allocated \p block on the quick list of its size: still
/// allocated to the heap (so nothing merges and no tag changes), counted
/// out of its live numbers. False when its size has no list or the list is
/// full.
template <class Inner>
bool QuickCache<Inner>::park(BlockHeader& block) noexcept {
  if (!quick_.push(block)) return false;
  inner_.set_aside(block);
  return true;
}

/// Frees every parked block into the heap, where it merges with its free
/// neighbours (glibc's malloc_consolidate).
template <class Inner>
void QuickCache<Inner>::flush() noexcept {
  quick_.flush([this](BlockHeader& block) { inner_.release_set_aside(block); });
}
// [deallocate]

// ---------------------------------------------------------------- the rest of the contract

template <class Inner>
void* QuickCache<Inner>::reallocate(void* p, std::size_t size, std::size_t align) noexcept {
  if (p == nullptr) return allocate(size, align);
  BlockHeader* const block = allocated_block(p, "QuickCache::reallocate");
  if (block == nullptr) return nullptr;  // misuse, reported
  const auto allocate_here = [this](std::size_t bytes, std::size_t a) { return allocate(bytes, a); };
  return inner_.reallocate_through(*block, size, align, allocate_here);
}

template <class Inner>
void* QuickCache<Inner>::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  const auto allocate_bytes = [this](std::size_t bytes) { return allocate(bytes); };
  return allocate_zeroed_with(count, size, overflows_, allocate_bytes);
}

template <class Inner>
std::size_t QuickCache<Inner>::usable_size(void* p) noexcept {
  if (p == nullptr) return 0;
  const BlockHeader* const block = allocated_block(p, "QuickCache::usable_size");
  return block == nullptr ? 0 : tagged_payload_capacity<tags_type>(*block);
}

template <class Inner>
MallocStats QuickCache<Inner>::stats() const noexcept {
  MallocStats s = inner_.stats();
  s.quick_blocks = quick_.blocks();
  s.free_blocks += quick_.blocks();
  s.free_bytes += quick_.bytes();
  s.rejected += overflows_;
  return s;
}

// [check]
template <class Inner>
CheckResult QuickCache<Inner>::check() const noexcept {
  // The lists first: each ends within its count, so the walk is safe
  // even in a broken heap, and names the more precise invariant.
  const BlockHeap& blocks = heap().blocks();
  const auto owned = [&](BlockHeader& block) {
    return blocks.contains(&block) && blocks.starts().is_start(block_start(&block));
  };
  if (const CheckResult lists = quick_.check(owned); !lists) return lists;
  const auto is_parked = [this](const BlockHeader& block) { return quick_.contains(block); };
  return inner_.check(is_parked);
}
// [check]

}  // namespace heaplab
