#include "tools/shim/heap_reservation.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "stage1_static_bump/contract.hpp"
#include "tools/shim/report_line.hpp"

namespace heaplab::shim {
namespace {

/// The multiplier a size suffix stands for (1 for none), or 0 if \p suffix
/// is not one.
std::size_t suffix_multiplier(std::string_view suffix) noexcept {
  if (suffix.empty()) return 1;
  if (suffix.size() != 1) return 0;
  switch (suffix.front()) {
    case 'K': case 'k': return std::size_t{1} << 10;
    case 'M': case 'm': return std::size_t{1} << 20;
    case 'G': case 'g': return std::size_t{1} << 30;
    default: return 0;
  }
}

/// The most characters of HEAPLAB_HEAP_SIZE a warning quotes: enough for
/// any size, and a value of any length still leaves the warning one line.
constexpr std::size_t kQuotedCharacters = 40;

/// Appends \p text in double quotes, as a warning shows a value from the
/// environment: at most kQuotedCharacters of it, then "..." if there is
/// more, and every control character as '?', since a newline in the value
/// would end the warning's line early.
Line& append_quoted(Line& line, std::string_view text) noexcept {
  line << "\"";
  for (const char c : text.substr(0, kQuotedCharacters)) {
    const bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    const char shown = control ? '?' : c;
    line << std::string_view(&shown, 1);
  }
  return line << (text.size() > kQuotedCharacters ? "...\"" : "\"");
}

}  // namespace

// [parse_byte_size]
std::optional<std::size_t> parse_byte_size(std::string_view text) noexcept {
  std::size_t digits = 0;
  std::size_t value = 0;
  for (; digits < text.size() && text[digits] >= '0' && text[digits] <= '9'; ++digits) {
    const auto digit = static_cast<std::size_t>(text[digits] - '0');
    if (value > (kMaxRequest - digit) / 10) return std::nullopt;  // value * 10 + digit would pass the limit
    value = value * 10 + digit;
  }
  const std::size_t multiplier = suffix_multiplier({text.data() + digits, text.size() - digits});
  if (digits == 0 || multiplier == 0 || value == 0) return std::nullopt;
  if (value > kMaxRequest / multiplier) return std::nullopt;
  return value * multiplier;
}
// [parse_byte_size]

std::size_t heap_size_from_environment() noexcept {
  const char* const text = std::getenv("HEAPLAB_HEAP_SIZE");
  if (text == nullptr || *text == '\0') return kDefaultHeapSize;
  if (const std::optional<std::size_t> bytes = parse_byte_size(text)) return *bytes;
  Line warning;
  append_quoted(warning << "heaplab malloc: HEAPLAB_HEAP_SIZE=", text)
      << " is not a size (digits with an optional K, M or G, up to ";
  append_size(warning, kMaxRequest) << "); using ";
  append_size(warning, kDefaultHeapSize) << "\n";
  warning.write_to(STDERR_FILENO);
  return kDefaultHeapSize;
}

std::span<std::byte> reserve_heap(std::size_t bytes) noexcept {
  // mmap rounds the length up to whole pages itself; the span says so too.
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t length = bytes + (page - bytes % page) % page;
  void* const memory = ::mmap(nullptr, length, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory != MAP_FAILED) return {static_cast<std::byte*>(memory), length};
  Line warning;
  append_size(warning << "heaplab malloc: cannot reserve ", bytes) << " for the heap";
  if (bytes <= kDefaultHeapSize) {
    (warning << "; the heap is empty\n").write_to(STDERR_FILENO);
    return {};
  }
  append_size(warning << "; using ", kDefaultHeapSize) << "\n";
  warning.write_to(STDERR_FILENO);
  return reserve_heap(kDefaultHeapSize);
}

Upstream large_blocks_only(ChunkSource& source, std::size_t heap_bytes) noexcept {
  return Upstream{.source = &source,
                  .mmap_threshold = kLargeBlockThreshold,
                  .growth = GrowthPolicy{.first_chunk = SIZE_MAX, .max_chunk = SIZE_MAX, .limit = heap_bytes}};
}

bool heap_size_capped() noexcept {
  const char* const text = std::getenv("HEAPLAB_HEAP_SIZE");
  return text != nullptr && *text != '\0';
}

Upstream growing_without_cap(ChunkSource& source) noexcept {
  Upstream upstream{.source = &source, .mmap_threshold = kLargeBlockThreshold};
  upstream.growth.limit = kMaxRequest;  // what the system gives: mmap says when it is all
  return upstream;
}

bool report_requested() noexcept {
  const char* const value = std::getenv("HEAPLAB_REPORT");
  return value != nullptr && *value != '\0' && std::string_view(value) != "0";
}

}  // namespace heaplab::shim
