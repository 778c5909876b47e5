/// \file
/// Whether a shim's heap has a ceiling: run under LD_PRELOAD of a shim, it
/// allocates until it has what it wanted or malloc says no, and exits 0
/// when the shim did what its mode says, else 1 with one line saying why.
///
///     heap_ceiling grow     1.5 GiB live in blocks of 96 KiB (the heap's),
///                           then 1.5 GiB more in blocks of 64 MiB (mapped
///                           ones): 3 GiB, three times the reservation's 1 GiB,
///                           all served (chapter 5's shims, no cap set)
///     heap_ceiling cap <N>  blocks of 96 KiB, then blocks of 1 MiB, each
///                           kind until malloc returns NULL, which it must,
///                           with errno ENOMEM, before N MiB of each
///                           (HEAPLAB_HEAP_SIZE=<N>M: the cap)
///
/// The blocks are never written: the kernel commits a page only when it is
/// touched, so 3 GiB live costs the headers' pages, some 60 MiB, and the
/// run takes a fraction of a second. A run that did not reach a shim
/// (heaplab_malloc_name() is its symbol) fails, or it would prove nothing.
#include <dlfcn.h>
#include <errno.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;
/// Below the shims' 128 KiB mapping threshold: these blocks are the heap's.
constexpr std::size_t kHeapBlock = 96 * 1024;
/// Above it: each block is a mapping of its own.
constexpr std::size_t kMappedBlock = 64 * kMiB;

/// Says why the run failed, and fails it.
int fail(const char* why) {
  std::fprintf(stderr, "heap_ceiling: %s\n", why);
  return 1;
}

/// Allocates blocks of \p size bytes into \p blocks until they hold
/// \p total bytes or malloc returns NULL (errno then in \p error); returns
/// the bytes served.
std::size_t allocate_up_to(std::vector<void*>& blocks, std::size_t size, std::size_t total, int& error) {
  std::size_t served = 0;
  while (served < total) {
    errno = 0;
    void* const p = std::malloc(size);
    if (p == nullptr) {
      error = errno;
      break;
    }
    blocks.push_back(p);
    served += size;
  }
  return served;
}

/// 3 GiB live, all of it served.
int grow() {
  std::vector<void*> blocks;
  blocks.reserve(20000);
  int error = 0;
  if (allocate_up_to(blocks, kHeapBlock, 1536 * kMiB, error) < 1536 * kMiB) {
    return fail("the heap stopped short of 1.5 GiB of 96 KiB blocks");
  }
  if (allocate_up_to(blocks, kMappedBlock, 1536 * kMiB, error) < 1536 * kMiB) {
    return fail("the mappings stopped short of 1.5 GiB of 64 MiB blocks");
  }
  for (void* p : blocks) std::free(p);
  std::printf("3 GiB live in %zu blocks, all served\n", blocks.size());
  return 0;
}

/// Each kind of block refused with ENOMEM before \p cap_mib MiB.
int cap(std::size_t cap_mib) {
  for (const std::size_t size : {kHeapBlock, kMiB}) {
    std::vector<void*> blocks;
    int error = 0;
    const std::size_t served = allocate_up_to(blocks, size, (cap_mib + 1) * kMiB, error);
    for (void* p : blocks) std::free(p);
    if (served > cap_mib * kMiB) return fail("malloc served past the cap");
    if (error != ENOMEM) return fail("malloc failed at the cap without ENOMEM");
    std::printf("blocks of %zu KiB: %zu MiB served, then NULL with ENOMEM\n", size / 1024, served / kMiB);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (dlsym(RTLD_DEFAULT, "heaplab_malloc_name") == nullptr) return fail("not running on a heaplab shim");
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "grow" && argc == 2) return grow();
  if (mode == "cap" && argc == 3) {
    const long cap_mib = std::strtol(argv[2], nullptr, 10);
    if (cap_mib > 0) return cap(static_cast<std::size_t>(cap_mib));
  }
  return fail("usage: heap_ceiling grow | heap_ceiling cap <MiB>");
}
