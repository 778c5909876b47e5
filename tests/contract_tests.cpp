// The shared contract suite (tests/suites/contract_suite.hpp) over every
// allocator of the course, from every stage: the fixtures listed in
// allocator_fixtures.hpp.
#include "tests/allocator_fixtures.hpp"
#include "tests/suites/contract_suite.hpp"

HEAPLAB_APPLY_CONTRACT_SUITE(heaplab::testing::ContractAllocators, heaplab::testing::ReallocatingAllocators);
