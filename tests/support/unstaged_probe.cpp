// Two fixtures of one allocator for tests/CMakeLists.txt's proof that no
// fixture falls through the labels: one named like the course's
// ("stage1: ..."), one named as an outside allocator might be, with no
// stage. Each runs one case of the contract suite.
#include <cstddef>
#include <tuple>
#include <vector>

#include "stage1_static_bump/bump_allocator.hpp"
#include "tests/suites/contract_suite.hpp"

namespace heaplab::testing {

/// A BumpAllocator over 64 KiB; \p Tag only tells the two fixtures apart.
template <int Tag>
struct ProbeBump {
  using allocator_type = BumpAllocator;
  static constexpr std::size_t capacity = std::size_t{64} * 1024;
  allocator_type& allocator() noexcept { return heap; }

  std::vector<std::byte> memory = std::vector<std::byte>(capacity);
  BumpAllocator heap{memory};
};

}  // namespace heaplab::testing

TYPE_TO_STRING_AS("stage1: probe bump", heaplab::testing::ProbeBump<1>);
TYPE_TO_STRING_AS("odd-one probe bump", heaplab::testing::ProbeBump<2>);

namespace heaplab::testing::contract_suite {
TEST_SUITE_BEGIN("contract");
TEST_CASE_TEMPLATE_APPLY(owns_foreign, std::tuple<ProbeBump<1>, ProbeBump<2>>);
TEST_SUITE_END();
}  // namespace heaplab::testing::contract_suite
