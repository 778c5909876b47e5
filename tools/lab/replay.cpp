#include "tools/lab/replay.hpp"

#include <malloc.h>

#include <algorithm>
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

namespace detail {

std::string describe(const TraceOp& op) {
  std::string text = op.line == 0 ? std::string("operation") : "line " + std::to_string(op.line);
  text += ": ";
  switch (op.kind) {
    case OpKind::allocate:
      return text + "a " + std::to_string(op.id) + ' ' + std::to_string(op.size);
    case OpKind::free:
      return text + "f " + (op.id == kNullId ? std::string("-1") : std::to_string(op.id));
    case OpKind::reallocate:
      return text + "r " + std::to_string(op.id) + ' ' + std::to_string(op.size);
  }
  return text;
}

std::string padded(std::string text, std::size_t width) {
  text.resize(std::max(width, text.size() + 1), ' ');
  return text;
}

}  // namespace detail
}  // namespace heaplab
