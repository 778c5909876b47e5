// A deliberate use-after-free inside a course heap, for the tracking
// layer's tests (stage1_static_bump/tracking.hpp, tests/tracking/CMakeLists.txt).
//
// The heap is an array this program owns, so the freed block is still
// there: without tracking, AddressSanitizer and memcheck see a valid read
// of the program's own memory and say nothing. With tracking, the freed
// block's payload is poisoned and the bad access must be reported, at the
// line that makes it.
//
//     use_after_free <allocator> <misuse> <size>
//       allocator  explicit-list (chapter 2), best-fit (chapter 3),
//                  quick-fit (chapter 4: a small block is parked on a quick
//                  list, a large one merged and listed)
//       misuse     read-after-free   read the middle byte of a freed block
//                  write-after-free  write it
//                  overflow          write the byte just past the usable size
//                                    of the heap's last block, into the heap's
//                                    unused part (chapters 2 and 3: chapter
//                                    4's epilogue header sits there)
//                  none              no misuse: the negative control, which
//                                    must run clean under either tool
//       size       bytes to allocate (at least 64, so that the middle byte
//                  lies past the links a free block keeps: see
//                  poison_free_payload() in stage2_free_list/block.hpp)
//
// Exit status: 0 when the program ran to its end (under a tool, only the
// tool's report tells whether the misuse was caught), 2 for bad arguments,
// 1 when the allocator misbehaved.
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <string_view>
#include <system_error>

#include "stage2_free_list/free_list_allocator.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage5_real_malloc/real_malloc.hpp"

namespace {

/// The heap: this program's own memory, as the tools see it.
alignas(std::max_align_t) std::array<std::byte, std::size_t{64} * 1024> region;

enum class Misuse { read_after_free, write_after_free, overflow, none };

// The two accesses the tools must point at. Out of line, so that a report's
// first frame names them; volatile, so that the access really happens.
[[gnu::noinline]] int read_byte(const std::byte* p) {
  return std::to_integer<int>(*static_cast<const volatile std::byte*>(p));
}
[[gnu::noinline]] void write_byte(std::byte* p) { *static_cast<volatile std::byte*>(p) = std::byte{0x5a}; }

/// Fills the \p n bytes at \p p with a pattern and reads them back: every
/// usable byte of a live block is the program's to use.
bool use_all(std::byte* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>(i * 7 + 1);
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != static_cast<std::byte>(i * 7 + 1)) return false;
  }
  return true;
}

/// The negative control: everything a correct program may do with the
/// heap, blocks reused after a free and resized in place included.
template <class A>
bool use_correctly(A& heap, std::size_t size) {
  auto* const first = static_cast<std::byte*>(heap.allocate(size));
  auto* const second = static_cast<std::byte*>(heap.allocate(size));
  if (first == nullptr || second == nullptr) return false;
  if (!use_all(first, heap.usable_size(first)) || !use_all(second, heap.usable_size(second))) return false;
  heap.deallocate(second);
  // A block freed, then handed out again, is usable again.
  auto* const again = static_cast<std::byte*>(heap.allocate(size));
  if (again == nullptr || !use_all(again, heap.usable_size(again))) return false;
  heap.deallocate(again);
  // Growing keeps the old bytes and adds new ones (in place where the
  // allocator can: chapter 4 takes in the free block after it).
  const std::byte kept = first[size / 2];
  auto* const grown = static_cast<std::byte*>(heap.reallocate(first, 3 * size));
  if (grown == nullptr || grown[size / 2] != kept || !use_all(grown, heap.usable_size(grown))) return false;
  heap.deallocate(grown);
  return static_cast<bool>(heap.check());
}

/// Runs \p misuse on a fresh \p A over the program's region; false when
/// the allocator itself failed.
template <class A>
bool run(Misuse misuse, std::size_t size) {
  A heap(region);
  if (misuse == Misuse::none) return use_correctly(heap, size);
  auto* const block = static_cast<std::byte*>(heap.allocate(size));
  if (block == nullptr) return false;
  const std::size_t usable = heap.usable_size(block);
  if (!use_all(block, usable)) return false;
  switch (misuse) {
    case Misuse::read_after_free:
      heap.deallocate(block);
      std::printf("read after free: %d\n", read_byte(block + size / 2));
      break;
    case Misuse::write_after_free:
      heap.deallocate(block);
      write_byte(block + size / 2);
      std::printf("wrote after free\n");
      break;
    case Misuse::overflow:
      write_byte(block + usable);
      std::printf("wrote past the usable size (%zu bytes)\n", usable);
      heap.deallocate(block);
      break;
    case Misuse::none:
      break;
  }
  return true;
}

bool parse_misuse(std::string_view name, Misuse& misuse) {
  if (name == "read-after-free") {
    misuse = Misuse::read_after_free;
  } else if (name == "write-after-free") {
    misuse = Misuse::write_after_free;
  } else if (name == "overflow") {
    misuse = Misuse::overflow;
  } else if (name == "none") {
    misuse = Misuse::none;
  } else {
    return false;
  }
  return true;
}

bool parse_size(std::string_view text, std::size_t& size) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), size);
  return error == std::errc{} && end == text.data() + text.size() && size >= 64 && size <= 4096;
}

}  // namespace

int main(int argc, char** argv) {
  Misuse misuse{};
  std::size_t size = 0;
  if (argc != 4 || !parse_misuse(argv[2], misuse) || !parse_size(argv[3], size)) {
    std::fprintf(stderr,
                 "usage: use_after_free explicit-list|best-fit|coalesce-first-fit|quick-fit "
                 "read-after-free|write-after-free|overflow|none <size: 64 to 4096>\n");
    return 2;
  }
  const std::string_view allocator = argv[1];
  bool ran = false;
  if (allocator == "explicit-list") {
    ran = run<heaplab::ExplicitListAllocator>(misuse, size);
  } else if (allocator == "best-fit") {
    ran = run<heaplab::BestFitAllocator>(misuse, size);
  } else if (allocator == "coalesce-first-fit") {
    ran = run<heaplab::CoalescingFirstFit>(misuse, size);
  } else if (allocator == "quick-fit") {
    ran = run<heaplab::QuickFitAllocator>(misuse, size);
  } else {
    std::fprintf(stderr, "use_after_free: unknown allocator '%s'\n", argv[1]);
    return 2;
  }
  if (!ran) {
    std::fprintf(stderr, "use_after_free: the allocator failed\n");
    return 1;
  }
  return 0;
}
