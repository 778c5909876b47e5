#include "tools/shim/report_line.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace heaplab::shim {

Line& Line::operator<<(std::string_view text) noexcept {
  const std::size_t room = kCapacity - length_;
  const std::size_t count = std::min(text.size(), room);
  std::copy_n(text.data(), count, chars_ + length_);
  length_ += count;
  return *this;
}

Line& Line::operator<<(std::size_t value) noexcept {
  // Digits come out last first: collect them, then append them reversed.
  char digits[20];  // 2^64 - 1 has 20 digits
  std::size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count > 0 && length_ < kCapacity) chars_[length_++] = digits[--count];
  return *this;
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

void SavedStderr::save() noexcept {
  struct stat file {};
  if (::fstat(STDERR_FILENO, &file) != 0) return;
  duplicate_ = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  device_ = file.st_dev;
  inode_ = file.st_ino;
}

bool SavedStderr::holds_saved_file(int fd) const noexcept {
  struct stat file {};
  return fd >= 0 && ::fstat(fd, &file) == 0 && file.st_dev == device_ && file.st_ino == inode_;
}

void SavedStderr::write(const Line& line) const noexcept {
  if (holds_saved_file(STDERR_FILENO)) {
    line.write_to(STDERR_FILENO);
  } else if (holds_saved_file(duplicate_)) {
    line.write_to(duplicate_);
  }
}

std::size_t percent_tenths(std::size_t numerator, std::size_t denominator) noexcept {
  if (denominator == 0) return 0;
  // In floating point: 1000 * numerator could overflow an integer, and a
  // double's 53 bits are far more than one decimal of a percentage needs.
  const double tenths = 1000.0 * static_cast<double>(numerator) / static_cast<double>(denominator);
  return static_cast<std::size_t>(tenths + 0.5);
}

Line format_report(const MallocReport& report) noexcept {
  const std::size_t utilization = percent_tenths(report.peak_requested, report.peak_heap);
  Line line;
  line << "heaplab malloc (" << report.name << "): " << report.allocations << " allocations served, "
       << report.frees << " frees, peak heap " << report.peak_heap << " bytes, utilization "
       << utilization / 10 << "." << utilization % 10 << "%\n";
  return line;
}

}  // namespace heaplab::shim
