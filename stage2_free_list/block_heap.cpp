#include "stage2_free_list/block_heap.hpp"

#include <cstdint>
#include <memory>

#include "stage1_static_bump/misuse.hpp"

namespace heaplab {

BlockHeap::BlockHeap() noexcept { carve_start_map(); }

BlockHeap::BlockHeap(std::span<std::byte> region) noexcept : break_(region) { carve_start_map(); }

void BlockHeap::carve_start_map() noexcept {
  // The map covers the whole region, its own bytes included: a few bits
  // more than needed, and no circular sizing problem.
  const std::size_t map_bytes = BlockStartMap::bytes_for(break_.remaining());
  if (map_bytes == 0) return;  // not even one cell: an empty heap
  void* const memory = break_.allocate(map_bytes);
  if (memory == nullptr) return;
  // A caller's region may hold anything; extend() clears each word of the
  // map as the break first reaches its cells (BlockStartMap::claim()).
  const std::size_t count = map_bytes / sizeof(std::uint64_t);
  auto* const words = static_cast<std::uint64_t*>(memory);
  std::uninitialized_default_construct_n(words, count);  // begins their lifetime; writes nothing
  begin_ = static_cast<std::byte*>(memory) + map_bytes;
  capacity_ = break_.remaining();
  starts_ = BlockStartMap({words, count}, begin_);
}

BlockHeader* BlockHeap::start_block(std::byte* at, std::size_t size) noexcept {
  starts_.mark(at);
  return create_header(at, size);
}

// [extend]
Extension BlockHeap::extend(std::size_t size, std::size_t align) noexcept {
  std::byte* const at = brk();
  // A gap in front of the block becomes a free filler block of its own.
  const std::size_t gap = front_gap(address_of(at), align);
  // Compare with the room left rather than compute at + gap + size, which
  // could wrap around for absurd sizes and alignments.
  const std::size_t room = break_.remaining();
  if (gap > room || size > room - gap) return {};
  // Both numbers are whole cells, so the break moves by exactly their sum
  // and the new memory starts at `at`.
  if (break_.allocate(gap + size) == nullptr) return {};
  starts_.claim(at + gap + size);
  Extension grown;
  if (gap != 0) grown.filler = start_block(at, gap);
  grown.block = start_block(at + gap, size);
  return grown;
}
// [extend]

// [reject_pointer]
BlockHeader* BlockHeap::reject_pointer(void* p, std::string_view where) const noexcept {
  const auto* const at = static_cast<const std::byte*>(p);
  // 1. Outside the blocks of this heap: not ours at all.
  if (!contains(p)) {
    report_misuse({Misuse::foreign_pointer, p, where});
    return nullptr;
  }
  // 2. Inside, but not where a payload starts: 16 bytes in front of p must
  //    be the start of a block, and the start map knows every one.
  const bool at_payload = is_aligned(p, kBlockGranularity) && offset_of(p) >= kHeaderSize &&
                          starts_.is_start(at - kHeaderSize);
  if (!at_payload) {
    report_misuse({Misuse::interior_pointer, p, where});
    return nullptr;
  }
  // 3. A real block, but already free.
  report_misuse({Misuse::double_free, p, where});
  return nullptr;
}
// [reject_pointer]

// [check]
CheckResult BlockHeap::check(BlockCensus& census, std::size_t flag_bits) const noexcept {
  census = {};
  std::byte* const stop = brk();
  std::byte* at = begin_;
  while (at != stop) {
    const std::size_t offset = offset_of(at);
    if (!starts_.is_start(at)) return CheckResult::fail("every block start is in the start map", offset);
    const BlockHeader& header = *header_at(at);
    const std::size_t size = block_size(header);
    // A bad size would send the walk astray: check it before stepping.
    if (size < kMinBlockSize) return CheckResult::fail("block size >= minimum block size", offset);
    if (size > static_cast<std::size_t>(stop - at)) {
      return CheckResult::fail("blocks tile the heap from start to break", offset);
    }
    if ((header.size_and_flags & kFlagMask & ~flag_bits) != 0) {
      return CheckResult::fail("unused header flag bits are zero", offset);
    }
    if (is_allocated(header)) {
      if (header.requested > payload_capacity(header)) {
        return CheckResult::fail("requested bytes fit the payload", offset);
      }
      ++census.allocated_blocks;
      census.requested += header.requested;
      census.payload_bytes += payload_capacity(header);
    } else {
      if (header.requested != 0) return CheckResult::fail("a free block has no requested bytes", offset);
      ++census.free_blocks;
      census.free_bytes += size;
    }
    ++census.blocks;
    at += size;
  }
  // Every start in the map was met by the walk, and nothing else is marked.
  if (starts_.count_before(stop) != census.blocks) {
    return CheckResult::fail("the start map marks only block starts", used());
  }
  return CheckResult::pass();
}
// [check]

}  // namespace heaplab
