/// \file
/// Every allocator the strategy lab can run, by name (`heaplab list`), and
/// the heap they run on.
///
/// Each chapter adds its allocators to the table in lab_allocators.cpp, a
/// lab_entry() each (lab_entry.hpp); the lab's commands, its tests and the
/// trace benchmarks all take them from here, so an allocator added once is
/// listed, replayed and compared everywhere.
#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <span>
#include <string_view>

#include "tools/lab/replay.hpp"
#include "tools/trace/trace.hpp"

namespace heaplab {

/// One allocator of the lab: its names, and how to run a trace on a fresh
/// instance of it.
struct LabAllocator {
  std::string_view name;     ///< Its name on the command line, e.g. "first-fit".
  std::string_view chapter;  ///< "stage 1" .. "stage 5", "reference" for glibc and std::pmr, or "yours".
  std::string_view type;     ///< The C++ type (or function) it stands for, e.g. "FirstFitAllocator".
  std::string_view summary;  ///< What it does, in one line.
  /// replay() on a fresh instance over \p heap.
  ReplayReport (*replay)(const Trace& trace, std::span<std::byte> heap, const ReplayOptions& options);
  /// time_replay() on a fresh instance over \p heap, counting the
  /// operations done in \p progress when it is not null.
  std::optional<std::chrono::nanoseconds> (*time)(const Trace& trace, std::span<std::byte> heap,
                                                  ReplayProgress* progress);
  /// map_replay() on a fresh instance over \p heap (counting in \p progress
  /// when not null); null for the references, which have no block walk to draw.
  std::size_t (*map)(const Trace& trace, std::span<std::byte> heap, std::size_t max_blocks, std::ostream& out,
                     ReplayProgress* progress);
  /// frames_replay() on a fresh instance over \p heap (counting in
  /// \p progress when not null); null where #map is.
  std::size_t (*frames)(const Trace& trace, std::span<std::byte> heap, std::ostream& out,
                        ReplayProgress* progress) = nullptr;

  /// True for glibc and std::pmr, which bring their own memory (held to the
  /// lab's heap size: HeapLimited) and keep no statistics the lab could read.
  [[nodiscard]] bool is_reference() const noexcept { return chapter == "reference"; }
};

/// Every allocator of every stage, in chapter order, then the references:
/// std::pmr's pool, and glibc last.
[[nodiscard]] std::span<const LabAllocator> lab_allocators() noexcept;

/// The allocator called \p name, or nullptr.
[[nodiscard]] const LabAllocator* find_lab_allocator(std::string_view name) noexcept;

/// glibc's malloc, the reference of every comparison.
[[nodiscard]] const LabAllocator& glibc_allocator() noexcept;

/// The memory the lab's allocators run on: one lazily committed mmap
/// mapping (stage 1's MmapChunkSource), 10 MiB by default like the static
/// heap. Each run starts a fresh allocator over the same bytes, so after
/// the first run its pages are already committed and every contender
/// finds them warm, as glibc finds its own heap.
class LabHeap {
 public:
  /// A mapping of \p bytes (rounded up to whole pages). Throws
  /// std::bad_alloc when the kernel refuses it.
  explicit LabHeap(std::size_t bytes);
  LabHeap(const LabHeap&) = delete;
  LabHeap& operator=(const LabHeap&) = delete;
  ~LabHeap();  ///< Unmaps the heap.

  /// The heap's bytes, page aligned.
  [[nodiscard]] std::span<std::byte> bytes() const noexcept { return bytes_; }

 private:
  std::span<std::byte> bytes_;  ///< The mapping.
};

}  // namespace heaplab
