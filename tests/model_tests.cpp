// The model-based random test (tests/suites/model_suite.hpp) over every
// allocator of the course that gives single blocks back: the fixtures
// listed in ReallocatingAllocators (allocator_fixtures.hpp).
#include "tests/allocator_fixtures.hpp"
#include "tests/suites/model_suite.hpp"

HEAPLAB_APPLY_MODEL_SUITE(heaplab::testing::ReallocatingAllocators);
