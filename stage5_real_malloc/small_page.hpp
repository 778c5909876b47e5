/// \file
/// The small page: a block of 64 KiB cut into slots of one size class,
/// with no header in front of any slot. Everything a slot needs to know
/// lives once, at the start of the page:
///
///     page (64 KiB from the heap below, at a 4 KiB boundary)
///     +-----------+---------------------+--------+--------+-----+--------+-----------+
///     | SmallPage | records: n x uint16 | slot 0 | slot 1 | ... | slot b | untouched |
///     +-----------+---------------------+--------+--------+-----+--------+-----------+
///      class, size,   request + 1 of a   ^ first             ^ bump: slots from here
///      reciprocal,    live slot; 0 for     (a multiple of 16)   on were never written
///      free list,     a free one
///      counts, links
///
/// - A pointer's slot is `(offset - first) * reciprocal >> 32`: a multiply
///   and a shift instead of a division (the compilers' trick for division
///   by a constant, here with a constant per page). Exact for every offset
///   of a page (the tests try each one).
/// - The record of a slot is the one truth about whether it is live: free
///   of a slot whose record is 0 is a double free, a pointer between two
///   slot starts an interior pointer. The caller's request survives in it,
///   so the heap's numbers stay exact without a header.
/// - Free slots are linked through their first word, newest first (the
///   free list); a slot past the bump index has never been touched, so a
///   page's untouched slots cost no memory the kernel must back.
///
/// mimalloc's pages (a free list per page, sharded by size class) and
/// jemalloc's slabs (a bitmap per slab, regions with no header) are pages
/// of this kind; the size classes follow jemalloc's four per doubling.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/misuse.hpp"

namespace heaplab {

// [small_classes]
/// The size classes of the small pages: 16-byte steps up to 128, then
/// four classes per doubling up to 8 KiB (160, 192, 224, 256, 320, ...).
/// Every class is a multiple of 16, so every slot is aligned for malloc.
/// Four per doubling keep the rounding loss of a request under 25%
/// (jemalloc's spacing).
struct SmallClasses {
  /// Classes in all.
  static constexpr std::size_t kCount = 32;
  /// The largest request a class serves.
  static constexpr std::size_t kLargest = 8192;
  /// The largest alignment every slot has.
  static constexpr std::size_t kAlignment = 16;
  /// Classes of the 16-byte steps (16 .. 128).
  static constexpr std::size_t kStepClasses = 8;
  /// Requests up to this size take their class from a table.
  static constexpr std::size_t kTableLimit = 1024;

  /// The block size of class \p c (< kCount).
  [[nodiscard]] static constexpr std::size_t size_of(std::size_t c) noexcept {
    if (c < kStepClasses) return (c + 1) * 16;
    const std::size_t doubling = 7 + (c - kStepClasses) / 4;  // the class lies in (2^d, 2^(d+1)]
    const std::size_t quarter = (c - kStepClasses) % 4 + 1;
    return (std::size_t{1} << doubling) + quarter * (std::size_t{1} << (doubling - 2));
  }

  /// The class of a request of \p size bytes (<= kLargest), by arithmetic:
  /// which doubling it lies in, and which quarter of it.
  [[nodiscard]] static constexpr std::size_t computed_class_of(std::size_t size) noexcept {
    if (size <= 128) return size == 0 ? 0 : (size - 1) / 16;
    const std::size_t s = size - 1;
    const auto doubling = static_cast<std::size_t>(std::bit_width(s)) - 1;
    return kStepClasses + (doubling - 7) * 4 + ((s >> (doubling - 2)) & 3);
  }

  /// The class of a request of \p size bytes (<= kLargest): one load from a
  /// table up to 1 KiB, the arithmetic above it.
  [[nodiscard, gnu::always_inline]] static std::size_t class_of(std::size_t size) noexcept;
};

namespace detail {
/// The class of every request up to SmallClasses::kTableLimit, by 16-byte units.
inline constexpr auto kSmallClassTable = [] {
  std::array<std::uint8_t, SmallClasses::kTableLimit / 16 + 1> table{};
  for (std::size_t units = 0; units < table.size(); ++units) {
    table[units] = static_cast<std::uint8_t>(SmallClasses::computed_class_of(units * 16));
  }
  return table;
}();
}  // namespace detail

inline std::size_t SmallClasses::class_of(std::size_t size) noexcept {
  if (size <= kTableLimit) return detail::kSmallClassTable[(size + 15) / 16];
  return computed_class_of(size);
}
static_assert(SmallClasses::size_of(SmallClasses::kCount - 1) == SmallClasses::kLargest);
// [small_classes]

// [small_page]
// [page_header]
/// The header at the start of every small page (see the file comment).
/// The slot records follow it.
struct SmallPage {
  /// Bytes of every page: whole granules of the page map, so that a page
  /// is found from any address in it; small enough that a test heap of a
  /// few MiB holds a page of every class, large enough that the largest
  /// class still gets 7 slots (mimalloc's small pages are 64 KiB too).
  static constexpr std::size_t kBytes = 64 * 1024;
  /// What slot_of() answers for a pointer that is no live slot.
  static constexpr std::uint32_t kNoSlot = UINT32_MAX;
  /// The reciprocals' shift: exact for offsets below 2^16 and sizes below
  /// 2^14, since 32 >= 16 + 14 (Granlund and Montgomery's bound).
  static constexpr unsigned kShift = 32;

  const void* owner;         ///< The heap that owns the page (several may share the page map).
  SmallPage* next;           ///< The next page in its class's list, or null.
  SmallPage* prev;           ///< The previous page in its class's list, or null.
  std::byte* free;           ///< The first free slot below the bump index, or null.
  std::uint32_t block_size;  ///< Bytes of every slot.
  std::uint32_t reciprocal;  ///< ceil(2^kShift / block_size).
  std::uint32_t slots;       ///< Slots in the page.
  std::uint32_t used;        ///< Slots handed out (live, or lent to a cache in front).
  std::uint32_t bump;        ///< Slots ever handed out: those from here on are untouched.
  std::uint32_t behind_header;   ///< Header bytes the heap behind counts for the page's block.
  std::uint32_t behind_payload;  ///< Payload bytes it counts for it.
  std::uint16_t first;       ///< Offset of slot 0: the header and the records, rounded up to 16.
  std::uint8_t size_class;   ///< Its class (SmallClasses).
  // [page_header]

  /// The geometry of one class's pages.
  struct Geometry {
    std::uint32_t block_size;  ///< Bytes of a slot.
    std::uint32_t slots;       ///< Slots that fit after the header and the records.
    std::uint16_t first;       ///< Offset of slot 0.
    std::uint32_t reciprocal;  ///< ceil(2^kShift / block_size).
  };
  /// The geometry of class \p c: as many slots as fit after a header
  /// whose records cover them.
  [[nodiscard]] static constexpr Geometry geometry(std::size_t c) noexcept {
    const std::size_t size = SmallClasses::size_of(c);
    std::size_t slots = kBytes / size;
    while (front_bytes(slots) + slots * size > kBytes) --slots;
    return {static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(slots),
            static_cast<std::uint16_t>(front_bytes(slots)),
            static_cast<std::uint32_t>(((std::uint64_t{1} << kShift) + size - 1) / size)};
  }
  /// Bytes in front of slot 0 for a page of \p slots slots.
  [[nodiscard]] static constexpr std::size_t front_bytes(std::size_t slots) noexcept {
    return round_up(sizeof(SmallPage) + slots * sizeof(std::uint16_t), SmallClasses::kAlignment);
  }

  /// The page's first byte (its header).
  [[nodiscard]] std::byte* begin() noexcept { return reinterpret_cast<std::byte*>(this); }
  /// The page's first byte (its header).
  [[nodiscard]] const std::byte* begin() const noexcept { return reinterpret_cast<const std::byte*>(this); }
  /// Slot \p i.
  [[nodiscard]] std::byte* slot(std::uint32_t i) noexcept { return begin() + first + std::size_t{i} * block_size; }

  // [index_at]
  /// The slot a pointer \p offset bytes past slot 0 falls in: no division.
  [[nodiscard, gnu::always_inline]] std::uint32_t index_at(std::size_t offset) const noexcept {
    return static_cast<std::uint32_t>((offset * reciprocal) >> kShift);
  }
  // [index_at]
  /// The slot that starts at \p p, known to start one (a free slot a
  /// cache holds): no check.
  [[nodiscard, gnu::always_inline]] std::uint32_t index_of(const void* p) const noexcept {
    return index_at(static_cast<std::size_t>(static_cast<const std::byte*>(p) - begin()) - first);
  }
  /// The slot \p p (in this page) starts, or kNoSlot when it starts none.
  /// A pointer into the header needs no test of its own: its offset from
  /// slot 0 wraps around to at least 2^64 - 2^16, and no slot starts
  /// there (i * block_size is below 2^32 * 2^14).
  [[nodiscard, gnu::always_inline]] std::uint32_t slot_starting_at(const void* p) const noexcept {
    const std::size_t from_slot_0 = static_cast<std::size_t>(static_cast<const std::byte*>(p) - begin()) - first;
    const std::uint32_t i = index_at(from_slot_0);
    return std::size_t{i} * block_size == from_slot_0 ? i : kNoSlot;
  }

  /// The record of slot \p i: its request + 1 when live, 0 when free. A
  /// slot past the bump index is free, whatever its bytes say. Relaxed
  /// atomic, as a cache in front writes records without the heap's lock.
  [[nodiscard, gnu::always_inline]] std::uint16_t record(std::uint32_t i) const noexcept {
    if (i >= std::atomic_ref(const_cast<std::uint32_t&>(bump)).load(std::memory_order_relaxed)) return 0;
    return std::atomic_ref(const_cast<std::uint16_t&>(records()[i])).load(std::memory_order_relaxed);
  }
  /// Sets the record of slot \p i (below the bump index).
  [[gnu::always_inline]] void set_record(std::uint32_t i, std::uint16_t value) noexcept {
    std::atomic_ref(records()[i]).store(value, std::memory_order_relaxed);
  }
  /// The record a live block of \p size requested bytes has.
  [[nodiscard]] static std::uint16_t live_record(std::size_t size) noexcept {
    return static_cast<std::uint16_t>(size + 1);
  }

  // [live_slot]
  /// The slot of the live block at \p p (which lies in this page), or
  /// kNoSlot after reporting the misuse on behalf of \p where: a pointer
  /// that starts no slot is an interior pointer, a slot whose record is 0
  /// a double free. The one check of every layer that frees into pages.
  [[nodiscard, gnu::always_inline]] std::uint32_t live_slot(void* p, std::string_view where) const noexcept {
    const std::uint32_t i = slot_starting_at(p);
    if (i == kNoSlot) [[unlikely]] {
      report_misuse({Misuse::interior_pointer, p, where});
      return kNoSlot;
    }
    if (record(i) == 0) [[unlikely]] {
      report_misuse({Misuse::double_free, p, where});
      return kNoSlot;
    }
    return i;
  }
  // [live_slot]

  /// The free slot linked after the free slot \p slot: the pointer in its
  /// first word (read with memcpy: the slot holds no pointer object).
  [[nodiscard, gnu::always_inline]] static std::byte* next_free(const void* slot) noexcept {
    std::byte* next = nullptr;
    std::memcpy(&next, slot, sizeof next);
    return next;
  }

  /// Pops a free slot: the free list first, else the next untouched one.
  /// Precondition: used < slots.
  [[nodiscard, gnu::always_inline]] std::uint32_t pop_slot() noexcept {
    ++used;
    if (free != nullptr) {
      std::byte* const s = free;
      free = next_free(s);
      return index_of(s);
    }
    const std::uint32_t i = bump;
    set_record(i, 0);  // the record of an untouched slot is whatever the page held before
    std::atomic_ref(bump).store(i + 1, std::memory_order_relaxed);  // read by record() without the lock
    return i;
  }
  /// Pushes slot \p i (record already 0) onto the free list.
  [[gnu::always_inline]] void push_slot(std::uint32_t i) noexcept {
    std::byte* const s = slot(i);
    std::memcpy(s, &free, sizeof free);
    free = s;
    --used;
  }

  /// Bytes of the header written so far: the header itself and the
  /// records up to the bump index (a record is first written when its
  /// slot is first handed out; the rest of the array, like the untouched
  /// slots, has never been written, so the system has not had to back it).
  [[nodiscard]] std::size_t header_bytes() const noexcept {
    return sizeof(SmallPage) + std::size_t{bump} * sizeof(std::uint16_t);
  }
  /// Bytes of the page written so far: header_bytes(), and the slots up to
  /// the bump index.
  [[nodiscard]] std::size_t touched_bytes() const noexcept {
    return header_bytes() + std::size_t{bump} * block_size;
  }
  /// Bytes one more slot handed out for the first time adds to touched_bytes().
  [[nodiscard]] std::size_t bytes_per_bump() const noexcept { return block_size + sizeof(std::uint16_t); }
  /// True when no slot is handed out.
  [[nodiscard]] bool empty() const noexcept { return used == 0; }
  /// True when every slot is handed out.
  [[nodiscard]] bool full() const noexcept { return used == slots; }

 private:
  /// The records, right after the header.
  [[nodiscard]] std::uint16_t* records() noexcept { return reinterpret_cast<std::uint16_t*>(this + 1); }
  /// The records, right after the header.
  [[nodiscard]] const std::uint16_t* records() const noexcept {
    return reinterpret_cast<const std::uint16_t*>(this + 1);
  }
};
static_assert(sizeof(SmallPage) % alignof(std::uint16_t) == 0);
// [small_page]

}  // namespace heaplab
