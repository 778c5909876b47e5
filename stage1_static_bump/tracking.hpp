/// \file
/// The tracking layer: how the allocators tell AddressSanitizer or
/// Valgrind's memcheck which bytes of a course heap a program may touch, so
/// that a use-after-free or an overflow *inside* our heap is reported as it
/// would be inside malloc's.
///
/// To those tools a course heap is one big array the program owns (the
/// static heap, a caller's span, a mapped chunk). Every byte of it looks
/// valid, so reading a block after freeing it goes unnoticed: the memory is
/// still there. The allocators correct that picture with two verbs:
///
///     poison(p, n)   no access:  free memory, the heap's unused tail
///     expose(p, n)   accessible: a block handed out, or bytes about to
///                    hold the allocator's own metadata (header, link, footer)
///
/// Which tool hears them is decided at compile time, here and nowhere else:
/// - AddressSanitizer, automatically in a build with `-fsanitize=address`
///   (the asan preset). A bad access is reported as "use-after-poison".
/// - Valgrind's memcheck, when the build defines `HEAPLAB_TRACK_VALGRIND`.
///   It is opt-in because a client request costs a few instructions even
///   outside Valgrind, and chapter 5's instruction counts (callgrind) must
///   measure the allocator, not its tracking. A bad access is reported as an
///   "Invalid read" or "Invalid write".
/// - Otherwise nothing: both verbs are empty inline functions that compile
///   to nothing, so a release build and the benchmarks do not pay for them.
///
/// The allocators run under AddressSanitizer too, so they must never touch a
/// poisoned byte themselves. Which bytes stay accessible in a free block,
/// and why, is drawn next to poison_free_payload() (stage 2's block.hpp).
/// The hooks, chapter by chapter:
/// - chapter 1: the bump pointer exposes each allocation and poisons
///   everything past it (at construction, reset() and rewind()); the
///   destructor exposes the whole region again, for its owner;
/// - chapter 2: a block is exposed when it is handed out
///   (mark_allocated()) and poisoned when it becomes free (its user frees
///   it, or it is the filler in front of an aligned block); a header or a
///   link is exposed just before it is written (create_header(),
///   ExplicitFreeList::insert());
/// - chapter 3: nothing new: what a split leaves free was poisoned already;
/// - chapter 4: a block is poisoned whenever it goes on a free list, which
///   every free block does after each merge or split; chapter 5: whenever
///   it is parked on a quick list (and exposed when it leaves one); footers and
///   the epilogue are exposed just before they are written; a block that
///   grows in place exposes the bytes it gained. Mapped large blocks are
///   unmapped on free: nothing to poison.
///
/// mimalloc works the same way (one small tracking header for ASan and
/// Valgrind); glibc's malloc needs none, because both tools replace it.
#pragma once

#include <cstddef>

// GCC announces AddressSanitizer with __SANITIZE_ADDRESS__, clang with
// __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define HEAPLAB_TRACK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAPLAB_TRACK_ASAN 1
#endif
#endif

#if defined(HEAPLAB_TRACK_ASAN)
#include <sanitizer/asan_interface.h>
#elif defined(HEAPLAB_TRACK_VALGRIND)
#include <valgrind/memcheck.h>
#endif

/// The tracking layer's vocabulary (see tracking.hpp).
namespace heaplab::track {

/// The tools the tracking layer can report to.
enum class Tool {
  none,               ///< No tracking: every call compiles to nothing.
  address_sanitizer,  ///< AddressSanitizer's manual poisoning (asan_interface.h).
  memcheck,           ///< Valgrind memcheck's client requests (valgrind/memcheck.h).
};

#if defined(HEAPLAB_TRACK_ASAN)
inline constexpr Tool tool = Tool::address_sanitizer;
#elif defined(HEAPLAB_TRACK_VALGRIND)
inline constexpr Tool tool = Tool::memcheck;
#else
/// The tool this build reports to.
inline constexpr Tool tool = Tool::none;
#endif

/// True when this build tracks free memory.
inline constexpr bool enabled = tool != Tool::none;

/// Marks the \p n bytes at \p p as not to be touched: a read or write of
/// them is reported. \p p and \p n are multiples of 8 wherever the course
/// calls it, so AddressSanitizer (which tracks 8-byte granules) poisons
/// exactly these bytes.
inline void poison(const void* p, std::size_t n) noexcept {
#if defined(HEAPLAB_TRACK_ASAN)
  ASAN_POISON_MEMORY_REGION(p, n);
#elif defined(HEAPLAB_TRACK_VALGRIND)
  static_cast<void>(VALGRIND_MAKE_MEM_NOACCESS(p, n));
#else
  static_cast<void>(p);
  static_cast<void>(n);
#endif
}

/// Marks the \p n bytes at \p p as usable again. To memcheck they are
/// *undefined* (as malloc's fresh bytes are), so a program that branches on
/// a byte it never wrote is reported too; bytes written afterwards become
/// defined.
inline void expose(const void* p, std::size_t n) noexcept {
#if defined(HEAPLAB_TRACK_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#elif defined(HEAPLAB_TRACK_VALGRIND)
  static_cast<void>(VALGRIND_MAKE_MEM_UNDEFINED(p, n));
#else
  static_cast<void>(p);
  static_cast<void>(n);
#endif
}

}  // namespace heaplab::track
