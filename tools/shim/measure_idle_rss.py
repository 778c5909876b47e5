#!/usr/bin/env python3
"""Measures what a process still holds once it has freed everything.

Runs tools/shim/tests/idle_rss.cpp (built as shim_idle_rss) on glibc's
malloc, under each shim given, and under the other allocators installed
here (mimalloc, jemalloc, tcmalloc, as Debian packages them), and prints a
Markdown table: the peak resident set (VmHWM) and the resident set after
the frees (VmRSS), in MiB, with the ratio of the latter to glibc's. Each
configuration runs `--runs` times; the median is shown.

The measurement of real_programs.md (4 GiB live, then freed), in a release
build:

    cmake --preset release
    cmake --build --preset release --target shim_idle_rss \\
        heaplab_malloc_quick_fit heaplab_malloc_segregated_fit
    python3 tools/shim/measure_idle_rss.py --build build/release --mib 4096

With --check PERCENT it exits 1, naming the shim, when a shim's resident
set after the frees is more than PERCENT per cent above glibc's; with
--check-kept PERCENT, when it is more than PERCENT per cent of the shim's
own peak (glibc gives back only the top of its heap, and here keeps nearly
all of it, so the first check alone would pass a shim that gave nothing
back). The tests `shim ...: after freeing 256 MiB ...` run both, at 256 MiB.

Python 3 standard library only.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

# The allocators Debian installs as libraries one can preload.
OTHERS = {
    "mimalloc": "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2",
    "jemalloc": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "tcmalloc": "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
}
# The chapter-5 shims, as a build directory holds them.
SHIMS = ("quick-fit", "segregated-fit")
LINE = re.compile(r"^peak (\d+) kB, after free (\d+) kB$")
TIMEOUT_SECONDS = 600


def measure(program, mib, idle, library, trim=False):
    """(peak kB, after-free kB) of one run, preloading `library` (None:
    glibc), calling malloc_trim(0) after the frees when `trim`."""
    env = dict(os.environ)
    env.pop("HEAPLAB_HEAP_SIZE", None)  # the shims' default: no cap
    env.pop("LD_PRELOAD", None)
    if library is not None:
        env["LD_PRELOAD"] = library
    done = subprocess.run([program, str(mib), str(idle)] + (["trim"] if trim else []), env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_SECONDS, check=False)
    match = LINE.match(done.stdout.strip())
    if done.returncode != 0 or match is None:
        sys.exit("measure_idle_rss: {} under {} failed (exit {}): {}".format(
            os.path.basename(program), library or "glibc", done.returncode,
            (done.stderr.strip().splitlines() or ["no output"])[-1]))
    return int(match.group(1)), int(match.group(2))


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", help="a build directory: its idle_rss program and chapter-5 shims")
    parser.add_argument("--program", help="the idle_rss program (default: from --build)")
    parser.add_argument("--shim", action="append", default=[], metavar="NAME=LIBRARY",
                        help="a shim to measure (repeatable; default: the chapter-5 shims of --build)")
    parser.add_argument("--mib", type=int, default=4096, help="MiB live before the frees (default 4096)")
    parser.add_argument("--idle", type=int, default=0, help="seconds to idle after the frees (default 0)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each configuration (default 1)")
    parser.add_argument("--no-others", action="store_true", help="leave out mimalloc, jemalloc and tcmalloc")
    parser.add_argument("--check", type=float, metavar="PERCENT",
                        help="fail when a shim holds more than PERCENT%% above glibc after the frees")
    parser.add_argument("--check-kept", type=float, metavar="PERCENT",
                        help="fail when a shim holds more than PERCENT%% of its peak after the frees")
    args = parser.parse_args()
    if args.mib <= 0 or args.idle < 0 or args.runs <= 0:
        parser.error("--mib and --runs must be positive, --idle at least 0")
    if args.program is None:
        if args.build is None:
            parser.error("give --program or --build")
        args.program = os.path.join(args.build, "tools", "shim", "tests", "shim_idle_rss")
    if not os.path.isfile(args.program):
        parser.error("no program at {} (build the target shim_idle_rss)".format(args.program))
    shims = []
    for given in args.shim:
        name, _, library = given.partition("=")
        if not name or not os.path.isfile(library):
            parser.error("--shim {}: expected NAME=LIBRARY, an existing file".format(given))
        shims.append((name, library))
    if not shims and args.build is not None:
        for name in SHIMS:
            library = os.path.join(args.build, "tools", "shim", "libheaplab-malloc-{}.so".format(name))
            if os.path.isfile(library):
                shims.append((name, library))
    args.shims = shims
    return args


def main():
    args = parse_arguments()
    configurations = [("glibc", None), ("glibc, then malloc_trim(0)", None)]
    configurations += [("heaplab " + name, library) for name, library in args.shims]
    if not args.no_others:
        configurations += [(name, path) for name, path in OTHERS.items() if os.path.isfile(path)]
    results = {}
    for _ in range(args.runs):  # alternating, so that a slow moment hits every configuration alike
        for name, library in configurations:
            trim = name.endswith("malloc_trim(0)")
            results.setdefault(name, []).append(measure(args.program, args.mib, args.idle, library, trim))
    glibc_after = statistics.median(after for _, after in results["glibc"])
    print("{} MiB live in blocks of 64 B to 64 KiB, all freed; idle {} s; median of {} run(s)\n".format(
        args.mib, args.idle, args.runs))
    print("| malloc | peak RSS | RSS after free | after free / glibc |")
    print("|---|---:|---:|---:|")
    failed = []
    for name, _ in configurations:
        peak = statistics.median(p for p, _ in results[name])
        after = statistics.median(a for _, a in results[name])
        ratio = after / glibc_after
        print("| {} | {:.1f} MiB | {:.1f} MiB | {:.2f} |".format(name, peak / 1024, after / 1024, ratio))
        if not name.startswith("heaplab "):
            continue
        if args.check is not None and ratio > 1 + args.check / 100:
            failed.append("{} holds {:.0f} kB after the frees, more than {:g}% above glibc's {:.0f} kB".format(
                name, after, args.check, glibc_after))
        if args.check_kept is not None and after > peak * args.check_kept / 100:
            failed.append("{} holds {:.0f} kB after the frees, more than {:g}% of its peak, {:.0f} kB".format(
                name, after, args.check_kept, peak))
    for line in failed:
        print("measure_idle_rss: " + line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
