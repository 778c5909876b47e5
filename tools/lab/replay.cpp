#include "tools/lab/replay.hpp"

#include <malloc.h>

#include <algorithm>
#include <iterator>
#include <cstdlib>
#include <new>

namespace heaplab {

void* GlibcMalloc::allocate(std::size_t size) noexcept { return std::malloc(size); }

void GlibcMalloc::deallocate(void* p) noexcept { std::free(p); }

void* GlibcMalloc::reallocate(void* p, std::size_t size) noexcept {
  return std::realloc(p, size == 0 ? 1 : size);
}

std::size_t GlibcMalloc::block_bytes(void* p) noexcept { return malloc_usable_size(p) + sizeof(std::size_t); }

void* PmrPool::allocate(std::size_t size) noexcept {
  try {
    return pool_.allocate(std::max<std::size_t>(size, 1), kDefaultAlignment);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

void PmrPool::deallocate(void* p, std::size_t size) noexcept {
  if (p != nullptr) pool_.deallocate(p, std::max<std::size_t>(size, 1), kDefaultAlignment);
}

std::optional<std::size_t> LiveRanges::overlapping(const void* p, std::size_t size) const {
  if (size == 0) return std::nullopt;
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t end = start + size;
  // The recorded blocks never overlap one another, so only two of them can
  // overlap [start, end): the last to start at or before `start`, and the
  // first to start after it.
  auto next = ranges_.upper_bound(start);
  if (next != ranges_.end() && next->first < end) return next->second.id;
  if (next != ranges_.begin() && std::prev(next)->second.end > start) return std::prev(next)->second.id;
  return std::nullopt;
}

void LiveRanges::add(const void* p, std::size_t size, std::size_t id) {
  if (size == 0) return;
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  ranges_.insert_or_assign(start, Range{start + size, id});
}

void LiveRanges::remove(const void* p) { ranges_.erase(reinterpret_cast<std::uintptr_t>(p)); }

namespace detail {

std::string op_text(const TraceOp& op) {
  switch (op.kind) {
    case OpKind::allocate:
      return "a " + std::to_string(op.id) + ' ' + std::to_string(op.size);
    case OpKind::free:
      return "f " + (op.id == kNullId ? std::string("-1") : std::to_string(op.id));
    case OpKind::reallocate:
      return "r " + std::to_string(op.id) + ' ' + std::to_string(op.size);
  }
  return {};  // unreachable: every OpKind is handled above
}

std::string describe(const TraceOp& op) {
  return (op.line == 0 ? std::string("operation") : "line " + std::to_string(op.line)) + ": " + op_text(op);
}

std::string padded(std::string text, std::size_t width) {
  text.resize(std::max(width, text.size() + 1), ' ');
  return text;
}

}  // namespace detail
}  // namespace heaplab
