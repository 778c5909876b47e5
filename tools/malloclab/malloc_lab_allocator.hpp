/// \file
/// heaplab::MallocLabAllocator: a CS:APP malloc-lab allocator (an mm.c:
/// mm_init, mm_malloc, mm_free, mm_realloc, and mm_checkheap if it has
/// one) seen as an allocator of the course, so that the contract suite,
/// the bad-input catalogue, the model test and the lab (`heaplab replay`,
/// `compare`, `map`, `score`) run it like any other.
///
/// The mm.c knows nothing of the course's views (stats, owns, a block
/// walk), so the adapter keeps its own record of the blocks it handed out,
/// by the caller's pointer:
///
///     memlib region: [ heap (mem_sbrk'd) .......................][ never used ... ]
///     record:           [A 40]      [A 8]   [A 100]
///     block walk:    [F][A 40][F   ][A 8][F][A 100][F ]          (the heap only)
///
/// Everything between recorded blocks (the mm.c's headers, footers, free
/// blocks and padding) is drawn as free: the adapter sees only payloads.
///
/// What the adapter refuses before the mm.c ever sees it: an alignment that
/// is not a power of two, a size above kMaxRequest (both "rejected"), and a
/// block larger than the whole heap ("exhausted"). An alignment above 8
/// (the malloc lab promises 8) is served by asking mm_malloc for
/// `size + align - 8` bytes and handing out the aligned address inside.
///
/// memlib's heap is one per program (C globals, as in CS:APP), so one
/// MallocLabAllocator may be alive at a time; each one starts memlib over
/// its region and calls mm_init().
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"

namespace heaplab {

/// A malloc-lab mm.c over the lab's heap, as a heaplab::Reallocating
/// allocator (see the file comment).
class MallocLabAllocator {
 public:
  /// Starts memlib over \p heap (empty) and calls mm_init(). When mm_init()
  /// fails every allocation is refused.
  explicit MallocLabAllocator(std::span<std::byte> heap) noexcept;
  MallocLabAllocator(const MallocLabAllocator&) = delete;
  MallocLabAllocator& operator=(const MallocLabAllocator&) = delete;
  ~MallocLabAllocator();  ///< Leaves memlib without a region.

  /// mm_malloc(size) (at least 1 byte), aligned to \p align by the adapter
  /// above 8; nullptr for a refused request (see the file comment).
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// mm_free() of the block at \p p; a pointer the adapter did not hand
  /// out, or handed out and saw freed, is reported as misuse and not passed on.
  void deallocate(void* p) noexcept;
  /// mm_realloc(p, size) (a block allocated with an alignment above 8 moves
  /// by allocate, copy, free instead, keeping its alignment).
  [[nodiscard]] void* reallocate(void* p, std::size_t size) noexcept;
  /// allocate(count * size), zeroed; nullptr when the product overflows.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// The bytes the caller asked for the live block at \p p (all the adapter
  /// knows to be usable); 0 for nullptr, and 0 with a misuse report for a
  /// pointer that is not a live block's.
  [[nodiscard]] std::size_t usable_size(const void* p) const noexcept;

  /// The record's numbers: `used` is mem_heapsize(), `requested` the live
  /// requests; the heap only grows, so the high-water mark is `used`.
  [[nodiscard]] HeapStats stats() const noexcept;
  /// Checks the record (no two blocks overlap, each 8-byte aligned and
  /// inside [mem_heap_lo, mem_heap_hi]), then calls mm_checkheap(0) if the
  /// mm.c has one.
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p is inside the heap mem_sbrk has handed out.
  [[nodiscard]] bool owns(const void* p) const noexcept;
  /// Calls \p visit with every recorded block and every gap between them,
  /// in address order, over the heap mem_sbrk has handed out.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    std::size_t at = 0;
    for (const Extent& block : sorted_blocks()) {
      if (block.offset < at) continue;  // overlapping: check() says so
      if (block.offset > at) visit(BlockView{0, at, block.offset - at, BlockState::free});
      visit(BlockView{0, block.offset, block.size, BlockState::allocated});
      at = block.offset + block.size;
    }
    if (at < heap_size()) visit(BlockView{0, at, heap_size() - at, BlockState::free});
  }

  /// Why the last nullptr is not "out of memory" (heaplab::AccountsForNullptr):
  /// "mm_malloc returned NULL at line 7 (40 bytes requested, 1024 bytes of
  /// the heap never used)" when mem_sbrk refused nothing during the call;
  /// empty when it did, or when the adapter refused the request itself.
  [[nodiscard]] std::string explain_nullptr(std::size_t line, std::size_t requested) const;

 private:
  /// A live block: where mm_malloc put it, and what the caller asked for.
  struct Block {
    std::byte* from_mm;     ///< What mm_malloc returned (the caller's pointer, or below it when aligned up).
    std::size_t requested;  ///< Bytes the caller asked for.
  };
  /// A block as the walk sees it: offset and size in the region.
  struct Extent {
    std::size_t offset;  ///< From the region's start.
    std::size_t size;    ///< At least 1 byte.
  };

  /// Records \p p (from mm_malloc at \p from_mm) as a live block of \p size.
  void record(std::byte* p, std::byte* from_mm, std::size_t size);
  /// The live block at \p p, or reports the misuse \p where and returns nullptr.
  [[nodiscard]] const Block* live_or_report(const void* p, std::string_view where) const noexcept;
  /// Remembers that \p function returned NULL, and whether mem_sbrk refused during it.
  void note_null(std::string_view function, std::size_t refusals_before) noexcept;
  /// The recorded blocks by address.
  [[nodiscard]] std::vector<Extent> sorted_blocks() const;
  /// mem_heapsize().
  [[nodiscard]] static std::size_t heap_size() noexcept;

  std::span<std::byte> region_;                                ///< The lab's heap, memlib's region.
  bool ready_ = false;                                         ///< mm_init() succeeded.
  std::unordered_map<const std::byte*, Block> live_;           ///< By the caller's pointer.
  std::unordered_set<const std::byte*> freed_;                 ///< Pointers handed out, then freed.
  std::size_t requested_ = 0;                                  ///< Bytes of the live requests.
  std::size_t peak_requested_ = 0;                             ///< The most requested_ has been.
  std::size_t allocations_ = 0;                                ///< Successful allocations.
  std::size_t exhausted_ = 0;                                  ///< Refused for lack of room.
  std::size_t rejected_ = 0;                                   ///< Refused for a bad size or alignment.
  std::string_view null_from_;  ///< "mm_malloc" or "mm_realloc" when it returned the last nullptr with room to spare.
};

}  // namespace heaplab
