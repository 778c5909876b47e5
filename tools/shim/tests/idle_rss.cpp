/// \file
/// How much memory a process keeps once it has freed everything: the idle
/// measurement of real_programs.md, run on glibc and under each shim
/// (measure_idle_rss.py).
///
///     idle_rss <MiB> [<idle seconds> [trim]]
///
/// allocates <MiB> MiB live in blocks of 64 B to 64 KiB, each size drawn
/// uniformly on a log scale (so most are mid-sized: half lie between 512 B
/// and 8 KiB), writes every byte of each (so every page is committed, as a
/// program's data would be), frees them all in a shuffled order, idles
/// for the given seconds (default 0), with `trim` calls glibc's
/// malloc_trim(0), which gives back every free page glibc's heaps hold (and
/// does nothing for another malloc, preloaded), and prints what /proc/self/status
/// says: VmHWM, the peak, and VmRSS, what the process still holds.
///
///     peak 4291312 kB, after free 3480 kB
///
/// malloc and free only, the random numbers starting from fixed values, so
/// that every allocator sees the same calls. The array of pointers comes from mmap, not malloc, so
/// that it is not part of what is measured.
#include <malloc.h>  // malloc_trim (glibc)
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <utility>

namespace {

/// One field of /proc/self/status, in kB ("VmRSS", "VmHWM"); -1 if absent.
long status_kb(const char* field) {
  std::FILE* const status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return -1;
  char line[256];
  long value = -1;
  const std::size_t length = std::strlen(field);
  while (std::fgets(line, sizeof line, status) != nullptr) {
    if (std::strncmp(line, field, length) == 0 && line[length] == ':') {
      value = std::strtol(line + length + 1, nullptr, 10);
    }
  }
  std::fclose(status);
  return value;
}

/// Sizes from 64 B to 64 KiB, uniform on a log scale.
class BlockSizes {
 public:
  explicit BlockSizes(std::uint32_t start) : random_(start) {}
  std::size_t next() { return static_cast<std::size_t>(std::exp2(exponent_(random_))); }

 private:
  std::mt19937 random_;
  std::uniform_real_distribution<double> exponent_{6.0, 16.0};
};

}  // namespace

int main(int argc, char** argv) {
  const long mib = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 0;
  const long idle_seconds = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 0;
  const bool trim = argc > 3 && std::strcmp(argv[3], "trim") == 0;
  if (argc < 2 || argc > 4 || mib <= 0 || idle_seconds < 0 || (argc == 4 && !trim)) {
    std::fprintf(stderr, "usage: idle_rss <MiB> [<idle seconds> [trim]]\n");
    return 64;
  }
  const std::size_t total = static_cast<std::size_t>(mib) << 20;
  // At most one block per 64 bytes: room for every pointer.
  const std::size_t capacity = total / 64 + 1;
  void* const table = ::mmap(nullptr, capacity * sizeof(void*), PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (table == MAP_FAILED) {
    std::fprintf(stderr, "idle_rss: cannot map the table of pointers\n");
    return 1;
  }
  auto* const blocks = static_cast<void**>(table);
  BlockSizes sizes(2026);
  std::size_t count = 0;
  for (std::size_t live = 0; live < total; ++count) {
    const std::size_t size = sizes.next();
    blocks[count] = std::malloc(size);
    if (blocks[count] == nullptr) {
      std::fprintf(stderr, "idle_rss: malloc(%zu) failed after %zu MiB\n", size, live >> 20);
      return 1;
    }
    std::memset(blocks[count], static_cast<int>(count & 0xff), size);
    live += size;
  }
  std::mt19937 shuffle(7);
  for (std::size_t i = count; i > 1; --i) {
    const std::size_t j = std::uniform_int_distribution<std::size_t>(0, i - 1)(shuffle);
    std::swap(blocks[i - 1], blocks[j]);
  }
  for (std::size_t i = 0; i < count; ++i) std::free(blocks[i]);
  if (trim) ::malloc_trim(0);
  if (idle_seconds > 0) ::sleep(static_cast<unsigned>(idle_seconds));
  ::munmap(table, capacity * sizeof(void*));
  std::printf("peak %ld kB, after free %ld kB\n", status_kb("VmHWM"), status_kb("VmRSS"));
  return 0;
}
