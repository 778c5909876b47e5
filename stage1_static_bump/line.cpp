#include "stage1_static_bump/line.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace heaplab {

Line& Line::operator<<(std::string_view text) noexcept {
  const std::size_t count = std::min(text.size(), kCapacity - length_);
  std::copy_n(text.data(), count, chars_ + length_);
  length_ += count;
  return *this;
}

Line& Line::operator<<(std::size_t value) noexcept {
  char digits[20];  // 2^64 - 1 has 20 digits
  std::size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  append_reversed(digits, count);
  return *this;
}

Line& Line::append_hex(std::uintptr_t value) noexcept {
  char digits[2 * sizeof value];
  std::size_t count = 0;
  do {
    digits[count++] = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  } while (value != 0);
  *this << "0x";
  append_reversed(digits, count);
  return *this;
}

void Line::append_reversed(const char* digits, std::size_t count) noexcept {
  // Digits come out of the division last first.
  while (count > 0 && length_ < kCapacity) chars_[length_++] = digits[--count];
}

void Line::write_to(int fd) const noexcept {
  std::string_view rest = view();
  while (!rest.empty()) {
    const ssize_t written = ::write(fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace heaplab
