/// \file
/// Quick lists (Weinstock & Wulf's *quick fit*, 1988; glibc's fastbins and
/// per-thread cache are the same idea): small freed blocks are kept aside,
/// one singly linked LIFO list per exact block size, and handed out again
/// with no search, no split and no tags to rewrite.
///
///     size:    40      48      56     ...    248
///     count:   2       0       7             1        (at most kCap each)
///              |               |              |
///              v               v              v
///     +---------+-------------+   block -> ... -> block (7)   block -> null
///     | hdr A Q | next | .... |
///     +---------+-------------+
///       |         |
///       |         +-> the next block of the same size, or null
///       +-> still *allocated* to the heap, with a third flag:
///
///     size_and_flags:  [ size ........................ | Q | P | A ]
///                        Q (bit 2): the block waits on a quick list
///
/// A quick block stays marked allocated, so its neighbours never merge into
/// it and the P bit after it stays set: freeing it and taking it back each
/// touch one header and one list head. To its *user* the block is free
/// (a second free is a double free). The price is fragmentation: quick
/// blocks do not merge, so when an allocation finds no free block the
/// cache in front of the heap (QuickCache, quick_fit.hpp) first flushes
/// every list through the normal, coalescing free path (glibc's
/// malloc_consolidate), and only then grows the heap.
///
/// The limits, and why:
/// - kLimit = 256 bytes of block (requests of up to 232 bytes under footer
///   elision). Small objects are most of the requests in real programs
///   (Wilson et al. 1995) and are where a search and a merge cost the most
///   next to the work the caller does with the block. glibc's fastbins stop
///   at 128 bytes and its tcache at 1032; 256 sits between them.
/// - kCap = 7 blocks per list, tcache's default count. Enough to absorb a
///   burst of frees of one size that is soon reallocated, while the memory
///   held back from coalescing stays bounded: at most 7 blocks of each of
///   the 27 sizes, about 27 KiB in all.
#pragma once

#include <array>
#include <cstddef>
#include <new>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/tracking.hpp"
#include "stage2_free_list/block.hpp"
#include "stage4_coalescing/boundary_tags.hpp"

namespace heaplab {

/// Bit 2 of `size_and_flags`: set while the (allocated) block waits on a
/// quick list. Set only by QuickLists (and so by QuickCache).
inline constexpr std::size_t kQuickBit = 4;

static_assert((kQuickBit & kFlagMask) == kQuickBit, "the Q bit is a flag bit of the header");

/// True when \p header's block waits on a quick list.
[[nodiscard]] constexpr bool is_quick(const BlockHeader& header) noexcept {
  return (header.size_and_flags & kQuickBit) != 0;
}

/// One singly linked LIFO list of allocated-but-unused blocks per exact
/// small block size (see the diagram above). push() sets a block's Q bit
/// and pop() clears it, so a block has the Q bit exactly while it is on a
/// list.
class QuickLists {
 public:
  /// Blocks below this size have a quick list.
  static constexpr std::size_t kLimit = 256;
  /// Bytes of links a parked block holds: one pointer to the next.
  static constexpr std::size_t kLinkBytes = sizeof(BlockHeader*);
  /// The most blocks a list holds; more go down the normal free path.
  static constexpr std::size_t kCap = 7;
  /// One list per block size: 40, 48, ..., 248.
  static constexpr std::size_t kLists = (kLimit - kMinTaggedBlockSize) / kBlockGranularity;

  /// True when blocks of \p size bytes have a quick list.
  [[nodiscard]] static constexpr bool has_list(std::size_t size) noexcept { return size < kLimit; }
  /// The list of blocks of \p size bytes. Precondition: has_list(size).
  [[nodiscard]] static constexpr std::size_t list_for(std::size_t size) noexcept {
    return (size - kMinTaggedBlockSize) / kBlockGranularity;
  }
  /// The block size of list \p index.
  [[nodiscard]] static constexpr std::size_t size_of_list(std::size_t index) noexcept {
    return kMinTaggedBlockSize + index * kBlockGranularity;
  }

  /// True when push() would take a block of \p size bytes: its size has a
  /// list, and the list has room.
  [[nodiscard]] bool has_room_for(std::size_t size) const noexcept {
    return has_list(size) && lists_[list_for(size)].count < kCap;
  }

  // [push_pop]
  /// Puts the allocated \p block on the list of its size and sets its Q
  /// bit. False, with nothing changed, when its size has no list or the
  /// list is full: then it takes the normal free path.
  [[gnu::always_inline]] bool push(BlockHeader& block) noexcept {
    const std::size_t size = block_size(block);
    if (!has_list(size)) return false;
    List& list = lists_[list_for(size)];
    if (list.count == kCap) return false;
    block.size_and_flags |= kQuickBit;
    track::expose(payload_of(&block), sizeof(Link));
    ::new (payload_of(&block)) Link{list.head};
    list.head = &block;
    ++list.count;
    ++blocks_;
    poison_free_payload(block);  // free to its user: a use after free is reported (tracking.hpp)
    return true;
  }

  /// Takes the most recently pushed block of exactly \p size bytes off its
  /// list and clears its Q bit; null when there is none.
  [[nodiscard, gnu::always_inline]] BlockHeader* pop(std::size_t size) noexcept {
    if (!has_list(size)) return nullptr;
    List& list = lists_[list_for(size)];
    BlockHeader* const block = list.head;
    if (block == nullptr) return nullptr;
    list.head = link_of(*block).next;
    --list.count;
    --blocks_;
    block->size_and_flags &= ~kQuickBit;
    expose_payload(*block);  // the user's again, or about to be freed for real
    return block;
  }
  // [push_pop]

  /// pop(), for a request that needs its payload aligned to \p align (a
  /// power of two): only the list's head is looked at, and it is taken only
  /// if its payload has that alignment. (A heap whose blocks are all whole
  /// multiples of 16 bytes, as the malloc shim makes them, has every
  /// payload 16-aligned once the first one is.)
  [[nodiscard, gnu::always_inline]] BlockHeader* pop_aligned(std::size_t size, std::size_t align) noexcept {
    if (!has_list(size)) return nullptr;
    BlockHeader* const head = lists_[list_for(size)].head;
    if (head == nullptr || !is_aligned(payload_of(head), align)) return nullptr;
    return pop(size);
  }

  /// Empties every list: pops each block (clearing its Q bit) and calls
  /// \p release with it, which must give it back to the heap.
  template <class Release>
  void flush(Release&& release) {
    for (std::size_t index = 0; index < kLists && blocks_ != 0; ++index) {
      while (BlockHeader* const block = pop(size_of_list(index))) release(*block);
    }
  }

  /// Calls \p visit with every block on the lists, smallest size first.
  template <class Visitor>
  void for_each(Visitor&& visit) const {
    for (const List& list : lists_) {
      for (BlockHeader* block = list.head; block != nullptr; block = link_of(*block).next) visit(*block);
    }
  }

  /// True when \p block is on the list of its size (a walk of at most
  /// kCap blocks, so a cycle cannot trap it).
  [[nodiscard]] bool contains(const BlockHeader& block) const noexcept {
    const std::size_t size = block_size(block);
    if (!has_list(size)) return false;
    BlockHeader* at = lists_[list_for(size)].head;
    for (std::size_t step = 0; at != nullptr && step < kCap; ++step, at = link_of(*at).next) {
      if (at == &block) return true;
    }
    return false;
  }

  /// How many blocks the lists hold.
  [[nodiscard]] std::size_t blocks() const noexcept { return blocks_; }
  /// How many bytes of block the lists hold.
  [[nodiscard]] std::size_t bytes() const noexcept {
    std::size_t sum = 0;
    for (std::size_t index = 0; index < kLists; ++index) sum += lists_[index].count * size_of_list(index);
    return sum;
  }
  /// Verifies every list: it ends within its count (no cycle), its count
  /// is within kCap, and every block on it is one of the heap's (\p owned
  /// says which are), allocated, has the Q bit, and has the list's size.
  /// The counts add up to blocks().
  template <class Owned>
  [[nodiscard]] CheckResult check(Owned owned) const noexcept {
    std::size_t sum = 0;
    for (std::size_t index = 0; index < kLists; ++index) {
      const List& list = lists_[index];
      if (list.count > kCap) return CheckResult::fail("a quick list holds at most kCap blocks", 0);
      std::size_t seen = 0;
      for (BlockHeader* block = list.head; block != nullptr; block = link_of(*block).next) {
        if (seen == list.count) return CheckResult::fail("a quick list ends within its count (no cycle)", 0);
        if (!owned(*block)) return CheckResult::fail("a quick list holds only blocks of this heap", 0);
        if (!is_allocated(*block) || !is_quick(*block)) {
          return CheckResult::fail("every block on a quick list is allocated with the Q bit", 0);
        }
        if (block_size(*block) != size_of_list(index)) {
          return CheckResult::fail("every quick block is on the list of its size", 0);
        }
        ++seen;
      }
      if (seen != list.count) return CheckResult::fail("a quick list's count matches its blocks", 0);
      sum += seen;
    }
    if (sum != blocks_) return CheckResult::fail("the quick lists' counts add up", 0);
    return CheckResult::pass();
  }

 private:
  /// What a quick block stores at the start of its payload.
  struct Link {
    BlockHeader* next;  ///< The next block of the same size, or null.
  };
  static_assert(sizeof(Link) <= kFreeLinkBytes, "a parked block's link stays accessible (poison_free_payload)");
  static_assert(sizeof(Link) == kLinkBytes, "kLinkBytes tells the block walk where the link ends");
  /// One list: its head and how many blocks it holds.
  struct List {
    BlockHeader* head = nullptr;  ///< The most recently pushed block, or null.
    std::size_t count = 0;        ///< Invariant: the number of blocks on the list, at most kCap.
  };

  [[nodiscard]] static Link& link_of(BlockHeader& block) noexcept {
    return *std::launder(reinterpret_cast<Link*>(payload_of(&block)));
  }

  std::array<List, kLists> lists_{};  ///< One list per block size, smallest first.
  std::size_t blocks_ = 0;            ///< Invariant: the sum of the lists' counts.
};

}  // namespace heaplab
