// TaggedFirstFit (tagged_first_fit.hpp): first fit over an implicit list of
// 16-byte headers, with immediate merging.
#include "tools/yours/example/tagged_first_fit.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/misuse.hpp"

namespace heaplab::example {

namespace {
/// The low bit of a header's size word: set for a free block (sizes are
/// multiples of 16, so the bit is otherwise 0).
constexpr std::size_t kFreeBit = 1;

/// \p n rounded up to a multiple of 16, the payload granule (n <= kMaxRequest: no wrap).
constexpr std::size_t round_up_16(std::size_t n) noexcept { return round_up(n, TaggedFirstFit::kHeaderBytes); }
}  // namespace

TaggedFirstFit::TaggedFirstFit(std::span<std::byte> region) noexcept {
  const std::uintptr_t start = address_of(region.data());
  const std::size_t skip = padding_to_align(start, kHeaderBytes);
  if (region.size() >= skip + kMinBlock) {
    region_ = region.subspan(skip, (region.size() - skip) & ~std::size_t{15});
    write_header(0, region_.size(), true, 0);
  }
}

std::size_t TaggedFirstFit::size_at(std::size_t at) const noexcept {
  std::size_t word = 0;
  std::memcpy(&word, region_.data() + at, sizeof word);
  return word & ~kFreeBit;
}

bool TaggedFirstFit::is_free_at(std::size_t at) const noexcept {
  std::size_t word = 0;
  std::memcpy(&word, region_.data() + at, sizeof word);
  return (word & kFreeBit) != 0;
}

std::size_t TaggedFirstFit::requested_at(std::size_t at) const noexcept {
  std::size_t word = 0;
  std::memcpy(&word, region_.data() + at + sizeof word, sizeof word);
  return word;
}

void TaggedFirstFit::write_header(std::size_t at, std::size_t size, bool free, std::size_t requested) noexcept {
  const std::size_t word = size | (free ? kFreeBit : 0);
  std::memcpy(region_.data() + at, &word, sizeof word);
  std::memcpy(region_.data() + at + sizeof word, &requested, sizeof requested);
}

void* TaggedFirstFit::allocate(std::size_t size, std::size_t align) noexcept {
  if (align == 0 || !is_power_of_two(align) || size > kMaxRequest) {
    ++stats_.rejected;
    return nullptr;
  }
  align = std::max(align, kHeaderBytes);
  const std::size_t payload = round_up_16(std::max<std::size_t>(size, 1));
  if (align < region_.size()) {
    for (std::size_t at = 0; at < region_.size(); at += size_at(at)) {
      if (!is_free_at(at)) continue;
      // The payload's first aligned place; a gap before it must hold a free block.
      const std::uintptr_t natural = address_of(region_.data() + at + kHeaderBytes);
      std::size_t gap = padding_to_align(natural, align);
      while (gap != 0 && gap < kMinBlock) gap += align;
      if (gap + kHeaderBytes + payload <= size_at(at)) return place(at, gap, payload, size);
    }
  }
  ++stats_.exhausted;
  return nullptr;
}

void* TaggedFirstFit::place(std::size_t at, std::size_t gap, std::size_t payload, std::size_t requested) noexcept {
  if (gap != 0) {  // the gap stays a free block of its own
    const std::size_t whole = size_at(at);
    write_header(at, gap, true, 0);
    at += gap;
    write_header(at, whole - gap, true, 0);
  }
  split(at, kHeaderBytes + payload);
  write_header(at, size_at(at), false, requested);
  stats_.used += size_at(at);
  stats_.requested += requested;
  ++stats_.live_allocations;
  ++stats_.allocations;
  stats_.high_water = std::max(stats_.high_water, stats_.used);
  stats_.peak_requested = std::max(stats_.peak_requested, stats_.requested);
  return region_.data() + at + kHeaderBytes;
}

void TaggedFirstFit::split(std::size_t at, std::size_t keep) noexcept {
  const std::size_t whole = size_at(at);
  if (whole - keep < kMinBlock) return;  // too little left for a block: keep it all
  write_header(at, keep, is_free_at(at), requested_at(at));
  write_header(at + keep, whole - keep, true, 0);
}

void TaggedFirstFit::merge_free_neighbours() noexcept {
#ifndef HEAPLAB_EXAMPLE_SKIP_MERGE
  for (std::size_t at = 0; at < region_.size(); at += size_at(at)) {
    while (is_free_at(at) && at + size_at(at) < region_.size() && is_free_at(at + size_at(at))) {
      write_header(at, size_at(at) + size_at(at + size_at(at)), true, 0);
    }
  }
#endif
}

void TaggedFirstFit::release(std::size_t at) noexcept {
  stats_.used -= size_at(at);
  stats_.requested -= requested_at(at);
  --stats_.live_allocations;
  write_header(at, size_at(at), true, 0);
  merge_free_neighbours();
}

TaggedFirstFit::Found TaggedFirstFit::find(const void* p) const noexcept {
  const std::size_t offset = address_of(p) - address_of(region_.data());
  std::size_t at = 0;
  while (at + size_at(at) <= offset) at += size_at(at);
  return {at, offset == at + kHeaderBytes};
}

bool TaggedFirstFit::live_block(const void* p, const char* where, std::size_t& block) const noexcept {
  if (!owns(p)) {
    report_misuse({Misuse::foreign_pointer, p, where});
    return false;
  }
  const Found found = find(p);
  if (!found.at_payload) {
    report_misuse({Misuse::interior_pointer, p, where});
    return false;
  }
  if (is_free_at(found.block)) {
    report_misuse({Misuse::double_free, p, where});
    return false;
  }
  block = found.block;
  return true;
}

void TaggedFirstFit::deallocate(void* p) noexcept {
  std::size_t block = 0;
  if (p != nullptr && live_block(p, "TaggedFirstFit::deallocate", block)) release(block);
}

void* TaggedFirstFit::reallocate(void* p, std::size_t size) noexcept {
  if (p == nullptr) return allocate(size);
  // The pointer is checked before the size, so misuse is reported whatever is asked.
  std::size_t block = 0;
  if (!live_block(p, "TaggedFirstFit::reallocate", block)) return nullptr;
  if (size > kMaxRequest) {
    ++stats_.rejected;
    return nullptr;
  }
  const std::size_t old_size = size_at(block);
  const std::size_t keep = kHeaderBytes + round_up_16(std::max<std::size_t>(size, 1));
  if (keep <= old_size) {  // fits where it is: give the tail back
    stats_.requested = stats_.requested - requested_at(block) + size;
    split(block, keep);
    write_header(block, size_at(block), false, size);
    stats_.used -= old_size - size_at(block);
    stats_.peak_requested = std::max(stats_.peak_requested, stats_.requested);
    merge_free_neighbours();
    return p;
  }
  void* const moved = allocate(size);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, p, old_size - kHeaderBytes);
  release(block);
  return moved;
}

void* TaggedFirstFit::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  if (size != 0 && count > kMaxRequest / size) {
    ++stats_.rejected;
    return nullptr;
  }
  void* const p = allocate(count * size);
  if (p != nullptr) std::memset(p, 0, count * size);
  return p;
}

std::size_t TaggedFirstFit::usable_size(void* p) noexcept {
  std::size_t block = 0;
  if (p == nullptr || !live_block(p, "TaggedFirstFit::usable_size", block)) return 0;
  return size_at(block) - kHeaderBytes;
}

HeapStats TaggedFirstFit::stats() const noexcept {
  HeapStats now = stats_;
  now.capacity = region_.size();
  now.padding = now.used - now.requested;
  return now;
}

bool TaggedFirstFit::owns(const void* p) const noexcept {
  const std::uintptr_t at = address_of(p);
  const std::uintptr_t start = address_of(region_.data());
  return p != nullptr && at >= start && at - start < region_.size();
}

CheckResult TaggedFirstFit::check() const noexcept {
  std::size_t live = 0;
  std::size_t used = 0;
  std::size_t requested = 0;
  bool previous_free = false;
  for (std::size_t at = 0; at < region_.size(); at += size_at(at)) {
    const std::size_t size = size_at(at);
    if (size < kMinBlock || size % kHeaderBytes != 0) {
      return CheckResult::fail("every block is a multiple of 16 bytes, at least 32", at);
    }
    if (size > region_.size() - at) return CheckResult::fail("every block ends inside the region", at);
    if (is_free_at(at) && previous_free) return CheckResult::fail("no two free blocks touch", at);
    previous_free = is_free_at(at);
    if (!previous_free) {
      ++live;
      used += size;
      requested += requested_at(at);
    }
  }
  if (live != stats_.live_allocations) return CheckResult::fail("the allocated blocks are the live allocations", 0);
  if (used != stats_.used) return CheckResult::fail("used bytes are the allocated blocks' bytes", 0);
  if (requested != stats_.requested) return CheckResult::fail("requested bytes are the allocated blocks' requests", 0);
  return CheckResult::pass();
}

}  // namespace heaplab::example
