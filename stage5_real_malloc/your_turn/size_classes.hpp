/// \file
/// Your turn, chapter 5: one size-class step, the mapping from a block size
/// to its size class, and back to the class's smallest block.
///
///     class:   0     1     2    ...   58      59          60           ...
///     sizes:   40    48    56   ...   504     512-1023    1024-2047    ...
///              \______ one size each ____/    \____ one power of two each ___
///
/// The course's segregated fits (SegregatedLists) keeps one free list per
/// class and takes its classes as a template argument. Yours run inside
/// the course's own allocator, heaplab::BasicSegregatedFitAllocator, with
/// its bitmap, good fit, footer elision, growth and large blocks: every
/// free block goes on the list your of() names, every search starts there,
/// and check() verifies that each listed block lies between your
/// smallest_block() of its class and of the next.
///
/// The chapter's section "Segregated fits" walks through the steps below.
///
/// Grade it with `cmake --workflow --preset yourturn5`.
#pragma once

#include <bit>
#include <cstddef>

#include "stage1_static_bump/your_turn.hpp"
#include "stage2_free_list/block.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator_impl.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "stage5_real_malloc/segregated_fits.hpp"

namespace heaplab::yours {

/// Your size classes, the course's layout: exact classes of one block size
/// each below kExactLimit, then one class per power of two. (The course's
/// two functions are constexpr; once yours are written, they may be too.)
struct SizeClasses {
  /// Blocks below this size have a class of their own size.
  static constexpr std::size_t kExactLimit = 512;
  /// Classes of one block size each: 40, 48, ..., 504.
  static constexpr std::size_t kExactClasses = (kExactLimit - kMinTaggedBlockSize) / kBlockGranularity;
  /// Every class: the exact ones, then one per power of two up to 2^63.
  static constexpr std::size_t kCount = kExactClasses + (64 - std::bit_width(kExactLimit)) + 1;

  /// The class of a block of \p size bytes (a whole number of 8-byte
  /// cells, at least kMinTaggedBlockSize).
  [[nodiscard]] static std::size_t of([[maybe_unused]] std::size_t size) noexcept {
    // 1. Below kExactLimit each class holds one size, one cell apart from
    //    the next: the smallest block (kMinTaggedBlockSize, 40 bytes) is
    //    class 0, 48 bytes class 1, and so on; kBlockGranularity is a cell.
    // 2. From kExactLimit up, one class per power of two follows the exact
    //    ones: 512-1023 is class kExactClasses, 1024-2047 the next, ...
    //    std::bit_width(size) says which power of two `size` lies in
    //    (bit_width(512) is 10, and so is bit_width(1023)).
    HEAPLAB_NOT_WRITTEN_YET("SizeClasses::of(): the size class of a block size");
  }

  /// The smallest block size of class \p index (`index < kCount`), the way
  /// back from of(): class `index` holds the blocks from
  /// smallest_block(index) up to smallest_block(index + 1), that one excluded.
  [[nodiscard]] static std::size_t smallest_block([[maybe_unused]] std::size_t index) noexcept {
    // 1. An exact class: undo step 1 of of().
    // 2. A power-of-two class: kExactLimit, doubled once per class past
    //    the exact ones.
    //    Check it both ways: of(smallest_block(i)) == i for every class i.
    HEAPLAB_NOT_WRITTEN_YET("SizeClasses::smallest_block(): the smallest block of a size class");
  }
};

/// The course's segregated fits with your size classes: growing into new
/// regions and mapping large blocks, as heaplab::SegregatedFitAllocator does.
using SegregatedFitAllocator = BasicSegregatedFitAllocator<yours::SizeClasses>;

}  // namespace heaplab::yours
