#!/usr/bin/env python3
"""Measures real programs on glibc's malloc and on the course's shims.

Runs each of the three real programs of the shim's tests (the same
commands on the same inputs as tools/shim/tests/CMakeLists.txt: python3 on
alloc_heavy.py, sort on 200 000 generated lines, sqlite3 on
sqlite_workload.sql) several times, alternating glibc and each shim, so that
a slow moment of the machine hits every configuration alike. For each
program and malloc it prints, as a Markdown table:

  - the median wall time, and its ratio to glibc's median;
  - the median peak resident set size of the process (VmHWM, read while it runs);
  - from the shim's exit report (HEAPLAB_REPORT=1): the allocations served,
    the peak heap and the utilization (peak live requested bytes / heap
    high-water mark, the course's definition).

Every run's output is compared with glibc's first run: a shim that changed
what a program prints is reported, not timed.

Measure in a release build; a debug build measures the debug build:

    cmake --preset release
    cmake --build --preset release --target heaplab_malloc_quick_fit \
        heaplab_malloc_segregated_fit heaplab_malloc_first_fit heaplab_malloc_bump
    python3 tools/shim/measure_real_programs.py build/release --runs 5 \
        --shims quick-fit,segregated-fit,first-fit,bump --timeout 120

python3 runs alloc_heavy.py on the interpreter that runs this script.

Python 3 standard library only.
"""
import argparse
import hashlib
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "tests")
sys.path.insert(0, TESTS)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import check_shim  # noqa: E402  (the report line's format, shared with the tests)
import make_sort_input  # noqa: E402  (the sort input, shared with the tests)

SORT_LINES = 200_000
POLL_SECONDS = 0.002  # how often a running program's peak RSS is read


def program_table(work_dir):
    """The programs, as in tools/shim/tests/CMakeLists.txt: name -> (argv,
    stdin file or None, extra environment)."""
    sort_input = os.path.join(work_dir, "sort_input_{}.txt".format(SORT_LINES))
    make_sort_input.write(sort_input, SORT_LINES)
    return {
        # PYTHONMALLOC=malloc: every Python object through malloc (see the tests).
        "python3": ([sys.executable, os.path.join(TESTS, "alloc_heavy.py")], None,
                    {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0",
                     "PYTHONDONTWRITEBYTECODE": "1"}),
        "sort": ([find("sort"), "-S", "256K", "-T", work_dir, sort_input], None, {"LC_ALL": "C"}),
        "sqlite3": ([find("sqlite3"), ":memory:"], os.path.join(TESTS, "sqlite_workload.sql"), {}),
    }


def find(program):
    """The full path of `program`, or exit with a clear message."""
    path = shutil.which(program)
    if path is None:
        sys.exit("{} not found: install it with the README's apt-get line".format(program))
    return path


class Run:
    """One run of one program: its time, memory, exit status (None when it
    was stopped for taking too long), a digest of its output, and its
    stderr. Only the digest of the output is kept: it is all the
    comparison needs, and sort prints megabytes."""

    def __init__(self, seconds, max_rss_kib, status, stdout_digest, stderr):
        self.seconds = seconds
        self.max_rss_kib = max_rss_kib
        self.status = status
        self.stdout_digest = stdout_digest
        self.stderr = stderr


def run_once(argv, stdin_path, env, work_dir, timeout):
    """Spawns `argv` with its output in files, waits with wait4 for its
    resource usage, and returns a Run (status None: killed after `timeout`
    seconds)."""
    out_path = os.path.join(work_dir, "stdout")
    err_path = os.path.join(work_dir, "stderr")
    write = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [(os.POSIX_SPAWN_OPEN, 0, stdin_path or os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, out_path, write, 0o644),
               (os.POSIX_SPAWN_OPEN, 2, err_path, write, 0o644)]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    peak_kib = 0
    while True:
        waited, status, _ = os.wait4(pid, os.WNOHANG)
        if waited == pid:
            break
        if time.perf_counter() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return Run(timeout, peak_kib, None, "", "timed out after {} s".format(timeout))
        peak_kib = max(peak_kib, high_water_kib(pid))
        time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - start
    with open(err_path, encoding="utf-8", errors="replace") as err:
        return Run(seconds, peak_kib, os.waitstatus_to_exitcode(status), file_digest(out_path), err.read())


def high_water_kib(pid):
    """The peak resident set size of process `pid` so far (VmHWM, in KiB),
    or 0 once it has exited.

    Why not wait4()'s ru_maxrss: Linux keeps a process's peak across
    exec(), so a child's would start at this script's own size when it was
    spawned, which is as large as sqlite3's or sort's. VmHWM belongs to the
    program's own address space, which exec() makes new."""
    try:
        with open("/proc/{}/status".format(pid), encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def file_digest(path):
    """The SHA-256 of the file at `path`, read in pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for piece in iter(lambda: data.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def environment(extra, shim, heap_size):
    """The caller's environment, cleaned of heaplab settings, plus `extra`
    and, for a shim, its preload and report (and heap size if given)."""
    env = check_shim.environment(["{}={}".format(k, v) for k, v in extra.items()], shim)
    if shim is not None and heap_size:
        env["HEAPLAB_HEAP_SIZE"] = heap_size
    return env


def measure(program, argv, stdin_path, extra_env, configurations, args, work_dir):
    """Runs one program args.runs times per configuration, alternating, and
    returns one table row per configuration."""
    results = {name: [] for name, _ in configurations}
    for _ in range(args.runs):
        for name, shim in configurations:
            if results[name] and results[name][-1].status is None:
                continue  # stopped once for taking too long: not worth more runs
            results[name].append(run_once(argv, stdin_path, environment(extra_env, shim, args.heap_size),
                                          work_dir, args.timeout))
    reference = results["glibc"][0]
    glibc_median = statistics.median(r.seconds for r in results["glibc"])
    return [summarize(program, name, results[name], reference, glibc_median) for name, _ in configurations]


def describe_failure(run):
    """Why `run` has no numbers: stopped, failed, or printed something else."""
    if run.status is None:
        return "did not finish: " + run.stderr
    if run.status != 0:
        last_line = (run.stderr.strip().splitlines() or [""])[-1]
        return "failed with exit code {}: {}".format(run.status, last_line[:60])
    return "printed another output than glibc's"


def summarize(program, name, runs, reference, glibc_median):
    """One Markdown table row for `runs` of `program` on malloc `name`."""
    failed = [r for r in runs if r.status != 0 or r.stdout_digest != reference.stdout_digest]
    if failed:
        return "| {} | {} | {} | | | | | |".format(program, name, describe_failure(failed[0]))
    seconds = statistics.median(r.seconds for r in runs)
    rss_mib = statistics.median(r.max_rss_kib for r in runs) / 1024
    allocations = peak = utilization = ""
    if name != "glibc":
        reports, _ = check_shim.parse_report(runs[-1].stderr)
        if len(reports) != 1:
            return "| {} | {} | no report line: the preload failed | | | | | |".format(program, name)
        report = reports[0]
        allocations = "{:,}".format(int(report.group("allocations")))
        peak = "{:.1f}".format(int(report.group("peak")) / (1024 * 1024))
        utilization = report.group("utilization") + "%"
    return "| {} | {} | {:.0f} | {:.2f}x | {:.1f} | {} | {} | {} |".format(
        program, name, seconds * 1000, seconds / glibc_median, rss_mib, allocations, peak, utilization)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", help="the build tree that holds tools/shim/libheaplab-malloc-*.so")
    parser.add_argument("--runs", type=int, default=5, help="runs per program and malloc (default 5)")
    parser.add_argument("--shims", default="quick-fit",
                        help="comma-separated shims to measure (default quick-fit; "
                             "also bump, segregated-fit, first-fit)")
    parser.add_argument("--programs", default="python3,sort,sqlite3",
                        help="comma-separated programs (default python3,sort,sqlite3)")
    parser.add_argument("--heap-size", help="HEAPLAB_HEAP_SIZE for the shims (default: the shim's 1G)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds after which a run is stopped and reported (default 300)")
    args = parser.parse_args()

    configurations = [("glibc", None)]
    for shim in args.shims.split(","):
        path = os.path.join(os.path.abspath(args.build_dir), "tools", "shim",
                            "libheaplab-malloc-{}.so".format(shim))
        if not os.path.exists(path):
            sys.exit("{} not found: build the shim first (see --help)".format(path))
        configurations.append((shim, path))

    print("| program | malloc | median wall time (ms) | vs glibc | peak RSS (MiB) "
          "| allocations served | peak heap (MiB) | utilization |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="heaplab-measure-") as work_dir:
        table = program_table(work_dir)
        for program in args.programs.split(","):
            if program not in table:
                sys.exit("unknown program {!r}: choose among {}".format(program, ", ".join(table)))
            argv, stdin_path, extra_env = table[program]
            for row in measure(program, argv, stdin_path, extra_env, configurations, args, work_dir):
                print(row, flush=True)
    print()
    print("{} runs each, alternating; {} cores; {}; medians of the runs; peak RSS is VmHWM, "
          "read every {:.0f} ms.".format(args.runs, os.cpu_count(), os.confstr("CS_GNU_LIBC_VERSION"),
                                         POLL_SECONDS * 1000))


if __name__ == "__main__":
    main()
