/// \file
/// ThreadCaches' member functions (thread_caches.hpp): the fast paths
/// first, then the batches under the lock, then the rest of the contract.
#pragma once

#include "stage5_real_malloc/thread_caches.hpp"

namespace heaplab {

namespace detail {
/// Adds \p delta to \p counter, which only the calling thread writes: a
/// load and a store, no read-modify-write (other threads only read it).
template <class T, class D>
[[gnu::always_inline]] inline void add_own(std::atomic<T>& counter, D delta) noexcept {
  counter.store(static_cast<T>(counter.load(std::memory_order_relaxed) + static_cast<T>(delta)),
                std::memory_order_relaxed);
}
}  // namespace detail

template <class Pages, class Lock>
ThreadCaches<Pages, Lock>::~ThreadCaches() {
  unregister_cache_owner(*this);  // no thread exit visits this heap any more
  for (Cache*& cache : caches_) {
    if (cache == nullptr) continue;
    for (std::size_t c = 0; c < SmallClasses::kCount; ++c) flush(*cache, c, 0);
    cache->~Cache();
    default_chunk_source().release({reinterpret_cast<std::byte*>(cache), kCacheBytes});
    cache = nullptr;
  }
}

// ---------------------------------------------------------------- the fast paths

// [allocate]
template <class Pages, class Lock>
void* ThreadCaches<Pages, Lock>::allocate(std::size_t size, std::size_t align) noexcept {
  if (void* const p = allocate_cached(size, align)) [[likely]] return p;
  return allocate_slow(size, align);
}

template <class Pages, class Lock>
void* ThreadCaches<Pages, Lock>::allocate_cached(std::size_t size, std::size_t align) noexcept {
  if (!Pages::is_small(size, align)) [[unlikely]] return nullptr;
  Cache* const cache = own_cache();
  if (cache == nullptr) [[unlikely]] return nullptr;
  const std::size_t c = SmallClasses::class_of(size);
  // An empty list, or a cache in use (a signal handler's call), is for
  // allocate_slow() to refill or to abort on.
  if (cache->bins[c].head == nullptr || cache->busy.load(std::memory_order_relaxed)) [[unlikely]] return nullptr;
  const InCache use(*cache, typename InCache::Idle{});
  return pop(*cache, c, size);
}

/// allocate() when the calling thread's list is empty or missing: a
/// refill, or a cache made first; and every request the pages serve
/// themselves. Out of line, so that the fast path has no registers to save.
template <class Pages, class Lock>
void* ThreadCaches<Pages, Lock>::allocate_slow(std::size_t size, std::size_t align) noexcept {
  if (Pages::is_small(size, align)) {
    if (Cache* const cache = this_thread_cache()) {
      const std::size_t c = SmallClasses::class_of(size);
      const InCache use(*cache);
      if (cache->bins[c].head != nullptr || refill(*cache, c)) return pop(*cache, c, size);
    }
  }
  const Call call(*this);  // no cache, a request of another kind, or no room: the pages say
  return pages_.allocate(size, align);
}

/// The first slot of \p cache's list of class \p c (not empty), handed
/// out for \p size bytes: its record set (at the place the slot keeps),
/// the counts moved. No lock.
template <class Pages, class Lock>
void* ThreadCaches<Pages, Lock>::pop(Cache& cache, std::size_t c, std::size_t size) noexcept {
  Bin& bin = cache.bins[c];
  void* const p = bin.head;
  const Place place = Place::read(p);
  bin.head = SmallPage::next_free(p);
  detail::add_own(bin.count, -1);
  place.page->set_record(place.index, SmallPage::live_record(size));
  Counts& now = cache.now;
  detail::add_own(now.allocations, 1);
  note_request(now, static_cast<std::ptrdiff_t>(size));
  return p;
}

/// Adds \p delta to the requested bytes of \p now, its thread's own
/// counts, and notes a new peak.
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::note_request(Counts& now, std::ptrdiff_t delta) noexcept {
  const std::ptrdiff_t requested = now.requested.load(std::memory_order_relaxed) + delta;
  now.requested.store(requested, std::memory_order_relaxed);
  if (requested > now.peak.load(std::memory_order_relaxed)) now.peak.store(requested, std::memory_order_relaxed);
}
// [allocate]

// [deallocate]
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::deallocate(void* p) noexcept {
  if (!deallocate_cached(p)) [[unlikely]] deallocate_slow(p);
}

template <class Pages, class Lock>
bool ThreadCaches<Pages, Lock>::deallocate_cached(void* p) noexcept {
  SmallPage* const page = pages_.page_of(p);  // null for null
  Cache* const cache = own_cache();
  if (page == nullptr || cache == nullptr) [[unlikely]] return false;
  // Whatever is not the common case is deallocate_slow()'s to say or do (a
  // misuse report, a flush under the lock, the abort of a second entry), so
  // that this path calls nothing and saves no register.
  const std::uint32_t i = page->slot_starting_at(p);
  const std::uint16_t record = page->record(i);  // 0 for kNoSlot too: it is past the bump index
  Bin& bin = cache->bins[page->size_class];
  if (record == 0 || bin.count.load(std::memory_order_relaxed) >= bin.capacity ||
      cache->busy.load(std::memory_order_relaxed)) [[unlikely]] {
    return false;
  }
  const InCache use(*cache, typename InCache::Idle{});
  push(*cache, bin, *page, i, record, p);  // the list had room before the push
  return true;
}

/// deallocate() of a slot by a thread with no cache yet, and of every
/// pointer that is no slot of ours (null too). Out of line, as allocate_slow().
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::deallocate_slow(void* p) noexcept {
  if (p == nullptr) return;
  if (SmallPage* const page = pages_.page_of(p)) {
    if (Cache* const cache = this_thread_cache()) return free_to_cache(*cache, *page, p);
  }
  const Call call(*this);
  pages_.deallocate(p);
}

/// Frees \p p, in \p page, into \p cache after SmallPages' own check.
/// The check comes before the cache is marked in use: a misuse report
/// ends in abort(), whose SIGABRT handler may allocate from this cache.
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::free_to_cache(Cache& cache, SmallPage& page, void* p) noexcept {
  const std::uint32_t i = page.live_slot(p, "ThreadCaches::deallocate");
  if (i == SmallPage::kNoSlot) [[unlikely]] return;  // misuse, reported
  const InCache use(cache);
  Bin& bin = cache.bins[page.size_class];
  push(cache, bin, page, i, page.record(i), p);
  if (bin.count.load(std::memory_order_relaxed) > bin.capacity) [[unlikely]] flush_half(cache, page.size_class);
}

/// Frees the live slot \p i of \p page, at \p p, whose record is
/// \p record, onto \p bin, \p cache's list of its class; the slot keeps
/// its place for the pop that hands it out again. No lock.
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::push(Cache& cache, Bin& bin, SmallPage& page, std::uint32_t i, std::uint16_t record,
                                     void* p) noexcept {
  page.set_record(i, 0);
  std::memcpy(p, &bin.head, sizeof bin.head);
  Place::write(p, page, i);
  bin.head = p;
  detail::add_own(bin.count, 1);
  Counts& now = cache.now;
  detail::add_own(now.frees, 1);
  detail::add_own(now.requested, -static_cast<std::ptrdiff_t>(record - 1U));
}

/// Gives half of \p cache's list of class \p c back, in one acquisition of
/// the lock. Out of line, as allocate_slow().
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::flush_half(Cache& cache, std::size_t c) noexcept {
  const Call call(*this);
  flush(cache, c, capacity(c) / 2);
}
// [deallocate]

// [find_cache]
/// The calling thread's cache, made on its first call; null for a thread
/// without a slot, or when no memory is left for a cache.
template <class Pages, class Lock>
auto ThreadCaches<Pages, Lock>::this_thread_cache() noexcept -> Cache* {
  const std::size_t slot = this_thread_slot();
  if (slot == kNoThreadSlot) [[unlikely]] return nullptr;
  if (Cache* const cache = cache_of(slot)) [[likely]] return cache;
  return make_cache(slot);
}

/// A cache for \p slot, in a chunk of its own from the process's source:
/// memory the user's numbers do not count. It lives as long as its thread
/// (release_thread()).
template <class Pages, class Lock>
auto ThreadCaches<Pages, Lock>::make_cache(std::size_t slot) noexcept -> Cache* {
  const std::span<std::byte> chunk = default_chunk_source().acquire(kCacheBytes);
  if (chunk.empty()) return nullptr;
  const Call call(*this);  // caches_ is read under the lock by stats()
  return cache_of(slot) = ::new (chunk.data()) Cache;
}
// [find_cache]

// ---------------------------------------------------------------- batches, under the lock

// [batches]
/// Fills \p cache's empty list of class \p c from the pages, in one
/// acquisition of the lock. False when the pages have none.
///
/// How many: a slow start, as tcmalloc's thread caches make theirs. The
/// first refill of a class asks for one slot, each next one for twice as
/// many, up to half the list's capacity. A thread that allocates a few
/// blocks of a class holds a few slots of it, not half a list: that is
/// what a small program's memory is made of (the lab's traces, a thread
/// that makes two strings and exits). A thread that allocates many
/// reaches whole batches after a handful of refills.
template <class Pages, class Lock>
bool ThreadCaches<Pages, Lock>::refill(Cache& cache, std::size_t c) noexcept {
  Bin& bin = cache.bins[c];
  const std::size_t wanted = std::min<std::size_t>(bin.next_refill, std::max<std::size_t>(capacity(c) / 2, 1));
  const Call call(*this);
  sync(cache);
  const std::size_t count = pages_.lend(c, wanted, [&bin](void* slot, SmallPage& page, std::uint32_t i) {
    std::memcpy(slot, &bin.head, sizeof bin.head);
    Place::write(slot, page, i);
    bin.head = slot;
  });
  bin.next_refill = static_cast<std::uint16_t>(2 * wanted);
  detail::add_own(bin.count, count);
  sync(cache);
  return count != 0;
}

/// Gives all but the first \p keep slots of \p cache's list of class \p c
/// back to their pages (the first ones are the most recently freed, the
/// likeliest in the processor's cache). The lock is held.
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::flush(Cache& cache, std::size_t c, std::size_t keep) noexcept {
  Bin& bin = cache.bins[c];
  const std::size_t count = bin.count.load(std::memory_order_relaxed);
  if (count <= keep) return;
  sync(cache);  // the pages' numbers as they are, for what taking back may note
  void** cut = &bin.head;
  for (std::size_t k = 0; k < keep; ++k) cut = static_cast<void**>(*cut);
  void* rest = *cut;
  *cut = nullptr;
  while (rest != nullptr) {
    const Place place = Place::read(rest);
    rest = SmallPage::next_free(rest);
    pages_.take_back(*place.page, place.index);
  }
  bin.count.store(static_cast<std::uint32_t>(keep), std::memory_order_relaxed);
  sync(cache);
}
// [batches]

// [numbers]
/// Adds what \p cache did since its last sync to the heap's totals, and
/// tells the pages, first noting the highest requested bytes the cache
/// reached meanwhile (with every other cache as last synced). The lock is
/// held; called for the calling thread's own cache only (its peak is its
/// own thread's to reset).
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::sync(Cache& cache) const noexcept {
  const Counts& now = cache.now;
  const auto others = static_cast<std::ptrdiff_t>(pages_.requested_now()) - cache.synced.requested;
  pages_.note_requested(static_cast<std::size_t>(others + now.peak.load(std::memory_order_relaxed)));
  add_counts(cache);
  cache.now.peak.store(cache.synced.requested, std::memory_order_relaxed);
  pages_.set_in_front(totals_);
}

/// Adds what \p cache did since its last sync to the heap's totals: the
/// blocks and bytes it handed out and took back. The lock is held.
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::add_counts(Cache& cache) const noexcept {
  const Counts& now = cache.now;
  const std::size_t allocations = now.allocations.load(std::memory_order_relaxed);
  const auto live = static_cast<std::ptrdiff_t>(allocations - now.frees.load(std::memory_order_relaxed));
  const std::ptrdiff_t requested = now.requested.load(std::memory_order_relaxed);
  totals_.live += live - cache.synced.live;
  totals_.requested += requested - cache.synced.requested;
  totals_.allocations += allocations - cache.synced.allocations;
  cache.synced.live = live;
  cache.synced.requested = requested;
  cache.synced.allocations = allocations;
}

/// Adds the change in what \p cache's lists hold since they were last
/// added. Only the numbers of now (stats(), check()) and a cache's release
/// need it: a walk of every class, which the batches do not pay. The lock
/// is held.
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::add_lists(Cache& cache) const noexcept {
  std::size_t blocks = 0;
  std::size_t bytes = 0;
  for (std::size_t c = 0; c < SmallClasses::kCount; ++c) {  // the lists' lengths are their own counts
    const std::size_t count = cache.bins[c].count.load(std::memory_order_relaxed);
    blocks += count;
    bytes += count * SmallClasses::size_of(c);
  }
  totals_.cached_blocks += blocks - cache.synced.cached_blocks;
  totals_.cached_bytes += bytes - cache.synced.cached_bytes;
  cache.synced.cached_blocks = blocks;
  cache.synced.cached_bytes = bytes;
}

/// Adds every cache's counts and lists (not their peaks: another thread's
/// peak is its own to reset): the numbers of now. The lock is held.
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::sync_all() const noexcept {
  for (Cache* cache : caches_) {
    if (cache == nullptr) continue;
    add_counts(*cache);
    add_lists(*cache);
  }
  pages_.set_in_front(totals_);
}
// [numbers]

/// At the exit of the thread of \p slot (thread_slots.cpp): its cache goes
/// back to the pages, whole, and then to the source. Its counts are in the
/// heap's totals by then (flush() syncs), and the slot is not handed out
/// again before this returns (the registry's mutex): the next thread to
/// take it makes a cache of its own, under the lock. So a cache in
/// caches_ always belongs to a live thread, which check() relies on.
template <class Pages, class Lock>
void ThreadCaches<Pages, Lock>::release_thread(std::size_t slot) noexcept {
  Cache* const cache = cache_of(slot);
  if (cache == nullptr) return;
  {
    const Call call(*this);
    sync(*cache);
    for (std::size_t c = 0; c < SmallClasses::kCount; ++c) flush(*cache, c, 0);
    add_lists(*cache);  // empty now: what they held leaves the totals
    pages_.set_in_front(totals_);
    cache_of(slot) = nullptr;
  }
  cache->~Cache();
  default_chunk_source().release({reinterpret_cast<std::byte*>(cache), kCacheBytes});
}

// ---------------------------------------------------------------- the rest of the contract

// [reallocate]
template <class Pages, class Lock>
void* ThreadCaches<Pages, Lock>::reallocate(void* p, std::size_t size, std::size_t align) noexcept {
  if (p == nullptr) return allocate(size, align);
  Cache* const cache = this_thread_cache();
  if (SmallPage* const page = pages_.page_of(p); page != nullptr && cache != nullptr && Pages::is_small(size, align)) {
    return reallocate_small(*cache, *page, p, size, align);
  }
  if (cache == nullptr) {
    const Call call(*this);
    return pages_.reallocate(p, size, align);
  }
  const InCache use(*cache);  // sync() reads what the fast paths change
  const Call call(*this);
  sync(*cache);
  return pages_.reallocate(p, size, align);
}

/// reallocate() of a slot to a size that is small too, with no lock: the
/// record changed in place when the size stays in the slot's class (a
/// shrink or growth within it), else a slot of the new class from this
/// thread's cache, the bytes copied, the old slot freed into the cache.
template <class Pages, class Lock>
void* ThreadCaches<Pages, Lock>::reallocate_small(Cache& cache, SmallPage& page, void* p, std::size_t size,
                                                  std::size_t align) noexcept {
  const std::uint32_t i = page.live_slot(p, "ThreadCaches::reallocate");  // before the mark: see free_to_cache()
  if (i == SmallPage::kNoSlot) [[unlikely]] return nullptr;              // misuse, reported
  const std::size_t old = page.record(i) - 1U;
  if (SmallClasses::class_of(size) == page.size_class) {
    const InCache use(cache);
    page.set_record(i, SmallPage::live_record(size));
    note_request(cache.now, static_cast<std::ptrdiff_t>(size) - static_cast<std::ptrdiff_t>(old));
    return p;
  }
  void* const moved = allocate(size, align);
  if (moved == nullptr) return nullptr;  // p untouched
  std::memcpy(moved, p, std::min(old, size));
  deallocate(p);
  return moved;
}
// [reallocate]

template <class Pages, class Lock>
void* ThreadCaches<Pages, Lock>::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  std::size_t overflows = 0;
  void* const p = allocate_zeroed_with(count, size, overflows, [this](std::size_t bytes) { return allocate(bytes); });
  if (overflows != 0) overflows_.fetch_add(overflows, std::memory_order_relaxed);
  return p;
}

template <class Pages, class Lock>
std::size_t ThreadCaches<Pages, Lock>::usable_size(void* p) noexcept {
  if (p == nullptr) return 0;
  if (const SmallPage* const page = pages_.page_of(p)) {
    return page->live_slot(p, "ThreadCaches::usable_size") == SmallPage::kNoSlot ? 0 : page->block_size;
  }
  const Call call(*this);
  return pages_.usable_size(p);
}

template <class Pages, class Lock>
MallocStats ThreadCaches<Pages, Lock>::stats() const noexcept {
  Cache* const own = own_cache();
  const Call call(*this);
  if (own != nullptr) sync(*own);  // its peak, noted
  sync_all();
  MallocStats s = pages_.stats();
  s.rejected += overflows_.load(std::memory_order_relaxed);
  return s;
}

// [check]
template <class Pages, class Lock>
CheckResult ThreadCaches<Pages, Lock>::check() const noexcept {
  // Other threads' caches change without the lock: their lists, and the
  // records of the slots they hand out and take back, are compared only
  // when this heap has no cache but the caller's. That is asked under the
  // lock: a thread with no cache yet makes one under it, so it changes
  // nothing before the check ends, and a cache in caches_ is a live
  // thread's (release_thread()), which may change it at any moment.
  const Cache* const own = own_cache();
  const Call call(*this);
  const bool alone = std::all_of(caches_.begin(), caches_.end(),
                                 [own](const Cache* cache) { return cache == nullptr || cache == own; });
  sync_all();
  if (const CheckResult pages = pages_.check_pages(alone); !pages) return pages;
  for (const Cache* cache : caches_) {
    if (cache == nullptr || (!alone && cache != own)) continue;
    if (const CheckResult verdict = check_cache(*cache); !verdict) return verdict;
  }
  return CheckResult::pass();
}

/// One cache: each list, walked no further than its count, links slots of
/// pages of its class whose record is 0, and ends where its count says.
template <class Pages, class Lock>
CheckResult ThreadCaches<Pages, Lock>::check_cache(const Cache& cache) const noexcept {
  for (std::size_t c = 0; c < SmallClasses::kCount; ++c) {
    const Bin& bin = cache.bins[c];
    void* p = bin.head;
    const std::size_t count = bin.count.load(std::memory_order_relaxed);
    for (std::size_t k = 0; k < count; ++k) {
      const SmallPage* const page = p == nullptr ? nullptr : pages_.page_of(p);
      const std::uint32_t i = page == nullptr ? SmallPage::kNoSlot : page->slot_starting_at(p);
      if (i == SmallPage::kNoSlot || page->size_class != c || page->record(i) != 0) {
        return CheckResult::fail("each cached block is a free slot (record 0) of a page of its class", 0);
      }
      if (const Place place = Place::read(p); place.page != page || place.index != i) {
        return CheckResult::fail("each cached block keeps its page and index", 0);
      }
      p = SmallPage::next_free(p);
    }
    if (p != nullptr) return CheckResult::fail("each cache list holds as many blocks as counted", 0);
  }
  return CheckResult::pass();
}
// [check]

template <class Pages, class Lock>
std::size_t ThreadCaches<Pages, Lock>::cached(std::size_t c) const noexcept {
  const Cache* const cache = own_cache();
  return cache == nullptr ? 0 : cache->bins[c].count.load(std::memory_order_relaxed);
}

/// The calling thread's cache, or null: no slot is handed out, no cache
/// made (so it may be called under the lock).
template <class Pages, class Lock>
auto ThreadCaches<Pages, Lock>::own_cache() const noexcept -> Cache* {
  static_assert(kNoThreadSlot + 1 < std::tuple_size_v<decltype(caches_)>, "every value of the slot + 1 has an entry");
  return caches_[detail::thread_slot_plus_one];
}

}  // namespace heaplab
