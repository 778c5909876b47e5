#include "tools/lab/isolate.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <ostream>
#include <streambuf>
#include <system_error>
#include <thread>
#include <vector>

namespace heaplab {
namespace {

/// The memory parent and child share: the child's progress, whether its
/// work returned, and its result bytes right after.
struct SharedHeader {
  ReplayProgress progress{0};     ///< Operations the child has finished.
  std::atomic<bool> done{false};  ///< The work returned and the result is written.
};

/// An anonymous shared mapping of a SharedHeader and \p result_size bytes,
/// unmapped when it goes out of scope.
class SharedPage {
 public:
  /// Maps the header and \p result_size bytes after it.
  explicit SharedPage(std::size_t result_size) : size_(sizeof(SharedHeader) + result_size) {
    void* const p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    header_ = new (p) SharedHeader();
  }
  SharedPage(const SharedPage&) = delete;
  SharedPage& operator=(const SharedPage&) = delete;
  ~SharedPage() { ::munmap(header_, size_); }

  /// The header.
  [[nodiscard]] SharedHeader& header() const noexcept { return *header_; }
  /// The result bytes.
  [[nodiscard]] std::span<std::byte> result() const noexcept {
    return {reinterpret_cast<std::byte*>(header_ + 1), size_ - sizeof(SharedHeader)};
  }

 private:
  std::size_t size_;       ///< Bytes mapped.
  SharedHeader* header_;   ///< The start of the mapping.
};

/// A stream buffer that writes to a file descriptor (the child's end of
/// the pipe), a buffer at a time and at every flush.
class FdBuffer : public std::streambuf {
 public:
  /// Writes to \p fd.
  explicit FdBuffer(int fd) : fd_(fd) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }

 protected:
  int_type overflow(int_type c) override {
    if (sync() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) sputc(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
  int sync() override {
    const char* from = pbase();
    while (from < pptr()) {
      const ssize_t written = ::write(fd_, from, static_cast<std::size_t>(pptr() - from));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) return -1;
      from += written;
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return 0;
  }

 private:
  int fd_;                          ///< Where the bytes go.
  std::array<char, 4096> buffer_{}; ///< Bytes not yet written.
};

/// The signals a crash ends with. A test framework (doctest) or a sanitizer
/// may have installed handlers for them in the lab; the child puts the
/// default back, so that a crash there ends the child, and only the child.
constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};

/// The child's side: runs \p work, hands back its result, and never returns.
[[noreturn]] void be_the_child(const ChildWork& work, const SharedPage& shared, int write_fd) {
  for (const int signal : kCrashSignals) std::signal(signal, SIG_DFL);
  try {
    FdBuffer buffer(write_fd);
    std::ostream text(&buffer);
    text << std::unitbuf;  // each output at once: what was written before a crash reaches the lab
    std::vector<std::byte> result(shared.result().size());
    work(shared.header().progress, text, result);
    text.flush();
    std::memcpy(shared.result().data(), result.data(), result.size());
    shared.header().done.store(true);
  } catch (...) {
    std::fflush(nullptr);
    ::_exit(EXIT_FAILURE);
  }
  std::fflush(nullptr);  // what the allocator printed itself, with printf
  ::_exit(EXIT_SUCCESS);
}

/// Milliseconds until \p deadline for poll(): -1 (forever) without one.
int poll_timeout(std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (!deadline) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

/// Copies what the child writes on \p read_fd to \p text until the child
/// closes the pipe (it has exited) or \p deadline passes. Returns false on
/// the deadline.
bool relay_output(int read_fd, std::ostream& text, std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::array<char, 4096> buffer{};
  pollfd watched{.fd = read_fd, .events = POLLIN, .revents = 0};
  for (;;) {
    const int ready = ::poll(&watched, 1, poll_timeout(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return false;
    const ssize_t got = ::read(read_fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return true;  // the end of the pipe: the child is gone
    text.write(buffer.data(), got);
  }
}

/// Waits for \p child to end, until \p deadline. Returns its wait status,
/// or empty when it is still running at the deadline.
std::optional<int> wait_for(pid_t child, std::optional<std::chrono::steady_clock::time_point> deadline) {
  for (;;) {
    int status = 0;
    const pid_t ended = ::waitpid(child, &status, deadline ? WNOHANG : 0);
    if (ended == child) return status;
    if (ended < 0 && errno != EINTR) return 0;  // not ours to wait for: say it exited, the result tells
    if (deadline && std::chrono::steady_clock::now() >= *deadline) return std::nullopt;
    if (deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

/// Kills \p child and collects it.
void kill_child(pid_t child) {
  ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

ChildEnd run_in_child(const ChildWork& work, std::span<std::byte> result, std::ostream& text,
                      std::chrono::seconds timeout) {
  const SharedPage shared(result.size());
  std::array<int, 2> pipe_fds{};
  if (::pipe(pipe_fds.data()) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  text.flush();
  std::fflush(nullptr);  // or the child would inherit, and print again, what is buffered
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::system_error(errno, std::generic_category(), "fork");
  }
  if (child == 0) {
    ::close(pipe_fds[0]);
    be_the_child(work, shared, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout.count() > 0) deadline = std::chrono::steady_clock::now() + timeout;
  const bool in_time = relay_output(pipe_fds[0], text, deadline);
  ::close(pipe_fds[0]);
  const std::optional<int> status = in_time ? wait_for(child, deadline) : std::nullopt;

  ChildEnd end;
  end.progress = shared.header().progress.load();
  if (!status) {
    kill_child(child);
    end.how = ChildEnding::timed_out;
  } else if (WIFSIGNALED(*status)) {
    end.how = ChildEnding::signalled;
    end.signal = WTERMSIG(*status);
  } else if (!shared.header().done.load() || WEXITSTATUS(*status) != 0) {
    end.how = ChildEnding::exited;
    end.exit_code = WEXITSTATUS(*status);
  } else {
    std::memcpy(result.data(), shared.result().data(), result.size());
  }
  return end;
}

std::string signal_name(int signal) {
  if (const char* const abbreviation = ::sigabbrev_np(signal)) return std::string("SIG") + abbreviation;
  return "signal " + std::to_string(signal);
}

}  // namespace heaplab
