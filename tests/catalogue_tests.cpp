// The bad-input catalogue (tests/suites/catalogue_suite.hpp) over every
// allocator of the course: the fixtures listed in allocator_fixtures.hpp.
#include "tests/allocator_fixtures.hpp"
#include "tests/suites/catalogue_suite.hpp"

HEAPLAB_APPLY_CATALOGUE_SUITE(heaplab::testing::ContractAllocators, heaplab::testing::ReallocatingAllocators,
                              heaplab::testing::MappingAllocators);
