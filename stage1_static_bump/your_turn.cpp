#include "stage1_static_bump/your_turn.hpp"

#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>

namespace heaplab {
namespace {

/// \p path from its first folder of the course on ("stage3_fit_strategies/
/// your_turn/..."), or whole when it has none: the line names the file as
/// the chapter does, wherever the course was cloned.
std::string_view course_relative(std::string_view path) noexcept {
  for (std::string_view folder : {"/stage", "/tools/", "/tests/"}) {
    const std::size_t at = path.rfind(folder);
    if (at != std::string_view::npos) return path.substr(at + 1);
  }
  return path;
}

/// Writes \p text to standard error, whole, without allocating.
void write_error(std::string_view text) noexcept {
  while (!text.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, text.data(), text.size());
    if (written <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace

void not_written_yet(std::string_view what, const char* file, unsigned line) noexcept {
  std::array<char, 24> digits{};
  const auto [end, error] = std::to_chars(digits.data(), digits.data() + digits.size(), line);
  write_error("not written yet: ");
  write_error(what);
  write_error(" (");
  write_error(course_relative(file));
  write_error(":");
  if (error == std::errc{}) write_error(std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data())));
  write_error(")\n");
  std::_Exit(kNotWrittenYetExit);
}

}  // namespace heaplab
