/// \file
/// Small blocks in pages of one size class: SmallPages serves every request
/// of at most 8 KiB (and malloc's alignment) from a slot of a SmallPage
/// (small_page.hpp), a block of 64 KiB it takes from the heap behind it and
/// cuts into slots of one size. Every other request goes to that heap.
///
///     SmallPages
///     class 0 (16 B):   available -> [page] <-> [page]     full -> [page]
///     class 1 (32 B):   available -> [page]                full -> (none)
///     ...
///     class 31 (8 KiB): available -> (none)                full -> [page]
///              |
///              +--> pages come from, and go back to, the heap behind (Inner)
///
///     PageMap (page_map.hpp): address -> page, for the whole process
///
/// Why: a block of chapter 4 carries a header and a footer, and is found,
/// split and merged one at a time. A slot carries nothing: 10 000 blocks of
/// 16 bytes take 10 000 slots of 16 bytes, plus a 2-byte record each, and
/// taking one is popping a list. A free finds the slot's page in the page
/// map (two loads, no lock, no read of the pointer's memory), so a pointer
/// in no page of this heap goes on to the heap behind, whose checks report
/// it. (mimalloc, jemalloc and tcmalloc all serve small sizes this way;
/// glibc's tcache keeps a list per size in front of a heap with headers.)
///
/// A page is asked of the heap behind as `allocate(64 KiB, 4 KiB)`: whole
/// granules of the page map, so every granule of it belongs to it alone.
/// It is not aligned to its own size, as mimalloc's segments are so that a
/// mask finds them: a boundary-tag heap puts a header in front of every
/// block, and 64 KiB-aligned blocks would leave nearly 64 KiB unusable
/// between two pages. The map finds a page at any 4 KiB boundary, and
/// tells a foreign pointer apart without reading it, which a mask cannot.
///
/// A page whose last block is freed goes back to the heap behind, unless
/// it is its class's only empty page: that one is kept, so that a program
/// that frees and allocates one block at a page's edge does not take and
/// give back a page every time.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage5_real_malloc/malloc_stats.hpp"
#include "stage5_real_malloc/page_map.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "stage5_real_malloc/small_page.hpp"

namespace heaplab {

/// What a layer in front of SmallPages (ThreadCaches) has done with slots since it
/// took them, for the numbers and the check: blocks it handed to its
/// callers or took back from them without this heap's calls, and the
/// free slots it holds.
struct PagesInFront {
  std::ptrdiff_t live = 0;         ///< Blocks handed out, less blocks taken back, by the layer in front.
  std::ptrdiff_t requested = 0;    ///< Their requests, likewise.
  std::size_t allocations = 0;     ///< Lifetime: blocks the layer in front handed out.
  std::size_t cached_blocks = 0;   ///< Free slots the layer in front holds.
  std::size_t cached_bytes = 0;    ///< Their bytes.
};

/// Pages of one size class for the small requests, in front of \p Inner,
/// any heap of chapter 5 (see the file comment). Models Reallocating; its
/// stats() are MallocStats. Not thread-safe: wrap it in Synchronized, or
/// put ThreadCaches in front.
template <class Inner>
class SmallPages {
 public:
  /// Builds the heap behind from \p inner_args.
  template <class... InnerArgs>
  explicit SmallPages(InnerArgs&&... inner_args) noexcept : inner_(std::forward<InnerArgs>(inner_args)...) {
    refresh_inner();
  }
  SmallPages(const SmallPages&) = delete;
  SmallPages& operator=(const SmallPages&) = delete;
  /// Gives every page back to the heap behind, and out of the page map.
  ~SmallPages();

  /// True when a request of \p size bytes aligned to \p align is served
  /// from a page.
  [[nodiscard, gnu::always_inline]] static bool is_small(std::size_t size, std::size_t align) noexcept {
    return size <= SmallClasses::kLargest && align <= SmallClasses::kAlignment && is_power_of_two(align);
  }

  /// Returns \p size bytes aligned to `max(align, 8)` (a small request:
  /// 16), or nullptr (see the contract).
  [[nodiscard, gnu::always_inline]] inline void* allocate(std::size_t size,
                                                          std::size_t align = kDefaultAlignment) noexcept;
  /// Gives the block at \p p back (nullptr: nothing happens).
  [[gnu::always_inline]] inline void deallocate(void* p) noexcept;
  /// Resizes the block at \p p: a small block stays in its slot while its
  /// class stays the same, else moves; any other block is the heap
  /// behind's to resize.
  [[nodiscard]] void* reallocate(void* p, std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Returns \p count * \p size zeroed bytes, or nullptr when the product
  /// overflows (counted as rejected) or cannot be served, like calloc.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// Bytes the caller may use at \p p: a small block's whole slot. 0 for
  /// null and for misuse (reported).
  [[nodiscard]] std::size_t usable_size(void* p) noexcept;

  /// The heap behind's numbers, with each page counted by what it holds
  /// rather than as one block: its header and touched slots as used, its
  /// live slots' requests as requested, its free touched slots as free
  /// blocks. Every field is exact, the peaks too.
  [[nodiscard]] MallocStats stats() const noexcept;
  /// Verifies the heap behind, then every page: its list, its map entries,
  /// its free list within the touched slots with records of 0, its counts.
  [[nodiscard]] CheckResult check() const noexcept { return check_pages(true); }
  /// check(), for a layer in front whose other threads may be changing
  /// records as it runs (\p front_quiet false): then the counts that
  /// depend on them (live slots, their requests, cached slots) are not
  /// compared, only what the lock guards.
  [[nodiscard]] CheckResult check_pages(bool front_quiet) const noexcept;
  /// True when \p p points into a block of the heap behind (a page is one).
  [[nodiscard]] bool owns(const void* p) const noexcept { return inner_.owns(p); }
  /// Calls \p visit with every block of the heap behind but the pages,
  /// then with every page as a region of its own after them: the header
  /// and records as an allocated block of bookkeeping, each touched slot
  /// (a free one with its link), and the untouched rest as one free
  /// stretch. (A page is left out of the heap behind's walk where that
  /// heap says where its regions start: see region_starts().)
  template <class Visitor>
  void for_each_block(Visitor&& visit) const;

  /// What a layer in front (ThreadCaches) has done with slots: see
  /// PagesInFront.
  using InFront = PagesInFront;
  /// Takes up to \p count free slots of class \p c, new pages as needed,
  /// for the layer in front, calling `receive(slot, page, index)` for each:
  /// their records stay 0, and they are counted as lent. Returns how many
  /// (0: the heap behind has no room).
  template <class Receive>
  [[nodiscard]] std::size_t lend(std::size_t c, std::size_t count, Receive&& receive) noexcept;
  /// Takes back the free slot \p i of \p page (one of this heap's pages,
  /// record 0) from the layer in front, as a free of a slot does.
  void take_back(SmallPage& page, std::uint32_t i) noexcept;
  /// Tells this heap what the layer in front has done (see InFront), so
  /// that stats(), check() and the peaks count it.
  void set_in_front(const InFront& in_front) noexcept {
    in_front_ = in_front;
    note_peaks();
  }
  /// Requested bytes now, the layer in front's as last told included.
  [[nodiscard]] std::size_t requested_now() const noexcept {
    return inner_requested_ + live_.requested + static_cast<std::size_t>(in_front_.requested);
  }
  /// Notes \p requested bytes as reached at some moment (by the layer in
  /// front, between two of its reports).
  void note_requested(std::size_t requested) noexcept { peak_requested_ = std::max(peak_requested_, requested); }

  /// The page of this heap that \p p lies in, or null (for layers in front).
  [[nodiscard, gnu::always_inline]] SmallPage* page_of(const void* p) const noexcept {
    SmallPage* const page = PageMap::find(p);
    return page != nullptr && page->owner == this ? page : nullptr;
  }
  /// The heap behind (for diagrams and tests).
  [[nodiscard]] const Inner& inner() const noexcept { return inner_; }
  /// Pages held now, empty ones included (for tests).
  [[nodiscard]] std::size_t pages() const noexcept { return pages_; }

 private:
  /// The start of each region of the heap behind, by walk number (see
  /// region_starts()).
  struct RegionStarts {
    static constexpr std::size_t kMaxRegions = 64;               ///< Regions told apart.
    std::array<const std::byte*, kMaxRegions> begin{};         ///< Their starts.
    std::size_t count = 0;                                      ///< How many are known.
  };
  [[nodiscard]] RegionStarts region_starts() const noexcept;

  /// One class's pages: those with a free slot, and the full ones.
  struct ClassPages {
    SmallPage* available = nullptr;  ///< Pages with a free slot; allocate() takes from the first.
    SmallPage* full = nullptr;       ///< Pages with every slot handed out.
    std::size_t empty = 0;           ///< Pages of `available` with no slot handed out (0 or 1).
  };
  /// The heap behind's lifetime peaks, as last read.
  struct InnerPeaks {
    std::size_t high_water = 0;      ///< Its high_water.
    std::size_t peak_requested = 0;  ///< Its peak_requested.
  };
  /// The live numbers of the pages; check() recounts them.
  struct Totals {
    std::size_t live = 0;        ///< Live slots.
    std::size_t requested = 0;   ///< Their records, less one each.
    std::size_t touched = 0;     ///< SmallPage::touched_bytes() of every page.
    std::size_t free_slots = 0;  ///< Touched slots on free lists.
    std::size_t free_bytes = 0;  ///< Their bytes.
    std::size_t in_use = 0;      ///< Slots live or lent (check() only).
    std::size_t headers = 0;     ///< SmallPage::header_bytes() of every page.
    std::size_t behind_header = 0;   ///< SmallPage::behind_header of every page.
    std::size_t behind_payload = 0;  ///< SmallPage::behind_payload of every page.
  };

  [[nodiscard]] void* allocate_small(std::size_t size) noexcept;
  [[nodiscard]] std::uint32_t take_slot(SmallPage& page) noexcept;
  void return_slot(SmallPage& page, std::uint32_t i) noexcept;
  [[nodiscard]] void* allocate_inner(std::size_t size, std::size_t align) noexcept;
  [[nodiscard]] SmallPage* new_page(std::size_t c) noexcept;
  void give_back(SmallPage& page) noexcept;
  void release_slot(SmallPage& page, std::uint32_t i) noexcept;
  void deallocate_inner(void* p) noexcept;
  void link(SmallPage*& list, SmallPage& page) noexcept;
  void unlink(SmallPage*& list, SmallPage& page) noexcept;
  MallocStats refresh_inner() noexcept;
  void note_peaks() noexcept;
  [[nodiscard]] CheckResult check_classes() const noexcept;
  [[nodiscard]] CheckResult check_page(const SmallPage& page, std::size_t c, Totals& seen) const noexcept;
  template <class Visit>
  void for_each_page(Visit&& visit) const;

  Inner inner_;                                         ///< The heap behind: pages and every other block.
  std::array<ClassPages, SmallClasses::kCount> classes_{};  ///< The pages of each class.
  Totals live_;                                         ///< Invariant: a walk of the pages finds these.
  std::size_t pages_ = 0;                               ///< Pages held.
  std::size_t lent_ = 0;                                ///< Slots lent to the layer in front, less those taken back.
  InFront in_front_;                                    ///< What the layer in front last told.
  InnerPeaks inner_peaks_;                              ///< The heap behind's peaks at its last change.
  std::size_t inner_used_ = 0;       ///< The heap behind's used bytes, less its pages, at its last change.
  std::size_t inner_requested_ = 0;  ///< Its requested bytes, less its pages, at its last change.
  std::size_t high_water_ = 0;       ///< Lifetime: the largest used (pages as touched) seen.
  std::size_t peak_requested_ = 0;   ///< Lifetime: the largest requested seen.
  std::size_t allocations_ = 0;      ///< Lifetime: slots handed out.
  std::size_t pages_taken_ = 0;      ///< Lifetime: pages the heap behind served (its allocations, not the caller's).
  std::size_t page_refusals_ = 0;    ///< Lifetime: page requests the heap behind refused (its exhausted).
  std::size_t exhausted_ = 0;        ///< Lifetime: small requests refused for want of a page.
  std::size_t rejected_ = 0;         ///< Lifetime: bad sizes of small blocks' reallocate, calloc overflows.
};

template <class Inner>
SmallPages<Inner>::~SmallPages() {
  for (ClassPages& pages : classes_) {
    for (SmallPage** list : {&pages.available, &pages.full}) {
      while (*list != nullptr) {
        SmallPage* const page = *list;
        *list = page->next;
        PageMap::erase(page, SmallPage::kBytes);
        inner_.deallocate(page);
      }
    }
  }
}

// ---------------------------------------------------------------- allocate

// [allocate]
// [allocate_small]
template <class Inner>
void* SmallPages<Inner>::allocate(std::size_t size, std::size_t align) noexcept {
  if (is_small(size, align)) [[likely]] return allocate_small(size);
  return allocate_inner(size, align);
}

/// A slot of the request's class: from the class's first page with room,
/// or from a new page.
template <class Inner>
void* SmallPages<Inner>::allocate_small(std::size_t size) noexcept {
  const std::size_t c = SmallClasses::class_of(size);
  SmallPage* page = classes_[c].available;
  if (page == nullptr) [[unlikely]] {
    page = new_page(c);
    if (page == nullptr) {
      ++exhausted_;
      return nullptr;
    }
  }
  const std::uint32_t i = take_slot(*page);
  page->set_record(i, SmallPage::live_record(size));
  ++live_.live;
  ++allocations_;
  live_.requested += size;
  note_peaks();
  return page->slot(i);
}
// [allocate_small]

/// Takes a free slot of \p page, which has one: off its free list, or the
/// next untouched one; a page left full moves to its class's full list.
template <class Inner>
std::uint32_t SmallPages<Inner>::take_slot(SmallPage& page) noexcept {
  ClassPages& pages = classes_[page.size_class];
  if (page.empty()) --pages.empty;
  if (page.free != nullptr) {  // a slot freed before, rather than an untouched one
    --live_.free_slots;
    live_.free_bytes -= page.block_size;
  } else {
    live_.touched += page.bytes_per_bump();
    live_.headers += sizeof(std::uint16_t);  // the slot's record
  }
  const std::uint32_t i = page.pop_slot();
  if (page.full()) {
    unlink(pages.available, page);
    link(pages.full, page);
  }
  return i;
}

// [lend]
template <class Inner>
template <class Receive>
std::size_t SmallPages<Inner>::lend(std::size_t c, std::size_t count, Receive&& receive) noexcept {
  std::size_t lent = 0;
  while (lent < count) {
    SmallPage* page = classes_[c].available;
    if (page == nullptr && (page = new_page(c)) == nullptr) break;
    for (; lent < count && !page->full(); ++lent) {
      const std::uint32_t i = take_slot(*page);
      receive(page->slot(i), *page, i);
    }
  }
  lent_ += lent;
  note_peaks();
  return lent;
}

template <class Inner>
void SmallPages<Inner>::take_back(SmallPage& page, std::uint32_t i) noexcept {
  --lent_;
  return_slot(page, i);
}
// [lend]

/// A request for the heap behind.
template <class Inner>
void* SmallPages<Inner>::allocate_inner(std::size_t size, std::size_t align) noexcept {
  void* const p = inner_.allocate(size, align);
  if (p != nullptr) refresh_inner();
  return p;
}

/// A new page of class \p c from the heap behind, registered in the page
/// map and first in the class's list of pages with room; null when the
/// heap behind has no room.
template <class Inner>
SmallPage* SmallPages<Inner>::new_page(std::size_t c) noexcept {
  const MallocStats before = inner_.stats();
  void* const block = inner_.allocate(SmallPage::kBytes, PageMap::kGranuleBytes);
  if (block == nullptr) {
    ++page_refusals_;
    return nullptr;
  }
  const SmallPage::Geometry g = SmallPage::geometry(c);
  auto* const page = ::new (block) SmallPage{.owner = this, .next = nullptr, .prev = nullptr, .free = nullptr,
                                             .block_size = g.block_size, .reciprocal = g.reciprocal,
                                             .slots = g.slots, .used = 0, .bump = 0, .behind_header = 0,
                                             .behind_payload = 0, .first = g.first,
                                             .size_class = static_cast<std::uint8_t>(c)};
  if (!PageMap::insert(block, SmallPage::kBytes, page)) {  // an address above the map's: never on Linux
    inner_.deallocate(block);
    ++pages_taken_;  // one of the heap behind's allocations that the caller never saw
    refresh_inner();
    return nullptr;
  }
  ++pages_taken_;
  ++pages_;
  ++classes_[c].empty;
  live_.touched += page->touched_bytes();
  link(classes_[c].available, *page);
  // What the heap behind counts for the block, taken out of its numbers
  // again by stats(): the page's header is the pages' overhead, not a block's.
  const MallocStats after = refresh_inner();
  page->behind_header = static_cast<std::uint32_t>(after.header_bytes - before.header_bytes);
  page->behind_payload = static_cast<std::uint32_t>(after.payload_bytes - before.payload_bytes);
  live_.headers += page->header_bytes();
  live_.behind_header += page->behind_header;
  live_.behind_payload += page->behind_payload;
  return page;
}
// [allocate]

// ---------------------------------------------------------------- deallocate

// [deallocate]
// [free_slot]
template <class Inner>
void SmallPages<Inner>::deallocate(void* p) noexcept {
  if (SmallPage* const page = page_of(p)) [[likely]] {
    const std::uint32_t i = page->live_slot(p, "SmallPages::deallocate");
    if (i != SmallPage::kNoSlot) release_slot(*page, i);
    return;
  }
  if (p != nullptr) deallocate_inner(p);
}

/// Frees slot \p i of \p page, live: its record to 0, then back to its page.
template <class Inner>
void SmallPages<Inner>::release_slot(SmallPage& page, std::uint32_t i) noexcept {
  live_.requested -= page.record(i) - 1U;
  --live_.live;
  page.set_record(i, 0);
  return_slot(page, i);
}

/// Puts slot \p i (record 0) on \p page's free list: a page that was full
/// has room again, and an empty one goes back unless it is its class's
/// only empty page.
template <class Inner>
void SmallPages<Inner>::return_slot(SmallPage& page, std::uint32_t i) noexcept {
  ClassPages& pages = classes_[page.size_class];
  ++live_.free_slots;
  live_.free_bytes += page.block_size;
  if (page.full()) {
    unlink(pages.full, page);
    link(pages.available, page);
  }
  page.push_slot(i);
  if (!page.empty()) return;
  if (pages.empty == 0) {
    ++pages.empty;  // kept: the class's only empty page
  } else {
    give_back(page);
  }
}
// [free_slot]

/// Gives the empty \p page back to the heap behind, out of the page map.
template <class Inner>
void SmallPages<Inner>::give_back(SmallPage& page) noexcept {
  unlink(classes_[page.size_class].available, page);
  live_.touched -= page.touched_bytes();
  live_.headers -= page.header_bytes();
  live_.behind_header -= page.behind_header;
  live_.behind_payload -= page.behind_payload;
  live_.free_slots -= page.bump;
  live_.free_bytes -= std::size_t{page.bump} * page.block_size;
  --pages_;
  PageMap::erase(&page, SmallPage::kBytes);
  inner_.deallocate(&page);
  refresh_inner();
}

/// A pointer in no page of this heap: the heap behind's to free, or to
/// report.
template <class Inner>
void SmallPages<Inner>::deallocate_inner(void* p) noexcept {
  inner_.deallocate(p);
  refresh_inner();
}
// [deallocate]

// ---------------------------------------------------------------- lists and numbers

/// Puts \p page first in \p list.
template <class Inner>
void SmallPages<Inner>::link(SmallPage*& list, SmallPage& page) noexcept {
  page.prev = nullptr;
  page.next = list;
  if (list != nullptr) list->prev = &page;
  list = &page;
}

/// Takes \p page out of \p list.
template <class Inner>
void SmallPages<Inner>::unlink(SmallPage*& list, SmallPage& page) noexcept {
  (page.prev == nullptr ? list : page.prev->next) = page.next;
  if (page.next != nullptr) page.next->prev = page.prev;
  page.next = page.prev = nullptr;
}

/// Reads the heap behind's numbers after it changed, less its pages, and
/// notes the peaks. Only the heap behind's calls change them, so the
/// numbers read here stay true until its next call. A call may peak in
/// the middle (a block moved by realloc: both blocks live for a moment);
/// the heap behind's own peaks rise then, and the pages, which no call to
/// it changes but for a page's own, were what they are now.
template <class Inner>
MallocStats SmallPages<Inner>::refresh_inner() noexcept {
  const MallocStats s = inner_.stats();
  const std::size_t page_bytes = pages_ * SmallPage::kBytes;
  inner_used_ = s.used - page_bytes;
  inner_requested_ = s.requested - page_bytes;
  const std::size_t in_front = static_cast<std::size_t>(in_front_.requested);
  if (s.high_water > inner_peaks_.high_water) {
    high_water_ = std::max(high_water_, s.high_water - page_bytes + live_.touched);
  }
  if (s.peak_requested > inner_peaks_.peak_requested) {
    peak_requested_ = std::max(peak_requested_, s.peak_requested - page_bytes + live_.requested + in_front);
  }
  inner_peaks_ = {s.high_water, s.peak_requested};
  note_peaks();
  return s;
}

/// Folds the numbers of now into the peaks. Called after every change that
/// can raise them, so the peaks are exact.
template <class Inner>
void SmallPages<Inner>::note_peaks() noexcept {
  high_water_ = std::max(high_water_, inner_used_ + live_.touched);
  peak_requested_ = std::max(peak_requested_, requested_now());
}

// ---------------------------------------------------------------- the rest of the contract

// [reallocate]
template <class Inner>
void* SmallPages<Inner>::reallocate(void* p, std::size_t size, std::size_t align) noexcept {
  if (p == nullptr) return allocate(size, align);
  SmallPage* const page = page_of(p);
  if (page == nullptr) {
    void* const resized = inner_.reallocate(p, size, align);
    refresh_inner();
    return resized;
  }
  const std::uint32_t i = page->live_slot(p, "SmallPages::reallocate");
  if (i == SmallPage::kNoSlot) return nullptr;  // misuse, reported
  if (!is_valid_request(size, align)) {
    ++rejected_;
    return nullptr;
  }
  const std::size_t old_size = page->record(i) - 1U;
  if (is_small(size, align) && SmallClasses::class_of(size) == page->size_class) {
    page->set_record(i, SmallPage::live_record(size));  // same class: the slot holds it
    live_.requested = live_.requested - old_size + size;
    note_peaks();
    return p;
  }
  void* const moved = allocate(size, align);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, p, std::min(old_size, size));
  release_slot(*page, i);
  return moved;
}
// [reallocate]

template <class Inner>
void* SmallPages<Inner>::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  const auto allocate_bytes = [this](std::size_t bytes) { return allocate(bytes); };
  return allocate_zeroed_with(count, size, rejected_, allocate_bytes);
}

template <class Inner>
std::size_t SmallPages<Inner>::usable_size(void* p) noexcept {
  if (p == nullptr) return 0;
  const SmallPage* const page = page_of(p);
  if (page == nullptr) return inner_.usable_size(p);
  return page->live_slot(p, "SmallPages::usable_size") == SmallPage::kNoSlot ? 0 : page->block_size;
}

template <class Inner>
MallocStats SmallPages<Inner>::stats() const noexcept {
  MallocStats s = inner_.stats();
  const std::size_t page_bytes = pages_ * SmallPage::kBytes;
  s.used = s.used - page_bytes + live_.touched;
  s.requested = s.requested - page_bytes + live_.requested + static_cast<std::size_t>(in_front_.requested);
  s.padding = s.used - s.requested;
  s.live_allocations = s.live_allocations - pages_ + live_.live + static_cast<std::size_t>(in_front_.live);
  s.high_water = std::max(high_water_, s.used);
  s.peak_requested = std::max(peak_requested_, s.requested);
  s.allocations = s.allocations - pages_taken_ + allocations_ + in_front_.allocations;
  s.exhausted = s.exhausted - page_refusals_ + exhausted_;
  s.rejected += rejected_;
  s.free_blocks += live_.free_slots + in_front_.cached_blocks;
  s.free_bytes += live_.free_bytes + in_front_.cached_bytes;
  s.quick_blocks += in_front_.cached_blocks;
  // The slots' bytes stand in for the pages' blocks: a live slot's whole
  // block is payload; a page's header and records are no block's.
  s.header_bytes -= live_.behind_header;
  s.payload_bytes = s.payload_bytes - live_.behind_payload +
                    (live_.touched - live_.headers - live_.free_bytes - in_front_.cached_bytes);
  return s;
}

// ---------------------------------------------------------------- check and walk

/// Calls \p visit(page, class) with every page, class by class.
template <class Inner>
template <class Visit>
void SmallPages<Inner>::for_each_page(Visit&& visit) const {
  for (std::size_t c = 0; c < SmallClasses::kCount; ++c) {
    for (const SmallPage* list : {classes_[c].available, classes_[c].full}) {
      for (const SmallPage* page = list; page != nullptr; page = page->next) visit(*page, c);
    }
  }
}

// [check]
template <class Inner>
CheckResult SmallPages<Inner>::check_pages(bool front_quiet) const noexcept {
  if (const CheckResult heap = inner_.check(); !heap) return heap;
  Totals seen;
  std::size_t pages = 0;
  CheckResult verdict = CheckResult::pass();
  for_each_page([&](const SmallPage& page, std::size_t c) {
    if (verdict && ++pages <= pages_) verdict = check_page(page, c, seen);
  });
  if (!verdict) return verdict;
  // Live slots are those this heap handed out and those the layer in
  // front did; every other slot in use is a free one the layer holds.
  const auto in_front_live = static_cast<std::size_t>(in_front_.live);
  const auto in_front_requested = static_cast<std::size_t>(in_front_.requested);
  if (pages != pages_ || seen.touched != live_.touched || seen.free_slots != live_.free_slots ||
      seen.free_bytes != live_.free_bytes || seen.headers != live_.headers ||
      seen.behind_header != live_.behind_header || seen.behind_payload != live_.behind_payload) {
    return CheckResult::fail("the pages hold as many slots and bytes as counted", 0);
  }
  if (!front_quiet) return check_classes();
  if (seen.live != live_.live + in_front_live || seen.requested != live_.requested + in_front_requested) {
    return CheckResult::fail("the live slots' records add up to the live blocks counted", 0);
  }
  if (seen.in_use - seen.live != in_front_.cached_blocks || lent_ - in_front_live != in_front_.cached_blocks) {
    return CheckResult::fail("the slots lent and not live are the free slots the layer in front holds", 0);
  }
  return check_classes();
}

/// Each class's count of empty pages (at most one).
template <class Inner>
CheckResult SmallPages<Inner>::check_classes() const noexcept {
  for (const ClassPages& pages_of_class : classes_) {
    std::size_t empty = 0;
    for (const SmallPage* page = pages_of_class.available; page != nullptr; page = page->next) empty += page->empty();
    if (empty != pages_of_class.empty || empty > 1) {
      return CheckResult::fail("each class keeps at most one empty page, as counted", 0);
    }
  }
  return CheckResult::pass();
}

/// One page of class \p c: its own, on the right list, in the page map,
/// its free list inside its touched slots with records of 0, as long as
/// its counts say; adds what it holds to \p seen.
template <class Inner>
CheckResult SmallPages<Inner>::check_page(const SmallPage& page, std::size_t c, Totals& seen) const noexcept {
  const SmallPage::Geometry g = SmallPage::geometry(c);
  if (page.owner != this || page.size_class != c || page.block_size != g.block_size || page.slots != g.slots ||
      page.first != g.first || page.reciprocal != g.reciprocal || page.bump > page.slots || page.used > page.bump) {
    return CheckResult::fail("each page has its class's geometry and used <= bump <= slots", 0);
  }
  const bool listed_full = [&] {
    for (const SmallPage* p = classes_[c].full; p != nullptr; p = p->next) if (p == &page) return true;
    return false;
  }();
  if (listed_full != page.full()) return CheckResult::fail("a page is on the full list exactly when it is full", 0);
  for (std::size_t at = 0; at < SmallPage::kBytes; at += PageMap::kGranuleBytes) {
    if (PageMap::find(page.begin() + at) != &page) {
      return CheckResult::fail("the page map finds each page from every granule of it", at);
    }
  }
  std::size_t free_slots = 0;
  for (const std::byte* s = page.free; s != nullptr; ++free_slots) {
    const std::uint32_t i = free_slots < page.bump - page.used ? page.slot_starting_at(s) : SmallPage::kNoSlot;
    if (i == SmallPage::kNoSlot || i >= page.bump || page.record(i) != 0) {
      return CheckResult::fail("a page's free list links its touched slots whose record is 0", 0);
    }
    s = SmallPage::next_free(s);
  }
  std::size_t live = 0;
  for (std::uint32_t i = 0; i < page.bump; ++i) {
    if (page.record(i) == 0) continue;
    ++live;
    seen.requested += page.record(i) - 1U;
    if (page.record(i) - 1U > page.block_size) return CheckResult::fail("a live slot's request fits its slot", 0);
  }
  if (live > page.used || free_slots != page.bump - page.used) {
    return CheckResult::fail("a page's records and free list agree with its count of slots in use", 0);
  }
  seen.live += live;
  seen.in_use += page.used;
  seen.headers += page.header_bytes();
  seen.behind_header += page.behind_header;
  seen.behind_payload += page.behind_payload;
  seen.touched += page.touched_bytes();
  seen.free_slots += free_slots;
  seen.free_bytes += free_slots * page.block_size;
  return CheckResult::pass();
}
// [check]

/// Where each region of the heap behind starts, in the numbering of its
/// block walk (BlockView::region), so that a view's bytes can be found.
/// For a heap behind that grows (GrowingHeap, under LargeBlocks), its
/// first kMaxRegions regions (10 MiB doubling to 256 MiB: some 15 GiB);
/// none for any other.
template <class Inner>
auto SmallPages<Inner>::region_starts() const noexcept -> RegionStarts {
  RegionStarts starts;
  if constexpr (requires { inner_.inner().for_each_region([](const auto&) {}); }) {
    inner_.inner().for_each_region([&](const auto& region) {
      if (starts.count < starts.begin.size()) starts.begin[starts.count++] = region.heap().blocks().begin();
    });
  }
  return starts;
}

template <class Inner>
template <class Visitor>
void SmallPages<Inner>::for_each_block(Visitor&& visit) const {
  // The heap behind's walk, less the blocks that are pages: their bytes
  // are walked below, header and slot by slot, and counted once.
  const RegionStarts starts = region_starts();
  inner_.for_each_block([&](const BlockView& view) {
    if (view.state == BlockState::allocated && view.region < starts.count) {
      const std::byte* const payload = starts.begin[view.region] + view.offset + view.header;
      if (const SmallPage* const page = page_of(payload); page != nullptr && page->begin() == payload) return;
    }
    visit(view);
  });
  const MallocStats behind = inner_.stats();
  std::size_t region = behind.regions + behind.mapped_blocks;  // the regions the heap behind's walk numbered
  for_each_page([&](const SmallPage& page, std::size_t) {
    visit(BlockView{.region = region, .offset = 0, .size = page.first, .state = BlockState::allocated,
                    .header = page.first});
    for (std::uint32_t i = 0; i < page.bump; ++i) {
      const bool live = page.record(i) != 0;
      visit(BlockView{.region = region,
                      .offset = page.first + std::size_t{i} * page.block_size,
                      .size = page.block_size,
                      .state = live ? BlockState::allocated : BlockState::free,
                      .links = live ? 0 : sizeof(void*)});
    }
    const std::size_t untouched = page.first + std::size_t{page.bump} * page.block_size;
    if (untouched < SmallPage::kBytes) {
      visit(BlockView{.region = region, .offset = untouched, .size = SmallPage::kBytes - untouched});
    }
    ++region;
  });
}

/// Two-level fits with small pages in front: every request of at most
/// 8 KiB in a page of its size class, the rest in two-level fits' regions
/// (an O(1) good fit whatever their number of free blocks) and mappings.
using SmallPagesAllocator = SmallPages<TwoLevelFitAllocator>;

extern template class SmallPages<TwoLevelFitAllocator>;
static_assert(Reallocating<SmallPagesAllocator>);

}  // namespace heaplab
