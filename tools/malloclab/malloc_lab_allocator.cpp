#include "tools/malloclab/malloc_lab_allocator.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "tools/malloclab/memlib.h"
#include "tools/malloclab/mm.h"

namespace heaplab {
namespace {

/// The alignment the malloc lab promises, and all the adapter asks of an mm.c.
constexpr std::size_t kLabAlignment = kDefaultAlignment;

/// True when \p align is a power of two.
constexpr bool is_power_of_two(std::size_t align) noexcept { return align != 0 && (align & (align - 1)) == 0; }

/// \p p rounded up to a multiple of \p align (a power of two).
std::byte* align_up(std::byte* p, std::size_t align) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  return p + ((align - address % align) % align);
}

}  // namespace

MallocLabAllocator::MallocLabAllocator(std::span<std::byte> heap) noexcept : region_(heap) {
  mem_init_region(heap.data(), heap.size());
  ready_ = mm_init() == 0;
}

MallocLabAllocator::~MallocLabAllocator() { mem_init_region(nullptr, 0); }

void* MallocLabAllocator::allocate(std::size_t size, std::size_t align) noexcept {
  if (!is_power_of_two(align) || size > kMaxRequest) {
    ++rejected_;
    return nullptr;
  }
  // Extra bytes to align inside the block: mm_malloc's blocks are 8-aligned.
  const std::size_t slack = align > kLabAlignment ? align - kLabAlignment : 0;
  const std::size_t asked = std::max<std::size_t>(size, 1);
  if (!ready_ || asked > region_.size() || slack > region_.size() - asked) {
    ++exhausted_;
    null_from_ = {};
    return nullptr;
  }
  const std::size_t refusals_before = mem_sbrk_refusals();
  auto* const from_mm = static_cast<std::byte*>(mm_malloc(asked + slack));
  if (from_mm == nullptr) {
    note_null("mm_malloc", refusals_before);
    return nullptr;
  }
  std::byte* const p = slack == 0 ? from_mm : align_up(from_mm, align);
  record(p, from_mm, size);
  return p;
}

void MallocLabAllocator::deallocate(void* p) noexcept {
  if (p == nullptr) return;
  const Block* const block = live_or_report(p, "MallocLabAllocator::deallocate");
  if (block == nullptr) return;
  mm_free(block->from_mm);
  requested_ -= block->requested;
  live_.erase(static_cast<const std::byte*>(p));
  freed_.insert(static_cast<const std::byte*>(p));
}

void* MallocLabAllocator::reallocate(void* p, std::size_t size) noexcept {
  if (p == nullptr) return allocate(size);
  const Block* const block = live_or_report(p, "MallocLabAllocator::reallocate");
  if (block == nullptr) return nullptr;
  if (size > kMaxRequest) {
    ++rejected_;
    return nullptr;
  }
  const std::size_t old_size = block->requested;
  if (block->from_mm != p) {
    // Aligned above 8 inside its mm block: only a move keeps the alignment.
    void* const moved = allocate(size, kLabAlignment);
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, p, std::min(old_size, size));
    deallocate(p);
    return moved;
  }
  if (size > region_.size()) {
    ++exhausted_;
    null_from_ = {};
    return nullptr;
  }
  const std::size_t refusals_before = mem_sbrk_refusals();
  // At least 1 byte: CS:APP's mm_realloc(p, 0) frees the block, where the
  // course's contract keeps one.
  auto* const moved = static_cast<std::byte*>(mm_realloc(p, std::max<std::size_t>(size, 1)));
  if (moved == nullptr) {
    note_null("mm_realloc", refusals_before);
    return nullptr;
  }
  requested_ -= old_size;
  live_.erase(static_cast<const std::byte*>(p));
  --allocations_;  // the same block, resized: record() counts it again
  record(moved, moved, size);
  return moved;
}

void* MallocLabAllocator::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  if (size != 0 && count > std::numeric_limits<std::size_t>::max() / size) {
    ++rejected_;
    return nullptr;
  }
  void* const p = allocate(count * size);
  if (p != nullptr) std::memset(p, 0, count * size);
  return p;
}

std::size_t MallocLabAllocator::usable_size(const void* p) const noexcept {
  if (p == nullptr) return 0;
  const Block* const block = live_or_report(p, "MallocLabAllocator::usable_size");
  return block == nullptr ? 0 : block->requested;
}

HeapStats MallocLabAllocator::stats() const noexcept {
  HeapStats stats;
  stats.capacity = region_.size();
  stats.used = heap_size();
  stats.requested = requested_;
  stats.padding = stats.used - std::min(stats.used, requested_);
  stats.live_allocations = live_.size();
  stats.high_water = stats.used;  // mem_sbrk only grows the heap
  stats.peak_requested = peak_requested_;
  stats.allocations = allocations_;
  stats.exhausted = exhausted_;
  stats.rejected = rejected_;
  return stats;
}

CheckResult MallocLabAllocator::check() const noexcept {
  std::size_t end_of_last = 0;
  for (const Extent& block : sorted_blocks()) {
    if (block.offset < end_of_last) return CheckResult::fail("live blocks do not overlap", block.offset);
    if ((reinterpret_cast<std::uintptr_t>(region_.data()) + block.offset) % kLabAlignment != 0) {
      return CheckResult::fail("every block is 8-byte aligned", block.offset);
    }
    if (block.offset + block.size > heap_size()) {
      return CheckResult::fail("every block lies inside [mem_heap_lo, mem_heap_hi]", block.offset);
    }
    end_of_last = block.offset + block.size;
  }
  if (mm_checkheap != nullptr && mm_checkheap(0) == 0) return CheckResult::fail("mm_checkheap(0) returned 0", 0);
  return CheckResult::pass();
}

bool MallocLabAllocator::owns(const void* p) const noexcept {
  const auto* const byte = static_cast<const std::byte*>(p);
  // Compared as addresses: `p` may be anything, and a pointer comparison
  // across objects would mean nothing.
  const auto address = reinterpret_cast<std::uintptr_t>(byte);
  const auto start = reinterpret_cast<std::uintptr_t>(region_.data());
  return address >= start && address - start < heap_size();
}

std::string MallocLabAllocator::explain_nullptr(std::size_t line, std::size_t requested) const {
  if (null_from_.empty()) return {};
  return std::string(null_from_) + " returned NULL at line " + std::to_string(line) + " (" +
         std::to_string(requested) + " bytes requested, " + std::to_string(region_.size() - heap_size()) +
         " bytes of the heap never used)";
}

void MallocLabAllocator::record(std::byte* p, std::byte* from_mm, std::size_t size) {
  live_.insert_or_assign(p, Block{from_mm, size});
  freed_.erase(p);
  requested_ += size;
  peak_requested_ = std::max(peak_requested_, requested_);
  ++allocations_;
}

const MallocLabAllocator::Block* MallocLabAllocator::live_or_report(const void* p,
                                                                    std::string_view where) const noexcept {
  const auto* const byte = static_cast<const std::byte*>(p);
  if (const auto found = live_.find(byte); found != live_.end()) return &found->second;
  Misuse kind = Misuse::foreign_pointer;
  if (freed_.contains(byte)) {
    kind = Misuse::double_free;
  } else if (owns(p)) {
    const bool inside = std::ranges::any_of(live_, [&](const auto& entry) {
      return byte > entry.first && byte < entry.first + std::max<std::size_t>(entry.second.requested, 1);
    });
    if (inside) kind = Misuse::interior_pointer;
  }
  report_misuse({kind, p, where});
  return nullptr;
}

void MallocLabAllocator::note_null(std::string_view function, std::size_t refusals_before) noexcept {
  ++exhausted_;
  null_from_ = mem_sbrk_refusals() == refusals_before ? function : std::string_view();
}

std::vector<MallocLabAllocator::Extent> MallocLabAllocator::sorted_blocks() const {
  std::vector<Extent> blocks;
  blocks.reserve(live_.size());
  for (const auto& [p, block] : live_) {
    blocks.push_back({static_cast<std::size_t>(p - region_.data()), std::max<std::size_t>(block.requested, 1)});
  }
  std::ranges::sort(blocks, {}, &Extent::offset);
  return blocks;
}

std::size_t MallocLabAllocator::heap_size() noexcept { return mem_heapsize(); }

}  // namespace heaplab
