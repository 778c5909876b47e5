#include "tools/shim/report_line.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iterator>
#include <string_view>

namespace heaplab::shim {

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

namespace {

/// \p bytes in tenths of \p unit, rounded to the nearest. In integers, the
/// whole units and the remainder apart: `10 * bytes` could overflow, and
/// the remainder is below \p unit (at most 2^60), so ten of it cannot.
std::size_t tenths_of(std::size_t bytes, std::size_t unit) noexcept {
  return bytes / unit * 10 + (bytes % unit * 10 + unit / 2) / unit;
}

}  // namespace

Line& append_size(Line& line, std::size_t bytes) noexcept {
  constexpr std::size_t kStep = 1024;
  if (bytes < kStep) return line << bytes << " B";
  constexpr std::string_view kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t unit = kStep;
  std::size_t tenths = tenths_of(bytes, unit);
  std::size_t index = 0;
  // Rounding may carry a number to 1024.0 of a unit: that is 1.0 of the next.
  while (tenths >= 10 * kStep && index + 1 < std::size(kUnits)) {
    unit *= kStep;
    ++index;
    tenths = tenths_of(bytes, unit);
  }
  return line << tenths / 10 << "." << tenths % 10 << " " << kUnits[index];
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
