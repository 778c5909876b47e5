/// \file
/// The allocators the shared contract suite runs over, one fixture each.
///
/// A fixture builds a fresh allocator with a known amount of memory behind
/// it, small enough that tests reach exhaustion in a few steps. Every fixture
/// provides:
///
///     using allocator_type = ...;          // the allocator under test
///     static constexpr std::size_t capacity;  // bytes of memory behind it:
///                                          // no single request larger fits
///     allocator_type& allocator();         // the fresh allocator
///
/// and a display name, given with TYPE_TO_STRING_AS, that starts with its
/// stage ("stage1: ..."): tests/CMakeLists.txt labels each contract test
/// with its stage by that prefix.
///
/// A new stage adds its fixtures here and appends them to ContractAllocators;
/// nothing else in the contract suite changes. Allocators that also model
/// heaplab::Reallocating (stage 2 on) are appended to ReallocatingAllocators
/// too, which the model-based random test (model_tests.cpp) runs over.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <span>
#include <tuple>
#include <vector>

#include "stage1_static_bump/atomic_bump_allocator.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "stage1_static_bump/static_heap.hpp"
#include "stage1_static_bump/synchronized.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage4_coalescing/address_ordered.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/deferred_coalescing.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "stage5_real_malloc/size_class_pages.hpp"
#include "stage5_real_malloc/thread_caches.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/test_chunk_source.hpp"

namespace heaplab::testing {

/// Size of the small heaps the contract suite uses.
inline constexpr std::size_t kTestHeapBytes = std::size_t{256} * 1024;

// ---- Stage 1 -------------------------------------------------------------

/// BumpAllocator over a caller-provided region.
struct BumpOverSpan {
  using allocator_type = BumpAllocator;
  static constexpr std::size_t capacity = kTestHeapBytes;
  allocator_type& allocator() noexcept { return heap; }

  std::vector<std::byte> memory = std::vector<std::byte>(capacity);
  BumpAllocator heap{memory};
};

/// BumpAllocator on the static 10 MiB heap (the default constructor).
struct BumpOnStaticHeap {
  using allocator_type = BumpAllocator;
  static constexpr std::size_t capacity = kStaticHeapSize;
  allocator_type& allocator() noexcept { return heap; }

  BumpAllocator heap;
};

/// The lock-free bump allocator over a caller-provided region.
struct AtomicBumpOverSpan {
  using allocator_type = AtomicBumpAllocator;
  static constexpr std::size_t capacity = kTestHeapBytes;
  allocator_type& allocator() noexcept { return heap; }

  std::vector<std::byte> memory = std::vector<std::byte>(capacity);
  AtomicBumpAllocator heap{memory};
};

/// A growing arena whose upstream holds a small budget, so that the arena's
/// limit (equal to the budget) is reached after a few chunks.
struct ArenaOverBudget {
  using allocator_type = GrowingArena;
  static constexpr std::size_t capacity = kTestHeapBytes;
  allocator_type& allocator() noexcept { return heap; }

  TestChunkSource source{capacity};
  GrowingArena heap{source, GrowthPolicy{.first_chunk = capacity / 16,
                                         .max_chunk = capacity / 4,
                                         .limit = capacity}};
};

/// The mutex wrapper around a BumpAllocator over a caller-provided region.
struct SynchronizedBump {
  using allocator_type = Synchronized<BumpAllocator>;
  static constexpr std::size_t capacity = kTestHeapBytes;
  allocator_type& allocator() noexcept { return heap; }

  std::vector<std::byte> memory = std::vector<std::byte>(capacity);
  Synchronized<BumpAllocator> heap{std::span<std::byte>(memory)};
};

// ---- Stage 2 -------------------------------------------------------------
//
// Their regions are page-aligned: block addresses modulo 4096, and with them
// the gap every aligned request needs, are then the same in every process,
// so a seed of the model test replays exactly, alone or after other runs.

/// Alignment of the stage-2 fixtures' regions: a page.
inline constexpr std::size_t kFixtureRegionAlignment = 4096;

/// The explicit (LIFO) free-list allocator over a caller-provided region.
struct ExplicitListOverSpan {
  using allocator_type = ExplicitListAllocator;
  static constexpr std::size_t capacity = kTestHeapBytes;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{capacity, kFixtureRegionAlignment};
  ExplicitListAllocator heap{memory.bytes()};
};

/// The implicit (walk every block) free-list allocator over a caller-provided region.
struct ImplicitListOverSpan {
  using allocator_type = ImplicitListAllocator;
  static constexpr std::size_t capacity = kTestHeapBytes;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{capacity, kFixtureRegionAlignment};
  ImplicitListAllocator heap{memory.bytes()};
};

/// The explicit free-list allocator on the static 10 MiB heap (the default constructor).
struct ExplicitListOnStaticHeap {
  using allocator_type = ExplicitListAllocator;
  static constexpr std::size_t capacity = kStaticHeapSize;
  allocator_type& allocator() noexcept { return heap; }

  ExplicitListAllocator heap;
};

/// The mutex wrapper around an explicit free-list allocator over a caller-provided region.
struct SynchronizedExplicitList {
  using allocator_type = Synchronized<ExplicitListAllocator>;
  static constexpr std::size_t capacity = kTestHeapBytes;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{capacity, kFixtureRegionAlignment};
  Synchronized<ExplicitListAllocator> heap{memory.bytes()};
};

// ---- Stage 3 -------------------------------------------------------------
//
// The four placement policies over page-aligned regions, for the same
// reason as stage 2's: a seed of the model test replays exactly.

/// An allocator of chapter 3 (FirstFitAllocator, ...) over a caller-provided region.
template <class FitAllocator>
struct FitOverSpan {
  using allocator_type = FitAllocator;
  static constexpr std::size_t capacity = kTestHeapBytes;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{capacity, kFixtureRegionAlignment};
  FitAllocator heap{memory.bytes()};
};

/// First fit with splitting over a caller-provided region.
using FirstFitOverSpan = FitOverSpan<FirstFitAllocator>;
/// Next fit with splitting over a caller-provided region.
using NextFitOverSpan = FitOverSpan<NextFitAllocator>;
/// Best fit with splitting over a caller-provided region.
using BestFitOverSpan = FitOverSpan<BestFitAllocator>;
/// Worst fit with splitting over a caller-provided region.
using WorstFitOverSpan = FitOverSpan<WorstFitAllocator>;

// ---- Stage 4 -------------------------------------------------------------
//
// Every allocator of chapter 4 over a page-aligned region (for the same
// reason as stage 2's): one region, constructed from a span, with nothing
// past it. (Segregated fits, quick fit, growth and mapped blocks are
// chapter 5's, below.)
//
// The model test (model_tests.cpp) runs a fixture's seeds with
// kDefaultOperations / model_operations_divisor operations each. There are
// seven fixtures here, each checked after every operation, so each runs
// half the operations to keep the whole suite within CI's time. Half a run
// still goes through every phase of the live-block target several times
// per seed.

/// Operations of the model test, divided by this, for each stage-4 fixture.
inline constexpr std::size_t kStage4ModelOperationsDivisor = 2;

/// A chapter-4 allocator (CoalescingFirstFit, ...) over a caller-provided
/// region: the region is all there is.
template <class Coalescing>
struct CoalescingOverSpan {
  using allocator_type = Coalescing;
  static constexpr std::size_t capacity = kTestHeapBytes;
  static constexpr std::size_t model_operations_divisor = kStage4ModelOperationsDivisor;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{capacity, kFixtureRegionAlignment};
  Coalescing heap{memory.bytes()};
};

/// Boundary tags with first fit over a caller-provided region.
using CoalescingFirstFitOverSpan = CoalescingOverSpan<CoalescingFirstFit>;
/// Boundary tags with next fit over a caller-provided region.
using CoalescingNextFitOverSpan = CoalescingOverSpan<CoalescingNextFit>;
/// Boundary tags with best fit over a caller-provided region.
using CoalescingBestFitOverSpan = CoalescingOverSpan<CoalescingBestFit>;
/// Boundary tags with worst fit over a caller-provided region.
using CoalescingWorstFitOverSpan = CoalescingOverSpan<CoalescingWorstFit>;
/// First fit over an address-ordered list, over a caller-provided region.
using AddressOrderedOverSpan = CoalescingOverSpan<AddressOrderedFirstFit>;
/// Deferred coalescing over a caller-provided region.
using DeferredOverSpan = CoalescingOverSpan<DeferredFirstFit>;
/// Footer elision over a caller-provided region.
using ElidedOverSpan = CoalescingOverSpan<ElidedFirstFit>;

// ---- Stage 5 -------------------------------------------------------------
//
// Over page-aligned regions, as every fixture from stage 2 on, so that a
// seed of the model test replays exactly. The model test checks the heap
// after every operation, and segregated fits check one list per size
// class, so these run half the operations too.

/// Operations of the model test, divided by this, for each stage-5 fixture.
inline constexpr std::size_t kStage5ModelOperationsDivisor = 2;

/// A chapter-5 allocator over a caller-provided region, with no upstream:
/// the region is all there is.
template <class RealMalloc>
struct RealMallocOverSpan {
  using allocator_type = RealMalloc;
  static constexpr std::size_t capacity = kTestHeapBytes;
  static constexpr std::size_t model_operations_divisor = kStage5ModelOperationsDivisor;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{capacity, kFixtureRegionAlignment};
  RealMalloc heap{memory.bytes(), Upstream{}};
};

/// Segregated fits over a caller-provided region.
using SegregatedOverSpan = RealMallocOverSpan<SegregatedFitAllocator>;
/// Quick fit (segregated fits with quick lists) over a caller-provided region.
using QuickFitOverSpan = RealMallocOverSpan<QuickFitAllocator>;
/// Two-level segregated fits (TLSF's O(1) good fit) over a caller-provided region.
using TwoLevelOverSpan = RealMallocOverSpan<TwoLevelFitAllocator>;

/// Segregated fits on a quarter of the memory, growing into the rest from
/// the process's mmap source: new regions, and a mapping of its own for
/// every request of 8 KiB or more. The allocator's growth limit is the
/// budget, so the heap is exhausted at `capacity` bytes like the others.
/// (mmap's chunks are page-aligned: a seed of the model test replays.)
struct SegregatedWithUpstream {
  using allocator_type = SegregatedFitAllocator;
  static constexpr std::size_t capacity = kTestHeapBytes;
  static constexpr std::size_t model_operations_divisor = kStage5ModelOperationsDivisor;
  /// Bytes of the first region; the rest of `capacity` comes from upstream.
  static constexpr std::size_t region_bytes = capacity / 4;
  /// Requests of at least this many bytes are mapped (catalogue_tests.cpp's
  /// MapsLargeBlocks looks for this member).
  static constexpr std::size_t mmap_threshold = std::size_t{8} * 1024;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{region_bytes, kFixtureRegionAlignment};
  MmapChunkSource source;
  SegregatedFitAllocator heap{memory.bytes(),
                              Upstream{.source = &source,
                                       .mmap_threshold = mmap_threshold,
                                       .growth = GrowthPolicy{.first_chunk = capacity / 16,
                                                              .max_chunk = capacity / 4,
                                                              .limit = capacity - region_bytes}}};
};

/// Small pages in front of segregated fits, over a caller-provided region
/// of 2 MiB: room for a page of every size class (32 of 64 KiB) and more.
struct SmallPagesOverSpan {
  using allocator_type = SmallPagesAllocator;
  static constexpr std::size_t capacity = std::size_t{2} * 1024 * 1024;
  static constexpr std::size_t model_operations_divisor = kStage5ModelOperationsDivisor;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{capacity, kFixtureRegionAlignment};
  SmallPagesAllocator heap{memory.bytes(), Upstream{}};
};

/// A cache per thread in front of SmallPagesOverSpan's heap: thread-safe
/// by itself, run here by one thread (concurrency_tests.cpp runs many).
struct ThreadCachesOverSpan {
  using allocator_type = ThreadCachesAllocator;
  static constexpr std::size_t capacity = SmallPagesOverSpan::capacity;
  static constexpr std::size_t model_operations_divisor = kStage5ModelOperationsDivisor;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{capacity, kFixtureRegionAlignment};
  ThreadCachesAllocator heap{memory.bytes(), Upstream{}};
};

// ---- The lists the shared suites run over ----------------------------------

/// Every allocator of the course: the contract suite (contract_tests.cpp).
using ContractAllocators =
    std::tuple<BumpOverSpan, BumpOnStaticHeap, AtomicBumpOverSpan, ArenaOverBudget, SynchronizedBump,
               ExplicitListOverSpan, ImplicitListOverSpan, ExplicitListOnStaticHeap,
               SynchronizedExplicitList, FirstFitOverSpan, NextFitOverSpan, BestFitOverSpan,
               WorstFitOverSpan, CoalescingFirstFitOverSpan, CoalescingNextFitOverSpan,
               CoalescingBestFitOverSpan, CoalescingWorstFitOverSpan, AddressOrderedOverSpan,
               DeferredOverSpan, ElidedOverSpan, SegregatedOverSpan, SegregatedWithUpstream, QuickFitOverSpan,
               TwoLevelOverSpan,
               SmallPagesOverSpan, ThreadCachesOverSpan>;

/// Every allocator that gives single blocks back and resizes them
/// (heaplab::Reallocating): the model-based random test (model_tests.cpp)
/// and the reallocation part of the contract suite.
using ReallocatingAllocators =
    std::tuple<ExplicitListOverSpan, ImplicitListOverSpan, ExplicitListOnStaticHeap,
               SynchronizedExplicitList, FirstFitOverSpan, NextFitOverSpan, BestFitOverSpan,
               WorstFitOverSpan, CoalescingFirstFitOverSpan, CoalescingNextFitOverSpan,
               CoalescingBestFitOverSpan, CoalescingWorstFitOverSpan, AddressOrderedOverSpan,
               DeferredOverSpan, ElidedOverSpan, SegregatedOverSpan, SegregatedWithUpstream, QuickFitOverSpan,
               TwoLevelOverSpan,
               SmallPagesOverSpan, ThreadCachesOverSpan>;

/// The fixtures that map large blocks: the bad-input catalogue's rows for
/// them (catalogue_tests.cpp).
using MappingAllocators = std::tuple<SegregatedWithUpstream>;

}  // namespace heaplab::testing

TYPE_TO_STRING_AS("stage1: BumpAllocator over a span", heaplab::testing::BumpOverSpan);
TYPE_TO_STRING_AS("stage1: BumpAllocator on the static heap", heaplab::testing::BumpOnStaticHeap);
TYPE_TO_STRING_AS("stage1: AtomicBumpAllocator over a span", heaplab::testing::AtomicBumpOverSpan);
TYPE_TO_STRING_AS("stage1: GrowingArena over a budget", heaplab::testing::ArenaOverBudget);
TYPE_TO_STRING_AS("stage1: Synchronized BumpAllocator", heaplab::testing::SynchronizedBump);
TYPE_TO_STRING_AS("stage2: ExplicitListAllocator over a span", heaplab::testing::ExplicitListOverSpan);
TYPE_TO_STRING_AS("stage2: ImplicitListAllocator over a span", heaplab::testing::ImplicitListOverSpan);
TYPE_TO_STRING_AS("stage2: ExplicitListAllocator on the static heap",
                  heaplab::testing::ExplicitListOnStaticHeap);
TYPE_TO_STRING_AS("stage2: Synchronized ExplicitListAllocator", heaplab::testing::SynchronizedExplicitList);
TYPE_TO_STRING_AS("stage3: FirstFitAllocator over a span", heaplab::testing::FirstFitOverSpan);
TYPE_TO_STRING_AS("stage3: NextFitAllocator over a span", heaplab::testing::NextFitOverSpan);
TYPE_TO_STRING_AS("stage3: BestFitAllocator over a span", heaplab::testing::BestFitOverSpan);
TYPE_TO_STRING_AS("stage3: WorstFitAllocator over a span", heaplab::testing::WorstFitOverSpan);
TYPE_TO_STRING_AS("stage4: CoalescingFirstFit over a span", heaplab::testing::CoalescingFirstFitOverSpan);
TYPE_TO_STRING_AS("stage4: CoalescingNextFit over a span", heaplab::testing::CoalescingNextFitOverSpan);
TYPE_TO_STRING_AS("stage4: CoalescingBestFit over a span", heaplab::testing::CoalescingBestFitOverSpan);
TYPE_TO_STRING_AS("stage4: CoalescingWorstFit over a span", heaplab::testing::CoalescingWorstFitOverSpan);
TYPE_TO_STRING_AS("stage4: AddressOrderedFirstFit over a span", heaplab::testing::AddressOrderedOverSpan);
TYPE_TO_STRING_AS("stage4: DeferredFirstFit over a span", heaplab::testing::DeferredOverSpan);
TYPE_TO_STRING_AS("stage4: ElidedFirstFit over a span", heaplab::testing::ElidedOverSpan);
TYPE_TO_STRING_AS("stage5: SegregatedFitAllocator over a span", heaplab::testing::SegregatedOverSpan);
TYPE_TO_STRING_AS("stage5: QuickFitAllocator over a span", heaplab::testing::QuickFitOverSpan);
TYPE_TO_STRING_AS("stage5: TwoLevelFitAllocator over a span", heaplab::testing::TwoLevelOverSpan);
TYPE_TO_STRING_AS("stage5: SegregatedFitAllocator with growth and mapped blocks",
                  heaplab::testing::SegregatedWithUpstream);
TYPE_TO_STRING_AS("stage5: SmallPages over two-level fits", heaplab::testing::SmallPagesOverSpan);
TYPE_TO_STRING_AS("stage5: thread caches", heaplab::testing::ThreadCachesOverSpan);
