#include "stage1_static_bump/growing_arena.hpp"

#include <algorithm>
#include <new>

#include "stage1_static_bump/misuse.hpp"

namespace heaplab {
namespace {

/// Bytes reserved at the start of every chunk for its header. Rounded to
/// max_align_t so the chunk's bump region starts as aligned as the chunk.
template <class Header>
constexpr std::size_t header_bytes = round_up(sizeof(Header), alignof(std::max_align_t));

}  // namespace

GrowingArena::GrowingArena(ChunkSource& upstream, GrowthPolicy policy) noexcept
    : upstream_(upstream), policy_(policy), next_regular_(policy.first_chunk) {}

GrowingArena::~GrowingArena() {
  while (current_ != nullptr) {
    Chunk* older = current_->previous;
    release_chunk(current_);
    current_ = older;
  }
}

void* GrowingArena::allocate(std::size_t size, std::size_t align) noexcept {
  if (!is_valid_request(size, align)) [[unlikely]] {
    ++rejected_;
    return nullptr;
  }
  if (current_ != nullptr) {
    if (void* block = current_->bump.allocate(size, align)) return block;
  }
  return grow_and_allocate(size, align);
}

// [grow]
std::size_t GrowingArena::next_chunk_bytes(std::size_t needed) const noexcept {
  const std::size_t allowed = policy_.limit - reserved_;  // reserved_ <= limit always
  const std::size_t regular = std::max(needed, next_regular_);
  if (regular <= allowed) return regular;
  return needed <= allowed ? needed : 0;  // near the limit: only what this request needs
}

void* GrowingArena::grow_and_allocate(std::size_t size, std::size_t align) noexcept {
  constexpr std::size_t header = header_bytes<Chunk>;
  // A fresh chunk's bump region starts max_align_t-aligned, so only an
  // alignment beyond that can need padding (at most align - that much).
  const std::size_t footprint = bump_footprint(size);
  const std::size_t worst_padding =
      align > alignof(std::max_align_t) ? align - alignof(std::max_align_t) : 0;
  if (footprint > kMaxRequest - header || worst_padding > kMaxRequest - header - footprint) {
    ++exhausted_;  // no chunk this large can exist
    return nullptr;
  }
  const std::size_t bytes = next_chunk_bytes(header + footprint + worst_padding);
  const std::span<std::byte> memory = bytes == 0 ? std::span<std::byte>{} : upstream_.acquire(bytes);
  if (memory.empty() || memory.size() > policy_.limit - reserved_) {
    if (!memory.empty()) upstream_.release(memory);  // rounded up past the limit
    ++exhausted_;
    return nullptr;
  }
  Chunk* chunk = new (memory.data()) Chunk{nullptr, memory.size(), BumpAllocator(memory.subspan(header))};
  ++chunk_count_;
  reserved_ += memory.size();
  if (bytes == next_regular_) {
    // A regular chunk becomes the current one; the next will be twice as big.
    next_regular_ = std::min(next_regular_ * 2, policy_.max_chunk);
    chunk->previous = current_;
    current_ = chunk;
  } else if (current_ != nullptr) {
    // An oversized request's own chunk goes behind the current chunk, whose
    // room stays available for the requests that follow.
    chunk->previous = current_->previous;
    current_->previous = chunk;
  } else {
    current_ = chunk;
  }
  return chunk->bump.allocate(size, align);  // cannot fail: the chunk was sized for it
}
// [grow]

void GrowingArena::release_chunk(Chunk* chunk) noexcept {
  const std::span<std::byte> memory{reinterpret_cast<std::byte*>(chunk), chunk->bytes};
  chunk->~Chunk();
  upstream_.release(memory);
}

void GrowingArena::deallocate(void* p) noexcept {
  if (p != nullptr && !owns(p)) {
    report_misuse({Misuse::foreign_pointer, p, "GrowingArena::deallocate"});
  }
}

void GrowingArena::reset() noexcept {
  const HeapStats before = stats();
  lifetime_.before_release(before.used, before.requested, before.live_allocations);

  Chunk* largest = current_;
  for (Chunk* c = current_; c != nullptr; c = c->previous) {
    if (c->bytes > largest->bytes) largest = c;
  }
  for (Chunk* c = current_; c != nullptr;) {
    Chunk* older = c->previous;
    if (c != largest) release_chunk(c);
    c = older;
  }
  current_ = largest;
  chunk_count_ = largest != nullptr ? 1 : 0;
  reserved_ = largest != nullptr ? largest->bytes : 0;
  if (largest != nullptr) {
    largest->previous = nullptr;
    largest->bump.reset();
  }
}

const GrowingArena::Chunk* GrowingArena::chunk_in_walk_order(std::size_t index) const noexcept {
  const Chunk* chunk = current_;
  for (std::size_t steps = chunk_count_ - 1 - index; steps > 0; --steps) chunk = chunk->previous;
  return chunk;
}

HeapStats GrowingArena::stats() const noexcept {
  HeapStats s;
  for (const Chunk* c = current_; c != nullptr; c = c->previous) {
    const HeapStats chunk = c->bump.stats();
    s.capacity += chunk.capacity;
    s.used += chunk.used;
    s.requested += chunk.requested;
    s.live_allocations += chunk.live_allocations;
  }
  s.padding = s.used - s.requested;
  s.exhausted = exhausted_;
  s.rejected = rejected_;
  return lifetime_.complete(s);
}

CheckResult GrowingArena::check() const noexcept {
  std::size_t chunks = 0;
  std::size_t bytes = 0;
  for (const Chunk* c = current_; c != nullptr; c = c->previous) {
    if (const CheckResult chunk = c->bump.check(); !chunk) return chunk;
    const auto* start = reinterpret_cast<const std::byte*>(c);
    const std::span<std::byte> region = c->bump.region();
    if (region.data() != start + header_bytes<Chunk> || region.data() + region.size() != start + c->bytes) {
      return CheckResult::fail("each chunk's bump region fills the chunk after its header", bytes);
    }
    ++chunks;
    bytes += c->bytes;
  }
  if (chunks != chunk_count_) return CheckResult::fail("chunk count matches the chunk list", bytes);
  if (bytes != reserved_) return CheckResult::fail("reserved bytes are the sum of chunk sizes", bytes);
  if (reserved_ > policy_.limit) return CheckResult::fail("reserved bytes <= growth limit", bytes);
  return CheckResult::pass();
}

bool GrowingArena::owns(const void* p) const noexcept {
  for (const Chunk* c = current_; c != nullptr; c = c->previous) {
    if (c->bump.owns(p)) return true;
  }
  return false;
}

}  // namespace heaplab
