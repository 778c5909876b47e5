/// \file
/// Typed helpers over any Allocator (a Go bump allocator's `Make`, `MakeSlice`,
/// `MakeString`): construct objects, arrays and strings in the heap.
///
/// **Destructors never run.** A bump heap releases memory in bulk (reset,
/// rewind) without knowing what lives in it. So the helpers accept only types
/// for which skipping the destructor is harmless: trivially destructible
/// ones. A `std::string` or `std::vector` placed in an arena would leak its
/// own heap buffer at every reset; these helpers refuse it at compile time.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "stage1_static_bump/contract.hpp"

namespace heaplab {

/// Types the helpers may place: complete object types whose destructor does
/// nothing (so that never running it loses nothing).
template <class T>
concept Placeable = std::is_object_v<T> && !std::is_array_v<T> && !std::is_abstract_v<T> &&
                    std::is_trivially_destructible_v<T>;

/// True when a `T` can be built from `Args`: by a constructor, or, for an
/// aggregate such as `struct Point { double x, y; }`, member by member.
template <class T, class... Args>
concept BuildableFrom = std::is_constructible_v<T, Args...> ||
                        (std::is_aggregate_v<T> && requires(Args&&... args) { T{std::forward<Args>(args)...}; });

/// Constructs a `T` from \p args in memory from \p allocator, aligned for
/// `T`. Returns nullptr if the allocator cannot serve (no `T` is built).
template <Placeable T, Allocator A, class... Args>
  requires BuildableFrom<T, Args...>
[[nodiscard]] T* make(A& allocator, Args&&... args) {
  void* memory = allocator.allocate(sizeof(T), alignof(T));
  if (memory == nullptr) return nullptr;
  if constexpr (std::is_constructible_v<T, Args...>) {
    return ::new (memory) T(std::forward<Args>(args)...);
  } else {
    return ::new (memory) T{std::forward<Args>(args)...};  // aggregate, member by member
  }
}

/// Allocates \p count value-initialised `T`s (zero for scalars, like Go's
/// `make([]T, n)`). Returns an empty span with a null data() if the allocator
/// cannot serve or `count * sizeof(T)` would overflow; `count == 0` gives an
/// empty span with a unique, non-null data().
template <Placeable T, Allocator A>
  requires std::is_nothrow_default_constructible_v<T>
[[nodiscard]] std::span<T> make_array(A& allocator, std::size_t count) noexcept {
  if (count > kMaxRequest / sizeof(T)) return {};
  void* memory = allocator.allocate(count * sizeof(T), alignof(T));
  if (memory == nullptr) return {};
  T* first = static_cast<T*>(memory);
  for (std::size_t i = 0; i < count; ++i) ::new (first + i) T();
  return {first, count};
}

/// Copies \p text into the heap, followed by a NUL so that `data()` can also
/// be passed to C functions. Returns a view of the copy, or a view with a
/// null data() if the allocator cannot serve.
template <Allocator A>
[[nodiscard]] std::string_view make_string(A& allocator, std::string_view text) noexcept {
  if (text.size() >= kMaxRequest) return {};
  auto* copy = static_cast<char*>(allocator.allocate(text.size() + 1, alignof(char)));
  if (copy == nullptr) return {};
  if (!text.empty()) std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return {copy, text.size()};
}

}  // namespace heaplab
