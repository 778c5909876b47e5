// heaplab-<name> for a malloc-lab allocator: the lab's command line with
// the mm.c of heaplab_add_malloclab() among the allocators, as "yours".
// The name and the summary come from the CMake call, as definitions.
#include <iostream>
#include <string_view>
#include <vector>

#include "tools/lab/cli.hpp"
#include "tools/lab/lab_entry.hpp"
#include "tools/malloclab/malloc_lab_allocator.hpp"

namespace {

/// The mm.c, as the lab's one allocator of yours.
constexpr heaplab::LabAllocator kYours[] = {heaplab::lab_entry<heaplab::MallocLabAllocator>(
    HEAPLAB_MALLOCLAB_NAME, "yours", "MallocLabAllocator", HEAPLAB_MALLOCLAB_SUMMARY)};

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  return heaplab::run_heaplab(args, std::cout, std::cerr, kYours);
}
