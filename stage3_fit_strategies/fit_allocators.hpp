/// \file
/// Chapter 3's allocators: chapter 2's FreeListAllocator, unchanged, over a
/// free list that places each request by a policy and splits the block.
///
/// Nothing of chapter 2 is copied: `allocate`, `deallocate`, `reallocate`,
/// `stats` and `check` are chapter 2's code; what is new is the free list
/// (fit_free_list.hpp) and its placement policies (placement.hpp).
#pragma once

#include "stage2_free_list/free_list_allocator.hpp"
#include "stage3_fit_strategies/fit_free_list.hpp"
#include "stage3_fit_strategies/placement.hpp"

namespace heaplab {

/// A free-list allocator that places requests by \p Policy and splits
/// blocks with \p Splitter (the course's split_to_fit() unless told).
template <class Policy, class Splitter = SplitToFit>
using FitAllocator = FreeListAllocator<FitFreeList<Policy, Splitter>>;

/// The first block on the list that fits.
using FirstFitAllocator = FitAllocator<FirstFit>;
/// The first block that fits after the last search's stop.
using NextFitAllocator = FitAllocator<NextFit>;
/// The smallest block that fits.
using BestFitAllocator = FitAllocator<BestFit>;
/// The largest block that fits.
using WorstFitAllocator = FitAllocator<WorstFit>;

extern template class FreeListAllocator<FitFreeList<FirstFit>>;
extern template class FreeListAllocator<FitFreeList<NextFit>>;
extern template class FreeListAllocator<FitFreeList<BestFit>>;
extern template class FreeListAllocator<FitFreeList<WorstFit>>;

static_assert(Reallocating<FirstFitAllocator>);
static_assert(Reallocating<NextFitAllocator>);
static_assert(Reallocating<BestFitAllocator>);
static_assert(Reallocating<WorstFitAllocator>);

}  // namespace heaplab
