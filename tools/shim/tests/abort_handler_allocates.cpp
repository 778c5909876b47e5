/// \file
/// A misuse report, then a SIGABRT handler that allocates, as crash
/// reporters' do (backtrace_symbols() returns a block from malloc).
///
/// A malloc that finds a double free reports it and calls abort(), and
/// abort() runs the program's SIGABRT handler. If the report is made while
/// the heap's lock is still held, the handler's first malloc waits for that
/// lock forever, and the program hangs instead of dying. glibc runs the
/// handler; so must a shim.
///
///     abort_handler_allocates exit     the handler allocates, then _exit(kHandlerExit)
///     abort_handler_allocates return   the handler allocates, then returns:
///                                      abort() goes on, and SIGABRT kills the process
///
/// The handler prints one line on standard output when its allocations have
/// been served, so the same run on glibc and on a shim can be compared
/// (check_shim.py's `ending` check): the same end, the same output.
#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace {

/// The exit code of the handler in `exit` mode: neither 0 nor a code a
/// failing run would give by accident.
constexpr int kHandlerExit = 42;

/// What the handler does once it has allocated: exit, or return to abort().
volatile sig_atomic_t exit_from_handler = 0;

/// Writes \p text to standard output with write(2), which is safe in a
/// signal handler.
void say(const char* text) noexcept {
  const ssize_t ignored = ::write(STDOUT_FILENO, text, std::strlen(text));
  (void)ignored;
}

/// What a crash reporter does: the stack as text (backtrace_symbols()
/// allocates the strings with malloc), and a buffer of its own.
void on_abort(int) {
  void* frames[16];
  const int depth = ::backtrace(frames, 16);
  char** const names = ::backtrace_symbols(frames, depth);
  void* const buffer = std::malloc(4096);
  if (names != nullptr && buffer != nullptr) say("SIGABRT handler: its allocations were served\n");
  std::free(buffer);
  std::free(names);  // backtrace_symbols() returns one block, the caller's to free
  if (exit_from_handler != 0) ::_exit(kHandlerExit);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || (std::strcmp(argv[1], "exit") != 0 && std::strcmp(argv[1], "return") != 0)) {
    say("usage: abort_handler_allocates exit|return\n");
    return 2;
  }
  exit_from_handler = std::strcmp(argv[1], "exit") == 0 ? 1 : 0;
  // backtrace() loads libgcc's unwinder the first time it runs: once here,
  // so that the handler's work is the allocations alone.
  void* frame[1];
  (void)::backtrace(frame, 1);

  struct sigaction action {};
  action.sa_handler = &on_abort;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGABRT, &action, nullptr);

  // Through a volatile pointer, so that the compiler neither warns about
  // nor removes a free that is wrong on purpose.
  void* volatile block = std::malloc(64);
  std::free(block);
  std::free(block);  // the double free: a report, then abort()
  say("the double free went unnoticed\n");
  return 0;
}
