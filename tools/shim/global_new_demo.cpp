// The C++ side of a drop-in allocator: this program replaces every global
// operator new and operator delete with chapter 5's quick fit, then runs an
// ordinary C++ workload (containers, strings, an over-aligned type,
// threads) and shows what the allocator served.
//
// Run it with `cmake --workflow --preset tour` (all chapters) or build the
// `global_new_demo` target and run it alone. Nothing printed depends on
// where memory lies or on timing, so every run prints the same.
//
// C++ lets a program define the global allocation functions itself
// ([new.delete], "replaceable"): the linker then binds every new-expression
// of the program, and of the C++ library, to the program's definitions.
// There are twenty of them: new and new[], each plain, aligned (for types
// with alignas above 16), nothrow, and aligned nothrow; delete and
// delete[], each plain, sized, aligned, sized aligned, nothrow and aligned
// nothrow. Replacing some and not the others would let a block from our
// heap reach the C library's free, so this file defines all twenty.
//
// (The malloc shims do the same for C, one level down: with
// libheaplab-malloc-quick-fit.so preloaded, the C++ library's own
// operator new calls malloc, and lands there.)
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <new>
#include <numeric>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "stage1_static_bump/demo_output.hpp"
#include "stage1_static_bump/synchronized.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "tools/shim/immortal.hpp"

namespace {

using namespace heaplab;

// ---------------------------------------------------------------- the heap

/// The heap behind every new and delete: quick fit on the course's static
/// 10 MiB heap (growing from mmap), behind one lock, since any thread may
/// call new. Immortal: built by the first new (which may come before main,
/// from a static constructor) and never destroyed (a delete may come after
/// main, from a static destructor).
using Heap = Synchronized<QuickFitAllocator>;

Heap& heap() noexcept {
  static shim::Immortal<Heap> instance;
  return instance.get();
}

// ---------------------------------------------------------------- counting the calls

/// Single objects (new, delete) or arrays (new[], delete[]).
enum Shape : std::size_t { single, array, kShapes };

/// The four forms of operator new / new[], by their extra arguments.
enum NewForm : std::size_t { new_size, new_size_align, new_size_nothrow, new_size_align_nothrow, kNewForms };

/// The six forms of operator delete / delete[], by their extra arguments.
enum DeleteForm : std::size_t {
  delete_p,
  delete_p_size,
  delete_p_align,
  delete_p_size_align,
  delete_p_nothrow,
  delete_p_align_nothrow,
  kDeleteForms
};

/// Calls of each form, as the program made them (null deletes not counted).
std::array<std::array<std::atomic<std::size_t>, kNewForms>, kShapes> new_calls{};
std::array<std::array<std::atomic<std::size_t>, kDeleteForms>, kShapes> delete_calls{};
/// Sized deletes whose size was more than the block can hold: a caller
/// deleting through the wrong type (always 0 in a correct program).
std::atomic<std::size_t> wrong_sizes{0};

// ---------------------------------------------------------------- new and delete

// [allocate_or_throw]
/// What every throwing operator new does ([new.delete.single]): try; on
/// failure call the installed new-handler, which may free memory, install
/// another handler or throw, and try again; with no handler, throw
/// std::bad_alloc.
void* allocate_or_throw(std::size_t size, std::size_t align) {
  for (;;) {
    if (void* const p = heap().allocate(size, align)) return p;
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

/// What every nothrow operator new does: the same, with nullptr instead of
/// the exception.
void* allocate_or_null(std::size_t size, std::size_t align) noexcept {
  try {
    return allocate_or_throw(size, align);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
// [allocate_or_throw]

/// Counts one call of \p form and allocates for it.
void* counted_new(Shape shape, NewForm form, std::size_t size, std::size_t align) {
  ++new_calls[shape][form];
  return allocate_or_throw(size, align);
}

/// Counts one call of \p form and allocates for it, nullptr on failure.
void* counted_new_nothrow(Shape shape, NewForm form, std::size_t size, std::size_t align) noexcept {
  ++new_calls[shape][form];
  return allocate_or_null(size, align);
}

/// Counts one call of \p form and frees \p p (delete of null does nothing).
void counted_delete(Shape shape, DeleteForm form, void* p) noexcept {
  if (p == nullptr) return;
  ++delete_calls[shape][form];
  heap().deallocate(p);
}

/// As counted_delete(), checking the size the caller gives: a block holds
/// at least what was asked for, so \p size can never exceed its usable size.
void counted_sized_delete(Shape shape, DeleteForm form, void* p, std::size_t size) noexcept {
  if (p != nullptr && size > heap().usable_size(p)) ++wrong_sizes;
  counted_delete(shape, form, p);
}

/// The alignment of a plain new: 16 on x86-64, like malloc's.
constexpr std::size_t kNewAlignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

/// The alignment an aligned new asks for, as a number.
constexpr std::size_t bytes(std::align_val_t align) noexcept { return static_cast<std::size_t>(align); }

}  // namespace

// The twenty replaceable functions, in the order of [new.delete].
// [replacements]
void* operator new(std::size_t size) { return counted_new(single, new_size, size, kNewAlignment); }
void* operator new(std::size_t size, std::align_val_t align) {
  return counted_new(single, new_size_align, size, bytes(align));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(single, new_size_nothrow, size, kNewAlignment);
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(single, new_size_align_nothrow, size, bytes(align));
}
void operator delete(void* p) noexcept { counted_delete(single, delete_p, p); }
void operator delete(void* p, std::size_t size) noexcept { counted_sized_delete(single, delete_p_size, p, size); }
void operator delete(void* p, std::align_val_t) noexcept { counted_delete(single, delete_p_align, p); }
void operator delete(void* p, std::size_t size, std::align_val_t) noexcept {
  counted_sized_delete(single, delete_p_size_align, p, size);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_delete(single, delete_p_nothrow, p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_delete(single, delete_p_align_nothrow, p);
}

void* operator new[](std::size_t size) { return counted_new(array, new_size, size, kNewAlignment); }
void* operator new[](std::size_t size, std::align_val_t align) {
  return counted_new(array, new_size_align, size, bytes(align));
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(array, new_size_nothrow, size, kNewAlignment);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(array, new_size_align_nothrow, size, bytes(align));
}
void operator delete[](void* p) noexcept { counted_delete(array, delete_p, p); }
void operator delete[](void* p, std::size_t size) noexcept { counted_sized_delete(array, delete_p_size, p, size); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_delete(array, delete_p_align, p); }
void operator delete[](void* p, std::size_t size, std::align_val_t) noexcept {
  counted_sized_delete(array, delete_p_size_align, p, size);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_delete(array, delete_p_nothrow, p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_delete(array, delete_p_align_nothrow, p);
}
// [replacements]

namespace {

// ---------------------------------------------------------------- the workload

/// A type that wants a cache line of its own: operator new must be given
/// its alignment (the aligned forms, C++17).
struct alignas(64) CacheLine {
  std::array<double, 8> values{};
};

/// True when \p p is a multiple of \p align.
bool aligned_to(const void* p, std::size_t align) {
  return reinterpret_cast<std::uintptr_t>(p) % align == 0;
}

/// A type whose constructor throws: `new (std::nothrow) Throws` must then
/// give the block back with the nothrow delete.
struct Throws {
  Throws() { throw 42; }
};

/// How often the demo's new-handler ran.
int handler_calls = 0;

/// A new-handler with nothing to free: it notes the call and uninstalls
/// itself, so the next failure throws.
void note_and_give_up() {
  ++handler_calls;
  std::set_new_handler(nullptr);
}

/// Bytes no heap of the course will give: 1 TiB.
constexpr std::size_t kTooLarge = std::size_t{1} << 40;

void print_result(std::string_view what, std::string_view result) {
  std::printf("  %-52.*s %.*s\n", static_cast<int>(what.size()), what.data(), static_cast<int>(result.size()),
              result.data());
}

void print_number(std::string_view what, std::size_t value) {
  std::printf("  %-52.*s %zu\n", static_cast<int>(what.size()), what.data(), value);
}

/// Containers and strings: where a C++ program's allocations come from.
void run_containers() {
  std::vector<int> numbers;
  for (int i = 0; i < 10'000; ++i) numbers.push_back(i);  // grows by doubling
  print_number("std::vector<int>, 10000 push_backs: sum", static_cast<std::size_t>(
                                                              std::accumulate(numbers.begin(), numbers.end(), 0LL)));

  std::string text;
  for (int i = 0; i < 200; ++i) text += "heap ";  // past the small-string buffer
  print_number("std::string, 200 appends: length", text.size());

  std::map<int, std::string> squares;
  for (int i = 0; i < 500; ++i) squares.emplace(i, std::to_string(i * i));
  print_result("std::map<int, std::string>, 500 entries: [499]", squares.at(499));

  std::unordered_map<std::string, int> counts;
  for (const char* word : {"first", "next", "best", "worst", "first", "best", "first"}) ++counts[word];
  print_number("std::unordered_map of words: count of \"first\"", static_cast<std::size_t>(counts["first"]));
}

/// An over-aligned type, alone, in an array and in a vector.
void run_aligned() {
  auto* const one = new CacheLine;
  auto* const four = new CacheLine[4];
  std::vector<CacheLine> many(100);
  bool all_aligned = aligned_to(one, alignof(CacheLine));
  for (int i = 0; i < 4; ++i) all_aligned = all_aligned && aligned_to(&four[i], alignof(CacheLine));
  for (const CacheLine& line : many) all_aligned = all_aligned && aligned_to(&line, alignof(CacheLine));
  print_result("alignas(64): new, new[4], std::vector of 100", all_aligned ? "every one 64-byte aligned" : "MISALIGNED");
  delete one;
  delete[] four;
}

/// The ways new can fail, and what the program sees.
void run_failures() {
  char* const some = new (std::nothrow) char[1000];
  char* const none = new (std::nothrow) char[kTooLarge];
  print_result("new (std::nothrow) char[1000] / char[1 TiB]",
               some != nullptr && none == nullptr ? "a block / nullptr" : "UNEXPECTED");
  delete[] some;

  std::set_new_handler(&note_and_give_up);
  try {
    void* const p = ::operator new(kTooLarge);  // a call, not a new-expression: it cannot be optimized away
    ::operator delete(p);
    print_result("operator new(1 TiB)", "UNEXPECTED: it succeeded");
  } catch (const std::bad_alloc&) {
    const std::string outcome = "new-handler ran " + std::to_string(handler_calls) + "x, then std::bad_alloc";
    print_result("operator new(1 TiB)", outcome);
  }

  try {
    [[maybe_unused]] Throws* const never = new (std::nothrow) Throws;
  } catch (int) {
    print_result("new (std::nothrow) Throws, whose constructor throws", "block given back by the nothrow delete");
  }
}

/// Two threads, each with containers of its own, at the same time.
void run_threads() {
  const auto work = [](int seed) {
    std::map<int, std::vector<int>> buckets;
    for (int i = 0; i < 2'000; ++i) buckets[(i * seed) % 97].push_back(i);
    return buckets.size();
  };
  std::size_t sizes[2] = {};
  std::thread first([&] { sizes[0] = work(3); });
  std::thread second([&] { sizes[1] = work(5); });
  first.join();
  second.join();
  print_number("two threads, a std::map of vectors each: buckets", sizes[0] + sizes[1]);
}

// ---------------------------------------------------------------- the report

void print_calls() {
  static constexpr std::array<std::string_view, kNewForms> new_forms = {
      "(size)", "(size, align)", "(size, nothrow)", "(size, align, nothrow)"};
  static constexpr std::array<std::string_view, kDeleteForms> delete_forms = {
      "(p)", "(p, size)", "(p, align)", "(p, size, align)", "(p, nothrow)", "(p, align, nothrow)"};
  std::printf("  %-28s %8s %8s\n", "operator new", "new", "new[]");
  for (std::size_t form = 0; form < kNewForms; ++form) {
    std::printf("  %-28.*s %8zu %8zu\n", static_cast<int>(new_forms[form].size()), new_forms[form].data(),
                new_calls[single][form].load(), new_calls[array][form].load());
  }
  std::printf("  %-28s %8s %8s\n", "operator delete", "delete", "delete[]");
  for (std::size_t form = 0; form < kDeleteForms; ++form) {
    std::printf("  %-28.*s %8zu %8zu\n", static_cast<int>(delete_forms[form].size()), delete_forms[form].data(),
                delete_calls[single][form].load(), delete_calls[array][form].load());
  }
}

}  // namespace

int main() {
  print_heading("Global operator new and delete on quick fit");
  say("Every new and delete of this program, the C++ library's own included,");
  say("now goes to a heaplab::QuickFitAllocator behind a mutex (Synchronized).");
  say("A C++ workload, and what it saw:");
  say("");
  run_containers();
  run_aligned();
  run_failures();
  const std::size_t live_before_threads = heap().stats().live_allocations;
  const std::size_t peak_heap = heap().stats().high_water;
  run_threads();
  const auto stats = heap().stats();

  print_heading("What the allocator served");
  say("Calls of each replaceable function (std::allocator frees with the");
  say("sized forms: it knows how much it asked for):");
  say("");
  print_calls();
  say("");
  print_number("peak heap before the threads (bytes)", peak_heap);
  const std::string live = std::to_string(live_before_threads) + " before the threads, " +
                           std::to_string(stats.live_allocations) + " after";
  print_result("live blocks", live);
  print_number("sized deletes with a size the block cannot hold", wrong_sizes.load());
  const CheckResult check = heap().check();
  print_result("check()", check ? "ok" : check.failed_invariant);
  return check && wrong_sizes.load() == 0 && stats.live_allocations == live_before_threads ? 0 : 1;
}
