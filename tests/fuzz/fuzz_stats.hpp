/// \file
/// The stats of any chapter as a list of named numbers, so that the fuzz
/// harness can say "misuse changed `free_blocks`" instead of only "the
/// stats differ".
///
/// Misuse and rejected requests must leave no trace at all: the harness
/// takes the stats before and after, and first_difference() names the
/// first field that moved; first_fallen_lifetime_field() names a lifetime
/// count that went down, which no operation may do. Each chapter's stats type adds its fields to
/// its parent's, as the types themselves do.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage5_real_malloc/malloc_stats.hpp"

namespace heaplab::fuzzing {

/// One field of a stats struct: its name and its value.
struct NamedCount {
  std::string_view name;  ///< The field's name, as in the struct.
  std::size_t value = 0;  ///< Its value.
};

/// Every field of a HeapStats, FreeListStats, CoalescingStats or MallocStats, in
/// declaration order.
class StatsFields {
 public:
  /// The fields of the contract.
  explicit StatsFields(const HeapStats& s) noexcept {
    add("capacity", s.capacity);
    add("used", s.used);
    add("requested", s.requested);
    add("padding", s.padding);
    add("live_allocations", s.live_allocations);
    add("high_water", s.high_water);
    add("peak_requested", s.peak_requested);
    add("allocations", s.allocations);
    add("exhausted", s.exhausted);
    add("rejected", s.rejected);
  }
  /// The contract's fields and chapter 2's.
  explicit StatsFields(const FreeListStats& s) noexcept : StatsFields(static_cast<const HeapStats&>(s)) {
    add("free_blocks", s.free_blocks);
    add("free_bytes", s.free_bytes);
    add("payload_bytes", s.payload_bytes);
    add("header_bytes", s.header_bytes);
    add("searches", s.searches);
    add("blocks_visited", s.blocks_visited);
  }
  /// The contract's fields, chapter 2's and chapter 4's.
  explicit StatsFields(const CoalescingStats& s) noexcept
      : StatsFields(static_cast<const FreeListStats&>(s)) {
    add("merges", s.merges);
    add("merge_passes", s.merge_passes);
  }
  /// The contract's fields, chapter 2's, chapter 4's and chapter 5's.
  explicit StatsFields(const MallocStats& s) noexcept : StatsFields(static_cast<const CoalescingStats&>(s)) {
    add("regions", s.regions);
    add("mapped_blocks", s.mapped_blocks);
    add("mapped_bytes", s.mapped_bytes);
    add("quick_blocks", s.quick_blocks);
  }

  /// The fields, in declaration order.
  [[nodiscard]] std::span<const NamedCount> fields() const noexcept { return {fields_.data(), count_}; }

 private:
  void add(std::string_view name, std::size_t value) noexcept { fields_[count_++] = {name, value}; }

  std::array<NamedCount, 24> fields_{};  ///< Room for the largest stats type.
  std::size_t count_ = 0;                ///< Fields filled in.
};

/// The name of the first field whose value differs between \p before and
/// \p after, leaving out the field named \p except; empty when none does.
[[nodiscard]] inline std::string_view first_difference(const StatsFields& before, const StatsFields& after,
                                                       std::string_view except = {}) noexcept {
  const std::span<const NamedCount> old_fields = before.fields();
  const std::span<const NamedCount> new_fields = after.fields();
  for (std::size_t i = 0; i < old_fields.size(); ++i) {
    if (old_fields[i].name != except && old_fields[i].value != new_fields[i].value) return old_fields[i].name;
  }
  return {};
}

/// True for the fields the contract calls lifetime: they only ever grow,
/// through frees, resets and rewinds, and through a grown region given
/// back to the system.
[[nodiscard]] inline bool is_lifetime_field(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 9> kLifetime = {
      "high_water", "peak_requested", "allocations", "exhausted", "rejected",
      "searches",   "blocks_visited", "merges",      "merge_passes"};
  return std::find(kLifetime.begin(), kLifetime.end(), name) != kLifetime.end();
}

/// The first lifetime field that is smaller in \p after than in \p before,
/// with both values; nullopt when none fell.
[[nodiscard]] inline std::optional<std::pair<NamedCount, NamedCount>> first_fallen_lifetime_field(
    const StatsFields& before, const StatsFields& after) noexcept {
  const std::span<const NamedCount> old_fields = before.fields();
  const std::span<const NamedCount> new_fields = after.fields();
  for (std::size_t i = 0; i < old_fields.size(); ++i) {
    if (is_lifetime_field(old_fields[i].name) && new_fields[i].value < old_fields[i].value) {
      return std::pair{old_fields[i], new_fields[i]};
    }
  }
  return std::nullopt;
}

}  // namespace heaplab::fuzzing
