/// \file
/// Large blocks in mappings of their own: LargeBlocks serves every request
/// of at least a threshold (128 KiB by default, glibc's M_MMAP_THRESHOLD)
/// with a chunk of its own from a ChunkSource (mmap), and gives the chunk
/// back when the block is freed. Every other request goes to the heap
/// behind it.
///
///     mapping (page-aligned, from the source)
///     +-------------+-----+--------+--------------------------------------+
///     | MappedBlock | gap | header |  payload .........................   |
///     +-------------+-----+--------+--------------------------------------+
///       the record:         size |A  ^ aligned as asked; usable up to the
///       mapping, links      request  end of the mapping
///
/// Why: a large block in the heap is a large hole once it is freed, which
/// only merging can make useful again, and the heap's break never moves
/// back, so at best its pages are discarded while the region stays mapped
/// (growing_heap.hpp). A mapping goes straight back to
/// the kernel, and never fragments the heap. The price is a system call per
/// allocation and per free, which is small next to what the caller does
/// with 128 KiB. (glibc maps such blocks one by one as this layer does;
/// jemalloc, tcmalloc and mimalloc give large objects whole pages of
/// their own too, from their page allocators.)
///
/// The block has a chapter-2 header in front of its payload, so that
/// realloc knows how many bytes to copy and a bad free is recognised. A
/// pointer is asked of the heap first, as most are the heap's, then of the
/// mappings (a short list: only large blocks are there). Without a source
/// nothing is mapped, and every request goes to the heap.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <utility>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/assert.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage5_real_malloc/malloc_stats.hpp"

namespace heaplab {

/// Mappings of their own for the large requests, in front of the heap
/// \p Inner (see the file comment). Not thread-safe: wrap it in
/// Synchronized.
template <class Inner>
class LargeBlocks {
 public:
  /// The tag layout of the heap behind (for layers, tools and tests).
  using tags_type = typename Inner::tags_type;

  /// Maps every request of \p threshold bytes or more from \p source (null:
  /// none is mapped), in front of a heap built from \p inner_args.
  template <class... InnerArgs>
  explicit LargeBlocks(ChunkSource* source, std::size_t threshold, InnerArgs&&... inner_args) noexcept
      : inner_(std::forward<InnerArgs>(inner_args)...),
        source_(source),
        threshold_(source == nullptr ? kNoMapping : threshold) {}
  LargeBlocks(const LargeBlocks&) = delete;
  LargeBlocks& operator=(const LargeBlocks&) = delete;
  /// Gives every mapping still held back to the source.
  ~LargeBlocks();

  /// Returns \p size bytes aligned to `max(align, 8)`, or nullptr (see the
  /// contract): a mapping of its own for a large request, else the heap's.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Gives the block at \p p back: a mapped block's mapping goes back to
  /// the source (nullptr: nothing happens).
  void deallocate(void* p) noexcept;
  /// Resizes the block at \p p to \p size bytes. A mapped block that stays
  /// large keeps its mapping when the mapping (rounded up to pages) has the
  /// room; a block that crosses the threshold moves, to a mapping or into
  /// the heap; a heap block that stays small is the heap's to resize.
  [[nodiscard]] void* reallocate(void* p, std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Returns \p count * \p size zeroed bytes, or nullptr when the product
  /// overflows (counted as rejected) or cannot be served, like calloc.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// Bytes the caller may use at \p p: the rest of its mapping for a mapped
  /// block, else the heap's answer. 0 for null and for misuse (reported).
  [[nodiscard]] std::size_t usable_size(void* p) noexcept;

  /// The heap's numbers, with the mappings added (see MallocStats). Two are
  /// followed as the mappings change: `high_water` is exact while the
  /// heap's own `used` never falls; `peak_requested` is the largest sum seen
  /// whenever a mapping came, went or was resized, or stats() was read, and
  /// so may miss a peak of the heap reached while mappings were held (the
  /// heap's requested bytes are not summed at every free: that would cost a
  /// walk of its regions), but never falls.
  [[nodiscard]] MallocStats stats() const noexcept;
  /// Verifies the heap, then the mappings: linked both ways, each an
  /// allocated block inside its mapping, as many as counted.
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block of the heap or into a mapping.
  [[nodiscard]] bool owns(const void* p) const noexcept { return inner_.owns(p) || mapping_of(p) != nullptr; }
  /// Calls \p visit with every block of the heap, then every mapped block,
  /// each as a region of its own after the heap's (offset 0, the whole
  /// mapping).
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    inner_.for_each_block(visit);
    std::size_t region = MallocStats(inner_.stats()).regions;
    for (const MappedBlock* block = mapped_; block != nullptr; block = block->next) {
      const auto header = static_cast<std::size_t>(payload_of(block->header) - block->mapping.data());
      visit(BlockView{.region = region++,
                      .offset = 0,
                      .size = block->mapping.size(),
                      .state = BlockState::allocated,
                      .header = header});  // the record, the gap and the header: all in front of the payload
    }
  }

  /// The heap behind (for diagrams and tests).
  [[nodiscard]] const Inner& inner() const noexcept { return inner_; }
  /// Bytes a mapping holds in front of a payload of the default alignment:
  /// the record, then the header (the overhead the pages quote).
  [[nodiscard]] static constexpr std::size_t front_bytes() noexcept { return kFrontBytes; }

 private:
  /// The record at the start of every mapping (see the diagram above).
  struct MappedBlock {
    std::span<std::byte> mapping;  ///< The mapping as the source gave it.
    MappedBlock* next;             ///< The next mapped block, or null.
    MappedBlock* prev;             ///< The previous mapped block, or null.
    BlockHeader* header;           ///< The block's header, right before its payload.
  };
  /// The live numbers of the mappings; check() compares them with a walk.
  struct Mapped {
    std::size_t blocks = 0;     ///< Mapped blocks.
    std::size_t bytes = 0;      ///< Bytes of their mappings.
    std::size_t requested = 0;  ///< Bytes their callers asked for.
  };
  /// The threshold without a source: no valid request is this large.
  static constexpr std::size_t kNoMapping = SIZE_MAX;
  static_assert(kMaxRequest < kNoMapping);
  /// Bytes in front of the payload: the record, then the header.
  static constexpr std::size_t kFrontBytes = round_up(sizeof(MappedBlock), kBlockGranularity) + kHeaderSize;

  /// True when \p p is the heap's to answer for: it lies in the heap, or
  /// there is no mapping it could lie in (misuse is then the heap's to
  /// report). Most pointers are the heap's: asked first.
  [[nodiscard, gnu::always_inline]] bool is_heap_pointer(const void* p) const noexcept {
    return mapped_ == nullptr || inner_.owns(p);
  }
  [[nodiscard]] void* map_block(std::size_t size, std::size_t align) noexcept;
  [[gnu::noinline]] void deallocate_mapped(void* p) noexcept;
  void unmap(MappedBlock& block) noexcept;
  void give_back(MappedBlock& block) noexcept;
  [[nodiscard]] MappedBlock* mapping_of(const void* p) const noexcept;
  [[nodiscard]] MappedBlock* mapped_block(void* p, std::string_view where) noexcept;
  [[nodiscard]] static std::size_t room_of(const MappedBlock& block) noexcept;
  [[nodiscard]] void* reallocate_mapped(void* p, std::size_t size, std::size_t align) noexcept;
  [[nodiscard]] void* remap_block(MappedBlock& block, std::size_t size) noexcept;
  [[nodiscard]] void* move_block(void* p, std::size_t kept, std::size_t size, std::size_t align) noexcept;
  [[nodiscard]] CheckResult check_mappings() const noexcept;
  void note_peaks() noexcept;

  Inner inner_;                    ///< The heap: every request below the threshold.
  ChunkSource* source_;            ///< Where mappings come from, or null.
  std::size_t threshold_;          ///< Requests of this many bytes or more are mapped.
  MappedBlock* mapped_ = nullptr;  ///< Live mapped blocks, newest first.
  Mapped live_;                    ///< Invariant: a walk of mapped_ finds these numbers.
  std::size_t allocations_ = 0;    ///< Lifetime: blocks mapped.
  std::size_t exhausted_ = 0;      ///< Lifetime: large requests the source refused.
  std::size_t rejected_ = 0;       ///< Lifetime: bad sizes for mapped blocks, and calloc overflows.
  std::size_t high_water_ = 0;     ///< Lifetime: the largest heap-and-mappings used() seen at a change.
  /// Lifetime: the largest requested bytes seen at a change or by stats();
  /// mutable because reading the numbers is one of the moments it is folded.
  mutable std::size_t peak_requested_ = 0;
  std::size_t unmapped_bytes_ = 0; ///< Lifetime: bytes of mappings given back (MallocStats::returned_bytes).
};

template <class Inner>
LargeBlocks<Inner>::~LargeBlocks() {
  while (mapped_ != nullptr) give_back(*mapped_);
}

// ---------------------------------------------------------------- allocate and free

// [allocate]
template <class Inner>
void* LargeBlocks<Inner>::allocate(std::size_t size, std::size_t align) noexcept {
  if (size >= threshold_) [[unlikely]] return map_block(size, align);
  return inner_.allocate(size, align);
}

/// Serves a large request with a mapping of its own. A bad request goes to
/// the heap, which refuses it and counts it.
template <class Inner>
void* LargeBlocks<Inner>::map_block(std::size_t size, std::size_t align) noexcept {
  if (!is_valid_request(size, align)) return inner_.allocate(size, align);
  HEAPLAB_ASSERT(source_ != nullptr, "without a source the threshold is above every valid request");
  align = std::max(align, kDefaultAlignment);
  // The mapping is page-aligned but the payload comes kFrontBytes after
  // its start, a multiple of 8 only: any larger alignment (malloc's 16
  // too) may need a shift of up to `align`. Compared step by step: the
  // shift alone can be 2^62, and a sum could wrap around.
  const std::size_t shift = align > kBlockGranularity ? align : 0;
  if (shift > kMaxRequest - kFrontBytes || size > kMaxRequest - kFrontBytes - shift) {
    ++exhausted_;
    return nullptr;
  }
  const std::span<std::byte> mapping = source_->acquire(kFrontBytes + shift + size);
  if (mapping.empty()) {
    ++exhausted_;
    return nullptr;
  }
  HEAPLAB_ASSERT(mapping.size() % kBlockGranularity == 0, "a source hands out whole pages, so the flags stay clear");
  std::byte* const payload =
      mapping.data() + kFrontBytes + padding_to_align(address_of(mapping.data() + kFrontBytes), align);
  BlockHeader* const header = ::new (payload - kHeaderSize) BlockHeader{mapping.size() | kAllocatedBit, size};
  auto* const block = ::new (mapping.data()) MappedBlock{mapping, mapped_, nullptr, header};
  if (mapped_ != nullptr) mapped_->prev = block;
  mapped_ = block;
  ++live_.blocks;
  live_.bytes += mapping.size();
  live_.requested += size;
  ++allocations_;
  note_peaks();
  return payload;
}
// [allocate]

// [deallocate]
template <class Inner>
void LargeBlocks<Inner>::deallocate(void* p) noexcept {
  if (is_heap_pointer(p)) [[likely]] {
    inner_.deallocate(p);
  } else {
    deallocate_mapped(p);
  }
}

/// deallocate() of a pointer that is not the heap's: a mapped block's, or
/// misuse (null does nothing). Out of line, so that the heap's free path
/// has no registers to save.
template <class Inner>
void LargeBlocks<Inner>::deallocate_mapped(void* p) noexcept {
  if (p == nullptr) return;
  if (MappedBlock* const block = mapped_block(p, "LargeBlocks::deallocate")) unmap(*block);
}

/// Unlinks \p block and gives its mapping back, after noting the peaks it
/// was part of.
template <class Inner>
void LargeBlocks<Inner>::unmap(MappedBlock& block) noexcept {
  note_peaks();
  live_.requested -= block.header->requested;
  give_back(block);
}

/// Unlinks \p block and gives its mapping back to the source.
template <class Inner>
void LargeBlocks<Inner>::give_back(MappedBlock& block) noexcept {
  (block.prev == nullptr ? mapped_ : block.prev->next) = block.next;
  if (block.next != nullptr) block.next->prev = block.prev;
  --live_.blocks;
  live_.bytes -= block.mapping.size();
  unmapped_bytes_ += block.mapping.size();
  const std::span<std::byte> mapping = block.mapping;  // the record lies in it
  source_->release(mapping);
}
// [deallocate]

/// The mapped block whose mapping holds \p p, or null. A walk: only large
/// requests are mapped, so there are few.
template <class Inner>
auto LargeBlocks<Inner>::mapping_of(const void* p) const noexcept -> MappedBlock* {
  for (MappedBlock* block = mapped_; block != nullptr; block = block->next) {
    const std::span<std::byte> mapping = block->mapping;
    if (address_in(p, mapping.data(), mapping.data() + mapping.size())) return block;
  }
  return nullptr;
}

/// The mapped block whose payload is \p p, or null after reporting the
/// misuse (a pointer in no mapping, or inside one) on behalf of \p where.
template <class Inner>
auto LargeBlocks<Inner>::mapped_block(void* p, std::string_view where) noexcept -> MappedBlock* {
  MappedBlock* const block = mapping_of(p);
  if (block == nullptr) {
    report_misuse({Misuse::foreign_pointer, p, where});
    return nullptr;
  }
  if (p != payload_of(block->header)) {
    report_misuse({Misuse::interior_pointer, p, where});
    return nullptr;
  }
  return block;
}

/// Bytes from \p block's payload to the end of its mapping.
template <class Inner>
std::size_t LargeBlocks<Inner>::room_of(const MappedBlock& block) noexcept {
  return static_cast<std::size_t>(block.mapping.data() + block.mapping.size() - payload_of(block.header));
}

// ---------------------------------------------------------------- reallocate

// [reallocate]
template <class Inner>
void* LargeBlocks<Inner>::reallocate(void* p, std::size_t size, std::size_t align) noexcept {
  if (p == nullptr) return allocate(size, align);
  if (!is_heap_pointer(p)) return reallocate_mapped(p, size, align);
  if (size < threshold_ || !is_valid_request(size, align)) return inner_.reallocate(p, size, align);
  // A heap block grown large moves to a mapping of its own.
  const BlockHeader* const block = inner_.allocated_block(p, "LargeBlocks::reallocate");
  if (block == nullptr) return nullptr;  // misuse, reported
  return move_block(p, block->requested, size, align);
}

/// reallocate() of a pointer that is not the heap's: a mapped block stays
/// in its mapping while it stays large and fits, grows with its mapping
/// when the source can resize it, else it moves.
template <class Inner>
void* LargeBlocks<Inner>::reallocate_mapped(void* p, std::size_t size, std::size_t align) noexcept {
  MappedBlock* const block = mapped_block(p, "LargeBlocks::reallocate");
  if (block == nullptr) return nullptr;  // misuse, reported
  if (!is_valid_request(size, align)) {
    ++rejected_;
    return nullptr;
  }
  BlockHeader& header = *block->header;
  if (size >= threshold_ && is_aligned(p, align)) {
    if (size <= room_of(*block)) {
      note_peaks();  // before a shrink
      live_.requested = live_.requested - header.requested + size;
      header.requested = size;
      note_peaks();  // after a growth
      return p;
    }
    if (void* const grown = remap_block(*block, size)) return grown;
  }
  return move_block(p, header.requested, size, align);
}

/// Grows \p block's mapping until its payload holds \p size bytes, with
/// the source's resize() (mremap: the kernel moves the pages, and nothing
/// is copied, however large the block). The payload keeps its offset in
/// the mapping, and so its alignment; the record at the mapping's start
/// moves with it and is linked again. Null, the block as it was, when the
/// source cannot.
template <class Inner>
void* LargeBlocks<Inner>::remap_block(MappedBlock& block, std::size_t size) noexcept {
  const std::span<std::byte> old = block.mapping;
  const auto front = static_cast<std::size_t>(payload_of(block.header) - old.data());
  if (size > kMaxRequest - front) return nullptr;
  const std::span<std::byte> grown = source_->resize(old, front + size);
  if (grown.empty()) return nullptr;
  auto* const moved = std::launder(reinterpret_cast<MappedBlock*>(grown.data()));
  moved->mapping = grown;
  moved->header = std::launder(reinterpret_cast<BlockHeader*>(grown.data() + front - kHeaderSize));
  (moved->prev == nullptr ? mapped_ : moved->prev->next) = moved;
  if (moved->next != nullptr) moved->next->prev = moved;
  BlockHeader& header = *moved->header;
  live_.bytes = live_.bytes - old.size() + grown.size();
  live_.requested = live_.requested - header.requested + size;
  header.size_and_flags = grown.size() | kAllocatedBit;
  header.requested = size;
  note_peaks();  // after a growth
  return grown.data() + front;
}

/// Moves the block at \p p, of which \p kept bytes are the caller's, to a
/// new block of \p size bytes (allocate() says where), and frees it. Null,
/// with the block untouched, when there is no room.
template <class Inner>
void* LargeBlocks<Inner>::move_block(void* p, std::size_t kept, std::size_t size, std::size_t align) noexcept {
  void* const moved = allocate(size, align);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, p, std::min(kept, size));
  deallocate(p);
  return moved;
}
// [reallocate]

// ---------------------------------------------------------------- the rest of the contract

template <class Inner>
void* LargeBlocks<Inner>::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  const auto allocate_bytes = [this](std::size_t bytes) { return allocate(bytes); };
  return allocate_zeroed_with(count, size, rejected_, allocate_bytes);
}

template <class Inner>
std::size_t LargeBlocks<Inner>::usable_size(void* p) noexcept {
  if (is_heap_pointer(p)) return inner_.usable_size(p);
  if (p == nullptr) return 0;
  const MappedBlock* const block = mapped_block(p, "LargeBlocks::usable_size");
  return block == nullptr ? 0 : room_of(*block);
}

/// Folds the heap as it is now, with its mappings, into the lifetime
/// peaks. Called whenever what the mappings hold changes, since the heap's
/// own numbers cannot say what the mappings held at their peak.
template <class Inner>
void LargeBlocks<Inner>::note_peaks() noexcept {
  const MallocStats heap = inner_.stats();
  high_water_ = std::max(high_water_, heap.high_water + live_.bytes);
  peak_requested_ = std::max(peak_requested_, heap.requested + live_.requested);
}

template <class Inner>
MallocStats LargeBlocks<Inner>::stats() const noexcept {
  MallocStats s = inner_.stats();
  s.capacity += live_.bytes;
  s.used += live_.bytes;
  s.requested += live_.requested;
  s.padding = s.used - s.requested;
  s.live_allocations += live_.blocks;
  // The heap's used never falls, so between two changes of the mappings
  // the largest total is the one at the end: now, or noted at the change.
  s.high_water = std::max(high_water_, s.high_water + live_.bytes);
  peak_requested_ = std::max({peak_requested_, s.peak_requested, s.requested});
  s.peak_requested = peak_requested_;
  s.allocations += allocations_;
  s.exhausted += exhausted_;
  s.rejected += rejected_;
  s.mapped_blocks += live_.blocks;
  s.mapped_bytes += live_.bytes;
  s.returned_bytes += unmapped_bytes_;
  return s;
}

// [check]
template <class Inner>
CheckResult LargeBlocks<Inner>::check() const noexcept {
  if (const CheckResult heap = inner_.check(); !heap) return heap;
  return check_mappings();
}

/// The mapped blocks: linked both ways, each an allocated header inside
/// its mapping whose request fits, and as many, as large, as counted.
template <class Inner>
CheckResult LargeBlocks<Inner>::check_mappings() const noexcept {
  Mapped seen;
  const MappedBlock* before = nullptr;
  for (const MappedBlock* block = mapped_; block != nullptr; before = block, block = block->next) {
    if (seen.blocks == live_.blocks) return CheckResult::fail("the mapped blocks are as many as counted", 0);
    const std::span<std::byte> mapping = block->mapping;
    const BlockHeader& header = *block->header;
    if (block->prev != before || !address_in(block->header, mapping.data(), mapping.data() + mapping.size()) ||
        !is_allocated(header) || header.requested > room_of(*block)) {
      return CheckResult::fail("each mapped block is an allocated block inside its mapping", 0);
    }
    ++seen.blocks;
    seen.bytes += mapping.size();
    seen.requested += header.requested;
  }
  if (seen.blocks != live_.blocks || seen.bytes != live_.bytes || seen.requested != live_.requested) {
    return CheckResult::fail("the mapped blocks are as many as counted", 0);
  }
  return CheckResult::pass();
}
// [check]

}  // namespace heaplab
