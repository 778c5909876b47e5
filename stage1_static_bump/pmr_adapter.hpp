/// \file
/// Any course allocator as a `std::pmr::memory_resource`, so standard
/// containers (`std::pmr::vector`, `std::pmr::string`, ...) can use it.
#pragma once

#include <cstddef>
#include <memory_resource>
#include <new>

#include "stage1_static_bump/contract.hpp"

namespace heaplab {

/// Adapts an Allocator to `std::pmr::memory_resource`.
///
/// The course's allocators answer "cannot serve" with nullptr; a
/// memory_resource must throw `std::bad_alloc` instead, so the adapter
/// translates. It refers to the allocator; it does not own it.
template <Allocator A>
class PmrAdapter final : public std::pmr::memory_resource {
 public:
  /// An adapter over \p allocator, which must outlive it.
  explicit PmrAdapter(A& allocator) noexcept : allocator_(&allocator) {}

  /// The adapted allocator.
  [[nodiscard]] A& allocator() const noexcept { return *allocator_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    void* block = allocator_->allocate(bytes, alignment);
    if (block == nullptr) throw std::bad_alloc();
    return block;
  }
  void do_deallocate(void* p, std::size_t /*bytes*/, std::size_t /*alignment*/) override {
    allocator_->deallocate(p);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    // Two adapters are interchangeable when they front the same allocator:
    // memory from one can then be returned through the other.
    const auto* same_kind = dynamic_cast<const PmrAdapter*>(&other);
    return same_kind != nullptr && same_kind->allocator_ == allocator_;
  }

  A* allocator_;  ///< The allocator every call goes to; never null.
};

}  // namespace heaplab
