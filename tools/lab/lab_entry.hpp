/// \file
/// How any allocator becomes a row of the lab: lab_entry<A>() makes the
/// LabAllocator that replays, times and draws a fresh \p A over the lab's
/// heap. The course's table (lab_allocators.cpp) is made of these, and so is
/// a learner's own allocator, handed to run_heaplab() as one of "yours":
///
///     constexpr heaplab::LabAllocator kMine[] = {
///         heaplab::lab_entry<MyAllocator>("mine", "yours", "MyAllocator", "my first fit")};
///     return heaplab::run_heaplab(args, std::cout, std::cerr, kMine);
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string_view>

#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "tools/lab/frames.hpp"
#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/replay.hpp"
#include "tools/trace/trace.hpp"

namespace heaplab {

namespace detail {

/// A fresh \p A over \p heap: constructed from the heap's bytes when it can
/// be, else default-constructed (glibc, std::pmr: they bring their own
/// memory). The growing arena maps its own chunks, so it gets the heap's
/// size as its limit instead.
template <class A>
std::unique_ptr<A> fresh(std::span<std::byte> heap) {
  if constexpr (std::constructible_from<A, std::span<std::byte>>) {
    return std::make_unique<A>(heap);
  } else if constexpr (std::same_as<A, GrowingArena>) {
    return std::make_unique<GrowingArena>(default_chunk_source(), GrowthPolicy{.limit = heap.size()});
  } else {
    static_assert(std::default_initializable<A>,
                  "a lab allocator is constructible from std::span<std::byte>, or default-constructible");
    return std::make_unique<A>();
  }
}

/// replay() on a fresh \p A over \p heap.
template <class A>
ReplayReport replay_fresh(const Trace& trace, std::span<std::byte> heap, const ReplayOptions& options) {
  return replay(trace, *fresh<A>(heap), options);
}

/// time_replay() on a fresh \p A over \p heap.
template <class A>
std::optional<std::chrono::nanoseconds> time_fresh(const Trace& trace, std::span<std::byte> heap,
                                                   ReplayProgress* progress) {
  return time_replay(trace, *fresh<A>(heap), progress);
}

/// map_replay() on a fresh \p A over \p heap.
template <class A>
std::size_t map_fresh(const Trace& trace, std::span<std::byte> heap, std::size_t max_blocks, std::ostream& out,
                      ReplayProgress* progress) {
  return map_replay(trace, *fresh<A>(heap), max_blocks, out, progress);
}

/// frames_replay() on a fresh \p A over \p heap.
template <class A>
std::size_t frames_fresh(const Trace& trace, std::span<std::byte> heap, std::ostream& out, ReplayProgress* progress) {
  return frames_replay(trace, *fresh<A>(heap), out, progress);
}

}  // namespace detail

/// The lab's row for \p A, shown as \p name in chapter \p chapter, with its
/// C++ \p type and a one-line \p summary. \p A is constructible from
/// `std::span<std::byte>` (it runs on the lab's heap, so `--heap-size`
/// applies) or default-constructible; `heaplab map` can draw it when it
/// models heaplab::Allocator (it has a block walk).
template <class A>
constexpr LabAllocator lab_entry(std::string_view name, std::string_view chapter, std::string_view type,
                                 std::string_view summary) {
  LabAllocator allocator{name, chapter, type, summary, &detail::replay_fresh<A>, &detail::time_fresh<A>, nullptr};
  if constexpr (Allocator<A>) {
    allocator.map = &detail::map_fresh<A>;
    allocator.frames = &detail::frames_fresh<A>;
  }
  return allocator;
}

}  // namespace heaplab
