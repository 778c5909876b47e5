/// \file
/// The shim's bad-input catalogue: every edge of the malloc family, one line
/// of output per case.
///
/// A drop-in malloc must answer the way the C library it replaces does
/// (glibc 2.36 here), because real programs depend on the details: errno
/// after a failure, what a zero size or a strange alignment gives, whether
/// free keeps errno. This program asks each question and prints the answer
/// as a stable line, without addresses, e.g.
///
///     malloc(SIZE_MAX) -> NULL, errno ENOMEM
///     memalign(24, 100) -> block, aligned to 32: yes, usable >= 100: yes
///
/// Run once on glibc and once under a shim, the two outputs must match line
/// for line (check_shim.py compares them). The last lines are the misuse
/// cases (double free, free of a stack pointer, of an interior pointer):
/// each runs in a new process (this program, run as `catalogue --misuse
/// <case>`), whose end (exit code or signal) and first line on stderr are
/// printed. Those lines are checked against the shim's expected reports
/// (catalogue_misuse.expected), not against glibc, whose misuse messages
/// are its own.
///
/// Built with -fno-builtin: the compiler must not fold or drop a call such
/// as malloc(SIZE_MAX) whose answer it thinks it knows. The sizes also pass
/// through opaque() so that no warning about a huge constant size fires.
#include <errno.h>
#include <malloc.h>  // memalign, valloc, pvalloc, malloc_usable_size (glibc)
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t kMinimumAlignment = 16;  // glibc's MALLOC_ALIGNMENT on x86-64
constexpr std::size_t kPtrdiffMax = PTRDIFF_MAX;

/// \p value, hidden from the optimiser behind a volatile read.
std::size_t opaque(std::size_t value) noexcept {
  volatile std::size_t hidden = value;
  return hidden;
}

/// The page size, which valloc and pvalloc align to.
std::size_t page_size() noexcept { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

/// "yes" or "no".
const char* yes_no(bool answer) noexcept { return answer ? "yes" : "no"; }

/// The symbolic name of the errno values the malloc family sets.
std::string errno_name(int value) {
  switch (value) {
    case 0: return "0 (unchanged)";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    default: return std::to_string(value);
  }
}

/// True when \p p is a multiple of \p alignment.
bool aligned_to(const void* p, std::size_t alignment) noexcept {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

/// The alignment glibc's memalign gives for \p requested: at least the
/// minimum, and a non-power-of-two rounded up to the next power of two.
std::size_t memalign_alignment(std::size_t requested) noexcept {
  std::size_t alignment = kMinimumAlignment;
  while (alignment < requested) alignment *= 2;
  return alignment;
}

/// Prints one answer: "<call> -> <answer>".
void answer(const std::string& call, const std::string& text) {
  std::printf("%s -> %s\n", call.c_str(), text.c_str());
}

/// What an allocating call returned: "NULL, errno X", or a block with the
/// alignment and the usable size it promised. A block is written over
/// whole (it must be real memory) and freed.
std::string outcome(void* p, int error, std::size_t size, std::size_t alignment) {
  if (p == nullptr) return "NULL, errno " + errno_name(error);
  std::memset(p, 0xa5, size);
  const bool big_enough = malloc_usable_size(p) >= size;
  std::string text = "block, aligned to " + std::to_string(alignment) + ": " +
                     yes_no(aligned_to(p, alignment)) + ", usable >= " + std::to_string(size) +
                     ": " + yes_no(big_enough);
  std::free(p);
  return text;
}

/// Runs \p call_allocator (which returns a pointer) with errno cleared and
/// prints its outcome; \p size and \p alignment are what the block must have.
template <class Call>
void try_allocation(const std::string& call, std::size_t size, std::size_t alignment,
                    Call call_allocator) {
  errno = 0;
  void* p = call_allocator();
  const int error = errno;
  answer(call, outcome(p, error, size, alignment));
}

/// Writes \p size bytes of a pattern that depends on the position.
void fill_pattern(void* p, std::size_t size) noexcept {
  auto* bytes = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<unsigned char>(i * 7 + 1);
}

/// True when the first \p size bytes still hold fill_pattern()'s pattern.
bool holds_pattern(const void* p, std::size_t size) noexcept {
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != static_cast<unsigned char>(i * 7 + 1)) return false;
  }
  return true;
}

/// Large blocks of every size in the last 64 bytes before a page boundary,
/// and the first 64 after it: a block that gets a mapping of its own must
/// count its header and alignment padding in the mapping's length, or its
/// last bytes lie past the end of the mapping. Each block's last byte is
/// written, and its usable size must cover the request.
template <class Allocate>
void page_boundary_cases(const char* name, Allocate allocate) {
  const std::size_t boundary = 40 * page_size();  // 160 KiB: above the 128 KiB mapping threshold
  std::size_t served = 0;
  std::size_t big_enough = 0;
  for (std::size_t size = boundary - 64; size < boundary + 64; ++size) {
    auto* p = static_cast<char*>(allocate(opaque(size)));
    if (p == nullptr) continue;
    ++served;
    p[size - 1] = 1;
    if (malloc_usable_size(p) >= size) ++big_enough;
    std::free(p);
  }
  answer(std::string(name) + " of 40 pages - 64 .. 40 pages + 63 bytes",
         std::string("128 blocks: ") + yes_no(served == 128) + ", usable >= size for all: " +
             yes_no(big_enough == served));
}

/// malloc: size 0, ordinary and mapped sizes, sizes no heap can serve,
/// many blocks at once, and blocks that end near a page boundary.
void malloc_cases() {
  void* first = std::malloc(opaque(0));
  void* second = std::malloc(opaque(0));
  answer("malloc(0) twice", std::string("two blocks: ") + yes_no(first != nullptr && second != nullptr) +
                                ", distinct: " + yes_no(first != second) + ", aligned to 16: " +
                                yes_no(aligned_to(first, 16) && aligned_to(second, 16)));
  std::free(first);
  std::free(second);

  for (std::size_t size : {std::size_t{1}, std::size_t{24}, std::size_t{100}, std::size_t{4096},
                           std::size_t{200'000}}) {
    try_allocation("malloc(" + std::to_string(size) + ")", size, kMinimumAlignment,
                   [&] { return std::malloc(opaque(size)); });
  }
  const std::pair<const char*, std::size_t> too_big[] = {
      {"SIZE_MAX", SIZE_MAX},
      {"SIZE_MAX - 7", SIZE_MAX - 7},
      {"PTRDIFF_MAX + 1", kPtrdiffMax + 1},
      {"PTRDIFF_MAX", kPtrdiffMax},
  };
  for (const auto& [name, size] : too_big) {
    const std::size_t request = size;  // a lambda may not capture a structured binding (clang 14)
    try_allocation(std::string("malloc(") + name + ")", 0, kMinimumAlignment,
                   [&] { return std::malloc(opaque(request)); });
  }

  // Many blocks of every small size, alive together: all aligned, none
  // overlapping another.
  std::vector<std::pair<char*, std::size_t>> blocks;
  bool all_aligned = true;
  for (std::size_t size = 0; size < 1000; ++size) {
    char* p = static_cast<char*>(std::malloc(opaque(size)));
    if (p == nullptr) break;
    all_aligned = all_aligned && aligned_to(p, kMinimumAlignment);
    blocks.emplace_back(p, std::max<std::size_t>(size, 1));
  }
  std::vector<std::pair<char*, std::size_t>> by_address = blocks;
  std::sort(by_address.begin(), by_address.end());
  bool disjoint = true;
  for (std::size_t i = 1; i < by_address.size(); ++i) {
    const auto [start, size] = by_address[i - 1];
    disjoint = disjoint && reinterpret_cast<std::uintptr_t>(start) + size <=
                               reinterpret_cast<std::uintptr_t>(by_address[i].first);
  }
  answer("malloc(0 .. 999), all alive", "1000 blocks: " + std::string(yes_no(blocks.size() == 1000)) +
                                           ", aligned to 16: " + yes_no(all_aligned) +
                                           ", disjoint: " + yes_no(disjoint));
  for (const auto& block : blocks) std::free(block.first);

  answer("malloc_usable_size(NULL)", std::to_string(malloc_usable_size(nullptr)));
  page_boundary_cases("malloc", [](std::size_t size) { return std::malloc(size); });
  page_boundary_cases("memalign(64)", [](std::size_t size) { return memalign(64, size); });
}

/// calloc: overflowing products, and zeroing of reused memory.
void calloc_cases() {
  try_allocation("calloc(0, 0)", 0, kMinimumAlignment,
                 [] { return std::calloc(opaque(0), opaque(0)); });
  try_allocation("calloc(SIZE_MAX / 2 + 1, 2)", 0, kMinimumAlignment,
                 [] { return std::calloc(opaque(SIZE_MAX / 2 + 1), opaque(2)); });
  try_allocation("calloc(SIZE_MAX, SIZE_MAX)", 0, kMinimumAlignment,
                 [] { return std::calloc(opaque(SIZE_MAX), opaque(SIZE_MAX)); });
  try_allocation("calloc(1 << 32, 1 << 32)", 0, kMinimumAlignment,
                 [] { return std::calloc(opaque(std::size_t{1} << 32), opaque(std::size_t{1} << 32)); });
  // A product that is a valid size, but more than any heap holds.
  try_allocation("calloc(1, PTRDIFF_MAX)", 0, kMinimumAlignment,
                 [] { return std::calloc(opaque(1), opaque(kPtrdiffMax)); });

  // A freed block full of non-zero bytes is the likeliest to be handed out
  // again: calloc must zero it.
  for (std::size_t size : {std::size_t{8'000}, std::size_t{300'000}}) {
    void* dirty = std::malloc(opaque(size));
    if (dirty != nullptr) std::memset(dirty, 0xff, size);
    std::free(dirty);
    auto* zeroed = static_cast<unsigned char*>(std::calloc(opaque(size / 8), opaque(8)));
    const bool all_zero = zeroed != nullptr && std::all_of(zeroed, zeroed + size,
                                                           [](unsigned char c) { return c == 0; });
    answer("calloc(" + std::to_string(size / 8) + ", 8) after free of a dirty block",
           std::string("all zero: ") + yes_no(all_zero));
    std::free(zeroed);
  }
}

/// reallocarray: an overflowing product fails and leaves the block alone.
void reallocarray_cases() {
  try_allocation("reallocarray(NULL, 10, 10)", 100, kMinimumAlignment,
                 [] { return reallocarray(nullptr, opaque(10), opaque(10)); });
  try_allocation("reallocarray(NULL, SIZE_MAX / 2 + 1, 2)", 0, kMinimumAlignment,
                 [] { return reallocarray(nullptr, opaque(SIZE_MAX / 2 + 1), opaque(2)); });

  void* p = std::malloc(opaque(64));
  fill_pattern(p, 64);
  errno = 0;
  void* q = reallocarray(p, opaque(std::size_t{1} << 33), opaque(std::size_t{1} << 33));
  const int error = errno;
  if (q == nullptr) {
    answer("reallocarray(p, 1 << 33, 1 << 33)",
           "NULL, errno " + errno_name(error) + ", p kept: " + yes_no(holds_pattern(p, 64)));
    std::free(p);
  } else {
    answer("reallocarray(p, 1 << 33, 1 << 33)", "a block");
    std::free(q);
  }
}

/// posix_memalign: POSIX's alignment rule (a power of two multiple of
/// sizeof(void*)), answered by the return value. POSIX says nothing of
/// errno; glibc leaves it alone for a bad alignment and sets it to ENOMEM
/// when the block cannot be had, so the answer shows errno too.
void posix_memalign_case(std::size_t alignment, const char* alignment_name, std::size_t size,
                         const char* size_name) {
  void* p = &p;  // a sentinel: posix_memalign must not touch p on failure
  errno = 0;
  const int result = posix_memalign(&p, opaque(alignment), opaque(size));
  const std::string state = ", errno " + errno_name(errno);
  const std::string call = std::string("posix_memalign(&p, ") + alignment_name + ", " + size_name + ")";
  if (result != 0) {
    answer(call, errno_name(result) + state + ", p unchanged: " + yes_no(p == &p));
  } else {
    answer(call, "0" + state + ", " + outcome(p, 0, size, std::max(alignment, kMinimumAlignment)));
  }
}

void posix_memalign_cases() {
  const std::size_t alignments[] = {0, 3, sizeof(void*) / 2, 24, sizeof(void*), 16, 8192, 1 << 20};
  for (std::size_t alignment : alignments) {
    posix_memalign_case(alignment, std::to_string(alignment).c_str(), 100, "100");
  }
  posix_memalign_case(64, "64", SIZE_MAX, "SIZE_MAX");
  posix_memalign_case(64, "64", kPtrdiffMax, "PTRDIFF_MAX");
  posix_memalign_case(SIZE_MAX / 2 + 1, "SIZE_MAX / 2 + 1", 1, "1");
}

/// The memalign cases, for memalign and for aligned_alloc (\p name), which
/// glibc 2.36 implements alike.
template <class Allocate>
void aligned_cases(const char* name, Allocate allocate) {
  const std::size_t alignments[] = {0, 3, 24, 64, 8192, 1 << 20};
  for (std::size_t alignment : alignments) {
    try_allocation(std::string(name) + "(" + std::to_string(alignment) + ", 100)", 100,
                   memalign_alignment(alignment), [&] { return allocate(opaque(alignment), opaque(100)); });
  }
  // The largest power of two is a valid alignment (EINVAL only above it),
  // but no block can be aligned to it.
  try_allocation(std::string(name) + "(SIZE_MAX / 2 + 1, 1)", 0, 1,
                 [&] { return allocate(opaque(SIZE_MAX / 2 + 1), opaque(1)); });
  try_allocation(std::string(name) + "(SIZE_MAX / 2 + 2, 1)", 0, 1,
                 [&] { return allocate(opaque(SIZE_MAX / 2 + 2), opaque(1)); });
  try_allocation(std::string(name) + "(64, SIZE_MAX)", 0, 1,
                 [&] { return allocate(opaque(64), opaque(SIZE_MAX)); });
  try_allocation(std::string(name) + "(64, PTRDIFF_MAX)", 0, 1,
                 [&] { return allocate(opaque(64), opaque(kPtrdiffMax)); });
}

/// valloc and pvalloc: page alignment, and pvalloc's whole pages.
void page_cases() {
  const std::size_t page = page_size();
  try_allocation("valloc(100)", 100, page, [] { return valloc(opaque(100)); });
  try_allocation("valloc(SIZE_MAX)", 0, 1, [] { return valloc(opaque(SIZE_MAX)); });
  try_allocation("valloc(PTRDIFF_MAX)", 0, 1, [] { return valloc(opaque(kPtrdiffMax)); });
  // pvalloc rounds the size up to whole pages: the usable size says so.
  try_allocation("pvalloc(100)", page, page, [] { return pvalloc(opaque(100)); });
  try_allocation("pvalloc(page + 1)", 2 * page, page, [&] { return pvalloc(opaque(page + 1)); });
  try_allocation("pvalloc(SIZE_MAX)", 0, 1, [] { return pvalloc(opaque(SIZE_MAX)); });
  try_allocation("pvalloc(PTRDIFF_MAX)", 0, 1, [] { return pvalloc(opaque(kPtrdiffMax)); });
}

/// free: NULL, and errno kept.
void free_cases() {
  errno = ERANGE;
  std::free(nullptr);
  answer("free(NULL)", std::string("returns, errno kept: ") + yes_no(errno == ERANGE));
  // glibc's free keeps errno even where munmap could change it (large blocks).
  for (std::size_t size : {std::size_t{100}, std::size_t{300'000}}) {
    void* p = std::malloc(opaque(size));
    errno = ERANGE;
    std::free(p);
    answer("free(malloc(" + std::to_string(size) + "))",
           std::string("errno kept: ") + yes_no(errno == ERANGE));
  }
}

/// realloc: NULL, size 0, growth and shrinking, sizes no heap can serve.
void realloc_cases() {
  try_allocation("realloc(NULL, 100)", 100, kMinimumAlignment,
                 [] { return std::realloc(nullptr, opaque(100)); });
  try_allocation("realloc(NULL, 0)", 0, kMinimumAlignment,
                 [] { return std::realloc(nullptr, opaque(0)); });
  {
    void* p = std::malloc(opaque(100));
    errno = ERANGE;
    void* q = std::realloc(p, opaque(0));  // glibc frees p and returns NULL
    answer("realloc(p, 0)", std::string(q == nullptr ? "NULL" : "a block") +
                                ", errno kept: " + yes_no(errno == ERANGE));
    if (q != nullptr) std::free(q);
  }

  // Growth and shrinking, across size classes and into mapped blocks: the
  // common prefix survives every move.
  std::size_t size = 100;
  void* p = std::malloc(opaque(size));
  fill_pattern(p, size);
  const std::size_t sizes[] = {1'000, 100'000, 300'000, 2'000'000, 50};
  for (std::size_t next : sizes) {
    void* q = std::realloc(p, opaque(next));
    const std::string call = "realloc(p of " + std::to_string(size) + ", " + std::to_string(next) + ")";
    if (q == nullptr) {
      answer(call, "NULL, errno " + errno_name(errno));
      break;
    }
    const std::size_t kept = std::min(size, next);
    answer(call, std::string("first ") + std::to_string(kept) + " bytes kept: " +
                     yes_no(holds_pattern(q, kept)) + ", aligned to 16: " +
                     yes_no(aligned_to(q, kMinimumAlignment)) + ", usable >= " +
                     std::to_string(next) + ": " + yes_no(malloc_usable_size(q) >= next));
    p = q;
    size = next;
    fill_pattern(p, size);
  }

  for (const auto& [name, huge] : {std::pair<const char*, std::size_t>{"SIZE_MAX", SIZE_MAX},
                                   {"PTRDIFF_MAX + 1", kPtrdiffMax + 1},
                                   {"PTRDIFF_MAX", kPtrdiffMax}}) {
    errno = 0;
    void* q = std::realloc(p, opaque(huge));
    const int error = errno;
    const std::string call = std::string("realloc(p, ") + name + ")";
    if (q == nullptr) {
      answer(call, "NULL, errno " + errno_name(error) + ", p kept: " + yes_no(holds_pattern(p, size)));
    } else {
      answer(call, "a block");
      p = q;
    }
  }
  std::free(p);
}

// ---------------------------------------------------------------------------
// Misuse: each case runs in a new process, because a correct malloc kills
// it, and a fresh one, so that the heap around the block is known: the
// blocks of a fresh heap are carved one after the other, and a freed block
// between two live ones stays a block of its own (a coalescing heap would
// otherwise merge it, and its second free would point inside a larger
// free block rather than at a freed one).

/// One misuse case: the name printed, the word that selects it on the
/// command line, and what it does.
struct MisuseCase {
  const char* name;
  const char* word;
  void (*misuse)();
};

/// An interior pointer with the bytes of a block header in front of it, as
/// a program's own data may hold them: p + 32 of a 64-byte block p, after
/// the 16 bytes {1000000, 16} at p + 16. Read as the header of a block, they
/// say "a block of 1000000 bytes, 16 bytes into its allocation": a shim
/// that trusted them would free p + 32, or let realloc keep it for any size
/// up to a million bytes, inviting the program to write past its block.
char* interior_behind_fake_header() {
  auto* p = static_cast<char*>(std::malloc(opaque(64)));
  std::memset(p, 0, 64);
  const std::size_t fake_header[2] = {1'000'000, 16};
  std::memcpy(p + 16, fake_header, sizeof fake_header);
  char* volatile interior = p + 32;  // volatile: the misuse is on purpose
  return interior;
}

const MisuseCase kMisuseCases[] = {
    {"double free of a 64-byte block", "double-free-64",
     [] {
       void* before = std::malloc(opaque(64));
       void* p = std::malloc(opaque(64));
       void* after = std::malloc(opaque(64));
       std::free(p);
       std::free(p);
       std::free(before);
       std::free(after);
     }},
    {"double free of a 1000-byte block", "double-free-1000",
     [] {
       void* before = std::malloc(opaque(64));
       void* p = std::malloc(opaque(1000));
       void* after = std::malloc(opaque(64));
       std::free(p);
       std::free(p);
       std::free(before);
       std::free(after);
     }},
    {"free of a stack pointer", "stack-pointer",
     [] {
       char local[64];
       // Through a volatile pointer, so that the compiler does not warn
       // about (or remove) a free that is wrong on purpose.
       void* volatile p = local;
       std::free(p);
     }},
    {"free of an interior pointer (p + 16 of a 64-byte block)", "interior-pointer",
     [] {
       auto* p = static_cast<char*>(std::malloc(opaque(64)));
       std::memset(p, 0, 64);
       char* volatile interior = p + 16;
       std::free(interior);
     }},
    {"free of an interior pointer behind a block header's bytes", "fake-header-free",
     [] { std::free(interior_behind_fake_header()); }},
    {"realloc of an interior pointer behind a block header's bytes", "fake-header-realloc",
     [] {
       void* q = std::realloc(interior_behind_fake_header(), opaque(1000));
       std::fprintf(stderr, "realloc returned %s\n", q == nullptr ? "NULL" : "a block");
     }},
    {"malloc_usable_size of an interior pointer behind a block header's bytes", "fake-header-usable-size",
     [] { std::fprintf(stderr, "usable size: %zu\n", malloc_usable_size(interior_behind_fake_header())); }},
};

/// \p text with every "0x<hex digits>" replaced by "0x?": the report's
/// address changes from run to run.
std::string without_addresses(const std::string& text) {
  // Copied into a new string rather than replaced in place: GCC 12's
  // -Wrestrict misfires on std::string::replace at -O3.
  std::string out;
  for (std::string::size_type at = 0; at < text.size();) {
    if (text.compare(at, 2, "0x") != 0) {
      out += text[at++];
      continue;
    }
    out += "0x?";
    at += 2;
    while (at < text.size() && std::isxdigit(static_cast<unsigned char>(text[at]))) ++at;
  }
  return out;
}

/// How a child with wait status \p status ended.
std::string ending(int status) {
  if (WIFSIGNALED(status)) {
    return WTERMSIG(status) == SIGABRT ? "killed by SIGABRT"
                                       : "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "exited with " + std::to_string(WEXITSTATUS(status));
}

/// Runs this program again as `catalogue --misuse <word>`, with its stderr
/// in a pipe, and prints how it ended and the first line it wrote there.
/// The new process inherits the environment, LD_PRELOAD included.
void run_misuse_case(const MisuseCase& misuse) {
  std::fflush(stdout);  // the child must not print this process's buffer again
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipe_ends[0]);
    dup2(pipe_ends[1], STDERR_FILENO);
    char* const argv[] = {const_cast<char*>("catalogue"), const_cast<char*>("--misuse"),
                          const_cast<char*>(misuse.word), nullptr};
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  close(pipe_ends[1]);
  std::string err;
  char buffer[256];
  ssize_t count = 0;
  while ((count = read(pipe_ends[0], buffer, sizeof buffer)) > 0) {
    err.append(buffer, static_cast<std::size_t>(count));
  }
  close(pipe_ends[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string first_line = err.substr(0, err.find('\n'));
  answer(std::string("misuse: ") + misuse.name,
         ending(status) + "; stderr: " + (first_line.empty() ? "(nothing)" : without_addresses(first_line)));
}

/// The child's side: commits the misuse selected by \p word. Returns the
/// exit code for "the misuse went unnoticed" (0), or 2 for an unknown word.
int commit_misuse(const std::string& word) {
  for (const MisuseCase& misuse : kMisuseCases) {
    if (word == misuse.word) {
      misuse.misuse();
      return 0;
    }
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--misuse") return commit_misuse(argv[2]);
  malloc_cases();
  calloc_cases();
  reallocarray_cases();
  posix_memalign_cases();
  aligned_cases("memalign", [](std::size_t alignment, std::size_t size) { return memalign(alignment, size); });
  aligned_cases("aligned_alloc", [](std::size_t alignment, std::size_t size) {
    return std::aligned_alloc(alignment, size);
  });
  page_cases();
  free_cases();
  realloc_cases();
  for (const MisuseCase& misuse : kMisuseCases) run_misuse_case(misuse);
  return 0;
}
