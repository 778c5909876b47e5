/// \file
/// An object built in static storage on first use and never destroyed: how
/// a malloc, or a global operator new, keeps its heap alive for the calls
/// that come after the program's exit handlers.
///
/// A plain `static Heap heap;` would be destroyed at exit, in an order the
/// program does not control, and a `free()` from a later exit handler or a
/// library destructor would then run on a dead heap. A `static Heap* heap =
/// new Heap` cannot be written inside malloc itself. Immortal is the third
/// way: placement new into a static byte array, and no destructor at all.
/// Declared as a function-local static, it is built by the first call,
/// exactly once even when threads race to it (C++11's "magic statics"),
/// and, since its own destructor is trivial, nothing is registered with
/// atexit (which could itself call malloc).
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace heaplab::shim {

/// Holds one \p T, constructed in place and never destroyed.
template <class T>
class Immortal {
 public:
  /// Constructs the held object from \p args.
  template <class... Args>
  explicit Immortal(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
    ::new (static_cast<void*>(storage_)) T(std::forward<Args>(args)...);
  }
  Immortal(const Immortal&) = delete;
  Immortal& operator=(const Immortal&) = delete;
  // No destructor: the held object outlives every static destructor.

  /// The held object.
  [[nodiscard]] T& get() noexcept { return *std::launder(reinterpret_cast<T*>(storage_)); }

 private:
  alignas(T) std::byte storage_[sizeof(T)];  ///< The held object's bytes.
};

}  // namespace heaplab::shim
